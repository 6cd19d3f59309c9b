// Package moments computes a dataset's moments file on an Apache Beam
// runner — Prism in this process, Dataflow, Flink, any portable runner —
// so that a dataset that one machine cannot read fast enough is read by
// many, and the result is the .npz that `reconalign moments` writes.
//
// The pipeline:
//
//  1. fileio.MatchFiles expands the data and label globs through Beam's
//     filesystems (local paths, gs://, s3:// where registered).
//  2. A planning step sorts both lists and pairs data and label shards one
//     for one in lexical order, as data.Open pairs them, naming a data shard
//     left without labels; it reads the first shard's header (D, element
//     type, image shape) and, for float data, the provisional mean of its
//     first chunk: every bundle accumulates around that one shift, so the
//     partial float sums add up like those of a single pass.
//  3. The pairs are reshuffled across workers; each bundle accumulates its
//     shards into one partial engine.Moments with the engine's best backend
//     on that worker (the exact uint8 Gram included), checking every shard
//     against the plan, and emits it when the bundle finishes.
//  4. The Gram travels as tiles of its upper triangle (Options.Tile² values,
//     8 MB at the default 1024: no element grows with D², so D beyond 65,535
//     works), the other sums as rows, each keyed by its place; a CombineFn
//     adds them up, in integers for exact moments (uint8 samples with
//     class labels or none: sent as int32 while they fit, summed in int64,
//     exact whatever the grouping, checked below 2⁵³ at the end) and in
//     float64 otherwise.
//  5. One step assembles the sums into engine.Moments and writes the moments
//     file with engine.SaveMoments: the same file as `reconalign moments`
//     on the same data, bit for bit for exact moments.
//
// Bundles are retried by the runners that retry (Dataflow, Flink): a bundle
// emits only when it finishes and starts from empty moments, and the
// runner keeps the outputs of successful attempts only, so a retried bundle
// counts its shards once.
package moments
