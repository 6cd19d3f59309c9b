package rsvd

import (
	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Method names one of the package's algorithms.
type Method string

const (
	SubspaceIteration Method = "subspace-iteration" // TopK
	Nystrom           Method = "nystrom"            // OnePass
)

// Run computes the top-K eigenpairs of src's Gram with method (TopK when
// empty) on the backend r chooses for the work, and records that backend in
// Result.Backend: the way to run this package through an engine.Engine.
func Run(r engine.Router, src data.Source, method Method, opt Options) (*Result, error) {
	var run func(backend.Backend, data.Source, Options) (*Result, error)
	passes := opt.PowerIters + 2
	switch method {
	case SubspaceIteration, "":
		run = TopK
	case Nystrom:
		run, passes = OnePass, 1
	default:
		return nil, &engine.OptionError{Option: "Method", Value: method, Want: "subspace-iteration or nystrom"}
	}
	meta := src.Meta()
	shape := engine.Shape{N: meta.N, D: meta.D, K: opt.K + opt.Oversample, Passes: passes}
	var res *Result
	info, err := r.Do(engine.OpTopK, shape, func(be backend.Backend) (err error) {
		res, err = run(be, src, opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Backend = info
	return res, nil
}
