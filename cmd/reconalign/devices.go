package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/hw"
)

func newDevicesCmd() *cobra.Command {
	var asJSON string
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "Every backend, whether it can run here and why not, with the CPU and GPUs",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			rep := hw.Collect()
			rep.Backends = backend.Available(backend.Options{Threads: global.threads})
			if asJSON != "" {
				return writeJSON(asJSON, rep)
			}
			return rep.WriteText(os.Stdout)
		},
	}
	cmd.Flags().StringVar(&asJSON, "json", "", "write the report as JSON to this file (- for stdout)")
	return cmd
}
