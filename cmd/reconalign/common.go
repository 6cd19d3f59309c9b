package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/engine"
)

// Flags shared by every command.
var global struct {
	backend   string
	precision string
	threads   int
	chunkRows int
	quiet     bool
	verbose   bool
}

func init() {
	f := rootCmd.PersistentFlags()
	f.StringVar(&global.backend, "backend", "auto", "backend: "+engine.BackendNames())
	f.StringVar(&global.precision, "precision", "", "Gram arithmetic: fp64 (default) or exact-u8 (uint8 data; on the CPU backends both are exact for them), or on cuda also fp32, tf32, bf16")
	f.IntVar(&global.threads, "threads", 0, "CPU threads (0: all cores)")
	f.IntVar(&global.chunkRows, "chunk-rows", engine.DefaultChunkRows, "rows read per chunk")
	f.BoolVarP(&global.quiet, "quiet", "q", false, "no progress bar or notes on stderr")
	f.BoolVarP(&global.verbose, "verbose", "v", false, "notes on routing and timing on stderr")
}

// newEngine opens the engine the global flags ask for, with a progress bar on
// stderr for passes that last more than a second.
func newEngine() (*engine.Engine, error) {
	opts := engine.Options{Backend: global.backend, Precision: global.precision, Threads: global.threads, ChunkRows: global.chunkRows}
	if global.verbose && !global.quiet {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "reconalign: "+format+"\n", args...) }
	}
	if !global.quiet {
		opts.Progress = newProgress("reading")
	}
	return engine.New(opts)
}

// newProgress returns a callback that draws a bar once a pass has run for a
// second (short passes stay silent) and finishes it at the end of the pass.
func newProgress(what string) func(done, total int) {
	var bar *progressbar.ProgressBar
	var start time.Time
	return func(done, total int) {
		if start.IsZero() || (bar == nil && done < 0) {
			start = time.Now()
		}
		if bar == nil {
			if time.Since(start) < time.Second || total <= 0 {
				if done >= total {
					start = time.Time{} // next pass starts a new clock
				}
				return
			}
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish())
		}
		bar.Set(done)
		if done >= total {
			bar.Finish()
			bar = nil
			start = time.Time{}
		}
	}
}

// writeJSON writes v, indented, to path ("-" for stdout).
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// requireFlags returns an error naming the first empty required flag.
func requireFlags(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			return fmt.Errorf("%s needs --%s", cmd.CommandPath(), n)
		}
	}
	return nil
}

// alignOptions validates the alignment flags shared by align and denoise.
func alignOptions(center bool, form, scale, norm string, rtol float64) (engine.AlignOptions, error) {
	opt := engine.AlignOptions{Center: center, RTol: rtol}
	var err error
	if opt.Form, err = engine.ParseForm(form); err != nil {
		return opt, fmt.Errorf("--form: %w", err)
	}
	if opt.Scale, err = engine.ParseScale(scale); err != nil {
		return opt, fmt.Errorf("--scale: %w", err)
	}
	if opt.Normalize, err = engine.ParseNormalize(norm); err != nil {
		return opt, fmt.Errorf("--normalize: %w", err)
	}
	if !(rtol > 0 && rtol < 1) {
		return opt, fmt.Errorf("--rtol %g: want a value in (0, 1)", rtol)
	}
	return opt, nil
}

// heldBackend opens the engine's CPU backend for the steps that still take a
// backend directly (until they route through the engine themselves).
func heldBackend(eng *engine.Engine) backend.Backend {
	be, err := backend.Open(eng.BackendFor(engine.OpMoments, engine.Shape{}), backend.Options{Threads: eng.Options().Threads})
	if err != nil {
		panic(err)
	}
	return be
}
