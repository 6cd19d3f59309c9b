// Command reconalign computes the linear analysis of "Learning by
// Reconstruction Produces Uninformative Features For Perception" (Balestriero
// & LeCun, 2024) on datasets of any size: the alignment curve, Gram
// eigendecompositions, the closed-form denoising and supervised solutions,
// top/bottom subspace projections and benchmarks, on CPU or GPU backends.
//
// Every command is a flags struct, a run function that makes one call into
// the library (engine, closedform, rsvd) and writers for its outputs, which
// appear only when the whole run succeeded.
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
	SilenceUsage:      true,
	SilenceErrors:     true,
	PersistentPreRunE: startRun,
	PersistentPostRun: func(*cobra.Command, []string) { stopProfile() },
}

func init() {
	addGlobalFlags(rootCmd)
	rootCmd.AddCommand(newAlignCmd(), newEighCmd(), newRSVDCmd(), newDenoiseCmd(), newSolveCmd(),
		newProjectCmd(), newProbeCmd(), newDevicesCmd(), newPlotCmd(), newMomentsCmd(), newBenchCmd())
}

var cpuProfile string

// startRun checks the shared flags and starts the CPU profile.
func startRun(*cobra.Command, []string) error {
	if err := checkGlobal(); err != nil {
		return err
	}
	if cpuProfile == "" {
		return nil
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return err
	}
	return pprof.StartCPUProfile(f)
}

func stopProfile() {
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
}

func main() {
	useOpenBLASKernels()
	err := rootCmd.Execute()
	stopProfile() // also when the command failed
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconalign:", explain(err))
		os.Exit(1)
	}
}
