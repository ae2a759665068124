#!/usr/bin/python3
"""embcluster pca against scikit-learn's PCA (svd_solver="full", float64) on the same data in one
session: wall times, and the largest differences of the explained variance (relative) and of the
components (up to sign); then the same under a small --memory (streamed).

  bench_pca.py [DATA] [-n 50] [--threads 2] [--memory 64M]
  (DATA defaults to datasets/fashion-mnist.h5:/data, made by scripts/run-default.sh)
"""
import argparse
import json
import os
import tempfile
import time

import h5py
import numpy as np
from sklearn.decomposition import PCA

from benchutil import ROOT, find_cli, run_report


def load(spec):
    path, _, ds = spec.partition(":")
    with h5py.File(path, "r") as f:
        return f[ds or "/data"][...].astype(np.float32)


def compare(out, ref, n):
    rep = json.load(open(os.path.join(out, "report.json")))
    ev = np.array(rep["explained_variance"])
    ev_diff = float(np.max(np.abs(ev - ref.explained_variance_) / ref.explained_variance_))
    comp = np.load(os.path.join(out, "components.npy")).astype(np.float64)
    signs = np.sign(np.sum(comp * ref.components_, axis=1))[:, None]
    comp_diff = float(np.max(np.abs(comp - signs * ref.components_)))
    return rep, ev_diff, comp_diff


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("data", nargs="?",
                    default=os.path.join(ROOT, "datasets", "fashion-mnist.h5") + ":/data")
    ap.add_argument("-n", "--n-components", type=int, default=50)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--memory", default="64M")
    ap.add_argument("--embcluster")
    a = ap.parse_args()
    cli = find_cli(a.embcluster)
    x = load(a.data).astype(np.float64)
    t0 = time.perf_counter()
    ref = PCA(n_components=a.n_components, svd_solver="full").fit(x)
    sk_s = time.perf_counter() - t0
    print("data %s: %d x %d, %d components, %s threads" % (a.data, x.shape[0], x.shape[1],
                                                          a.n_components, a.threads))
    print("scikit-learn PCA (full SVD, float64): %.2f s" % sk_s)
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (("in memory", []), ("streamed --memory " + a.memory,
                                                ["--memory", a.memory])):
            out = os.path.join(tmp, name.split()[0])
            wall, _ = run_report([cli, "pca", a.data, "-n", str(a.n_components), "--no-projection",
                                  "--format", "npy", "--threads", a.threads, "--quiet", "--out",
                                  out, *extra], out)
            rep, ev_diff, comp_diff = compare(out, ref, a.n_components)
            print("embcluster pca %-22s %.2f s (%.1fx scikit-learn) on %s: explained variance "
                  "within %.1e relative, components within %.1e" %
                  (name + ":", wall, sk_s / wall, rep.get("device", "?"), ev_diff, comp_diff))


if __name__ == "__main__":
    main()
