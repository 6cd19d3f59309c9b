#!/usr/bin/env python3
"""NumPy / scikit-learn references for `reconalign bench`.

The Go suite runs this script once per invocation (with /usr/bin/python3,
Debian's python3-numpy) and in the same environment, so that OpenBLAS
settings (OPENBLAS_*, OMP_*) are identical on both sides. It reads a JSON
request on stdin and prints one JSON document on stdout:

  request:  {"timing": {"warmup": 1, "min_repeats": 2, "max_repeats": 5, "budget": 3.0},
             "tasks": [{"name": "...", "kind": "sweep"|"moments"|"gram"|"eigh"|"rsvd", ...}]}
  response: {"python": ..., "numpy": ..., "sklearn": ..., "blas": ...,
             "results": [{"name", "seconds": [...], "cpu_seconds": [...], "warmup",
                          "result": {...}, "check": "ok" | "what is wrong"} | {"name", "error"}]}

Each task times itself (time.perf_counter; interpreter start-up and imports
excluded), runs warm-up plus repeats under the same policy as the Go side
(a task may override "warmup", "min_repeats", "max_repeats", "budget"), and
checks its own answer (a wrong fast answer is never a timing).

Kinds:
  sweep    the paper's printed `alignment_sweep` (full thin SVD of X), data
           loaded inside the timer: {"images", "labels", "k": [...]}
  moments  the moments route in NumPy (XᵀX, eigh, YᵀX), load included
  gram     XᵀX of a random N×D matrix of dtype u8/f32/f64, converted to
           float64 inside the timer: {"n", "d", "dtype", "seed"}
  eigh     numpy.linalg.eigh of a random symmetric (GOE) matrix: {"n", "seed"}
  rsvd     sklearn.utils.extmath.randomized_svd of the loaded data:
           {"images", "rank", "oversamples", "iters"}
  denoise  the Figure 7 grid by the paper code's route (SciPy generalized
           eigh per setting + QR of the N×D features), data centred and
           Gram formed outside the timer: {"images", "labels",
           "masks": [[patch, p], ...] (the first with p = 0), "sigma"}

Other modes:
  bench_reference.py --goldens OUT.json   Fashion-MNIST alignment goldens
                                          (sweep route) for the bench checks
  bench_reference.py --info               versions only
"""
import gzip
import json
import os
import struct
import sys
import time

import numpy as np


# ---------------------------------------------------------------- loading

def read_array(path):
    """An IDX file (MNIST family, gzip or raw) or an .npy file."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:6] == b"\x93NUMPY":
        import io
        return np.load(io.BytesIO(raw))
    magic, = struct.unpack(">I", raw[:4])
    dtype = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[(magic >> 8) & 0xFF]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)


def load(task):
    X = read_array(task["images"])
    X = X.reshape(X.shape[0], -1).astype(np.float64)
    Y = None
    if task.get("labels"):
        lab = read_array(task["labels"]).astype(np.int64).ravel()
        Y = np.eye(int(lab.max()) + 1)[lab]
    return X, Y


# ---------------------------------------------------------------- the paper's code

def alignment_sweep(X, Y, major="C"):
    # As printed in the paper (Balestriero & LeCun 2024); major="R" takes
    # samples as rows (X is N×D, Y is N×C).
    U, S, Vh = np.linalg.svd(X, full_matrices=False)
    if major == "C":
        denom = np.square(np.linalg.norm(Y @ Y.T))
        numer = np.linalg.multi_dot([Y.T, Y, Vh.T])
    else:
        denom = np.square(np.linalg.norm(Y.T @ Y))
        numer = np.linalg.multi_dot([Y, Y.T, U])
    numer = np.linalg.norm(numer, axis=0) ** 2
    return np.cumsum(numer) / denom, S


def sweep(task):
    X, Y = load(task)
    papercode, S = alignment_sweep(X, Y, major="R")
    lam = S ** 2
    rank = int(np.sum(lam > 1e-12 * lam[0]))
    return curve_result(papercode[:rank], papercode[rank - 1], rank, task["k"])


def moments(task):
    X, Y = load(task)
    G = X.T @ X
    M = Y.T @ X
    Gy = Y.T @ Y
    w, V = np.linalg.eigh(G)
    w, V = w[::-1], V[:, ::-1]
    rank = int(np.sum(w > 1e-12 * w[0]))
    B = (M @ V[:, :rank]) / np.sqrt(w[:rank])  # columns Yᵀq_j
    a = np.einsum("ij,ik,kj->j", B, Gy, B)      # ‖YYᵀq_j‖²
    cum = np.cumsum(a)
    papercode = cum / np.square(np.linalg.norm(Gy))
    return curve_result(papercode, papercode[-1], rank, task["k"])


def curve_result(papercode, total, rank, ks):
    ks = [k for k in ks if 1 <= k <= rank]
    full = papercode / total
    return {"rank": rank, "k": ks, "full": [float(full[k - 1]) for k in ks],
            "papercode": [float(papercode[k - 1]) for k in ks]}


# ---------------------------------------------------------------- kernels

def gram_setup(task):
    rng = np.random.default_rng(task.get("seed", 1))
    n, d, dt = task["n"], task["d"], task["dtype"]
    if dt == "u8":
        return rng.integers(0, 256, size=(n, d), dtype=np.uint8)
    x = rng.standard_normal((n, d))
    return x.astype(np.float32) if dt == "f32" else x


def gram_run(x):
    xf = x.astype(np.float64)
    return xf.T @ xf


def gram_check(x, g):
    rng = np.random.default_rng(7)
    d = x.shape[1]
    for _ in range(32):
        a, b = sorted(rng.integers(0, d, 2))
        col_a, col_b = x[:, a].astype(np.float64), x[:, b].astype(np.float64)
        ref = float(np.sum(col_a * col_b))
        mag = float(np.sum(np.abs(col_a * col_b)))
        tol = 0.0 if x.dtype == np.uint8 else 4 * x.shape[0] * 2.0 ** -53 * mag
        if abs(g[a, b] - ref) > tol:
            return "Gram entry (%d,%d) = %r, reference %r" % (a, b, g[a, b], ref)
    return "ok"


def eigh_setup(task):
    rng = np.random.default_rng(task.get("seed", 1))
    n = task["n"]
    a = rng.standard_normal((n, n))
    return (a + a.T) / 2


def eigh_check(a, res):
    w, v = res
    n = a.shape[0]
    tol = 100 * n * 2.0 ** -53 * np.linalg.norm(a)
    if abs(w.sum() - np.trace(a)) > tol * np.sqrt(n):
        return "sum of eigenvalues %r != trace %r" % (w.sum(), np.trace(a))
    for j in (0, n // 2, n - 1):
        r = np.linalg.norm(a @ v[:, j] - w[j] * v[:, j])
        if r > tol:
            return "eigenpair %d residual %g > %g" % (j, r, tol)
    return "ok"


def rsvd(task):
    from sklearn.utils.extmath import randomized_svd
    X, _ = load(task)
    U, S, Vt = randomized_svd(X, task["rank"], n_oversamples=task.get("oversamples", 10),
                              n_iter=task.get("iters", 4), random_state=0)
    return {"singular_values": S.tolist()}


def denoise_setup(task):
    """Centred data and its Gram, outside the timer (the Go side starts from
    moments too)."""
    X, Y = load(task)
    Xc = X - X.mean(0)
    return Xc, Y, Xc.T @ Xc


def denoise(state, task):
    """The reference route of the paper's code for the Figure 7 grid: per
    setting, SciPy's generalized eigh of the pencil (q²·Gx·Gx, Gx∘Q), then a
    QR of the N×D feature matrix Xc·V for the nested orthonormal basis, and
    the norm-scale alignment curve. Returns the curves at a few k."""
    import scipy.linalg
    Xc, Y, G = state
    n, d = Xc.shape
    side = int(round(np.sqrt(d)))
    settings = []
    for ps, p in task["masks"]:
        pid = ((np.arange(side)[:, None] // ps) * ((side + ps - 1) // ps) + np.arange(side)[None, :] // ps).ravel()
        same = pid[:, None] == pid[None, :]
        q = 1 - p
        settings.append((q * q * (G @ G), G * np.where(same, q, q * q)))
    settings.append((G @ G, G + n * task["sigma"] ** 2 * np.eye(d)))
    curves = []
    for a, b in settings:
        w, V = scipy.linalg.eigh(a, b)
        # Descending, and contiguous: a negative-stride view would send the
        # product below down NumPy's slow non-BLAS path.
        V = np.ascontiguousarray(V[:, ::-1])
        Q, _ = np.linalg.qr(Xc @ V)
        proj = Y.T @ Q                       # columns Yᵀq_j
        gy = Y.T @ Y
        aj = np.einsum("ij,ik,kj->j", proj, gy, proj)
        cum = np.cumsum(aj)
        curves.append(np.sqrt(cum / cum[-1]))
    ks = [k for k in (1, 10, 100) if k <= d]
    return {"k": ks, "curves": [[float(c[k - 1]) for k in ks] for c in curves]}


def denoise_check(res):
    # Corollary 3.1 in the reference's own terms: the Gaussian setting (last)
    # and the p = 0 mask (first) both give the clean curve.
    c = np.array(res["curves"])
    if np.max(np.abs(c[-1] - c[0])) > 1e-6:
        return "Gaussian and p=0 curves differ by %g" % np.max(np.abs(c[-1] - c[0]))
    return "ok"


# ---------------------------------------------------------------- timing

def timed(fn, timing, warmup):
    """Run fn under the suite's policy: warm-up runs (skipped when one run
    is long), then repeats sized by the budget. Returns (last result,
    seconds, cpu seconds, warm-ups done)."""
    budget = timing.get("budget", 3.0)
    lo, hi = timing.get("min_repeats", 2), timing.get("max_repeats", 5)
    seconds, cpu, done = [], [], 0
    res, first = None, None
    while True:
        c0, t0 = time.process_time(), time.perf_counter()
        res = fn()
        wall, used = time.perf_counter() - t0, time.process_time() - c0
        if first is None:
            first = wall
        if done < warmup and (done == 0 or first < budget / 4):
            done += 1
            continue
        seconds.append(wall)
        cpu.append(used)
        want = max(lo, min(hi, int(budget / first) if first > 0 else hi))
        if len(seconds) >= want:
            return res, seconds, cpu, done


def run_task(task, timing):
    kind = task["kind"]
    warmup = task.get("warmup", timing.get("warmup", 1))
    # A task may tighten the suite's policy (one run of a slow reference).
    timing = dict(timing, **{k: task[k] for k in ("min_repeats", "max_repeats", "budget") if k in task})
    out = {"name": task["name"]}
    if kind in ("sweep", "moments", "rsvd"):
        fn = {"sweep": sweep, "moments": moments, "rsvd": rsvd}[kind]
        res, s, c, w = timed(lambda: fn(task), timing, warmup)
        out.update(result=res, check="ok")
    elif kind == "gram":
        x = gram_setup(task)
        res, s, c, w = timed(lambda: gram_run(x), timing, warmup)
        out.update(check=gram_check(x, res))
    elif kind == "denoise":
        state = denoise_setup(task)
        res, s, c, w = timed(lambda: denoise(state, task), timing, warmup)
        out.update(result=res, check=denoise_check(res))
    elif kind == "eigh":
        a = eigh_setup(task)
        res, s, c, w = timed(lambda: np.linalg.eigh(a), timing, warmup)
        out.update(check=eigh_check(a, res))
    else:
        raise ValueError("unknown task kind %r" % kind)
    out.update(seconds=s, cpu_seconds=c, warmup=w)
    return out


def info():
    out = {"python": sys.version.split()[0], "executable": sys.executable, "numpy": np.__version__}
    try:
        import sklearn
        out["sklearn"] = sklearn.__version__
    except ImportError:
        out["sklearn"] = ""
    try:
        from threadpoolctl import threadpool_info
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        out["blas"] = "; ".join("%s %s (%s, %s, %d threads)" % (p.get("internal_api"), p.get("version"),
                                p.get("threading_layer"), p.get("architecture"), p.get("num_threads", 0)) for p in blas)
    except Exception as e:  # threadpoolctl missing or too old
        out["blas"] = "unknown (%s)" % e
    return out


def goldens(path):
    d = "/usr/share/datasets/fashion-mnist/"
    ks = [1, 2, 5, 10, 20, 50, 100, 200, 400, 700, 784]
    res = {"generator": "scripts/bench_reference.py --goldens", "numpy": np.__version__,
           "note": "Fashion-MNIST, not centred, gram form, by the paper's printed alignment_sweep (full SVD)"}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        task = {"images": d + prefix + "-images-idx3-ubyte.gz", "labels": d + prefix + "-labels-idx1-ubyte.gz", "k": ks}
        res[split] = sweep(task)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--goldens":
        goldens(sys.argv[2])
        return
    if len(sys.argv) == 2 and sys.argv[1] == "--info":
        json.dump(info(), sys.stdout)
        return
    req = json.load(sys.stdin)
    timing = req.get("timing", {})
    out = info()
    out["results"] = []
    for task in req.get("tasks", []):
        try:
            out["results"].append(run_task(task, timing))
        except Exception as e:
            out["results"].append({"name": task.get("name", "?"), "error": "%s: %s" % (type(e).__name__, e)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
