#!/usr/bin/env python3
"""embcluster pca against scikit-learn's PCA on fixed inputs: explained variance (and its ratio)
within 1e-4 relative, components equal up to sign within 1e-4, the projection within 1e-3 of the
data's scale; a run streamed under a small --memory equal to the in-memory one within 1e-6; and
kmeans --pca C equal to kmeans on the projected rows.

Usage: check_pca.py EMBCLUSTER"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.decomposition import PCA


def run(cli, *args):
    r = subprocess.run([cli, "--quiet", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), r.stderr))


def check_case(cli, tmp, name, x, c):
    path = os.path.join(tmp, name + ".npy")
    np.save(path, x.astype(np.float32))
    x = np.load(path).astype(np.float64)
    out = os.path.join(tmp, name)
    run(cli, "pca", path, "-n", str(c), "--format", "npy", "--out", out)
    ref = PCA(n_components=c, svd_solver="full").fit(x)
    rep = json.load(open(os.path.join(out, "report.json")))
    ev = np.array(rep["explained_variance"])
    assert np.allclose(ev, ref.explained_variance_, rtol=1e-4, atol=0), (name, ev,
                                                                       ref.explained_variance_)
    assert np.allclose(rep["explained_variance_ratio"], ref.explained_variance_ratio_, rtol=1e-4)
    comp = np.load(os.path.join(out, "components.npy")).astype(np.float64)
    for i in range(c):
        s = np.sign(comp[i] @ ref.components_[i])
        assert np.max(np.abs(comp[i] - s * ref.components_[i])) < 1e-4, (name, i)
    proj = np.load(os.path.join(out, "projected.npy")).astype(np.float64)
    want = ref.transform(x) * np.sign(np.sum(comp * ref.components_, axis=1))
    scale = np.max(np.abs(want))
    assert np.max(np.abs(proj - want)) < 1e-3 * scale, (name, np.max(np.abs(proj - want)))
    # Streamed in small blocks: the same model.
    run(cli, "--memory", "64K", "pca", path, "-n", str(c), "--format", "npy", "--out", out + "_s")
    ev_s = np.array(json.load(open(os.path.join(out + "_s", "report.json")))["explained_variance"])
    assert np.allclose(ev_s, ev, rtol=1e-6), (name, ev_s, ev)
    comp_s = np.load(os.path.join(out + "_s", "components.npy"))
    assert np.max(np.abs(comp_s - comp)) < 1e-5, name
    return path, proj


def main():
    cli = sys.argv[1]
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        # Correlated features with a large common offset (the covariance must not lose it).
        base = rng.normal(size=(5000, 6)) @ rng.normal(size=(6, 20))
        check_case(cli, tmp, "offset", base + 1000.0, 5)
        # Wider rows, more components.
        path, proj = check_case(cli, tmp, "wide", rng.normal(size=(3000, 64)) *
                                np.linspace(5, 0.1, 64), 16)
        # kmeans --pca C equals kmeans on the projected rows.
        np.save(os.path.join(tmp, "proj.npy"), proj.astype(np.float32))
        run(cli, "kmeans", path, "-k", "4", "--pca", "16", "--device", "cpu", "--no-metrics",
            "--format", "npy", "--out", os.path.join(tmp, "k1"))
        run(cli, "pca", path, "-n", "16", "--format", "npy", "--force", "--out",
            os.path.join(tmp, "p2"))
        run(cli, "kmeans", os.path.join(tmp, "p2", "projected.npy"), "-k", "4", "--device", "cpu",
            "--no-metrics", "--format", "npy", "--out", os.path.join(tmp, "k2"))
        a = np.load(os.path.join(tmp, "k1", "labels.npy"))
        b = np.load(os.path.join(tmp, "k2", "labels.npy"))
        assert (a == b).all(), "kmeans --pca differs from kmeans on the projection"
    print("pca: 2 cases equal to scikit-learn; streamed equal; kmeans --pca equal")


if __name__ == "__main__":
    main()
