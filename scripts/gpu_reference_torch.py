#!/usr/bin/env python3
"""PyTorch side of the GPU check: the same work as engine's TestGPUCheck,
timed in the same device call (scripts/gpu-check.sh runs both).

Gram XᵀX of a 65,536 × 12,288 uint8 chunk per precision (fp64, fp32, tf32,
bf16 inputs with fp32 output, int8 via torch._int_mm), eigh at 4,096 and
12,288 (fp64), and the ImageNet-64-sized end-to-end route (N = 1,281,167
uint8 rows held in host RAM, streamed in 65,536-row chunks, fp64 Gram,
centring, eigh) — PyTorch's float64 baseline for the 3 s target.
Written without a GPU at hand: unverified until it runs there.
"""
import os, time, sys
import numpy as np
import torch

N = int(os.environ.get("RECONALIGN_GPU_CHECK_N", 1281167))
D = int(os.environ.get("RECONALIGN_GPU_CHECK_D", 12288))
CHUNK = 65536
dev = torch.device("cuda")
rows = []

def timed(fn, reps=1):
    fn(); torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        out = fn()
    torch.cuda.synchronize()
    return out, (time.perf_counter() - t) / reps

def row(name, secs, extra=""):
    rows.append(f"{name:<34} {secs:9.4f} s {extra}")
    print(rows[-1], flush=True)

rng = np.random.default_rng(1)
xc = torch.from_numpy(rng.integers(0, 256, (CHUNK, D), dtype=np.uint8)).to(dev)
ref, s = timed(lambda: xc.double().T @ xc.double())
row("torch gram fp64 (65,536 rows)", s, f"{2*CHUNK*D*D/s/1e12:8.1f} TFLOP/s")
torch.backends.cuda.matmul.allow_tf32 = False
g, s = timed(lambda: xc.float().T @ xc.float())
row("torch gram fp32", s, f"{2*CHUNK*D*D/s/1e12:8.1f} TFLOP/s  max rel err {((g.double()-ref).abs()/ref.abs().clamp_min(1)).max().item():.2e}")
torch.backends.cuda.matmul.allow_tf32 = True
g, s = timed(lambda: xc.float().T @ xc.float())
row("torch gram tf32", s, f"{2*CHUNK*D*D/s/1e12:8.1f} TFLOP/s  max rel err {((g.double()-ref).abs()/ref.abs().clamp_min(1)).max().item():.2e}")
torch.backends.cuda.matmul.allow_tf32 = False
xb = xc.to(torch.bfloat16)
g, s = timed(lambda: xb.T @ xb)
row("torch gram bf16 (bf16 out)", s, f"{2*CHUNK*D*D/s/1e12:8.1f} TFLOP/s  max rel err {((g.double()-ref).abs()/ref.abs().clamp_min(1)).max().item():.2e}")
xi = (xc.to(torch.int16) - 128).to(torch.int8)
xit = xi.T.contiguous()
try:
    g, s = timed(lambda: torch._int_mm(xit, xi))
    row("torch gram int8 (_int_mm)", s, f"{2*CHUNK*D*D/s/1e12:8.1f} TOP/s")
except Exception as e:  # noqa: BLE001
    row("torch gram int8 (_int_mm)", float("nan"), str(e)[:60])
del xb, xi, xit, g

for m in (4096, D):
    a = ref[:m, :m].clone()
    _, s = timed(lambda: torch.linalg.eigh(a))
    row(f"torch eigh {m} (fp64, vectors)", s)
del ref

# End to end, ImageNet-64-sized uint8 in (pinned) host RAM.
t = time.perf_counter()
host = torch.empty((N, D), dtype=torch.uint8, pin_memory=True)
for i in range(0, N, CHUNK):
    j = min(i + CHUNK, N)
    host[i:j] = torch.randint(0, 256, (j - i, D), dtype=torch.uint8, device=dev).cpu()
labels = torch.arange(N) % 1000
row(f"torch fill {N}x{D} uint8 (pinned)", time.perf_counter() - t)
torch.cuda.synchronize()
t = time.perf_counter()
G = torch.zeros((D, D), dtype=torch.float64, device=dev)
s = torch.zeros(D, dtype=torch.float64, device=dev)
M = torch.zeros((1000, D), dtype=torch.float64, device=dev)
for i in range(0, N, CHUNK):
    j = min(i + CHUNK, N)
    c = host[i:j].to(dev, non_blocking=True).double()
    G.addmm_(c.T, c)
    s += c.sum(0)
    M.index_add_(0, labels[i:j].to(dev), c)
mu = s / N
Gc = G - N * torch.outer(mu, mu)
w, U = torch.linalg.eigh(Gc)
torch.cuda.synchronize()
row("torch align ImageNet-64 fp64 (Gram+eigh)", time.perf_counter() - t)
print("\nGPU check (PyTorch reference):")
for r in rows:
    print("  " + r)
