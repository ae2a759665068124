#!/usr/bin/python3
"""Exact silhouette: embcluster vs scikit-learn's silhouette_score, measured in the same run.

Run with Debian's python3-sklearn, after building:
  /usr/bin/python3 bench/bench_silhouette.py [--n 50000 --d 128 --k 20] [--cli build/embcluster]
  /usr/bin/python3 bench/bench_silhouette.py --device cuda --n 1000000   # GPU, target <= 6 s

Blobs (float32) and their labels are written as .npy; `embcluster evaluate` scores them exactly
(its silhouette time comes from report.json, its wall time includes reading the data and the
Davies-Bouldin / Calinski-Harabasz passes) before and after scikit-learn's silhouette_score scores
the same arrays in this process. Prints both times (wall and CPU), the ratios and the two scores.
The machine's other load weighs on both sides: compare figures from quiet runs.
Above --sklearn-max rows scikit-learn is skipped (it would take hours) and only embcluster's time
is printed, with the device that computed the silhouette.
"""
import argparse
import os
import resource
import tempfile
import time

import numpy as np
import sklearn
from sklearn.metrics import silhouette_score

from benchutil import find_cli, run_report


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
    ap.add_argument("--device", default="auto",
                    help="embcluster evaluate --device: auto, cpu, cuda or cuda:N")
    ap.add_argument("--sklearn-max", type=int, default=100000,
                    help="largest --n that scikit-learn is run for (0 = never)")
    args = ap.parse_args()
    cli = find_cli(args.cli)

    rng = np.random.default_rng(args.seed)
    centres = rng.uniform(-5, 5, (args.k, args.d)).astype(np.float32)
    labels = rng.integers(0, args.k, args.n).astype(np.int32)
    x = (centres[labels] + rng.normal(size=(args.n, args.d))).astype(np.float32)

    def run_embcluster(tmp, data, lab, tag):
        out = os.path.join(tmp, "out-" + tag)
        cmd = [cli, "--quiet", "--threads", str(args.threads), "evaluate", data, "--labels", lab,
               "--metric", args.metric, "--device", args.device, "--out", out]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, report = run_report(cmd, out)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        sil = report["silhouette"]
        return (sil["seconds"], wall, cpu, sil["score"], report["threads"],
                sil.get("device", "cpu"))

    with tempfile.TemporaryDirectory(prefix="bench-silhouette-") as tmp:
        data, lab = os.path.join(tmp, "x.npy"), os.path.join(tmp, "labels.npy")
        np.save(data, x)
        np.save(lab, labels)
        # embcluster runs before and after scikit-learn (best kept), so that a change in the
        # machine's load during the run shows rather than favouring one side.
        with_sklearn = args.n <= args.sklearn_max
        runs = [run_embcluster(tmp, data, lab, "a%d" % r)
                for r in range(max(1, args.repeat - (1 if with_sklearn else 0)))]
        if with_sklearn:
            t0, c0 = time.perf_counter(), time.process_time()
            ref = float(silhouette_score(x, labels, metric=args.metric))
            sk_s, sk_cpu = time.perf_counter() - t0, time.process_time() - c0
            runs.append(run_embcluster(tmp, data, lab, "b"))

    emb_s, emb_wall, emb_cpu, score, threads, device = min(runs)
    print("exact silhouette, %d x %d, %d clusters, %s (%d CPU cores, embcluster %d threads)"
          % (args.n, args.d, args.k, args.metric, os.cpu_count(), threads))
    print("  embcluster silhouette   %8.2f s   (evaluate end to end %.2f s, %.2f CPU s) on %s"
          % (emb_s, emb_wall, emb_cpu, device))
    if not with_sklearn:
        print("  embcluster runs (s):    %s" % ", ".join("%.2f" % r[0] for r in runs))
        print("  score %.7f; scikit-learn skipped above %d rows (--sklearn-max)"
              % (score, args.sklearn_max))
        return
    print("  scikit-learn %-10s %8.2f s   (silhouette_score, %.2f CPU s)"
          % (sklearn.__version__, sk_s, sk_cpu))
    print("  ratio                   %8.1fx   (end to end %.1fx, CPU time %.1fx)"
          % (sk_s / emb_s, sk_s / emb_wall, sk_cpu / emb_cpu))
    print("  embcluster runs (s):    %s" % ", ".join("%.2f" % r[0] for r in runs))
    print("  scores: embcluster %.7f, scikit-learn %.7f, |diff| %.2g"
          % (score, ref, abs(score - ref)))

if __name__ == "__main__":
    main()
