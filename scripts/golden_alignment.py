#!/usr/bin/env python3
"""Independent goldens for the alignment curve, by the paper's printed route.

This follows `alignment_sweep` as printed in the paper (a thin SVD of the data
matrix, then ‖YYᵀu_j‖² per left singular vector, cumulated), NOT the moments
route the Go engine takes, so agreement tests both the algebra and the code.

Usage: /usr/bin/python3 scripts/golden_alignment.py OUT.json
Reads Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian's
dataset-fashion-mnist) and also writes goldens for a small seeded random
problem whose data are stored in the JSON itself.
"""
import gzip, json, struct, sys
import numpy as np

def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def sweep(X, Y, center, form, rtol=1e-12):
    """Row-major alignment_sweep, with centering and the regression form added."""
    X = X.astype(np.float64)
    if center:
        X = X - X.mean(0)
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    lam = S ** 2
    r = int(np.sum(lam > rtol * lam[0]))
    U = U[:, :r]
    if form == "gram":
        a = np.linalg.norm(Y @ (Y.T @ U), axis=0) ** 2
        paper_den = np.linalg.norm(Y.T @ Y) ** 2
    else:
        a = np.linalg.norm(Y.T @ U, axis=0) ** 2
        paper_den = np.trace(Y.T @ Y)
    cum = np.cumsum(a)
    return {"rank": r, "eigenvalues": lam.tolist(),
            "full": (cum / cum[-1]).tolist(), "papercode": (cum / paper_den).tolist()}

def main(out):
    res = {"generator": "scripts/golden_alignment.py", "numpy": np.__version__}
    d = "/usr/share/datasets/fashion-mnist/"
    X = idx(d + "train-images-idx3-ubyte.gz").reshape(60000, -1)
    lab = idx(d + "train-labels-idx1-ubyte.gz").astype(int)
    Y = np.eye(10)[lab]
    fm = {}
    for center in (False, True):
        for form in ("gram", "regression"):
            s = sweep(X, Y, center, form)
            keep = [1, 2, 5, 10, 20, 50, 100, 200, 400, 700, s["rank"]]
            fm[f"center={center},form={form}"] = {
                "rank": s["rank"],
                "k": keep,
                "full": [s["full"][k - 1] for k in keep],
                "papercode": [s["papercode"][k - 1] for k in keep],
                "eigenvalues_top5": s["eigenvalues"][:5],
            }
    res["fashion_mnist_train"] = fm
    # A small random problem with labels and N < D as well as N > D.
    rng = np.random.default_rng(7)
    for name, (n, dd, c) in {"tall": (200, 30, 4), "wide": (40, 120, 3)}.items():
        Xr = rng.standard_normal((n, dd)) @ np.diag(np.linspace(3, 0.1, dd)) + 5.0
        lr = rng.integers(0, c, n)
        Yr = np.eye(c)[lr]
        entry = {"x": Xr.ravel().tolist(), "n": n, "d": dd, "classes": c, "labels": lr.tolist()}
        for center in (False, True):
            for form in ("gram", "regression"):
                entry[f"center={center},form={form}"] = sweep(Xr, Yr, center, form)
        res[name] = entry
    with open(out, "w") as f:
        json.dump(res, f)

if __name__ == "__main__":
    main(sys.argv[1])
