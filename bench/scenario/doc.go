// Package scenario is the catalogue of reconalign's benchmark suite: the
// suites `reconalign bench` runs (SuiteFor: quick, standard, imagenet) and
// every scenario family in them, each with the model count of its flops
// and bytes and the check its answer must pass before it is timed.
//
// Suites (PlanFor): "quick" (under a minute on two cores; `make test` runs
// it as a smoke test that fails only on a wrong answer), "standard" (what
// `make bench` writes to BENCHMARKS.md; a few minutes), "imagenet" (the GPU
// machine: an ImageNet-64-sized synthetic stream).
//
// Checks compare with references computed by plain loops or with
// invariants (package bench/internal/check), never with another backend:
// sampled Gram and GEMM entries against dot products (exact for integer
// data), eigendecompositions by order, trace, Frobenius norm and sampled
// residuals, alignment curves against NumPy full-SVD goldens
// (testdata/fmnist_goldens.json, from `scripts/bench_reference.py
// --goldens`) or NumPy's sweep of the same files in the same run, the
// denoising grid by Corollary 3.1 and a feature-space pencil residual, the
// randomized SVD by its own a-posteriori error bounds.
//
// The formulas the engine's packages also implement (the dual route, the
// rank cut, the Figure 7 grid, the unit round-off, collecting a source into
// memory) are kept once each in shared.go, to be replaced by those
// packages' own in one edit each.
package scenario
