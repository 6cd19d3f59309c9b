// Command reconalign-beam computes a dataset's moments file — the .npz of
// `reconalign moments` — on an Apache Beam runner: Prism in this process
// for one machine, Dataflow, Flink or any portable runner for many.
//
//	reconalign-beam --data 'shards/x_*.npy' --labels 'shards/y_*.npy' --out m.npz --runner=prism
//	reconalign-beam --data 'gs://b/x_*.npy' --labels 'gs://b/y_*.npy' --out gs://b/m.npz \
//	    --runner=dataflow --project=P --region=R --staging_location=gs://b/staging \
//	    --worker_binary=bin/reconalign-beam-worker
//
// Its own flags are --data, --labels, --out, --backend, --threads,
// --groups, --chunk_rows, --tile, --layout, --log_level and --cpuprofile;
// everything else goes to Beam, whose flags it keeps (--runner, --endpoint,
// --environment_type, …) except Dataflow's --labels (job labels), which is
// --job_labels here.
//
// The shards are dealt into --groups groups of consecutive shards, one pass
// and one Gram each. On Prism in this process the default is as many groups
// as passes run at once here, each with its share of the cores: one group,
// on all cores, the pass of `reconalign moments`. Elsewhere it is one group
// per shard, which the runner spreads over its workers.
//
// The binary is also its own worker: started by a runner as a process
// environment (--environment_type=PROCESS
// --environment_config='{"command":"/path/reconalign-beam"}'), it reads its
// endpoints from the runner's provisioning service and restarts itself as a
// Beam worker. Built with CGO_ENABLED=0 (make beam), it runs in Beam's Go SDK
// container as Dataflow and Flink start it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/reconalign/reconalign/beam/moments"
	"github.com/reconalign/reconalign/engine"
)

// own are this program's flags, parsed apart from Beam's.
type own struct {
	opt        moments.Options
	jobLabels  string
	provision  string
	cpuProfile string
	logLevel   string
	flags      *flag.FlagSet
	beamArgs   []string
	bareWorker bool
}

func parseArgs(args []string) (*own, error) { return parseArgsTo(args, os.Stderr) }

// parseArgsTo is parseArgs with its complaints written to out.
func parseArgsTo(args []string, out io.Writer) (*own, error) {
	o := &own{flags: flag.NewFlagSet("reconalign-beam", flag.ContinueOnError)}
	f := o.flags
	f.SetOutput(out)
	f.StringVar(&o.opt.Data, "data", "", "glob of the data shards (.npy, .npy.gz, IDX), local or gs://, s3://")
	f.StringVar(&o.opt.Labels, "labels", "", "glob of the label shards, one per data shard, paired in lexical order")
	f.StringVar(&o.opt.Out, "out", "", "the moments file (.npz) to write")
	f.StringVar(&o.opt.Backend, "backend", "auto", "engine backend on each worker: "+engine.BackendNames())
	f.IntVar(&o.opt.Threads, "threads", 0, "CPU threads of each pass (0: all the worker's cores; on Prism in this process, the cores' share of each of --groups)")
	f.IntVar(&o.opt.ChunkRows, "chunk_rows", engine.DefaultChunkRows, "rows read per chunk")
	f.IntVar(&o.opt.Tile, "tile", moments.DefaultTile, "side of the Gram tiles sent between workers")
	f.IntVar(&o.opt.Groups, "groups", 0, "groups the shards are dealt into, one pass and one Gram each (0: on Prism in this process, the passes that run at once, one by default; elsewhere one per shard)")
	f.StringVar(&o.logLevel, "log_level", "warn", "level of Beam's and Prism's own log: debug, info, warn or error")
	f.StringVar(&o.opt.Layout, "layout", "hwc", "pixel order of 4-D arrays: hwc or chw")
	f.StringVar(&o.jobLabels, "job_labels", "", "Dataflow job labels (its --labels), JSON")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile of this process (the launcher, and Prism's in-process workers) to this file")
	f.StringVar(&o.provision, "provision_endpoint", "", "set by a runner that starts this binary as a process-environment worker")
	// Split the arguments: ours to our flag set, the rest to Beam's.
	var mine []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		if !strings.HasPrefix(a, "-") || f.Lookup(name) == nil {
			o.beamArgs = append(o.beamArgs, a)
			if name == "worker" {
				o.bareWorker = true
			}
			continue
		}
		mine = append(mine, a)
		if !hasValue && i+1 < len(args) {
			mine = append(mine, args[i+1])
			i++
		}
	}
	if err := f.Parse(mine); err != nil {
		return nil, err
	}
	switch o.logLevel {
	case "debug", "info", "warn", "error":
	default:
		fmt.Fprintf(f.Output(), "invalid value %q for flag -log_level: want debug, info, warn or error\n", o.logLevel)
		return nil, fmt.Errorf("log_level %q", o.logLevel)
	}
	if o.jobLabels != "" {
		o.beamArgs = append(o.beamArgs, "--labels="+o.jobLabels)
	}
	return o, nil
}

func main() {
	o, err := parseArgs(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	if o.provision != "" && !o.bareWorker {
		// Started by the runner as a process environment: become a worker.
		fail(boot(o.provision, o.beamArgs))
	}
	if err := flag.CommandLine.Parse(o.beamArgs); err != nil {
		os.Exit(2)
	}
	// Prism, in this process, logs every step at INFO: keep its warnings.
	// (Beam sets up its logger in Init, from this variable.)
	beamlog.LogLevel = o.logLevel
	beam.Init() // in worker mode, runs the worker and never returns
	o.opt.Groups, o.opt.Threads = parallelism(o.opt.Groups, o.opt.Threads, inProcess(), runtime.NumCPU())
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		fail(err)
		fail(pprof.StartCPUProfile(f))
	}
	err = run(o.opt)
	pprof.StopCPUProfile()
	fail(err)
}

// parallelism fills in the groups and the threads of each pass. On Prism
// in this process every pass runs here, and passes at once never use more
// threads together than there are cores (the moments package's gate): so
// the groups are as many as the passes that run at once, each with its
// share of the cores. By default that is one group on all the cores, the
// pass of `reconalign moments`: more groups on a few cores add Grams to
// move and sum, and passes no faster. Elsewhere 0 groups stays one group
// per shard, for the runner to spread over its workers.
func parallelism(groups, threads int, local bool, cores int) (int, int) {
	if !local {
		return groups, threads
	}
	switch {
	case groups == 0 && threads == 0:
		return 1, 0
	case groups == 0:
		return max(1, cores/threads), threads
	case threads == 0:
		return groups, max(1, cores/groups)
	}
	return groups, threads
}

// fail reports err and exits 1. A runner wraps a DoFn's error in its
// execution plan; the DoFn's own words (the shard, what is wrong with it)
// are its last line, which is what the user needs to read.
func fail(err error) {
	if err == nil {
		return
	}
	msg := strings.TrimSpace(err.Error())
	if i := strings.LastIndex(msg, "failed:\n"); i >= 0 {
		msg = strings.TrimSpace(msg[i+len("failed:\n"):])
	}
	fmt.Fprintln(os.Stderr, "reconalign-beam:", msg)
	os.Exit(1)
}

// run builds and runs the pipeline, then reports what it did.
func run(opt moments.Options) error {
	if err := checkOutput(opt); err != nil {
		return err
	}
	start := time.Now()
	p, s := beam.NewPipelineWithRoot()
	if _, err := moments.Build(s, opt); err != nil {
		return err
	}
	res, err := beamx.RunWithMetrics(context.Background(), p)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	if opt.Out != "" && !strings.Contains(opt.Out, "://") {
		mm, err := engine.ReadMomentsMeta(opt.Out)
		if err != nil {
			return err
		}
		fmt.Printf("%s: N=%d D=%d C=%d (%s) %s, exact=%v, in %.2fs\n", opt.Out, mm.N, mm.D, mm.C, mm.Labels, mm.DType, mm.Exact, wall.Seconds())
		if res != nil {
			reportRate(res, mm.D, inProcess())
		}
	}
	return nil
}

// reportRate prints, from the pipeline's metrics, the rows the groups
// read and the Gram rate of the accumulation stage: N·D² multiply-adds (the
// D(D+1)/2 dot products of the symmetric Gram) over the stage's wall time,
// from the first group's start to the last one's end, in all and per core
// when the groups ran in this process (Prism's loopback workers).
func reportRate(res beam.PipelineResult, d int, local bool) {
	var rows, groups int64
	start, end := int64(math.MaxInt64), int64(0)
	q := res.Metrics().AllMetrics()
	for _, c := range q.Counters() {
		switch c.Key.Name {
		case "rows":
			rows += c.Result()
		case "groups":
			groups += c.Result()
		}
	}
	for _, m := range q.Distributions() {
		switch m.Key.Name {
		case "group_start_ms":
			start = min(start, m.Result().Min)
		case "group_end_ms":
			end = max(end, m.Result().Max)
		}
	}
	if end <= start {
		return
	}
	wall := float64(end-start) / 1e3
	rate := float64(rows) * float64(d) * float64(d) / wall / 1e9
	plural := "s"
	if groups == 1 {
		plural = ""
	}
	fmt.Printf("%d group%s, %d rows: accumulation stage %.2fs, %.1f GFLOP/s", groups, plural, rows, wall, rate)
	if local {
		fmt.Printf(", %.1f per core of this machine (%d cores)", rate/float64(runtime.NumCPU()), runtime.NumCPU())
	}
	fmt.Println()
}

// inProcess reports whether the groups run in this process: Prism with
// its default loopback workers.
func inProcess() bool {
	r, env := flag.Lookup("runner"), flag.Lookup("environment_type")
	return r != nil && (r.Value.String() == "" || strings.EqualFold(r.Value.String(), "prism")) &&
		(env == nil || env.Value.String() == "" || strings.EqualFold(env.Value.String(), "loopback"))
}

// checkOutput refuses, before any work, an output that is one of the local
// input files.
func checkOutput(opt moments.Options) error {
	if opt.Out == "" || strings.Contains(opt.Out, "://") {
		return nil
	}
	st, err := os.Stat(opt.Out)
	if err != nil {
		return nil
	}
	for _, glob := range []string{opt.Data, opt.Labels} {
		if glob == "" || strings.Contains(glob, "://") {
			continue
		}
		matches, _ := filepath.Glob(glob)
		for _, m := range matches {
			if ist, err := os.Stat(m); err == nil && os.SameFile(st, ist) {
				return fmt.Errorf("%s: the output is also an input (%s): write the moments to another file", opt.Out, m)
			}
		}
	}
	if st.IsDir() {
		return errors.New(opt.Out + ": is a directory: name the moments file to write")
	}
	return nil
}
