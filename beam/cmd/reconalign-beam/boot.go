package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/container/tools"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
)

// boot turns a process started by a runner's process environment (with
// --id and --provision_endpoint) into a Beam worker: it asks the runner's
// provisioning service for the control and logging endpoints and the
// pipeline options, then replaces itself with the same binary in worker
// mode. It is what Beam's container boot program does, less fetching the
// worker binary: this binary is the worker.
func boot(endpoint string, beamArgs []string) error {
	fs := flag.NewFlagSet("boot", flag.ContinueOnError)
	id := fs.String("id", "", "worker id")
	fs.String("semi_persist_dir", "", "")
	fs.String("logging_endpoint", "", "")
	fs.String("artifact_endpoint", "", "")
	fs.String("control_endpoint", "", "")
	if err := fs.Parse(beamArgs); err != nil {
		return err
	}
	// Prism quotes the id it passes (--id='worker-1').
	wid := strings.Trim(*id, "'")
	if wid == "" {
		return fmt.Errorf("started with --provision_endpoint but no --id")
	}
	ctx := grpcx.WriteWorkerID(context.Background(), wid)
	info, err := tools.ProvisionInfo(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("provisioning from %s: %w", endpoint, err)
	}
	opts, err := tools.ProtoToJSON(info.GetPipelineOptions())
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "reconalign-beam-options-*.json")
	if err != nil {
		return err
	}
	if _, err := f.WriteString(opts); err != nil {
		return err
	}
	f.Close()
	env := append(os.Environ(), "PIPELINE_OPTIONS_FILE="+f.Name())
	if caps := info.GetRunnerCapabilities(); len(caps) > 0 {
		env = append(env, "RUNNER_CAPABILITIES="+strings.Join(caps, " "))
	}
	if s := info.GetStatusEndpoint().GetUrl(); s != "" {
		env = append(env, "STATUS_ENDPOINT="+s)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{self, "--worker=true", "--id=" + wid,
		"--logging_endpoint=" + info.GetLoggingEndpoint().GetUrl(),
		"--control_endpoint=" + info.GetControlEndpoint().GetUrl()}
	return syscall.Exec(self, args, env)
}
