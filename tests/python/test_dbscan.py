import h5py
import numpy as np
import pytest
import scipy.sparse
import sklearn.cluster
from conftest import blobs

import embcluster


def noisy(seed=1):
    X, _ = blobs(n=800, d=4, k=5, seed=seed, spread=0.9)
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(np.vstack([X, rng.uniform(-12, 12, size=(60, 4))]), np.float32)


@pytest.mark.parametrize("eps,min_samples", [(0.8, 5), (1.2, 10), (0.5, 3)])
def test_identical_labels_to_scikit_learn(eps, min_samples):
    X = noisy()
    ours = embcluster.DBSCAN(eps=eps, min_samples=min_samples, threads=2).fit(X)
    ref = sklearn.cluster.DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.core_sample_indices_, ref.core_sample_indices_)
    np.testing.assert_array_equal(ours.components_, ref.components_)
    assert (ours.labels_ == -1).any() and ours.labels_.max() >= 1


def test_cosine_identical_to_scikit_learn():
    X = noisy(2)
    ours = embcluster.DBSCAN(eps=0.02, min_samples=4, metric="cosine").fit_predict(X)
    ref = sklearn.cluster.DBSCAN(eps=0.02, min_samples=4, metric="cosine").fit_predict(X)
    np.testing.assert_array_equal(ours, ref)


def test_equals_the_command_line_and_streams(tmp_path, run_cli):
    X, _ = blobs(n=24000, d=16, k=6, seed=3, spread=1.0)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["x"] = X
    run_cli("dbscan", f"{tmp_path}/x.h5:/x", "--eps", 4.0, "--min-samples", 20, "--format",
            "npy", "-o", tmp_path / "out")
    cli_labels = np.load(tmp_path / "out" / "labels.npy")
    est = embcluster.DBSCAN(eps=4.0, min_samples=20).fit(X)
    np.testing.assert_array_equal(est.labels_, cli_labels)
    assert (cli_labels == -1).any() and cli_labels.max() >= 1
    with h5py.File(tmp_path / "x.h5", "r") as f:
        streamed = embcluster.DBSCAN(eps=4.0, min_samples=20, memory="512K").fit(f["x"])
    assert streamed.streamed_ and not est.streamed_
    np.testing.assert_array_equal(streamed.labels_, cli_labels)
    np.testing.assert_array_equal(streamed.components_, est.components_)


def test_faiss_flat_index_is_exact():
    X = noisy(4)
    exact = embcluster.DBSCAN(eps=0.8, min_samples=5).fit(X)
    flat = embcluster.DBSCAN(eps=0.8, min_samples=5, index="flat").fit(X)
    np.testing.assert_array_equal(exact.labels_, flat.labels_)
    with pytest.raises(ValueError, match="index"):
        embcluster.DBSCAN(index="kd_tree").fit(X)
    with pytest.raises(ValueError, match="eps"):
        embcluster.DBSCAN(eps=-1).fit(X)
    with pytest.raises(MemoryError, match="index=flat keeps every row in memory"):
        embcluster.DBSCAN(index="flat", memory=1024).fit(X)
    with pytest.raises(TypeError):
        embcluster.DBSCAN().fit(scipy.sparse.csr_matrix(X))
