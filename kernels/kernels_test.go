package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestEveryNameIsAKernel(t *testing.T) {
	for _, name := range Names {
		re := regexp.MustCompile(`extern "C" __global__ void ` + name + `\(|CONVERT\(` + name + `,`)
		if !re.MatchString(Source) {
			t.Errorf("kernel %q is listed in Names but not defined in gram.cu", name)
		}
	}
	defined := regexp.MustCompile(`__global__ void (\w+)\(`).FindAllStringSubmatch(Source, -1)
	for _, m := range defined {
		if m[1] == "NAME" {
			continue // the CONVERT macro itself
		}
		if !contains(Names, m[1]) {
			t.Errorf("kernel %q is defined in gram.cu but missing from Names", m[1])
		}
	}
	for _, in := range []Elem{U8, F32, F64} {
		for _, out := range []Elem{F64, F32, BF16} {
			if !contains(Names, ConvertName(in, out)) {
				t.Errorf("ConvertName(%v, %v) = %q is not a kernel", in, out, ConvertName(in, out))
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestBF16(t *testing.T) {
	// Pixel values and their products are exact in bfloat16 × bfloat16 →
	// float32, which is what makes the bf16 Gram of uint8 data exact per product.
	for a := 0; a < 256; a++ {
		ba := BF16Float(BF16Bits(float32(a)))
		if ba != float32(a) {
			t.Fatalf("%d is not exact in bfloat16: got %v", a, ba)
		}
		for b := 0; b < 256; b++ {
			if p := ba * BF16Float(BF16Bits(float32(b))); p != float32(a*b) {
				t.Fatalf("%d·%d = %v in float32 from bfloat16, want %d", a, b, p, a*b)
			}
		}
	}
	// 257 needs 9 significant bits: it rounds (to even) to 256.
	if got := BF16Float(BF16Bits(257)); got != 256 {
		t.Errorf("bf16(257) = %v, want 256", got)
	}
	if got := BF16Float(BF16Bits(259)); got != 260 {
		t.Errorf("bf16(259) = %v, want 260", got)
	}
	if got := BF16Float(BF16Bits(-1.5)); got != -1.5 {
		t.Errorf("bf16(-1.5) = %v", got)
	}
	if got := BF16Float(BF16Bits(float32(math.NaN()))); got == got {
		t.Errorf("bf16(NaN) = %v, want NaN", got)
	}
}

func TestGeometry(t *testing.T) {
	if c := Elementwise(1); c.Grid[0] != 1 || c.Block[0] != 256 {
		t.Errorf("Elementwise(1) = %+v", c)
	}
	if c := Elementwise(1 << 40); c.Grid[0] != maxGridX {
		t.Errorf("Elementwise(2^40) grid = %d, want the cap %d", c.Grid[0], maxGridX)
	}
	if c := Tiled(33, 64); c.Grid != [3]uint32{2, 2, 1} || c.Block != [3]uint32{32, 8, 1} {
		t.Errorf("Tiled(33, 64) = %+v", c)
	}
	// ImageNet-sized chunks keep colsum's grid y under the hardware limit.
	for _, n := range []int64{1, 255, 256, 131071, 1 << 20, 1 << 30} {
		c, rows := ColSum(n, 12288)
		if c.Grid[1] > 65535 || int64(c.Grid[1])*rows < n {
			t.Errorf("ColSum(%d): grid y %d × %d rows does not cover the chunk within 65,535 blocks", n, c.Grid[1], rows)
		}
	}
}

func TestReferences(t *testing.T) {
	// Small hand-checked cases of the Go references themselves.
	x := []uint8{0, 255, 128, 3, 7, 9} // 3 × 2
	zt := make([]int8, 3*4)
	U8ToI8TRef(zt, x, 3, 2, 3, 4)
	want := []int8{-128, 0, -121, 0, 127, -125, -119, 0, 0, 0, 0, 0}
	for i := range want {
		if zt[i] != want[i] {
			t.Fatalf("U8ToI8TRef = %v, want %v", zt, want)
		}
	}
	sums := make([]uint64, 2)
	ColSumU8Ref(sums, x, 3, 2)
	if sums[0] != 135 || sums[1] != 267 {
		t.Errorf("ColSumU8Ref = %v, want [135 267]", sums)
	}
	src := []float64{1, 2, 3, 4, 5, 6} // column-major 3 × 2 (ld 3)
	dst := make([]float64, 6)
	GatherTRef(dst, src, 3, 3, 2, 0, true)
	if fmt.Sprint(dst) != "[4 1 5 2 6 3]" {
		t.Errorf("GatherTRef reversed = %v", dst)
	}
}

// The emulation prelude lets g++ compile gram.cu: each block runs its threads
// as OS threads sharing one std::barrier for __syncthreads, and __shared__
// arrays become function statics (blocks run one after another).
const prelude = `
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
static thread_local uint3 threadIdx;
static uint3 blockIdx;
static dim3 blockDim, gridDim;
static std::barrier<> *block_barrier;
static void __syncthreads() { block_barrier->arrive_and_wait(); }
static unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
#define __global__
#define __device__ static inline
#define __shared__ static
`

const harness = `
template <class F> static void launch(dim3 g, dim3 b, F f) {
    gridDim = g; blockDim = b;
    unsigned nt = b.x * b.y * b.z;
    for (unsigned z = 0; z < g.z; z++)
    for (unsigned y = 0; y < g.y; y++)
    for (unsigned x = 0; x < g.x; x++) {
        blockIdx = {x, y, z};
        std::barrier<> bar(nt);
        block_barrier = &bar;
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < nt; t++)
            ts.emplace_back([&, t] { threadIdx = {t % b.x, (t / b.x) % b.y, t / (b.x * b.y)}; f(); });
        for (auto &th : ts) th.join();
    }
}
static std::vector<char> readFile(const char *p) {
    FILE *f = fopen(p, "rb"); if (!f) { perror(p); exit(2); }
    std::vector<char> v; char buf[65536]; size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + k);
    fclose(f); return v;
}
static void writeFile(const char *p, const std::vector<char> &v) {
    FILE *f = fopen(p, "wb"); if (!f) { perror(p); exit(2); }
    fwrite(v.data(), 1, v.size(), f); fclose(f);
}
static const double *optional(const char *p, std::vector<char> &keep) {
    if (strcmp(p, "-") == 0) return nullptr;
    keep = readFile(p); return (const double *)keep.data();
}
int main(int argc, char **argv) {
    std::string k = argv[1];
    dim3 g{(unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4])};
    dim3 b{(unsigned)atoi(argv[5]), (unsigned)atoi(argv[6]), (unsigned)atoi(argv[7])};
    char **a = argv + 8;
#define CONV(NAME, TIN, TOUT) if (k == #NAME) { \
        long long n = atoll(a[0]), d = atoll(a[1]); auto in = readFile(a[2]); std::vector<char> sk; \
        const double *sh = optional(a[3], sk); std::vector<char> out(n * d * sizeof(TOUT)); \
        launch(g, b, [&] { NAME((const TIN *)in.data(), (TOUT *)out.data(), sh, n, d); }); \
        writeFile(a[4], out); return 0; }
    CONV(convert_u8_f64, unsigned char, double) CONV(convert_f32_f64, float, double) CONV(convert_f64_f64, double, double)
    CONV(convert_u8_f32, unsigned char, float) CONV(convert_f32_f32, float, float) CONV(convert_f64_f32, double, float)
    CONV(convert_u8_bf16, unsigned char, unsigned short) CONV(convert_f32_bf16, float, unsigned short)
    CONV(convert_f64_bf16, double, unsigned short)
    if (k == "u8_to_i8_t") {
        long long n = atoll(a[0]), d = atoll(a[1]), dpad = atoll(a[2]), kpad = atoll(a[3]); auto in = readFile(a[4]);
        std::vector<char> out(dpad * kpad, 99);
        launch(g, b, [&] { u8_to_i8_t((const unsigned char *)in.data(), (signed char *)out.data(), n, d, dpad, kpad); });
        writeFile(a[5], out); return 0;
    }
    if (k == "colsum_u8") {
        long long n = atoll(a[0]), d = atoll(a[1]), rows = atoll(a[2]); auto in = readFile(a[3]);
        std::vector<char> out(d * 8, 0);
        launch(g, b, [&] { colsum_u8((const unsigned char *)in.data(), (unsigned long long *)out.data(), n, d, rows); });
        writeFile(a[4], out); return 0;
    }
    if (k == "exact_finish") {
        long long n = atoll(a[0]), d = atoll(a[1]), ldg = atoll(a[2]); auto acc = readFile(a[3]); auto gi = readFile(a[4]);
        auto cs = readFile(a[5]); std::vector<char> sk; const double *sh = optional(a[6], sk);
        launch(g, b, [&] { exact_finish((double *)acc.data(), (const int *)gi.data(), ldg, (const unsigned long long *)cs.data(), sh, n, d); });
        writeFile(a[7], acc); return 0;
    }
    if (k == "add_lower_f32") {
        long long d = atoll(a[0]); auto acc = readFile(a[1]); auto s = readFile(a[2]);
        launch(g, b, [&] { add_lower_f32((double *)acc.data(), (const float *)s.data(), d); });
        writeFile(a[3], acc); return 0;
    }
    if (k == "gather_t") {
        long long ld = atoll(a[0]), rows = atoll(a[1]), cols = atoll(a[2]), col0 = atoll(a[3]), rev = atoll(a[4]);
        auto src = readFile(a[5]); std::vector<char> out(rows * cols * 8, 0);
        launch(g, b, [&] { gather_t((const double *)src.data(), ld, rows, cols, col0, rev, (double *)out.data()); });
        writeFile(a[6], out); return 0;
    }
    fprintf(stderr, "unknown kernel %s\n", k.c_str()); return 2;
}
`

var (
	buildOnce sync.Once
	buildDir  string
	harnessEx string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// emulator compiles gram.cu with the emulation prelude, or skips when no C++
// compiler with <barrier> (C++20) is available.
func emulator(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		cxx, err := exec.LookPath("g++")
		if err != nil {
			buildErr = fmt.Errorf("g++ not found: %v", err)
			return
		}
		dir, err := os.MkdirTemp("", "kernels-emu")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		src := filepath.Join(dir, "emu.cpp")
		if err := os.WriteFile(src, []byte(prelude+Source+harness), 0o644); err != nil {
			buildErr = err
			return
		}
		harnessEx = filepath.Join(dir, "emu")
		out, err := exec.Command(cxx, "-std=c++20", "-O1", "-pthread", "-o", harnessEx, src).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("g++ failed: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		if strings.Contains(buildErr.Error(), "not found") {
			t.Skip(buildErr)
		}
		t.Fatal(buildErr)
	}
	return harnessEx
}

// run launches one kernel in the emulator with the given geometry and arguments.
func run(t *testing.T, kernel string, c Config, args ...string) {
	t.Helper()
	argv := []string{kernel}
	for _, v := range append(c.Grid[:], c.Block[:]...) {
		argv = append(argv, strconv.Itoa(int(v)))
	}
	out, err := exec.Command(emulator(t), append(argv, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("emulated %s: %v\n%s", kernel, err, out)
	}
}

func writeBin(t *testing.T, dir, name string, data any) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := binary.Write(f, binary.LittleEndian, data); err != nil {
		t.Fatal(err)
	}
	return p
}

func readBin(t *testing.T, p string, data any) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := binary.Read(f, binary.LittleEndian, data); err != nil {
		t.Fatal(err)
	}
}

func randU8(r *rand.Rand, n int) []uint8 {
	out := make([]uint8, n)
	for i := range out {
		out[i] = uint8(r.IntN(256))
	}
	return out
}

func TestEmulatedConvert(t *testing.T) {
	emulator(t)
	r := rand.New(rand.NewPCG(1, 2))
	const n, d = 37, 45
	dir := t.TempDir()
	srcs := map[Elem]any{U8: randU8(r, n*d), F32: make([]float32, n*d), F64: make([]float64, n*d)}
	for i := 0; i < n*d; i++ {
		srcs[F32].([]float32)[i] = float32(r.NormFloat64() * 1000)
		srcs[F64].([]float64)[i] = r.NormFloat64() * 1e6
	}
	shift := make([]float64, d)
	for i := range shift {
		shift[i] = r.Float64()*200 + 0.1234567
	}
	for _, in := range []Elem{U8, F32, F64} {
		for _, out := range []Elem{F64, F32, BF16} {
			for _, withShift := range []bool{false, true} {
				// The full geometry, and a single block to exercise the grid-stride loop.
				for _, c := range []Config{Elementwise(n * d), {Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{64, 1, 1}}} {
					name := ConvertName(in, out)
					inPath := writeBin(t, dir, "in", srcs[in])
					shiftPath, sh := "-", []float64(nil)
					if withShift {
						shiftPath, sh = writeBin(t, dir, "shift", shift), shift
					}
					outPath := filepath.Join(dir, "out")
					run(t, name, c, strconv.Itoa(n), strconv.Itoa(d), inPath, shiftPath, outPath)
					var got, want any
					switch out {
					case F64:
						got, want = make([]float64, n*d), make([]float64, n*d)
					case F32:
						got, want = make([]float32, n*d), make([]float32, n*d)
					case BF16:
						got, want = make([]uint16, n*d), make([]uint16, n*d)
					}
					readBin(t, outPath, got)
					ConvertRef(want, srcs[in], sh, n, d)
					if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
						t.Fatalf("%s shift=%v grid=%v: emulated kernel differs from ConvertRef", name, withShift, c.Grid)
					}
				}
			}
		}
	}
}

func TestEmulatedTransposeAndColSum(t *testing.T) {
	emulator(t)
	r := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	const n, d, dpad, kpad = 37, 45, 48, 48
	x := randU8(r, n*d)
	in := writeBin(t, dir, "x", x)
	out := filepath.Join(dir, "zt")
	run(t, "u8_to_i8_t", Tiled(dpad, kpad), "37", "45", "48", "48", in, out)
	got, want := make([]int8, dpad*kpad), make([]int8, dpad*kpad)
	readBin(t, out, got)
	U8ToI8TRef(want, x, n, d, dpad, kpad)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("u8_to_i8_t: element %d (feature %d, row %d) = %d, want %d", i, i/kpad, i%kpad, got[i], want[i])
		}
	}

	// Several row blocks add into the same sums.
	const rows = 600
	xs := randU8(r, rows*d)
	in = writeBin(t, dir, "xs", xs)
	c, perBlock := ColSum(rows, d)
	if c.Grid[1] < 2 {
		t.Fatalf("test wants several row blocks, ColSum gave grid %v", c.Grid)
	}
	run(t, "colsum_u8", c, strconv.Itoa(rows), strconv.Itoa(d), strconv.FormatInt(perBlock, 10), in, out)
	gs, ws := make([]uint64, d), make([]uint64, d)
	readBin(t, out, gs)
	ColSumU8Ref(ws, xs, rows, d)
	if fmt.Sprint(gs) != fmt.Sprint(ws) {
		t.Fatalf("colsum_u8 = %v, want %v", gs, ws)
	}
}

func TestEmulatedFinishAndGather(t *testing.T) {
	emulator(t)
	r := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	const n, d, ldg = 1000, 45, 48
	acc := make([]float64, d*d)
	gi := make([]int32, ldg*ldg)
	cs := make([]uint64, d)
	shift := make([]float64, d)
	for i := range acc {
		acc[i] = float64(r.IntN(1 << 20))
	}
	for i := range gi {
		gi[i] = int32(r.IntN(1<<24) - 1<<23)
	}
	for i := range cs {
		cs[i] = uint64(r.IntN(255 * n))
		shift[i] = r.Float64() * 255
	}
	out := filepath.Join(dir, "out")
	for _, withShift := range []bool{false, true} {
		shiftPath, sh := "-", []float64(nil)
		if withShift {
			shiftPath, sh = writeBin(t, dir, "shift", shift), shift
		}
		run(t, "exact_finish", Tiled(d, d), strconv.Itoa(n), strconv.Itoa(d), strconv.Itoa(ldg),
			writeBin(t, dir, "acc", acc), writeBin(t, dir, "gi", gi), writeBin(t, dir, "cs", cs), shiftPath, out)
		got, want := make([]float64, d*d), append([]float64(nil), acc...)
		readBin(t, out, got)
		ExactFinishRef(want, gi, ldg, cs, sh, n, d)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("exact_finish shift=%v: element (%d, %d) = %v, want %v", withShift, i%d, i/d, got[i], want[i])
			}
		}
	}

	s := make([]float32, d*d)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	run(t, "add_lower_f32", Tiled(d, d), strconv.Itoa(d), writeBin(t, dir, "acc", acc), writeBin(t, dir, "s", s), out)
	got, want := make([]float64, d*d), append([]float64(nil), acc...)
	readBin(t, out, got)
	AddLowerF32Ref(want, s, d)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("add_lower_f32 differs from AddLowerF32Ref")
	}

	const ld, rows, cols, col0 = 50, 45, 33, 2
	src := make([]float64, ld*(col0+cols))
	for i := range src {
		src[i] = float64(i)
	}
	for _, rev := range []bool{false, true} {
		run(t, "gather_t", Tiled(rows, cols), strconv.Itoa(ld), strconv.Itoa(rows), strconv.Itoa(cols),
			strconv.Itoa(col0), flag(rev), writeBin(t, dir, "src", src), out)
		got, want := make([]float64, rows*cols), make([]float64, rows*cols)
		readBin(t, out, got)
		GatherTRef(want, src, ld, rows, cols, col0, rev)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("gather_t reverse=%v differs from GatherTRef", rev)
		}
	}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
