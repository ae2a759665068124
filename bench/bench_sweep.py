#!/usr/bin/python3
"""embcluster sweep over k = FIRST..LAST against the same K-means runs one by one, in one session.

The runs one by one are what a user does without sweep: `embcluster kmeans DATA -k K` for every k,
each writing its report with the same quality metrics the sweep gives (silhouette on a sample of
--silhouette-sample rows, Davies-Bouldin, Calinski-Harabasz). Prints both wall times, their ratio,
and the knee and suggested k of the sweep.

  bench_sweep.py [DATA] [--k 2:30] [--threads 2] [--silhouette-sample 10000]
  (DATA defaults to datasets/fashion-mnist.h5:/train, made by scripts/run-default.sh)
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

from benchutil import ROOT, find_cli, run_report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("data", nargs="?", default=os.path.join(ROOT, "datasets", "fashion-mnist.h5"))
    ap.add_argument("--k", default="2:30")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--silhouette-sample", default="10000")
    ap.add_argument("--embcluster")
    a = ap.parse_args()
    cli = find_cli(a.embcluster)
    first, last = (int(v) for v in a.k.split(":")[:2])
    common = ["--threads", a.threads, "--seed", "0", "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sweep")
        t0 = time.perf_counter()
        subprocess.run([cli, "sweep", a.data, "--k", a.k, "--silhouette-sample",
                        a.silhouette_sample, "--out", out, *common], check=True)
        sweep_s = time.perf_counter() - t0
        with open(os.path.join(out, "sweep.json")) as f:
            rep = json.load(f)
        t0 = time.perf_counter()
        inertias = []
        for k in range(first, last + 1):
            d = os.path.join(tmp, "k%d" % k)
            _, r = run_report([cli, "kmeans", a.data, "-k", str(k), "--metrics-sample",
                               a.silhouette_sample, "--out", d, *common], d)
            inertias.append(r["inertia"])
        single_s = time.perf_counter() - t0
    points = rep["points"]
    print("data %s, k = %s (%d values), %s threads" % (a.data, a.k, last - first + 1, a.threads))
    print("sweep:            %8.1f s" % sweep_s)
    print("kmeans one by one: %8.1f s" % single_s)
    print("ratio sweep / one by one: %.2f" % (sweep_s / single_s))
    print("sweep: elbow (Kneedle) k = %s, suggested k (highest silhouette) = %s, silhouettes "
          "shared in %.1f s" % (rep["elbow_k"], rep["suggested_k"],
                                rep.get("shared_silhouette_s", 0.0)))
    same = sum(1 for p, y in zip(points, inertias) if p["inertia"] == y)
    print("inertia equal to the single run's for %d of %d k" % (same, len(inertias)))
    print(json.dumps({"sweep_s": sweep_s, "single_s": single_s,
                      "silhouette": {p["k"]: round(p["silhouette"], 4) for p in points}}))


if __name__ == "__main__":
    main()
