#!/usr/bin/python3
"""K-means beside its peers on the same HDF5 data, the same initial centres and iteration count.

Runs embcluster (the CLI), scikit-learn KMeans (lloyd) and faiss Kmeans (Debian's python3-sklearn
and python3-faiss) in the same session and prints their times, inertias and ratios.

  compare_peers.py DATA.h5[:/data] --k 1000 --iters 20 [--embcluster build/embcluster]
  compare_peers.py --generate 1000000x128 --k 1000 --iters 20     (writes a blob file first)
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from benchutil import run_report


def load(spec):
    path, _, ds = spec.partition(":")
    with h5py.File(path, "r") as f:
        return np.ascontiguousarray(f[ds or "/data"][...], dtype=np.float32)


def inertia_of(x, centres, block=65536):
    """Exact inertia of x against centres (float64 sums), independent of every peer."""
    c = centres.astype(np.float32)
    cn = (c.astype(np.float64) ** 2).sum(1)
    total = 0.0
    for s in range(0, len(x), block):
        xb = x[s:s + block]
        d = cn[None, :] - 2.0 * (xb @ c.T).astype(np.float64)
        best = d.argmin(1)
        diff = xb.astype(np.float64) - c[best].astype(np.float64)
        total += (diff * diff).sum()
    return total


def run_embcluster(exe, spec, init_file, k, iters, threads, workdir):
    out = os.path.join(workdir, "emb")
    cmd = [exe, "kmeans", spec, "--n-clusters", str(k), "--init", init_file + ":/c",
           "--max-iter", str(iters), "--tol", "0", "--device", "cpu", "--out", out, "--force",
           "--quiet"]
    if threads:
        cmd += ["--threads", str(threads)]
    wall, rep = run_report(cmd, out)
    t = rep["timings_s"]
    compute = t["total"] - t.get("read_wait", 0) - t.get("stats_and_sample", 0)
    with h5py.File(os.path.join(out, "centroids.h5"), "r") as f:
        centres = f["/centroids"][...]
    return {"time": compute, "wall": wall, "iterations": rep["iterations"],
            "inertia": rep["inertia"], "centres": centres}


def run_sklearn(x, init, iters):
    from sklearn.cluster import KMeans
    km = KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=iters, tol=0.0,
                algorithm="lloyd")
    t0 = time.perf_counter()
    km.fit(x)
    return {"time": time.perf_counter() - t0, "iterations": int(km.n_iter_),
            "inertia": float(km.inertia_), "centres": km.cluster_centers_}


def run_faiss(x, init, iters):
    import faiss
    k, d = init.shape
    km = faiss.Kmeans(d, k, niter=iters, verbose=False, min_points_per_centroid=1,
                      max_points_per_centroid=1 << 30, seed=0)
    t0 = time.perf_counter()
    km.train(x, init_centroids=init)
    elapsed = time.perf_counter() - t0
    return {"time": elapsed, "iterations": iters, "centres": km.centroids}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("data", nargs="?", help="file.h5[:/dataset]")
    ap.add_argument("--generate", help="NxD: write Gaussian blobs with the embcluster generator")
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embcluster", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                         "embcluster"))
    ap.add_argument("--skip", default="", help="comma list of peers to skip: sklearn,faiss")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    with tempfile.TemporaryDirectory() as work:
        spec = args.data
        if args.generate:
            n, d = (int(v) for v in args.generate.lower().split("x"))
            spec = os.path.join(work, "blobs.h5") + ":/data"
            subprocess.run([args.embcluster, "generate", "--n", str(n), "--d", str(d), "--k",
                            str(args.k), "--seed", str(args.seed), "--out", spec.split(":")[0],
                            "--quiet"], check=True)
        if not spec:
            ap.error("give DATA or --generate")
        if ":" not in spec:
            spec += ":/data"
        x = load(spec)
        rng = np.random.default_rng(args.seed)
        init = x[np.sort(rng.choice(len(x), args.k, replace=False))].copy()
        init_file = os.path.join(work, "init.h5")
        with h5py.File(init_file, "w") as f:
            f.create_dataset("c", data=init)

        print(f"data {spec}: {x.shape[0]} x {x.shape[1]}, k={args.k}, iterations={args.iters}")
        results = {"embcluster": run_embcluster(args.embcluster, spec, init_file, args.k,
                                                args.iters, args.threads, work)}
        if "sklearn" not in skip:
            results["scikit-learn"] = run_sklearn(x, init, args.iters)
        if "faiss" not in skip:
            results["faiss"] = run_faiss(x, init, args.iters)

        ref = results["embcluster"]
        # Every inertia recomputed the same way from each tool's final centres.
        for r in results.values():
            r["final_inertia"] = inertia_of(x, r["centres"])
        base = results.get("scikit-learn", ref)["final_inertia"]
        flops = 2.0 * x.shape[0] * args.k * x.shape[1] * args.iters
        print(f"{'tool':<14}{'time s':>10}{'GFLOP/s':>10}{'iters':>7}{'inertia':>18}"
              f"{'rel. to sklearn':>17}{'speed-up of embcluster':>25}")
        for name, r in results.items():
            print(f"{name:<14}{r['time']:>10.3f}{flops / r['time'] / 1e9:>10.1f}{r['iterations']:>7}"
                  f"{r['final_inertia']:>18.8g}{(r['final_inertia'] - base) / base:>17.2e}"
                  f"{r['time'] / ref['time']:>24.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
