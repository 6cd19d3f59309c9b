package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/engine"
)

// flagOf maps the option names of library errors (engine.OptionError) to
// the flags that set them: libraries never name a flag.
var flagOf = map[string]string{
	"Top":        "--top",
	"Threads":    "--threads",
	"ChunkRows":  "--chunk-rows",
	"Precision":  "--precision",
	"K":          "--k",
	"TopK":       "--top-k",
	"Oversample": "--oversample",
	"PowerIters": "--power-iters",
	"Lambda":     "--lambda",
	"RTol":       "--rtol",
	"Ridge":      "--ridge",
	"Variance":   "--variance",
	"Draws":      "--draws",
	"Batches":    "--batches",
	"Route":      "--route",
	"Sweep":      "--grid",
	"Keep":       "--keep",
}

// gridFlagOf maps the fields of closedform.GridText to denoise's flags.
var gridFlagOf = map[string]string{
	"Noises": "--noise", "P": "--p", "Patch": "--patch", "Sigma": "--sigma", "Block": "--block", "CropScale": "--crop-scale",
}

// advice adds what a user of this command line can do about an error.
var advice = []struct {
	target error
	text   string
}{
	{closedform.ErrNeedsShape, "pass --image-shape HxWxC, and --layout"},
	{engine.ErrGramTooLarge, "use the randomized top-k route: reconalign rsvd, or project --top-k"},
	{engine.ErrPrecisionUnavailable, "see reconalign devices for the backends here; --backend cuda offers " + strings.Join(engine.Precisions[1:], ", ")},
}

// explain rewrites a library error in the terms of the command line.
func explain(err error) error {
	msg := err.Error()
	var oe *engine.OptionError
	if errors.As(err, &oe) {
		if flag, ok := flagOf[oe.Option]; ok {
			msg = strings.Replace(msg, oe.Error(), fmt.Sprintf("%s %v: want %s", flag, oe.Value, oe.Want), 1)
		}
	}
	var fe *closedform.FieldError
	if errors.As(err, &fe) {
		if flag, ok := gridFlagOf[fe.Field]; ok {
			msg = strings.Replace(msg, fe.Error(), flag+": "+fe.Error(), 1)
		}
	}
	for _, a := range advice {
		if errors.Is(err, a.target) {
			msg += " (" + a.text + ")"
		}
	}
	return errors.New(msg)
}
