#!/usr/bin/python3
"""Reference figures from scikit-learn for the test suites, kept in tests/data.

Run with Debian's python3-sklearn: /usr/bin/python3 tests/data/make_sklearn_refs.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import DBSCAN, KMeans
from sklearn.datasets import load_wine
from sklearn.metrics import (calinski_harabasz_score, davies_bouldin_score, silhouette_samples,
                             silhouette_score)
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))


def wine():
    data = load_wine()
    x = data.data
    path = os.path.join(HERE, "wine.csv")
    with open(path, "w") as f:
        f.write(",".join(data.feature_names) + "\n")
        for row in x:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    # The embcluster pipeline reads float32 and standardises in float32.
    xs = StandardScaler().fit_transform(x.astype(np.float32)).astype(np.float32)
    init_rows = [0, 70, 140]
    km = KMeans(n_clusters=3, init=xs[init_rows], n_init=1, max_iter=300, tol=1e-4,
                algorithm="lloyd").fit(xs)
    ref = {
        "sklearn_version": sklearn.__version__,
        "init_rows": init_rows,
        "inertia": float(km.inertia_),
        "n_iter": int(km.n_iter_),
        "labels": km.labels_.tolist(),
        "centers": km.cluster_centers_.astype(float).tolist(),
    }
    with open(os.path.join(HERE, "wine_kmeans_ref.json"), "w") as f:
        json.dump(ref, f, indent=1)


def metrics():
    """Silhouette, Davies-Bouldin and Calinski-Harabasz on a small fixed float32 data set.

    Four overlapping blobs, a few rows moved to the wrong cluster (negative silhouettes), one
    singleton cluster (label 7) and 12 noise rows labelled -1. scikit-learn counts -1 as a
    cluster: "all" holds those figures; the others are computed without the noise rows, which is
    what embcluster does by default.
    """
    rng = np.random.RandomState(20240604)
    n, d, k = 300, 5, 4
    centres = rng.uniform(-4, 4, size=(k, d))
    labels = np.arange(n) % k
    x = centres[labels] + rng.normal(scale=1.5, size=(n, d))
    moved = rng.choice(n, 15, replace=False)
    labels[moved] = (labels[moved] + 1) % k
    labels[17] = 7
    noise = rng.choice(np.setdiff1d(np.arange(n), [17]), 12, replace=False)
    labels[noise] = -1
    x32 = x.astype(np.float32)
    labels = labels.astype(np.int32)
    np.save(os.path.join(HERE, "metrics_data.npy"), x32)
    np.save(os.path.join(HERE, "metrics_labels.npy"), labels)
    x64 = x32.astype(np.float64)  # the float32 values, measured in double
    keep = labels != -1

    def figures(xs, ls, metric):
        out = {
            "silhouette": float(silhouette_score(xs, ls, metric=metric)),
            "samples": silhouette_samples(xs, ls, metric=metric).tolist(),
        }
        if metric == "euclidean":
            out["davies_bouldin"] = float(davies_bouldin_score(xs, ls))
            out["calinski_harabasz"] = float(calinski_harabasz_score(xs, ls))
        return out

    ref = {
        "sklearn_version": sklearn.__version__,
        "rows": n,
        "dims": d,
        "noise_rows": int((~keep).sum()),
        "euclidean": figures(x64[keep], labels[keep], "euclidean"),
        "cosine": figures(x64[keep], labels[keep], "cosine"),
        "all": figures(x64, labels, "euclidean"),
    }
    with open(os.path.join(HERE, "metrics_ref.json"), "w") as f:
        json.dump(ref, f, indent=1)


def _gap_eps(d, target, spread=0.03):
    """An eps near target with no pairwise distance close to it (float32 vs float64 safe)."""
    w = np.sort(d[(d > target * (1 - spread)) & (d < target * (1 + spread))])
    if len(w) < 2:
        return target
    i = int(np.argmax(np.diff(w)))
    return float((w[i] + w[i + 1]) / 2)


def _dbscan_case(x, dist, metric, eps_target, min_samples):
    eps = _gap_eps(dist[np.triu_indices(len(x), 1)], eps_target)
    db = DBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit(x)
    core = np.zeros(len(x), dtype=bool)
    core[db.core_sample_indices_] = True
    # Border rows with core neighbours in more than one cluster: the tie-break rule matters there.
    ties = 0
    for i in np.where(~core & (db.labels_ >= 0))[0]:
        near = core & (dist[i] <= eps)
        ties += len(set(db.labels_[near])) > 1
    gap = np.min(np.abs(dist[np.triu_indices(len(x), 1)] - eps)) / eps
    return {
        "metric": metric,
        "eps": eps,
        "min_samples": min_samples,
        "relative_gap": float(gap),
        "n_clusters": int(db.labels_.max() + 1),
        "n_noise": int((db.labels_ < 0).sum()),
        "n_core": int(core.sum()),
        "border_ties": int(ties),
        "labels": db.labels_.tolist(),
        "core": np.where(core)[0].tolist(),
    }


def dbscan():
    """DBSCAN references: blobs of different densities with uniform noise (euclidean) and
    directions of different spreads with random lengths (cosine). Data stored as float32 .npy."""
    rng = np.random.RandomState(11)
    d = 6
    centres = rng.uniform(-6, 6, size=(5, d))
    centres[1] = centres[0] + 2.2  # two touching blobs: border rows between clusters
    sizes, stds = [220, 180, 160, 140, 120], [0.5, 0.7, 1.0, 0.6, 1.3]
    parts = [c + s * rng.randn(m, d) for c, m, s in zip(centres, sizes, stds)]
    parts.append(rng.uniform(-9, 9, size=(90, d)))
    x = np.concatenate(parts).astype(np.float32)
    x = x[rng.permutation(len(x))]
    x64 = x.astype(np.float64)
    dist = np.sqrt(((x64[:, None, :] - x64[None, :, :]) ** 2).sum(-1))
    blobs = _dbscan_case(x, dist, "euclidean", 2.4, 8)
    np.save(os.path.join(HERE, "dbscan_blobs.npy"), x)

    dc = 12
    dirs = rng.randn(4, dc)
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    parts = [c + s * rng.randn(m, dc) for c, m, s in zip(dirs, [200, 170, 150, 130],
                                                          [0.12, 0.18, 0.25, 0.15])]
    parts.append(rng.randn(60, dc))
    y = np.concatenate(parts)
    y *= rng.uniform(0.5, 3.0, size=(len(y), 1))  # lengths do not matter to the cosine metric
    y = y.astype(np.float32)
    y = y[rng.permutation(len(y))]
    y64 = y.astype(np.float64)
    u = y64 / np.linalg.norm(y64, axis=1, keepdims=True)
    cdist = np.clip(1.0 - u @ u.T, 0, 2)
    cosine = _dbscan_case(y, cdist, "cosine", 0.15, 6)
    np.save(os.path.join(HERE, "dbscan_cosine.npy"), y)

    ref = {"sklearn_version": sklearn.__version__, "blobs": blobs, "cosine": cosine}
    with open(os.path.join(HERE, "dbscan_ref.json"), "w") as f:
        json.dump(ref, f, indent=None, separators=(",", ":"))


if __name__ == "__main__":
    wine()
    dbscan()
    metrics()
