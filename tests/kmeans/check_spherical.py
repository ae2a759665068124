#!/usr/bin/env python3
"""Spherical K-means (kmeans --metric cosine) against a reference written here in numpy (float64),
from the same initial centres, on real text embeddings: identical labels and iterations, cosine
inertia within 1e-5 relative; and `assign` gives the run's labels again from its centroids.

The reference is Dhillon & Modha's algorithm as the command documents it: rows and initial
centres scaled to unit length, each row to the centre of highest cosine (lowest index on ties),
each centre the normalised sum of its rows, until no label changes; inertia = sum of 1 - cos.

Usage: check_spherical.py EMBCLUSTER DATA [K ...]
  DATA: .npy or file.h5:/dataset (tests/data/debian_text_64d.npy: 2,000 Debian package
  descriptions, latent semantic analysis, datasets/debian_text_embeddings.py)"""
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np


def load(spec):
    if spec.endswith(".npy"):
        return np.load(spec)
    path, _, ds = spec.partition(":")
    with h5py.File(path, "r") as f:
        return f[ds or "/embeddings"][...]


def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def reference(x, init, max_iter=300):
    xu, c = unit(x.astype(np.float64)), unit(init.astype(np.float64))
    labels, iters = None, 0
    for iters in range(1, max_iter + 1):
        new = np.argmax(xu @ c.T, axis=1)
        sums = np.zeros_like(c)
        np.add.at(sums, new, xu)
        assert (np.bincount(new, minlength=len(c)) > 0).all(), "an empty cluster"
        c_next = unit(sums)
        if labels is not None and (new == labels).all():
            break
        labels, c = new, c_next
    labels = np.argmax(xu @ c.T, axis=1)
    inertia = float(np.sum(1.0 - np.einsum("ij,ij->i", xu, c[labels])))
    return labels, inertia, iters


def run(cli, *args):
    r = subprocess.run([cli, "--quiet", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), r.stderr))


def check(cli, tmp, data, x, k, rng):
    init = os.path.join(tmp, "init%d.npy" % k)
    np.save(init, x[rng.choice(len(x), k, replace=False)])
    out = os.path.join(tmp, "k%d" % k)
    t0 = time.perf_counter()
    run(cli, "kmeans", data, "-k", str(k), "--metric", "cosine", "--init", init, "--tol", "0",
        "--max-iter", "300", "--no-metrics", "--format", "npy", "--out", out)
    wall = time.perf_counter() - t0
    rep = json.load(open(os.path.join(out, "report.json")))
    labels = np.load(os.path.join(out, "labels.npy")).ravel()
    t0 = time.perf_counter()
    ref_labels, ref_inertia, ref_iters = reference(x, np.load(init))
    ref_wall = time.perf_counter() - t0
    differ = int((labels != ref_labels).sum())
    assert differ == 0, (k, differ, "labels differ from the reference")
    assert rep["empty_cluster_relocations"] == 0, k
    assert abs(rep["inertia"] - ref_inertia) <= 1e-5 * ref_inertia, (k, rep["inertia"],
                                                                      ref_inertia)
    assert rep["iterations"] == ref_iters, (k, rep["iterations"], ref_iters)
    new = os.path.join(tmp, "a%d" % k)
    run(cli, "assign", data, "--centroids", os.path.join(out, "centroids.npy"), "--metric",
        "cosine", "--format", "npy", "--out", new)
    assert (np.load(os.path.join(new, "labels.npy")).ravel() == labels).all(), k
    print("k=%d: %d rows x %d, labels identical, %d iterations, cosine inertia %.9g vs %.9g "
          "(embcluster %.2f s, numpy %.2f s); assign identical" %
          (k, len(x), x.shape[1], rep["iterations"], rep["inertia"], ref_inertia, wall, ref_wall))


def main():
    cli, data = sys.argv[1], sys.argv[2]
    ks = [int(v) for v in sys.argv[3:]] or [5, 20]
    x = load(data)
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as tmp:
        for k in ks:
            check(cli, tmp, data, x, k, rng)
    print("ok")


if __name__ == "__main__":
    main()
