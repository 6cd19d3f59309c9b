package scenario

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"

	"github.com/reconalign/reconalign/bench"
)

// Scenarios that time a whole command as a user types it run it as a child
// process: its time is from start to exit, its CPU time is counted by the
// runner (child processes it waited for), and its peak memory is its own,
// free of what this process holds (the loaded data of other scenarios, the
// Go heap of the run).

// child runs a command to completion and returns its peak resident memory
// in bytes (0 where the system does not say). A failure quotes the last
// line of its standard error.
func child(name string, args ...string) (uint64, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("%s: %v", name, err)
	}
	stop := make(chan struct{})
	sampled := watchPeak(cmd.Process.Pid, stop)
	err := cmd.Wait()
	close(stop)
	peak := <-sampled
	if err != nil {
		return 0, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, lastLine(stderr.String()))
	}
	if peak == 0 {
		peak = peakRSS(cmd.ProcessState)
	}
	return peak, nil
}

// reconalign returns the reconalign binary the child scenarios run, or a
// skip saying there is none.
func reconalign(env *bench.Env) (string, error) {
	if env.Config.Executable == "" {
		return "", bench.Skipf("no reconalign executable to run as a child process (bench.Config.Executable; the CLI gives its own)")
	}
	return env.Config.Executable, nil
}

// globalArgs are the flags every child reconalign gets: the backend and the
// thread count of this run, and no progress bar.
func globalArgs(env *bench.Env, backendName string) []string {
	args := []string{"--quiet", "--backend", backendName}
	if env.Config.Threads > 0 {
		args = append(args, "--threads", fmt.Sprint(env.Config.Threads))
	}
	return args
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
