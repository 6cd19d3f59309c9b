#!/usr/bin/env python3
"""Independent goldens for package closedform, by the reference route.

The Go package solves every pencil in whitened coordinates of the data's
range and measures alignment through a QR of small r×r matrices. This script
takes the route of the paper's reference code instead: it builds the full D×D
pencil, solves it with scipy.linalg.eigh(a, b) (LAPACK dsygvd), forms the N×D
feature matrix X·V and orthonormalises it with a QR, so agreement checks both
the algebra and the patch bookkeeping (done here with NumPy reshapes).

Usage: /usr/bin/python3 scripts/gen_closedform_golden.py closedform/testdata/golden_closedform.json
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import scipy
import scipy.linalg


def patch_ids(H, W, C, ph, pw, layout):
    """Patch index of every flattened feature, from an (H, W, C) index grid."""
    gw = -(-W // pw)
    hh, ww = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    pid = (hh // ph) * gw + (ww // pw)           # (H, W)
    grid = np.repeat(pid[:, :, None], C, axis=2)  # (H, W, C)
    if layout == "chw":
        grid = grid.transpose(2, 0, 1)
    return grid.reshape(-1), (-(-H // ph)) * gw


def curves(F, Y):
    """Alignment of the nested basis of F's columns (squared/full and norm)."""
    Q, _ = np.linalg.qr(F)
    a = np.linalg.norm(Y @ (Y.T @ Q), axis=0) ** 2
    cum = np.cumsum(a)
    sq = cum / cum[-1]
    return sq, np.sqrt(sq)


def masked(X, Y, H, W, C, layout, ph, pw, p, fixed):
    pid, P = patch_ids(H, W, C, ph, pw, layout)
    if fixed:
        k = int(P * (1 - p))
        keep, same, cross = k / P, k / P, k * (k - 1) / (P * (P - 1))
    else:
        keep, same, cross = 1 - p, 1 - p, (1 - p) ** 2
    G = X.T @ X
    Q = np.where(pid[:, None] == pid[None, :], same, cross)
    A = keep ** 2 * G @ G
    B = G * Q
    w, V = scipy.linalg.eigh(A, B)
    w, V = w[::-1], V[:, ::-1]
    sq, nm = curves(X @ V, Y)
    return {"layout": layout, "patch": [ph, pw], "p": p, "fixed": fixed,
            "eigenvalues": w.tolist(), "squared": sq.tolist(), "norm": nm.tolist()}


FMNIST = "/usr/share/datasets/fashion-mnist/"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = struct.unpack(">I", raw[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def probe_sweep(Xtr, ytr, Xte, yte, grid, rtol=1e-12):
    """Figure 4's table by the reference's cuts, with explicit projections.

    Eigenvectors of the centred training Gram (ascending from eigh, as the
    reference code has them); top = directions whose cumulative share from
    the largest (inclusive) is < v; bottom = those whose share is >= 1 − v.
    The probe is least squares with an intercept on the coordinates of the
    projected data in the subspace, leaving out directions at or below
    rtol·λ₁ (the minimum-norm solution the Go code computes).
    """
    mu = Xtr.mean(0)
    Xc, Tc = Xtr - mu, Xte - mu
    lam, U = np.linalg.eigh(Xc.T @ Xc)
    lam = np.maximum(lam, 0)
    explained = np.cumsum((lam / lam.sum())[::-1])[::-1]   # ascending order, as the reference
    classes = int(ytr.max()) + 1
    Y = np.eye(classes)[ytr]
    rows = []
    for v in grid:
        row = {"variance": v}
        for keep, sel in (("top", explained < v), ("bottom", explained >= 1 - v)):
            sel = sel & (lam > rtol * lam.max())
            if not sel.any():
                row[keep] = None
                continue
            Us = U[:, sel]
            T = Xc @ Us                                     # coordinates of the projection
            A = np.hstack([T, np.ones((len(T), 1))])
            B = np.linalg.lstsq(A, Y, rcond=None)[0]
            pred = (np.hstack([Tc @ Us, np.ones((len(Tc), 1))]) @ B).argmax(1)
            row[keep] = {"accuracy": float((pred == yte).mean())}
        rows.append(row)
    return rows


def main(out):
    rng = np.random.default_rng(20240611)
    res = {"generator": "scripts/gen_closedform_golden.py", "numpy": np.__version__, "scipy": scipy.__version__}

    # A plain pencil: symmetric a, positive definite b.
    n = 12
    a = rng.standard_normal((n, n)); a = a + a.T
    b = rng.standard_normal((n, n)); b = b @ b.T + n * np.eye(n)
    w, v = scipy.linalg.eigh(a, b)
    res["pencil"] = {"n": n, "a": a.ravel().tolist(), "b": b.ravel().tolist(),
                     "values": w[::-1].tolist(), "vectors": v[:, ::-1].ravel().tolist()}

    # Labelled images with a class signal in a few pixels, centred.
    N, H, W, C, classes = 240, 5, 7, 2, 3
    labels = rng.integers(0, classes, N)
    img = rng.standard_normal((N, H, W, C)) * np.linspace(0.5, 2.0, H * W * C).reshape(H, W, C)
    img[:, 1, 2, 0] += 1.5 * labels
    img[:, 3, 5, 1] -= 1.0 * (labels == 1)
    Y = np.eye(classes)[labels]
    res["images"] = {"n": N, "h": H, "w": W, "c": C, "classes": classes,
                     "hwc": img.reshape(N, -1).ravel().tolist(), "labels": labels.tolist()}
    settings = []
    for layout in ("hwc", "chw"):
        X = img if layout == "hwc" else img.transpose(0, 3, 1, 2)
        X = X.reshape(N, -1).astype(np.float64)
        X = X - X.mean(0)
        for ph, pw, p, fixed in [(1, 1, 0.5, False), (2, 2, 0.3, False), (3, 2, 0.9, False),
                                 (2, 3, 0.6, True), (5, 7, 0.2, False)]:
            settings.append(masked(X, Y, H, W, C, layout, ph, pw, p, fixed))
    res["masked"] = settings

    # Theorem 1 on the same data (hwc, centred): top-K generalized
    # eigenvalues of (MᵀM + λ Gx², Gx) and the loss at the optimum.
    X = img.reshape(N, -1) - img.reshape(N, -1).mean(0)
    G = X.T @ X
    M = Y.T @ X
    th = []
    for lam in (0.0, 0.1, 1.0, 10.0):
        for K in (1, 3, 10):
            w = scipy.linalg.eigh(M.T @ M + lam * G @ G, G, eigvals_only=True)[::-1][:K]
            th.append({"lambda": lam, "k": K, "eigenvalues": w.tolist(),
                       "loss": float(np.trace(Y.T @ Y) + lam * np.trace(G) - w.sum())})
    res["theorem1"] = th

    # The probe sweep on real data: the first 6000 training and 2000 test
    # images of Fashion-MNIST, when Debian's dataset-fashion-mnist is there.
    if os.path.exists(FMNIST + "train-images-idx3-ubyte.gz"):
        Xtr = idx(FMNIST + "train-images-idx3-ubyte.gz")[:6000].reshape(6000, -1).astype(np.float64)
        ytr = idx(FMNIST + "train-labels-idx1-ubyte.gz")[:6000].astype(int)
        Xte = idx(FMNIST + "t10k-images-idx3-ubyte.gz")[:2000].reshape(2000, -1).astype(np.float64)
        yte = idx(FMNIST + "t10k-labels-idx1-ubyte.gz")[:2000].astype(int)
        grid = [0.1, 0.2, 0.5, 0.9, 0.99, 1.0]
        res["fashion_probe"] = {"train": 6000, "test": 2000, "grid": grid,
                                "rows": probe_sweep(Xtr, ytr, Xte, yte, grid)}
    with open(out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main(sys.argv[1])
