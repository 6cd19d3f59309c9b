package backendtest

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// Run checks every primitive of the backend returned by open against
// independent references, one subtest per primitive. open is called once; an
// error matching backend.ErrUnavailable skips the test with its reason, any
// other error fails it. A backend implementing backend.Closer is closed at
// the end.
func Run(t *testing.T, open func() (backend.Backend, error)) {
	b := openOrSkip(t, open)
	s, err := newSuite(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backend %+v", b.Info())
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(s, testingT{t}) })
	}
}

func openOrSkip(t testing.TB, open func() (backend.Backend, error)) backend.Backend {
	t.Helper()
	b, err := open()
	if errors.Is(err, backend.ErrUnavailable) {
		t.Skipf("skipped: %v", err)
	}
	if err != nil {
		t.Fatalf("opening the backend: %v", err)
	}
	if b == nil {
		t.Fatal("opening the backend returned neither a backend nor an error")
	}
	if c, ok := b.(backend.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	return b
}

// groups are the subtests of Run, one per primitive. The suite's own tests
// run them one by one against deliberately broken backends.
var groups = []struct {
	name string
	run  func(*suite, tb)
}{
	{"Info", (*suite).testInfo},
	{"GramAdd", (*suite).testGramAdd},
	{"Gemm", (*suite).testGemm},
	{"Symmetric", (*suite).testSymmetric},
	{"SymEig", (*suite).testSymEig},
	{"SymEigTop", (*suite).testSymEigTop},
	{"SymGenEig", (*suite).testSymGenEig},
	{"Cholesky", (*suite).testCholesky},
	{"TriSolve", (*suite).testTriSolve},
	{"QR", (*suite).testQR},
	{"Misuse", (*suite).testMisuse},
}

// tb is the part of testing.T the checks use. It exists so that the suite can
// be run against broken backends with a recorder, proving it can fail.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	// run runs f as a named subtest.
	run(name string, f func(tb))
}

type testingT struct{ *testing.T }

func (t testingT) run(name string, f func(tb)) {
	t.T.Run(name, func(t *testing.T) { f(testingT{t}) })
}

// suite holds the backend under test and the error scale of its arithmetic.
type suite struct {
	b backend.Backend
	// u is the unit roundoff of the backend's arithmetic.
	u float64
	// exact is set for float64 arithmetic, where Grams of small integers
	// must come out exact.
	exact bool
}

func newSuite(b backend.Backend) (*suite, error) {
	u, err := backend.UnitRoundoff(b.Info().Precision)
	if err != nil {
		return nil, fmt.Errorf("backendtest: Info().Precision: %w; tolerances cannot be chosen", err)
	}
	return &suite{b: b, u: u, exact: u <= 0x1p-53}, nil
}

// compare fails when any of the r×c entries deviates from its reference by
// more than its bound, reporting how many did and the worst one. A NaN is
// always a deviation; a bound of zero demands equality.
func compare(t tb, what string, r, c int, entry func(i, j int) (got, want, bound float64)) bool {
	t.Helper()
	bad, worst := 0, -1.0
	var wi, wj int
	var wgot, wwant, wbound float64
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			got, want, bound := entry(i, j)
			dev := math.Abs(got - want)
			var ratio float64
			switch {
			case math.IsNaN(dev) || math.IsInf(dev, 0):
				ratio = math.Inf(1)
			case dev == 0:
				continue
			case bound == 0:
				ratio = math.Inf(1)
			default:
				ratio = dev / bound
			}
			if ratio <= 1 {
				continue
			}
			bad++
			if ratio > worst {
				worst, wi, wj, wgot, wwant, wbound = ratio, i, j, got, want, bound
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d entries off; worst [%d,%d] = %.17g, want %.17g ± %.3g",
			what, bad, r*c, wi, wj, wgot, wwant, wbound)
		return false
	}
	return true
}

// checkUntouched fails when storage the primitive must not write (padding
// columns, and when lower is set the strict lower triangle) no longer holds
// what it held before the call.
func checkUntouched(t tb, what string, before, after blas64.General, lower bool) {
	t.Helper()
	changed := 0
	first := ""
	for i := 0; i*before.Stride < len(before.Data); i++ {
		for j := 0; j < before.Stride && i*before.Stride+j < len(before.Data); j++ {
			inPad := j >= before.Cols
			inLower := lower && j < i
			if !inPad && !inLower {
				continue
			}
			k := i*before.Stride + j
			if math.Float64bits(before.Data[k]) != math.Float64bits(after.Data[k]) {
				if changed == 0 {
					first = fmt.Sprintf("[%d,%d] %v → %v", i, j, before.Data[k], after.Data[k])
				}
				changed++
			}
		}
	}
	if changed > 0 {
		where := "padding"
		if lower {
			where = "padding or strict lower triangle"
		}
		t.Errorf("%s: %d entries of the %s were written, first %s", what, changed, where, first)
	}
}

// unchanged fails unless every element of after's storage, padding included,
// still has the bits of before: for inputs a primitive only reads.
func unchanged(t tb, what string, before, after blas64.General) {
	t.Helper()
	for k := range before.Data {
		if math.Float64bits(before.Data[k]) != math.Float64bits(after.Data[k]) {
			t.Errorf("%s was modified: element %d (row %d) %v → %v", what, k, k/before.Stride, before.Data[k], after.Data[k])
			return
		}
	}
}

// expectPanic fails unless f panics: caller misuse must not run on silently.
func expectPanic(t tb, what string, f func() error) {
	t.Helper()
	var err error
	panicked := func() (p bool) {
		defer func() {
			if r := recover(); r != nil {
				p = true
			}
		}()
		err = f()
		return false
	}()
	if !panicked {
		t.Errorf("%s: want a panic naming the bad argument, got none (error %v)", what, err)
	}
}
