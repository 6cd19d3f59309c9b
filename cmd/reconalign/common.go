package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/internal/atomicfile"
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

func addGlobalFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&global.backend, "backend", "auto", "backend: "+engine.BackendNames())
	f.StringVar(&global.precision, "precision", "", "Gram arithmetic: fp64 (default) or exact-u8 (uint8 data; on the CPU backends both are exact for them), or on cuda also fp32, tf32, bf16")
	f.IntVar(&global.threads, "threads", 0, fmt.Sprintf("CPU threads (0: all cores; at most %d, 4 per core)", engine.MaxThreads()))
	f.IntVar(&global.chunkRows, "chunk-rows", engine.DefaultChunkRows, "rows read per chunk")
	f.BoolVarP(&global.quiet, "quiet", "q", false, "no progress bar or notes on stderr")
	f.BoolVarP(&global.verbose, "verbose", "v", false, "notes on routing and timing on stderr")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file (for `go tool pprof`)")
}

// checkGlobal validates the shared flags before any work: a chunk of no
// rows is refused, and more threads than 4 per core are lowered, with a note.
func checkGlobal() error {
	switch {
	case global.chunkRows < 1:
		return fmt.Errorf("--chunk-rows %d: want at least 1 row per chunk", global.chunkRows)
	case global.threads < 0:
		return fmt.Errorf("--threads %d: want 0 (all cores) or a positive count", global.threads)
	case global.threads > engine.MaxThreads():
		note("--threads %d lowered to %d (4 per core on %d cores)", global.threads, engine.MaxThreads(), runtime.NumCPU())
		global.threads = engine.MaxThreads()
	}
	return nil
}

// note prints a one-line note on stderr unless --quiet.
func note(format string, args ...any) {
	if !global.quiet {
		fmt.Fprintf(os.Stderr, "reconalign: "+format+"\n", args...)
	}
}

// newEngine opens the engine the global flags ask for, with a progress bar on
// stderr for passes that last more than a second.
func newEngine() (*engine.Engine, error) {
	opts := engine.Options{Backend: global.backend, Precision: global.precision, Threads: global.threads, ChunkRows: global.chunkRows}
	if global.verbose && !global.quiet {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "reconalign: "+format+"\n", args...) }
	}
	opts.Progress = newProgress("reading")
	return engine.New(opts)
}

// newProgress returns a callback that draws a bar once a pass has run for a
// second (short passes stay silent) and finishes it at the end of the pass;
// nil with --quiet or when stderr is not a terminal (a log file gets no
// bar).
func newProgress(what string) func(done, total int) {
	if global.quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
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

// encodeJSON returns a writer of v as indented JSON.
func encodeJSON(v any) func(io.Writer) error {
	return func(w io.Writer) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
}

// writeJSON writes v, indented, to path ("-" for stdout), whole or not at
// all.
func writeJSON(path string, v any) error {
	if path == "-" {
		return encodeJSON(v)(os.Stdout)
	}
	return atomicfile.WriteFile(path, encodeJSON(v))
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

// checkRTol validates an --rtol flag; zero means the engine's default when
// zeroOK.
func checkRTol(rtol float64, zeroOK bool) error {
	if rtol == 0 && zeroOK || rtol > 0 && rtol < 1 {
		return nil
	}
	want := "(0, 1)"
	if zeroOK {
		want = "[0, 1) (0: the default)"
	}
	return fmt.Errorf("--rtol %g: want a value in %s", rtol, want)
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
	return opt, checkRTol(rtol, false)
}

func centeredWord(c bool) string {
	if c {
		return "centered"
	}
	return "not centered"
}

// datasetName is how figures and summaries name a dataset: its file without
// the directories above its own (fashion-mnist/train-images), or the
// generator spec.
func datasetName(path string) string {
	if path == "" || strings.HasPrefix(path, "synthetic:") {
		return path
	}
	base := filepath.Base(path)
	for _, suffix := range []string{".gz", ".npy", "-idx3-ubyte", "-idx1-ubyte"} {
		base = strings.TrimSuffix(base, suffix)
	}
	if dir := filepath.Base(filepath.Dir(filepath.Clean(path))); dir != "." && dir != string(filepath.Separator) {
		return dir + "/" + base
	}
	return base
}

// noArgs refuses positional arguments: every input of these commands is
// named by a flag, so a stray word is a typo that must not pass silently.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no positional arguments, got %q (is a --flag name missing before it?)", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}
