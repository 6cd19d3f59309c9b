// Package moments computes a dataset's moments file on an Apache Beam
// runner — Prism in this process, Dataflow, Flink, any portable runner —
// so that a dataset that one machine cannot read fast enough is read by
// many, and the result is the .npz that `reconalign moments` writes.
//
// The pipeline:
//
//  1. One planning step, on an impulse, matches the data and label globs
//     through Beam's filesystems (local paths, gs://, s3:// where
//     registered), sorts both lists and pairs data and label shards one for
//     one in lexical order, as data.Open pairs them, naming a data shard
//     left without labels. It reads the first shard's header (D, element
//     type, image shape) and, for float data, the provisional mean of its
//     first chunk: every group accumulates around that one shift, so the
//     partial float sums add up like those of a single pass. It deals the
//     shards into groups: runs of consecutive shards of about equal bytes
//     (Options.Groups of them, or one per shard).
//  2. The groups are reshuffled across workers; each group is one element,
//     accumulated by one pass per shard into one partial engine.Moments
//     with the engine's best backend on that worker (the exact uint8 Gram
//     included), checking every shard against the plan. A gate keeps the
//     passes that run at once in one process within its cores.
//  3. The group's Gram travels as tiles of its upper triangle (Options.Tile²
//     values at most, 8 MB at the default 1024: no element grows with D², so
//     D beyond 65,535 works; the diagonal tiles as triangles), the other
//     sums as rows, each keyed by its place; a CombineFn adds them up,
//     lifted by the runners that lift (Prism, Dataflow, Flink) into the
//     accumulating step. Exact moments (uint8 samples with class labels or
//     none) are summed as integers, sent in the fewest bytes that hold each
//     part, exact whatever the grouping and checked below 2⁵³ at the end;
//     float moments as float64.
//  4. One step assembles the sums into engine.Moments and writes the moments
//     file with engine.SaveMoments: the same file as `reconalign moments`
//     on the same data, bit for bit for exact moments. The plan and the
//     shard lists reach it as one more part.
//
// No step takes a side input: Prism (v2.77.0) re-evaluates the watermarks of
// a stage with a side input without pause while one of its bundles runs,
// which takes a core from the accumulation for its whole length.
//
// Bundles are retried by the runners that retry (Dataflow, Flink): a group
// emits its sums only once all its shards are in, from moments of its own,
// and the runner keeps the outputs of successful attempts only, so a
// retried group counts its shards once.
package moments
