#!/usr/bin/python3
"""Reference figures from scikit-learn for the test suites, kept in tests/data.

Run with Debian's python3-sklearn: /usr/bin/python3 tests/data/make_sklearn_refs.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans
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


if __name__ == "__main__":
    wine()
    metrics()
