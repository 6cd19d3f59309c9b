#!/usr/bin/env python3
"""Checks a reconalign moments file against NumPy, from the data it came from.

numpy.load must read every documented key with its dtype and shape, meta must
be JSON describing the file, and the moments must be what NumPy computes from
the samples: xtx = X.T @ X, ytx = Y.T @ X (Y one-hot for integer labels, the
dense targets otherwise), yty = Y.T @ Y, sum_x, sum_y and n. For exact files
(uint8 samples) the comparison is exact, in int64; for float files it allows
1e-12 relative, and the shifted keys must give the centred Gram that NumPy
computes from X - mean.

Usage: /usr/bin/python3 scripts/check_moments_npz.py MOMENTS.npz DATA.npy [LABELS.npy]
Prints "ok" and exits 0, or prints each mismatch and exits 1.
"""
import json
import sys

import numpy as np


def main():
    path, data = sys.argv[1], sys.argv[2]
    labels = sys.argv[3] if len(sys.argv) > 3 else None
    bad = []

    def check(cond, what):
        if not cond:
            bad.append(what)

    f = np.load(path)
    meta = json.loads(f["meta"].item())
    x = np.load(data)
    x = x.reshape(x.shape[0], -1)
    n, d = x.shape
    if labels is None:
        y = np.zeros((n, 0))
    else:
        lab = np.load(labels)
        if lab.dtype.kind in "iu":
            y = np.zeros((n, int(lab.max()) + 1), dtype=np.int64)
            y[np.arange(n), lab.reshape(-1)] = 1
        else:
            y = lab.reshape(n, -1).astype(np.float64)
    c = y.shape[1]

    check(meta["format"] == "reconalign-moments", "meta format %r" % meta["format"])
    check(meta["d"] == d and meta["c"] == c, "meta D, C = %d, %d; want %d, %d" % (meta["d"], meta["c"], d, c))
    check(meta["dtype"] == str(x.dtype), "meta dtype %s, data %s" % (meta["dtype"], x.dtype))
    exact = meta["exact"]
    check(exact == (x.dtype == np.uint8 and y.dtype.kind in "iu"), "meta exact = %s" % exact)

    keys = {"xtx": (d, d), "ytx": (c, d), "yty": (c, c), "sum_x": (d,), "sum_y": (c,), "n": ()}
    if not exact:
        keys.update({"shift": (d,), "xtx_shifted": (d, d), "sum_x_shifted": (d,), "ytx_shifted": (c, d)})
    check(sorted(f.files) == sorted(list(keys) + ["meta"]), "keys %s" % sorted(f.files))
    for k, shape in keys.items():
        a = f[k]
        want = np.int64 if k == "n" else np.float64
        check(a.dtype == want, "%s has dtype %s, want %s" % (k, a.dtype, np.dtype(want)))
        check(a.shape == shape, "%s has shape %s, want %s" % (k, a.shape, shape))
    if bad:
        report(bad)

    if exact:
        xi = x.astype(np.int64)
        want = {"xtx": xi.T @ xi, "ytx": y.T @ xi, "yty": y.T @ y, "sum_x": xi.sum(0), "sum_y": y.sum(0)}
        for k, v in want.items():
            check(np.array_equal(f[k], v.astype(np.float64)), "%s differs from NumPy's integer result" % k)
    else:
        xf = x.astype(np.float64)
        want = {"xtx": xf.T @ xf, "ytx": y.T @ xf, "yty": y.T @ y, "sum_x": xf.sum(0), "sum_y": y.sum(0)}
        for k, v in want.items():
            check(close(f[k], v), "%s differs from NumPy's by %.3g relative" % (k, reldiff(f[k], v)))
        xc = xf - xf.mean(0)
        cov = f["xtx_shifted"] - np.outer(f["sum_x_shifted"], f["sum_x_shifted"]) / n
        check(close(cov, xc.T @ xc), "centred Gram from the shifted keys differs by %.3g" % reldiff(cov, xc.T @ xc))
    check(int(f["n"]) == n, "n = %d, want %d" % (int(f["n"]), n))
    check(np.array_equal(f["xtx"], f["xtx"].T), "xtx is not symmetric")
    report(bad)


def reldiff(a, b):
    scale = max(np.abs(b).max(), 1e-300) if b.size else 1
    return float(np.abs(a - b).max() / scale) if b.size else 0.0


def close(a, b):
    return a.shape == b.shape and reldiff(a, b) <= 1e-12


def report(bad):
    if bad:
        for b in bad:
            print("mismatch:", b)
        sys.exit(1)
    print("ok")
    sys.exit(0)


if __name__ == "__main__":
    main()
