#!/usr/bin/env python3
"""Golden files for the data package's readers, written by NumPy itself.

Every .npy file here comes from np.save / np.lib.format (so the Go parser is
tested against the real writer, header padding and all), every IDX file from
struct.pack following the format description at yann.lecun.com/exdb/mnist.
expected.json lists, for each file, the shape NumPy reports and the values in
C order, flattened per sample, which is what the Go readers must deliver.

Usage: /usr/bin/python3 scripts/gen_data_golden.py data/testdata
"""
import gzip, json, os, struct, sys
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "data/testdata"
os.makedirs(os.path.join(out, "shards"), exist_ok=True)
os.makedirs(os.path.join(out, "shardlabels"), exist_ok=True)
rng = np.random.default_rng(20240607)
expected = {}


def record(name, arr, **extra):
    arr = np.asarray(arr)
    flat = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1)
    expected[name] = {
        "shape": list(arr.shape),
        "dtype": arr.dtype.str,
        "values": [float(v) for v in flat.ravel()],
        **extra,
    }


def save(name, arr, **extra):
    np.save(os.path.join(out, name), arr, allow_pickle=False)
    record(name, arr, **extra)


# Data arrays of every supported shape and dtype.
save("u8_img.npy", rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8))
hwc = (rng.standard_normal((6, 2, 3, 3)) * 10).astype(np.float32)
save("f32_hwc.npy", hwc)
save("f32_chw.npy", np.ascontiguousarray(hwc.transpose(0, 3, 1, 2)))
f64 = rng.standard_normal((7, 5)) * np.array([1e-300, 1.0, -3.5, 1e300, 0.0])
save("f64_flat.npy", f64)
save("f64_1d.npy", np.linspace(-2, 2, 9))
save("i2_flat.npy", rng.integers(-32768, 32767, size=(4, 3), dtype=np.int16))
save("i4_flat.npy", rng.integers(-2**31, 2**31 - 1, size=(3, 2), dtype=np.int32))

# The same array in format version 2.0 and gzip-compressed.
with open(os.path.join(out, "f64_v2.npy"), "wb") as f:
    np.lib.format.write_array(f, f64, version=(2, 0))
record("f64_v2.npy", f64)
with open(os.path.join(out, "f64_flat.npy"), "rb") as f:
    raw = f.read()
def gzip_write(path, data):
    # mtime=0 keeps the output byte-identical from one run to the next.
    with open(path, "wb") as raw_file, gzip.GzipFile(fileobj=raw_file, mode="wb", mtime=0) as f:
        f.write(data)


gzip_write(os.path.join(out, "f64_flat.npy.gz"), raw)
record("f64_flat.npy.gz", f64)

# Labels and dense targets for the 7 samples of f64_flat.npy.
labels = np.array([3, 0, 2, 2, 9, 1, 0])
save("labels_i8.npy", labels.astype(np.int64), classes=10)
save("labels_i4_col.npy", labels.astype(np.int32).reshape(7, 1), classes=10)
save("labels_u1.npy", labels.astype(np.uint8), classes=10)
save("targets_f8.npy", rng.standard_normal((7, 3)))
save("targets_f4_1d.npy", rng.standard_normal(7).astype(np.float32))

# Formats the reader must refuse.
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(f64))
np.save(os.path.join(out, "bigendian.npy"), np.arange(12, dtype=">f4").reshape(3, 4))

# Shards: three float32 parts whose concatenation is "shards_all.npy".
parts = [rng.standard_normal((n, 5)).astype(np.float32) for n in (3, 4, 2)]
part_labels = [rng.integers(0, 4, size=n) for n in (3, 4, 2)]
for i, (p, l) in enumerate(zip(parts, part_labels)):
    np.save(os.path.join(out, "shards", f"part-{i:02d}.npy"), p)
    np.save(os.path.join(out, "shardlabels", f"part-{i:02d}.npy"), l.astype(np.int64))
all_labels = np.concatenate(part_labels)
save("shards_all.npy", np.concatenate(parts), labels=[int(v) for v in all_labels])


# IDX files, big-endian, one per element type.
def write_idx(name, arr, code, compress=False):
    head = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    body = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    if compress:
        gzip_write(os.path.join(out, name), head + body)
    else:
        with open(os.path.join(out, name), "wb") as f:
            f.write(head + body)
    record(name, arr)


imgs = rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
write_idx("images-idx3-ubyte", imgs, 0x08)
write_idx("images-idx3-ubyte.gz", imgs, 0x08, compress=True)
write_idx("labels-idx1-ubyte.gz", labels[:5].astype(np.uint8), 0x08, compress=True)
write_idx("i8-idx2", rng.integers(-128, 127, size=(4, 3), dtype=np.int8), 0x09)
write_idx("i16-idx2", rng.integers(-32768, 32767, size=(4, 3), dtype=np.int16), 0x0B)
write_idx("i32-idx2", rng.integers(-2**31, 2**31 - 1, size=(4, 3), dtype=np.int32), 0x0C)
write_idx("f32-idx4", rng.standard_normal((3, 2, 2, 3)).astype(np.float32), 0x0D)
write_idx("f64-idx2", rng.standard_normal((4, 3)), 0x0E)

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
