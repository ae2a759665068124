import h5py
import numpy as np
import pytest
import sklearn.metrics
from conftest import blobs

import embcluster


@pytest.fixture
def labelled():
    X, y = blobs(n=700, d=6, k=4, spread=2.5)
    return X, y


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_silhouette_equals_scikit_learn(labelled, metric):
    X, y = labelled
    X64 = X.astype(np.float64)
    ref = sklearn.metrics.silhouette_score(X64, y, metric=metric)
    assert embcluster.silhouette_score(X, y, metric=metric) == pytest.approx(ref, abs=1e-6)
    np.testing.assert_allclose(embcluster.silhouette_samples(X, y, metric=metric),
                               sklearn.metrics.silhouette_samples(X64, y, metric=metric),
                               atol=1e-5)


def test_other_scores_equal_scikit_learn(labelled):
    X, y = labelled
    X64 = X.astype(np.float64)
    assert embcluster.davies_bouldin_score(X, y) == pytest.approx(
        sklearn.metrics.davies_bouldin_score(X64, y), rel=1e-6)
    assert embcluster.calinski_harabasz_score(X, y) == pytest.approx(
        sklearn.metrics.calinski_harabasz_score(X64, y), rel=1e-6)


def test_labels_of_any_kind_and_noise(labelled):
    X, y = labelled
    names = np.array(["a", "b", "c", "d"])[y]
    assert embcluster.silhouette_score(X, names) == pytest.approx(
        embcluster.silhouette_score(X, y + 10), abs=1e-12)
    noisy = y.copy()
    noisy[:50] = -1
    # -1 is an ordinary label by default (as scikit-learn), noise with include_noise=False.
    assert embcluster.silhouette_score(X, noisy) == pytest.approx(
        sklearn.metrics.silhouette_score(X.astype(np.float64), noisy), abs=1e-6)
    s = embcluster.silhouette_samples(X, noisy, include_noise=False)
    assert np.isnan(s[:50]).all() and not np.isnan(s[50:]).any()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        embcluster.silhouette_score(X, y[:-1])
    with pytest.raises(ValueError):
        embcluster.silhouette_score(X, np.zeros(len(X), dtype=int))


def test_sampled_silhouette_and_the_command_line(tmp_path, run_cli, labelled):
    X, y = labelled
    exact = embcluster.silhouette_score(X, y)
    a = embcluster.silhouette_score(X, y, sample_size=200, random_state=5)
    assert a == embcluster.silhouette_score(X, y, sample_size=200, random_state=5)
    assert a == pytest.approx(exact, abs=0.05)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"] = X
        f["labels"] = y.astype(np.int32)
    p = run_cli("evaluate", f"{tmp_path}/d.h5:/x", "--labels", f"{tmp_path}/d.h5:/labels",
                "--format", "npy", "-o", tmp_path / "out")
    cli_samples = np.load(tmp_path / "out" / "silhouette_samples.npy")
    np.testing.assert_array_equal(embcluster.silhouette_samples(X, y), cli_samples)
    with h5py.File(tmp_path / "d.h5", "r") as f:
        streamed = embcluster.silhouette_samples(f["x"], y, memory="32K")
    np.testing.assert_allclose(streamed, cli_samples, atol=1e-6)
    assert p.returncode == 0


def test_kdist(labelled):
    X, _ = labelled
    r = embcluster.kdist(X, 5, sample=0)
    d = np.sqrt(((X[:, None, :].astype(np.float64) - X[None]) ** 2).sum(-1))
    ref = np.sort(np.sort(d, axis=1)[:, 4])
    np.testing.assert_allclose(r["kdist"], ref, rtol=1e-4, atol=1e-4)
    assert 0 < r["suggested_eps"] <= r["kdist"][-1]
    assert set(r) >= {"kdist", "rows", "knee", "suggested_eps", "quantiles"}
