import h5py
import numpy as np
import pytest
import sklearn.cluster
from conftest import blobs

import embcluster


def test_same_labels_as_scikit_learn_from_the_same_centres(data):
    X, _ = data
    init = X[[0, 50, 100, 150]].copy()
    ours = embcluster.KMeans(4, init=init, n_init=1, max_iter=100, tol=0, threads=2).fit(X)
    ref = sklearn.cluster.KMeans(4, init=init, n_init=1, max_iter=100, tol=0,
                                 algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5, atol=1e-5)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-5)
    assert ours.cluster_centers_.dtype == np.float32 and ours.labels_.dtype == np.int32


@pytest.mark.parametrize("algorithm", ["elkan", "hamerly", "yinyang", "auto"])
def test_every_algorithm_gives_lloyds_fit(data, algorithm):
    X, _ = data
    lloyd = embcluster.KMeans(6, n_init=2, random_state=3, algorithm="lloyd", threads=2).fit(X)
    other = embcluster.KMeans(6, n_init=2, random_state=3, algorithm=algorithm, threads=2).fit(X)
    np.testing.assert_array_equal(lloyd.labels_, other.labels_)
    np.testing.assert_array_equal(lloyd.cluster_centers_, other.cluster_centers_)
    assert lloyd.inertia_ == other.inertia_ and lloyd.n_iter_ == other.n_iter_


def test_k_means_parallel_init_equals_the_command_line(tmp_path, run_cli, data):
    X, y = data
    np.save(tmp_path / "x.npy", X)
    run_cli("kmeans", tmp_path / "x.npy", "-k", 4, "--seed", 5, "--init", "k-means||",
            "--oversampling-factor", 1.5, "--init-rounds", 3, "--format", "npy",
            "-o", tmp_path / "out", "--no-metrics")
    est = embcluster.KMeans(4, init="k-means||", oversampling_factor=1.5, init_rounds=3,
                            random_state=5).fit(X)
    np.testing.assert_array_equal(est.cluster_centers_,
                                  np.load(tmp_path / "out" / "centroids.npy"))
    other = embcluster.KMeans(4, init="k-means||", oversampling_factor=4.0, init_rounds=3,
                              random_state=5).fit(X)
    assert other.inertia_ == pytest.approx(est.inertia_, rel=1e-3)  # the same blobs found
    with pytest.raises(ValueError, match="oversampling_factor=0"):
        embcluster.KMeans(4, init="k-means||", oversampling_factor=0).fit(X)
    with pytest.raises(ValueError, match="k-means\\|\\|"):
        embcluster.KMeans(4, init="kmeans||").fit(X)


def test_unknown_algorithm_is_named(data):
    with pytest.raises(ValueError, match="algorithm='fast'"):
        embcluster.KMeans(4, algorithm="fast").fit(data[0])


def test_equals_the_command_line(tmp_path, run_cli, data):
    X, _ = data
    np.save(tmp_path / "x.npy", X)
    run_cli("kmeans", tmp_path / "x.npy", "-k", 4, "--seed", 7, "--n-init", 3, "--format", "npy",
            "-o", tmp_path / "out", "--no-metrics")
    est = embcluster.KMeans(4, n_init=3, random_state=7).fit(X)
    np.testing.assert_array_equal(est.labels_, np.load(tmp_path / "out" / "labels.npy"))
    np.testing.assert_array_equal(est.cluster_centers_,
                                  np.load(tmp_path / "out" / "centroids.npy"))
    # The same file through a data spec, and the same centres through predict.
    by_spec = embcluster.KMeans(4, n_init=3, random_state=7).fit(str(tmp_path / "x.npy"))
    np.testing.assert_array_equal(by_spec.labels_, est.labels_)
    np.testing.assert_array_equal(est.predict(X), est.labels_)


def test_predict_transform_score(data):
    X, _ = data
    est = embcluster.KMeans(4, random_state=0).fit(X)
    D = est.transform(X[:20])
    ref = np.sqrt(((X[:20, None, :] - est.cluster_centers_[None]) ** 2).sum(-1))
    np.testing.assert_allclose(D, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(D.argmin(1), est.predict(X[:20]))
    assert est.score(X) == pytest.approx(-est.inertia_, rel=1e-5)
    assert est.n_features_in_ == X.shape[1]
    assert est.n_iter_ >= 1
    # float64, Fortran-ordered and list inputs are converted once.
    np.testing.assert_array_equal(est.predict(np.asfortranarray(X.astype(np.float64))),
                                  est.labels_)


def test_cosine_metric(data):
    X, _ = data
    est = embcluster.KMeans(4, metric="cosine", random_state=0).fit(X)
    np.testing.assert_allclose(np.linalg.norm(est.cluster_centers_, axis=1), 1, rtol=1e-5)


def test_h5py_dataset_streamed_under_a_small_memory_budget(tmp_path):
    X, _ = blobs(n=20000, d=16, k=5)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["emb"] = X
    in_memory = embcluster.KMeans(5, random_state=3).fit(X)
    with h5py.File(tmp_path / "x.h5", "r") as f:
        streamed = embcluster.KMeans(5, random_state=3, memory="256K").fit(f["emb"])
        assert streamed.streamed_
    assert not in_memory.streamed_
    np.testing.assert_array_equal(streamed.labels_, in_memory.labels_)
    np.testing.assert_array_equal(streamed.cluster_centers_, in_memory.cluster_centers_)
    assert streamed.n_features_in_ == 16
    spec = embcluster.KMeans(5, random_state=3, memory=256 * 1024).fit(f"{tmp_path}/x.h5:/emb")
    np.testing.assert_array_equal(spec.labels_, in_memory.labels_)
    assert spec.streamed_


def test_errors_carry_the_library_messages(tmp_path, data):
    X, _ = data
    with pytest.raises(FileNotFoundError, match="no such file"):
        embcluster.KMeans(2).fit(str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="metric='manhattan' must be euclidean or cosine"):
        embcluster.KMeans(2, metric="manhattan").fit(X)
    with pytest.raises(ValueError, match="device"):
        embcluster.KMeans(2, device="tpu").fit(X)
    with pytest.raises(ValueError, match="memory"):
        embcluster.KMeans(2, memory="lots").fit(X)
    with pytest.raises(TypeError):
        embcluster._core.kmeans(X.astype(np.float64), 2, "k-means++", 0, 10, 0.0, 0, "euclidean",
                                0, "fp32", 0, 0, "cpu", 0, None)
    with pytest.raises(ValueError, match="should be >= n_clusters"):
        embcluster.KMeans(8).fit(X[:3])


def test_sample_weight_equals_scikit_learn(data):
    """Weighted K-means from the same initial centres: scikit-learn's labels, inertia and
    centres; weights of 1 give the unweighted fit; score weights the rows."""
    X, _ = data
    rng = np.random.default_rng(4)
    w = rng.gamma(2.0, 1.0, len(X))
    w[rng.random(len(X)) < 0.1] = 0
    init = X[rng.choice(np.flatnonzero(w > 0), 4, replace=False)]
    ours = embcluster.KMeans(4, init=init, n_init=1, tol=0, max_iter=100).fit(X, sample_weight=w)
    ref = sklearn.cluster.KMeans(4, init=init.astype(np.float64), n_init=1, tol=0, max_iter=100,
                                 algorithm="lloyd").fit(X.astype(np.float64), sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-4)
    assert ours.score(X, sample_weight=w) == pytest.approx(-ref.inertia_, rel=1e-5)
    plain = embcluster.KMeans(4, random_state=0).fit(X)
    ones = embcluster.KMeans(4, random_state=0).fit(X, sample_weight=np.ones(len(X)))
    np.testing.assert_array_equal(plain.cluster_centers_, ones.cluster_centers_)
    bad = np.ones(len(X))
    bad[3] = -1
    with pytest.raises(ValueError, match="row 3"):
        embcluster.KMeans(4).fit(X, sample_weight=bad)
    with pytest.raises(ValueError, match="does not weight rows"):
        embcluster.DBSCAN().fit(X, sample_weight=np.arange(len(X), dtype=float))


def test_progress_callback_and_dlpack(data):
    X, _ = data
    seen = []
    embcluster.KMeans(4, random_state=0, progress=seen.append).fit(X)
    assert seen[0]["phase"] == "device"
    assert any(s["phase"] == "iterate" for s in seen)

    class Boom(Exception):
        pass

    def stop(info):
        if info["phase"] == "iterate":
            raise Boom()

    with pytest.raises(Boom):
        embcluster.KMeans(4, random_state=0, progress=stop).fit(X)

    class OnlyDLPack:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, **kw):
            return self.a.__dlpack__(**kw)

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()

    est = embcluster.KMeans(4, random_state=0).fit(OnlyDLPack(X))
    np.testing.assert_array_equal(est.labels_, embcluster.KMeans(4, random_state=0).fit(X).labels_)
