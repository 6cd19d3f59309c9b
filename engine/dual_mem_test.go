package engine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
)

// streamU8 is a source of n pseudo-random uint8 rows of d features (each
// row from its own seed) and labels i mod 10, generated a chunk at a time
// into one buffer: it holds
// no dataset of its own, so a process reading it holds only what the
// reader keeps.
type streamU8 struct{ n, d int }

func (s streamU8) Meta() data.Meta {
	return data.Meta{Name: "uint8 stream", N: s.n, D: s.d, Classes: 10, DType: backend.U8}
}

func (s streamU8) Open(chunkRows int) (data.Reader, error) {
	return &streamU8Reader{s: s, chunk: chunkRows}, nil
}

type streamU8Reader struct {
	s          streamU8
	chunk, row int
	x          []uint8
	labels     []int
}

func (r *streamU8Reader) Next() (data.Batch, error) {
	if r.row >= r.s.n {
		return data.Batch{}, io.EOF
	}
	rows := min(r.chunk, r.s.n-r.row)
	if r.x == nil {
		r.x = make([]uint8, min(r.chunk, r.s.n)*r.s.d)
		r.labels = make([]int, min(r.chunk, r.s.n))
	}
	x := r.x[:rows*r.s.d]
	for i := range rows {
		// Each row from its own seed: the same bytes whatever the chunking.
		z := uint64(r.row+i+1) * 0x9E3779B97F4A7C15
		for j := range x[i*r.s.d : (i+1)*r.s.d] {
			z ^= z << 13
			z ^= z >> 7
			z ^= z << 17
			x[i*r.s.d+j] = uint8(z >> 56)
		}
	}
	for i := range rows {
		r.labels[i] = (r.row + i) % 10
	}
	r.row += rows
	return data.Batch{X: backend.Chunk{N: rows, D: r.s.d, U8: x}, Labels: r.labels[:rows]}, nil
}

func (r *streamU8Reader) Close() error { return nil }

// peakRSS reads the process's peak resident set (VmHWM) in bytes.
func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

const dualMemChild = "RECONALIGN_DUAL_MEMORY_CHILD"

// The uint8 dual route's peak memory on 1,000 ImageNet-224-wide rows (a
// 150 MB dataset): the data once as bytes, K and O(block) buffers, never a
// float64 copy (1.2 GB) or a D-sized matrix. The case runs in a child
// process so that its peak is not the test binary's earlier peaks.
func TestDualU8PeakMemory(t *testing.T) {
	const n, d = 1000, 150528
	if os.Getenv(dualMemChild) == "1" {
		e, err := New(Options{Backend: gonum.Name})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		c, err := e.Align(streamU8{n, d}, AlignOptions{Center: true})
		if err != nil {
			t.Fatal(err)
		}
		peak, err := peakRSS()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("rank %d route %s peak %d\n", c.Rank, c.Route, peak)
		return
	}
	if testing.Short() {
		t.Skip("a 150 MB dataset through the dual route")
	}
	if _, err := peakRSS(); err != nil {
		t.Skipf("no peak RSS here: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDualU8PeakMemory$", "-test.v")
	cmd.Env = append(os.Environ(), dualMemChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var rank int
	var route string
	var peak int64
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "rank ") {
			fmt.Sscanf(line, "rank %d route %s peak %d", &rank, &route, &peak)
		}
	}
	if rank != n-1 || Route(route).Side() != RouteDual {
		t.Fatalf("child: rank %d route %q, want %d dual\n%s", rank, route, n-1, out)
	}
	bytes := int64(n * d)
	bound := bytes*13/10 + 300<<20
	t.Logf("peak RSS %.0f MB for a %.0f MB uint8 dataset (bound %.0f MB; a float64 copy alone is %.0f MB)", float64(peak)/1e6, float64(bytes)/1e6, float64(bound)/1e6, float64(8*bytes)/1e6)
	if peak > bound {
		t.Errorf("peak RSS %d bytes exceeds 1.3 × the %d-byte dataset + 300 MB = %d", peak, bytes, bound)
	}
}
