#!/usr/bin/env python3
"""embcluster kmeans --weights against scikit-learn's KMeans(sample_weight=...) on fixed inputs,
from the same initial centres: identical labels, inertia within 1e-6 relative, centres within
1e-4; streamed under a small --memory identical to the in-memory run; bad weight files refused
with one line naming file and row.

Usage: check_weights.py EMBCLUSTER"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from sklearn.cluster import KMeans


def run(cli, *args, ok=True):
    r = subprocess.run([cli, "--quiet", *args], capture_output=True, text=True)
    if ok and r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), r.stderr))
    return r


def blobs(rng, n, d, k, spread):
    centres = rng.uniform(-6, 6, (k, d))
    x = np.concatenate([rng.normal(c, spread, (n // k, d)) for c in centres])
    return x.astype(np.float32)


def kmeans_out(cli, tmp, name, data, k, init, weights, *extra):
    out = os.path.join(tmp, name)
    run(cli, "kmeans", data, "-k", str(k), "--init", init, "--weights", weights, "--tol", "0",
        "--max-iter", "100", "--no-metrics", "--format", "npy", "--out", out, *extra)
    rep = json.load(open(os.path.join(out, "report.json")))
    return (np.load(os.path.join(out, "labels.npy")).ravel(),
            np.load(os.path.join(out, "centroids.npy")), rep)


def check_case(cli, tmp, name, x, w, k, rng, weights_file):
    data = os.path.join(tmp, name + ".npy")
    np.save(data, x)
    init = os.path.join(tmp, name + "_init.npy")
    np.save(init, x[rng.choice(np.flatnonzero(w > 0), k, replace=False)])
    labels, centres, rep = kmeans_out(cli, tmp, name, data, k, init, weights_file)
    ref = KMeans(k, init=np.load(init).astype(np.float64), n_init=1, tol=0, max_iter=100,
                 algorithm="lloyd").fit(x.astype(np.float64), sample_weight=w)
    assert (labels == ref.labels_).all(), (name, (labels != ref.labels_).sum(), "labels differ")
    assert abs(rep["inertia"] - ref.inertia_) <= 1e-6 * ref.inertia_, (name, rep["inertia"],
                                                                       ref.inertia_)
    assert np.abs(centres - ref.cluster_centers_).max() < 1e-4, name
    assert abs(rep["total_weight"] - w.sum()) <= 1e-9 * w.sum(), name
    # Unweighted, the result differs: the weights are used.
    plain = KMeans(k, init=np.load(init).astype(np.float64), n_init=1, tol=0, max_iter=100,
                   algorithm="lloyd").fit(x.astype(np.float64))
    assert abs(plain.inertia_ - ref.inertia_) > 1e-3 * ref.inertia_, name
    # Streamed in blocks under a small budget: the same bits.
    s_labels, s_centres, s_rep = kmeans_out(cli, tmp, name + "_streamed", data, k, init,
                                            weights_file, "--memory", "64K")
    assert s_rep["streamed"], name
    assert (s_labels == labels).all() and (s_centres == centres).all(), name
    assert s_rep["inertia"] == rep["inertia"], name
    print("%s: %d rows, k=%d, labels identical, inertia %.10g vs scikit-learn %.10g" %
          (name, len(x), k, rep["inertia"], ref.inertia_))


def check_errors(cli, tmp, data, n):
    def refused(values, what, name="bad.npy"):
        path = os.path.join(tmp, name)
        np.save(path, np.asarray(values))
        r = run(cli, "kmeans", data, "-k", "3", "--weights", path, "--out",
                os.path.join(tmp, "never"), ok=False)
        lines = r.stderr.strip().splitlines()
        assert r.returncode != 0 and len(lines) == 1 and what in lines[0], (what, r.stderr)
        assert name in lines[0], r.stderr
        assert not os.path.exists(os.path.join(tmp, "never", "labels.h5"))
    w = np.ones(n)
    w[7] = -1
    refused(w, "row 7")
    w[7] = np.nan
    refused(w, "row 7")
    refused(np.ones(n - 1), "rows")
    refused(np.ones((n, 2)), "columns")
    refused(np.zeros(n), "weight > 0")


def main():
    cli = sys.argv[1]
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        # Gamma weights with a tenth of them 0, as a .npy file.
        x = blobs(rng, 4000, 8, 6, 2.5)
        w = rng.gamma(2.0, 1.0, len(x))
        w[rng.random(len(x)) < 0.1] = 0
        np.save(os.path.join(tmp, "w.npy"), w)
        check_case(cli, tmp, "gamma", x, w, 6, rng, os.path.join(tmp, "w.npy"))
        # Integer counts (the rows as histogram bins), from an HDF5 /weights dataset.
        x = blobs(rng, 3000, 16, 10, 4.0)
        w = rng.integers(1, 20, len(x)).astype(np.float64)
        with h5py.File(os.path.join(tmp, "w.h5"), "w") as f:
            f["weights"] = w
        check_case(cli, tmp, "counts", x, w, 10, rng, os.path.join(tmp, "w.h5"))
        check_errors(cli, tmp, os.path.join(tmp, "counts.npy"), len(x))
    print("ok")


if __name__ == "__main__":
    main()
