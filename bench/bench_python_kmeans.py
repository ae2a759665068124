#!/usr/bin/env python3
"""K-means from Python: embcluster.KMeans beside sklearn.cluster.KMeans (lloyd) and faiss.Kmeans
on the same float32 array, the same initial centres and the same iteration count, in the same run.

Each tool runs in a process of its own (the same saved array), so that each gets its best BLAS
setting: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on these machines for old OpenBLAS builds)
are unset for every tool, except that faiss's bundled OpenBLAS (0.3.15, which does not know
newer CPUs) gets OPENBLAS_CORETYPE=SkylakeX where the CPU has AVX-512 (elsewhere that kernel
stops with an illegal instruction; its own detection is left to choose).
The BLAS kernels each process loaded are printed (threadpoolctl). Needs the project's .venv
(scripts/python-env.sh: newest scikit-learn and faiss-cpu) and the built package:

  PYTHONPATH=build/python .venv/bin/python bench/bench_python_kmeans.py --n 200000 --d 128 --k 256
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchutil import tool_env

TOOLS = ("embcluster", "scikit-learn", "faiss")


def blas_info():
    from threadpoolctl import threadpool_info

    return [
        {k: i.get(k) for k in ("internal_api", "architecture", "num_threads", "version")}
        | {"file": os.path.basename(i["filepath"])}
        for i in threadpool_info()
    ]


def fit(tool, x, init, iters, threads):
    if tool == "embcluster":
        import embcluster

        km = embcluster.KMeans(len(init), init=init, n_init=1, max_iter=iters, tol=0.0,
                               threads=threads or None, device="cpu")
        t0 = time.perf_counter()
        km.fit(x)
        return time.perf_counter() - t0, km.cluster_centers_, km.n_iter_
    if tool == "scikit-learn":
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits

        km = KMeans(len(init), init=init, n_init=1, max_iter=iters, tol=0.0, algorithm="lloyd")
        with threadpool_limits(threads or None):
            t0 = time.perf_counter()
            km.fit(x)
        return time.perf_counter() - t0, km.cluster_centers_, km.n_iter_
    import faiss

    if threads:
        faiss.omp_set_num_threads(threads)
    k, d = init.shape
    km = faiss.Kmeans(d, k, niter=iters, verbose=False, min_points_per_centroid=1,
                      max_points_per_centroid=1 << 30, seed=0)
    t0 = time.perf_counter()
    km.train(x, init_centroids=init)
    return time.perf_counter() - t0, km.centroids, iters


def worker(args):
    x = np.load(os.path.join(args.work, "x.npy"))
    init = np.load(os.path.join(args.work, "init.npy"))
    seconds, centres, n_iter = fit(args.worker, x, init, args.iters, args.threads)
    # The inertia of each tool's final centres, computed the same way for all.
    inertia = 0.0
    for s in range(0, len(x), 65536):
        b = x[s:s + 65536].astype(np.float64)
        c = np.asarray(centres, dtype=np.float64)
        d2 = (b * b).sum(1)[:, None] - 2 * b @ c.T + (c * c).sum(1)[None]
        inertia += float(np.maximum(d2.min(1), 0).sum())
    print(json.dumps({"time": seconds, "iterations": int(n_iter), "inertia": inertia,
                      "blas": blas_info()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="0: every core")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)

    rng = np.random.default_rng(args.seed)
    centres = rng.normal(scale=4.0, size=(args.k, args.d)).astype(np.float32)
    x = centres[rng.integers(0, args.k, args.n)] + rng.standard_normal((args.n, args.d),
                                                                      dtype=np.float32)
    init = x[np.sort(rng.choice(args.n, args.k, replace=False))].copy()
    flops = 2.0 * args.n * args.k * args.d * args.iters
    print(f"data {args.n} x {args.d} float32, k={args.k}, {args.iters} iterations, "
          f"threads={args.threads or os.cpu_count()}, same initial centres")
    results = {}
    with tempfile.TemporaryDirectory() as work:
        np.save(os.path.join(work, "x.npy"), np.ascontiguousarray(x))
        np.save(os.path.join(work, "init.npy"), init)
        for tool in TOOLS:
            cmd = [sys.executable, __file__, "--worker", tool, "--work", work, "--iters",
                   str(args.iters), "--threads", str(args.threads)]
            p = subprocess.run(cmd, capture_output=True, text=True, env=tool_env(tool))
            if p.returncode != 0:
                print(f"{tool}: failed\n{p.stderr}", file=sys.stderr)
                continue
            results[tool] = json.loads(p.stdout.strip().splitlines()[-1])
    for tool, r in results.items():
        kernels = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']} "
                            f"x{b['num_threads']} ({b['file']})" for b in r["blas"]
                            if b["internal_api"] in ("openblas", "mkl", "blis"))
        print(f"  {tool} BLAS: {kernels or 'none'}")
    ref = results.get("embcluster")
    base = results.get("scikit-learn", ref)
    print(f"{'tool':<14}{'time s':>9}{'GFLOP/s':>9}{'iters':>7}{'inertia':>16}"
          f"{'rel. to sklearn':>17}{'embcluster speed-up':>21}")
    for tool, r in results.items():
        rel = (r["inertia"] - base["inertia"]) / base["inertia"]
        speed = f"{r['time'] / ref['time']:.2f}x" if ref else "-"
        print(f"{tool:<14}{r['time']:>9.3f}{flops / r['time'] / 1e9:>9.1f}{r['iterations']:>7}"
              f"{r['inertia']:>16.8g}{rel:>17.2e}{speed:>21}")


if __name__ == "__main__":
    main()
