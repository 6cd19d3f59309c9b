package engine

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/reconalign/reconalign/backend"
)

// Op names an operation for routing: the router weighs its arithmetic
// (Op.Flops) against what a device costs to start.
type Op string

const (
	// OpMoments is one pass accumulating the D×D Gram: 2·N·D² flops.
	OpMoments Op = "moments"
	// OpEigh, OpAlign and OpClosedForm stream the data into moments (or
	// hold the N×N dual) and eigendecompose the D×D Gram: 2·N·D² + 10·D³.
	OpEigh       Op = "eigh"
	OpAlign      Op = "align"
	OpClosedForm Op = "closed-form"
	// OpTopK is a randomized top-K method: Shape.Passes applications of the
	// Gram to a D×K block, 4·N·D·K flops each.
	OpTopK Op = "top-k"
)

// Shape is the size of the data an operation works on.
type Shape struct {
	N, D int
	// K is the width of the block a top-K method carries (K + oversampling)
	// and Passes how many times it applies the Gram; other operations
	// ignore both.
	K, Passes int
}

// Flops is the operation's arithmetic on data of shape s, the cost the
// router weighs.
func (op Op) Flops(s Shape) float64 {
	n, d := float64(s.N), float64(s.D)
	switch op {
	case OpMoments:
		return 2 * n * d * d
	case OpTopK:
		return 4 * n * d * float64(s.K) * float64(max(s.Passes, 1))
	}
	return 2*n*d*d + 10*d*d*d
}

// Router runs operations on backends it chooses. *Engine is the router of
// this package; Fixed wraps a backend the caller already holds.
type Router interface {
	// Do runs fn on the backend chosen for op on data of shape s and
	// returns that backend's Info. fn has the backend to itself while it
	// runs. When an automatically chosen device fails for environmental
	// reasons (an error matching backend.ErrUnavailable: out of device
	// memory, a library error), fn is run again from the start on the CPU
	// backend, so it must not depend on state left by a failed attempt.
	Do(op Op, s Shape, fn func(backend.Backend) error) (backend.Info, error)
}

// Fixed is a Router that runs every operation on be, for callers that
// opened their own backend. Like be itself, it must not be used by two
// goroutines at once.
func Fixed(be backend.Backend) Router { return fixed{be} }

type fixed struct{ be backend.Backend }

func (f fixed) Do(_ Op, _ Shape, fn func(backend.Backend) error) (backend.Info, error) {
	return f.be.Info(), fn(f.be)
}

// GPUMinFlops is the work above which auto routing sends an operation to a
// GPU. A GPU's fixed cost (context, library handles, NVRTC compilation, the
// D×D transfer) is of order a second; this machine's CPU backends reach
// 30–90 GFLOP/s (BENCHMARKS.md), so below ~2·10¹¹ flops the CPU finishes
// first.
// BUG(engine): the GPU side of this rule is an estimate of a GPU's start-up
// cost, not a measurement of this engine on a GPU: refine it with the GPU
// check (scripts/gpu-check.sh).
const GPUMinFlops = 2e11

// GPUWorthIt applies the routing rule to an N×D dataset's moments, Gram
// eigendecomposition and closed forms.
func GPUWorthIt(n, d int) bool { return OpAlign.Flops(Shape{N: n, D: d}) >= GPUMinFlops }

// Do is the engine's router: it borrows the backend instance chosen for op
// on data of shape s, runs fn on it and gives it back. With Backend "auto"
// an operation of at least GPUMinFlops goes to the preferred backend the
// registry lists as a GPU, when one opens; everything else, and everything
// when a backend is named, runs on the CPU backend. See Router for the
// fallback.
func (e *Engine) Do(op Op, s Shape, fn func(backend.Backend) error) (backend.Info, error) {
	p := e.poolFor(op, s)
	be, err := p.borrow()
	if err != nil {
		return backend.Info{}, err
	}
	info := be.Info()
	err = fn(be)
	p.giveBack(be)
	if err != nil && p != e.cpu && e.opts.Precision == "" && errors.Is(err, backend.ErrUnavailable) {
		e.opts.Logf("route: %s failed (%v); falling back to %s", info.Name, err, e.cpu.name)
		if be, err = e.cpu.borrow(); err != nil {
			return backend.Info{}, err
		}
		info = be.Info()
		err = fn(be)
		e.cpu.giveBack(be)
	}
	return info, err
}

// BackendFor says which backend Do would run op on for data of shape s,
// without running anything (it may open a GPU to find out).
func (e *Engine) BackendFor(op Op, s Shape) string { return e.poolFor(op, s).name }

// poolFor picks the pool of instances an operation borrows from.
func (e *Engine) poolFor(op Op, s Shape) *pool {
	flops := op.Flops(s)
	if !e.auto || flops < e.gpuMinFlops {
		return e.cpu
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gpu == nil && e.gpuErr == nil {
		e.gpu, e.gpuErr = e.openPool(backend.NamesOn(backend.GPU), 1)
		if e.gpuErr != nil {
			e.opts.Logf("route: staying on %s: %v", e.cpu.name, e.gpuErr)
		}
	}
	if e.gpu == nil {
		return e.cpu
	}
	e.opts.Logf("route: %s of %d×%d is worth a GPU (%.1e ≥ %.0e flops): %s", op, s.N, s.D, flops, e.gpuMinFlops, e.gpu.name)
	return e.gpu
}

// openPool opens the first of names that opens with the engine's threads
// and precision, as the first instance of a pool of at most size.
func (e *Engine) openPool(names []string, size int) (*pool, error) {
	if len(names) == 0 {
		return nil, backend.Unavailable("gpu", "no GPU backend is registered in this build")
	}
	var errs []error
	for _, name := range names {
		open := func() (backend.Backend, error) {
			be, err := backend.Open(name, backend.Options{Threads: e.opts.Threads})
			if err != nil {
				return nil, err
			}
			if err := usePrecision(be, e.opts.Precision); err != nil {
				closeBackend(be)
				return nil, err
			}
			return be, nil
		}
		be, err := open()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p := &pool{name: name, open: open, slots: make(chan struct{}, size), idle: []backend.Backend{be}, all: []backend.Backend{be}}
		return p, nil
	}
	return nil, errors.Join(errs...)
}

// pool holds the instances of one backend. An operation borrows one for
// its whole run, so no instance is ever used by two goroutines at once:
// CPU pools open another instance when every one is busy (up to one per
// core; further operations wait), a GPU pool has a single instance on
// which operations queue.
type pool struct {
	name  string
	open  func() (backend.Backend, error)
	slots chan struct{} // one token per instance in use
	mu    sync.Mutex
	idle  []backend.Backend
	all   []backend.Backend
}

func cpuPoolSize() int { return max(1, runtime.GOMAXPROCS(0)) }

func (p *pool) borrow() (backend.Backend, error) {
	p.slots <- struct{}{}
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		be := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return be, nil
	}
	p.mu.Unlock()
	be, err := p.open()
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("opening another %s instance: %w", p.name, err)
	}
	p.mu.Lock()
	p.all = append(p.all, be)
	p.mu.Unlock()
	return be, nil
}

func (p *pool) giveBack(be backend.Backend) {
	p.mu.Lock()
	p.idle = append(p.idle, be)
	p.mu.Unlock()
	<-p.slots
}

func (p *pool) close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, be := range p.all {
		errs = append(errs, closeBackend(be))
	}
	p.all, p.idle = nil, nil
	return errors.Join(errs...)
}

func closeBackend(be backend.Backend) error {
	if c, ok := be.(backend.Closer); ok {
		return c.Close()
	}
	return nil
}
