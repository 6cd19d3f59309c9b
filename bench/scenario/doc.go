// Package scenario is the catalogue of reconalign's benchmark suite: the
// suites `reconalign bench` runs (SuiteFor) and every scenario family in
// them, each with the model count of its flops and bytes and the check its
// answer must pass before it is timed, and the speed claims a run supports.
//
// Suites (PlanFor): "quick" (under a minute on two cores; `make test` runs
// it as a smoke test that fails only on a wrong answer), "standard" (what
// `make bench` writes to BENCHMARKS.md; a few minutes), "imagenet" (the GPU
// machine: an ImageNet-64-sized synthetic stream), "large" (the open
// issues' shapes, minutes each on two cores, never in CI: the 8,192 × 4,096
// alignment against NumPy's moments script, the eigen phase with and
// without eigenvectors at D = 4,096 and 12,288, ImageNet-sized alignments
// as child processes with their peak memory, the moments file against its
// Beam pipeline).
//
// Checks compare with references computed by plain loops or with
// invariants (package bench/internal/check), never with another backend:
// sampled Gram and GEMM entries against dot products (exact for integer
// data), eigendecompositions by order, trace, Frobenius norm and sampled
// residuals, projections M·U by their row norms and sampled bilinear forms,
// alignment curves against NumPy full-SVD goldens
// (testdata/fmnist_goldens.json, from `scripts/bench_reference.py
// --goldens`) or NumPy's sweep or moments script on the same files in the
// same run, the denoising grid by Corollary 3.1 and a feature-space pencil
// residual, the randomized SVD by its own a-posteriori error bounds, moments
// files by being identical to each other.
//
// Formulas come from the packages that own them (engine.GramEighRoute for
// either route of the Gram, backend.UnitRoundoff for a declared precision,
// closedform.Figure7Masks for the Figure 7 grid), so a scenario times and
// checks exactly what a user calls. plug.go is for other packages' authors:
// where routines still being written plug in (the eigen phase without
// eigenvectors, the Beam pipeline's binary).
package scenario
