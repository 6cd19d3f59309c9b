package engine

import (
	"errors"
	"fmt"
)

// Errors the engine returns for conditions a caller may want to handle;
// match them with errors.Is or errors.As. Messages name options by their Go
// names; a command-line front end maps them to its flags.
var (
	// ErrNeedsLabels: the operation measures something against the labels
	// or targets, and the source has none.
	ErrNeedsLabels = errors.New("the data have no labels or targets")
	// ErrGramTooLarge: a D×D Gram would not fit in memory; the randomized
	// top-K methods of package rsvd work at any D.
	ErrGramTooLarge = errors.New("the D×D Gram is too large to hold")
	// ErrPrecisionUnavailable: the backend cannot compute the Gram in the
	// requested arithmetic (it is never silently replaced).
	ErrPrecisionUnavailable = errors.New("precision not offered by the backend")
)

// OptionError reports an option or argument outside its valid range.
type OptionError struct {
	Option string // its Go name: "Top", "Threads", "ChunkRows", "Precision", ...
	Value  any
	Want   string // what would be valid
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s = %v: want %s", e.Option, e.Value, e.Want)
}

// UndefinedAlignmentError says why an alignment curve has no denominator:
// the data have no variance (rank 0: every feature constant, once centred
// when centred), or the targets have no component in the span of the data
// (a single class after centring, or targets orthogonal to the data).
type UndefinedAlignmentError struct {
	Rank        int
	Centered    bool
	Denominator float64
	// SingleTarget is set when Y has one column, or labels of one class:
	// centred data are orthogonal to the constant vector it spans.
	SingleTarget bool
}

func (e *UndefinedAlignmentError) Error() string {
	switch {
	case e.Rank == 0 && e.Centered:
		return "alignment is undefined: the data have no variance once centred (every feature is constant), so there is no principal direction"
	case e.Rank == 0:
		return "alignment is undefined: the data are all zero, so there is no principal direction"
	case e.SingleTarget && e.Centered:
		return "alignment is undefined: the labels hold a single class (Y is constant), and centred data are orthogonal to a constant target"
	}
	return fmt.Sprintf("alignment is undefined: the targets have no component in the span of the data's %d principal directions (denominator %g)", e.Rank, e.Denominator)
}

// undefinedAlignment says which of the cases of UndefinedAlignmentError
// left the curve of p without a denominator.
func undefinedAlignment(p Projections, e *Eigen, centered bool, den float64) error {
	classes := 0
	for i := 0; i < p.Gy.Rows; i++ {
		if p.Gy.Data[i*p.Gy.Stride+i] != 0 {
			classes++
		}
	}
	return &UndefinedAlignmentError{Rank: e.Rank, Centered: centered, Denominator: den, SingleTarget: classes <= 1}
}
