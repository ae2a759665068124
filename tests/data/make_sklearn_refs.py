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


if __name__ == "__main__":
    wine()
