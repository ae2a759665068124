#!/usr/bin/python3
"""GPU K-means against the GPU peers a user would pick, in one run on one card: flash-kmeans and
fastkmeans (Triton kernels on PyTorch, from PyPI) and a plain PyTorch Lloyd (cuBLAS GEMM, argmin,
index_add), each on the same data and, where the tool takes them, the same initial centres.

  bench_gpu_peers.py [--jobs N:D:K:IT ...] [--big] [--tools embcluster,torch,flash,fast]
                     [--cli build/embcluster] [--cli-env LD_LIBRARY_PATH] [--work DIR] [--json F]

Default jobs: the FAISS wiki job (1,000,000 x 256, k=20,000, 25 iterations) and flash-kmeans'
8,000,000 x 128, k=1,024; --big adds fastkmeans' 6,553,600 x 128, k=65,536. Every job runs
every iteration (no tolerance stop) and reports, per tool and precision, the seconds of the
iterations (embcluster: its Lloyd passes, from the report; peers: the fit, synchronised), the
inertia of the final centres measured the same way for all (fp32 on the GPU), and the ratio of
the peer's time to embcluster's at the same precision. fastkmeans draws its own initial centres.

A tool that cannot be imported (or no CUDA device) is reported as skipped, never counted.
bench/gpu_extra.sh runs this on the GPU machine with the peers' wheels carried in
.gpubundle/wheels (bench/fetch_gpu_peers.sh).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import find_cli, run_report  # noqa: E402


def parse_job(s):
    n, d, k, it = (int(v) for v in s.split(":"))
    return {"n": n, "d": d, "k": k, "iters": it}


def make_data(job, seed):
    """Gaussian blobs (float32) and k distinct rows as the initial centres."""
    rng = np.random.default_rng(seed)
    n, d, k = job["n"], job["d"], job["k"]
    blobs = max(16, k // 4)
    centres = rng.normal(0.0, 4.0, size=(blobs, d)).astype(np.float32)
    x = np.empty((n, d), dtype=np.float32)
    step = 1 << 20
    for s in range(0, n, step):
        e = min(n, s + step)
        x[s:e] = centres[rng.integers(0, blobs, e - s)] + rng.standard_normal((e - s, d), dtype=np.float32)
    init = x[np.sort(rng.choice(n, size=k, replace=False))].copy()
    return x, init


def torch_modules():
    try:
        import torch
        if not torch.cuda.is_available():
            return None
        return torch
    except Exception:
        return None


def inertia_of(torch, x_gpu, centres, rows=1 << 16):
    """Sum of squared distances to the nearest centre, fp32 (no TF32), in row chunks."""
    torch.backends.cuda.matmul.allow_tf32 = False
    c = torch.as_tensor(np.asarray(centres, dtype=np.float32)).cuda()
    cn = (c * c).sum(1)
    total = 0.0
    for s in range(0, x_gpu.shape[0], rows):
        xb = x_gpu[s:s + rows]
        d2 = (xb * xb).sum(1, keepdim=True) - 2.0 * (xb @ c.T) + cn
        total += float(d2.min(1).values.clamp_min(0).double().sum())
    return total


def torch_lloyd(torch, x_gpu, init, iters, tf32, rows=1 << 15):
    """Plain Lloyd in PyTorch: GEMM + argmin per row chunk, index_add for the sums."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    c = torch.as_tensor(init).cuda()
    n, d = x_gpu.shape
    k = c.shape[0]
    xn = (x_gpu * x_gpu).sum(1)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        cn = (c * c).sum(1)
        sums = torch.zeros((k, d), device="cuda", dtype=torch.float32)
        counts = torch.zeros(k, device="cuda", dtype=torch.float32)
        for s in range(0, n, rows):
            xb = x_gpu[s:s + rows]
            lab = (cn - 2.0 * (xb @ c.T)).argmin(1)
            sums.index_add_(0, lab, xb)
            counts.index_add_(0, lab, torch.ones_like(xn[s:s + rows]))
        c = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], c)
    torch.cuda.synchronize()
    return time.perf_counter() - t0, c.cpu().numpy()


def flash(torch, x_gpu, init, iters, dtype):
    from flash_kmeans import batch_kmeans_Euclid
    xb = x_gpu.to(dtype)[None]
    c0 = torch.as_tensor(init).cuda().to(dtype)[None]
    batch_kmeans_Euclid(xb, init.shape[0], max_iters=1, tol=-1.0, init_centroids=c0)  # compiles
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    _, centres, _ = batch_kmeans_Euclid(xb, init.shape[0], max_iters=iters, tol=-1.0, init_centroids=c0)
    torch.cuda.synchronize()
    return time.perf_counter() - t0, centres[0].float().cpu().numpy()


def fast(torch, x, k, iters, dtype):
    from fastkmeans import FastKMeans
    FastKMeans(x.shape[1], k, niter=1, tol=-1.0, seed=0, dtype=dtype).train(x)  # compiles
    km = FastKMeans(x.shape[1], k, niter=iters, tol=-1.0, seed=0, dtype=dtype)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    km.train(x)
    torch.cuda.synchronize()
    return time.perf_counter() - t0, km.centroids


def embcluster(cli, env, work, job, precision, device):
    out = os.path.join(work, f"emb-{precision}")
    cmd = [cli, "kmeans", os.path.join(work, "x.h5") + ":/x", "--n-clusters", str(job["k"]),
           "--init", os.path.join(work, "init.npy"), "--max-iter", str(job["iters"]), "--tol", "0",
           "--device", device, "--precision", precision, "--no-metrics", "--out", out, "--force",
           "--quiet"]
    _, rep = run_report(cmd, out, env=env)
    t = rep["timings_s"]
    with h5py.File(os.path.join(out, "centroids.h5"), "r") as f:
        centres = f[list(f.keys())[0]][()]
    return t.get("assign", 0.0) + t.get("update", 0.0), centres, rep


def run_job(job, args, torch, cli_env, rows_out):
    x, init = make_data(job, seed=1)
    with h5py.File(os.path.join(args.work, "x.h5"), "w") as f:
        f.create_dataset("x", data=x)
    np.save(os.path.join(args.work, "init.npy"), init)
    x_gpu = torch.as_tensor(x).cuda() if torch else None
    name = f"{job['n']}x{job['d']} k={job['k']} {job['iters']} it"
    results = []

    def record(tool, prec, fn):
        try:
            secs, centres = fn()
            inertia = inertia_of(torch, x_gpu, centres) if torch else float("nan")
            if not torch and tool == "embcluster":  # without PyTorch: the report's inertia
                with open(os.path.join(args.work, f"emb-{prec}", "report.json")) as f:
                    inertia = json.load(f)["inertia"]
            results.append({"job": name, "tool": tool, "precision": prec, "seconds": secs,
                            "inertia": inertia})
        except Exception as e:  # a peer that fails is reported, never counted
            results.append({"job": name, "tool": tool, "precision": prec, "skipped": str(e)[:200]})

    tools = args.tools
    for prec in ("fp32", "tf32", "bf16"):
        if "embcluster" in tools:
            record("embcluster", prec, lambda: embcluster(args.cli, cli_env, args.work, job, prec,
                                                          args.device)[:2])
    if torch:
        if "torch" in tools:
            record("pytorch lloyd", "fp32", lambda: torch_lloyd(torch, x_gpu, init, job["iters"], False))
            record("pytorch lloyd", "tf32", lambda: torch_lloyd(torch, x_gpu, init, job["iters"], True))
        if "flash" in tools:
            record("flash-kmeans", "fp32", lambda: flash(torch, x_gpu, init, job["iters"], torch.float32))
            record("flash-kmeans", "bf16", lambda: flash(torch, x_gpu, init, job["iters"], torch.bfloat16))
        if "fast" in tools:
            record("fastkmeans", "fp16", lambda: fast(torch, x, job["k"], job["iters"], torch.float16))
            record("fastkmeans", "fp32", lambda: fast(torch, x, job["k"], job["iters"], torch.float32))
    ours = {r["precision"]: r["seconds"] for r in results if r["tool"] == "embcluster" and "seconds" in r}
    print(f"\n{name}")
    print(f"  {'tool':<15} {'prec':<5} {'seconds':>9} {'inertia':>16}  peer / embcluster")
    for r in results:
        if "skipped" in r:
            print(f"  {r['tool']:<15} {r['precision']:<5} skipped: {r['skipped']}")
            continue
        # The same precision where embcluster has it; fp16 against embcluster's bf16.
        mine = ours.get({"fp16": "bf16"}.get(r["precision"], r["precision"]))
        ratio = f"{r['seconds'] / mine:.2f}x" if mine and r["tool"] != "embcluster" else ""
        r["ratio_vs_embcluster"] = r["seconds"] / mine if mine else None
        print(f"  {r['tool']:<15} {r['precision']:<5} {r['seconds']:>9.3f} {r['inertia']:>16.8g}  {ratio}")
    rows_out.extend(results)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", nargs="*", default=["1000000:256:20000:25", "8000000:128:1024:20"])
    ap.add_argument("--big", action="store_true", help="add 6,553,600 x 128, k=65,536, 10 iterations")
    ap.add_argument("--tools", default="embcluster,torch,flash,fast")
    ap.add_argument("--cli", default=None, help="the embcluster binary (default: build*/embcluster)")
    ap.add_argument("--cli-env", default=None, help="LD_LIBRARY_PATH for the embcluster binary")
    ap.add_argument("--device", default="cuda", help="embcluster's --device (cpu checks the plumbing)")
    ap.add_argument("--work", default=None, help="folder for the data files (default: a temporary one)")
    ap.add_argument("--json", default=None, help="write every result here")
    args = ap.parse_args()
    args.tools = set(args.tools.split(","))
    args.cli = find_cli(args.cli)
    jobs = [parse_job(j) for j in args.jobs] + ([parse_job("6553600:128:65536:10")] if args.big else [])
    torch = torch_modules()
    if torch:
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    else:
        print("PyTorch with CUDA is not importable here: the peers are skipped")
    cli_env = dict(os.environ)
    if args.cli_env is not None:
        cli_env["LD_LIBRARY_PATH"] = args.cli_env
    tmp = None
    if not args.work:
        tmp = tempfile.TemporaryDirectory()
        args.work = tmp.name
    rows = []
    for job in jobs:
        run_job(job, args, torch, cli_env, rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
