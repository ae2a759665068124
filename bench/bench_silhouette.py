#!/usr/bin/python3
"""Exact silhouette: embcluster vs scikit-learn's silhouette_score, measured in the same run.

Run with Debian's python3-sklearn, after building:
  /usr/bin/python3 bench/bench_silhouette.py [--n 50000 --d 128 --k 20] [--cli build/embcluster]

Blobs (float32) and their labels are written as .npy; `embcluster evaluate` scores them exactly
(its silhouette time comes from report.json, its wall time includes reading the data and the
Davies-Bouldin / Calinski-Harabasz passes); then scikit-learn's silhouette_score scores the same
arrays in this process. Prints both times, the ratio and the two scores.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.metrics import silhouette_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_cli():
    for path in [os.path.join(ROOT, "build", "embcluster")] + sorted(
            glob.glob(os.path.join(ROOT, "build*", "embcluster"))):
        if os.access(path, os.X_OK):
            return path
    sys.exit("no embcluster binary under build*/; build first or pass --cli")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--metric", default="euclidean", choices=["euclidean", "cosine"])
    ap.add_argument("--cli", default=None, help="embcluster binary (default: build*/embcluster)")
    ap.add_argument("--threads", type=int, default=0, help="embcluster threads (0 = all cores)")
    ap.add_argument("--repeat", type=int, default=2, help="embcluster runs; the best is kept")
    args = ap.parse_args()
    cli = args.cli or find_cli()

    rng = np.random.default_rng(args.seed)
    centres = rng.uniform(-5, 5, (args.k, args.d)).astype(np.float32)
    labels = rng.integers(0, args.k, args.n).astype(np.int32)
    x = (centres[labels] + rng.normal(size=(args.n, args.d))).astype(np.float32)

    with tempfile.TemporaryDirectory(prefix="bench-silhouette-") as tmp:
        data, lab = os.path.join(tmp, "x.npy"), os.path.join(tmp, "labels.npy")
        np.save(data, x)
        np.save(lab, labels)
        best = None
        for r in range(args.repeat):
            out = os.path.join(tmp, "out%d" % r)
            cmd = [cli, "--quiet", "--threads", str(args.threads), "evaluate", data, "--labels",
                   lab, "--metric", args.metric, "--out", out]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            with open(os.path.join(out, "report.json")) as f:
                report = json.load(f)
            run = (report["silhouette"]["seconds"], wall, report["silhouette"]["score"],
                   report["threads"])
            if best is None or run[0] < best[0]:
                best = run

        t0 = time.perf_counter()
        ref = float(silhouette_score(x, labels, metric=args.metric))
        sk_s = time.perf_counter() - t0

    emb_s, emb_wall, score, threads = best
    print("exact silhouette, %d x %d, %d clusters, %s (%d CPU cores, embcluster %d threads)"
          % (args.n, args.d, args.k, args.metric, os.cpu_count(), threads))
    print("  embcluster silhouette   %8.2f s   (evaluate end to end %.2f s)" % (emb_s, emb_wall))
    print("  scikit-learn %-10s %8.2f s   (silhouette_score)" % (sklearn.__version__, sk_s))
    print("  ratio                   %8.1fx   (end to end %.1fx)" % (sk_s / emb_s, sk_s / emb_wall))
    print("  scores: embcluster %.7f, scikit-learn %.7f, |diff| %.2g"
          % (score, ref, abs(score - ref)))


if __name__ == "__main__":
    main()
