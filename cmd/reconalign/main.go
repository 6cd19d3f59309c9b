// Command reconalign computes the linear analysis of "Learning by
// Reconstruction Produces Uninformative Features For Perception" (Balestriero
// & LeCun, 2024) on datasets of any size: the alignment curve, Gram
// eigendecompositions, the closed-form denoising and supervised solutions,
// top/bottom subspace projections and benchmarks, on CPU or GPU backends.
//
// Run `reconalign --help` or `reconalign COMMAND --help` for the commands.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:   "reconalign",
	Short: "Alignment of reconstruction features with perception tasks, in closed form",
	Long: `reconalign streams a dataset once into its moments (XᵀX, YᵀX, YᵀY) and computes,
in closed form, how well the directions that reconstruction learns first align
with the labels: the alignment curve of Balestriero & LeCun (ICML 2024), the
denoising autoencoder optima, top/bottom subspace projections and linear probes.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

var cpuProfile string

func init() {
	rootCmd.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file (for `go tool pprof`)")
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		return pprof.StartCPUProfile(f)
	}
	rootCmd.PersistentPostRun = func(*cobra.Command, []string) {
		if cpuProfile != "" {
			pprof.StopCPUProfile()
		}
	}
}

func main() {
	err := rootCmd.Execute()
	if cpuProfile != "" {
		pprof.StopCPUProfile() // also when the command failed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconalign:", explain(err))
		os.Exit(1)
	}
}
