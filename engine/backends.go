package engine

// Every implementation registers itself; importing them here makes them
// available to any program that uses the engine. Implementations that cannot
// run in this build (no cgo, no tag, no GPU) register a factory that says why.
import (
	_ "github.com/reconalign/reconalign/backend/cuda"
	_ "github.com/reconalign/reconalign/backend/gonum"
	_ "github.com/reconalign/reconalign/backend/openblas"
)
