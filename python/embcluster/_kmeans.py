"""embcluster.KMeans: scikit-learn's KMeans API over embcluster's K-means (Lloyd)."""

import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import _core, _input, _progress


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """K-means clustering (Lloyd), in memory or streamed in blocks under ``memory``.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {"k-means++", "k-means||", "random"} or array of shape (n_clusters, n_features), \
default="k-means++"
        Greedy k-means++ as scikit-learn; "k-means||": scalable k-means++ (a few rounds drawing
        about ``oversampling_factor * n_clusters`` rows each, then k-means++ over those weighted
        candidates), faster for large k; random distinct rows; or the initial centres (one run).
    n_init : "auto" or int, default="auto"
        Runs from different seeds, the lowest inertia wins; "auto": 1 for k-means++, k-means|| or
        an array, 10 for random.
    max_iter : int, default=300
    tol : float, default=1e-4
        Relative tolerance on the centre shift (scikit-learn's meaning).
    algorithm : {"auto", "lloyd", "elkan", "hamerly", "yinyang"}, default="auto"
        How each row's nearest centre is found; all give the same labels from the same centres.
        "lloyd" measures every distance each pass; the others keep bounds on each row's distances
        (per centre, one, k/10 groups) and skip most of them after the first iterations; "auto"
        picks by k and the memory budget. The GPU runs "lloyd".
    random_state : int, RandomState or None
        An int is the library's seed as is (the command's ``--seed``).
    metric : {"euclidean", "cosine"}, default="euclidean"
        "cosine": spherical K-means (rows L2-normalised, centres renormalised).
    threads : int or None
        CPU threads (None or 0: every core). numpy's own BLAS threads are left as they are.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
    memory : int, str or None
        Host memory budget for data blocks in bytes or "256M"; larger data is streamed.
    device_memory : int, str or None
        Device memory budget (None: most of the free device memory).
    init_sample : int, default=0
        Rows of the initialisation sample (0: the library's automatic size).
    oversampling_factor : float, default=0.5
        "k-means||" only (cuML's name): rows drawn per round, as a multiple of n_clusters.
    init_rounds : int, default=5
        "k-means||" only: rounds of draws.
    precision : {"fp32", "tf32", "bf16"}, default="fp32"
        GEMM precision on a GPU (the CPU always computes in fp32).
    verbose : int, default=0
        Print the device and one line per iteration.
    progress : callable, True or None
        A callable receiving a dict per step, or True for a tqdm bar.

    Inputs: float32 C-contiguous arrays are used in place (no copy); other dtypes and layouts are
    converted to float32 once. Objects with ``__array__`` or ``__dlpack__`` are accepted. An h5py
    dataset or a data spec ("x.h5:/data", "x.npy") is streamed by the library's readers.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), float32
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str (when X has feature names)
    device_ : str
        Where the fit ran ("cpu (2 threads)", a GPU's name).
    streamed_ : bool
        Whether the data exceeded ``memory`` and were read in blocks on every pass.
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        algorithm="auto",
        random_state=None,
        metric="euclidean",
        threads=None,
        device="auto",
        memory=None,
        device_memory=None,
        init_sample=0,
        oversampling_factor=0.5,
        init_rounds=5,
        precision="fp32",
        verbose=0,
        progress=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.random_state = random_state
        self.metric = metric
        self.threads = threads
        self.device = device
        self.memory = memory
        self.device_memory = device_memory
        self.init_sample = init_sample
        self.oversampling_factor = oversampling_factor
        self.init_rounds = init_rounds
        self.precision = precision
        self.verbose = verbose
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Centres, distances and scores are computed in float32 whatever the input's dtype.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _context(self):
        return dict(
            threads=_input.threads_of(self.threads),
            memory=_input.memory_bytes(self.memory),
            device=str(self.device),
            device_memory=_input.memory_bytes(self.device_memory),
        )

    def _check_params(self, n_rows):
        k = self.n_clusters
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_clusters={k!r} must be an integer >= 1")
        if n_rows is not None and n_rows < k:
            raise ValueError(f"n_samples={n_rows} should be >= n_clusters={k}.")
        n_init = self.n_init
        if n_init != "auto" and (not isinstance(n_init, (int, np.integer)) or n_init < 1):
            raise ValueError(f"n_init={self.n_init!r} must be 'auto' or an integer >= 1")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter={self.max_iter!r} must be an integer >= 1")
        if self.algorithm not in ("auto", "lloyd", "elkan", "hamerly", "yinyang"):
            raise ValueError(
                f"algorithm={self.algorithm!r} must be 'auto', 'lloyd', 'elkan', 'hamerly' or "
                "'yinyang'"
            )

    def _init_file(self, n_features, tmpdir):
        """The init argument of the library: a method, or the initial centres as a .npy file."""
        if isinstance(self.init, str):
            if self.init not in ("k-means++", "k-means||", "random"):
                raise ValueError(
                    f"init={self.init!r} must be 'k-means++', 'k-means||', 'random' or an array"
                )
            return self.init
        centres = np.asarray(self.init, dtype=np.float32)
        if centres.shape != (self.n_clusters, n_features):
            raise ValueError(
                f"init: the initial centres have shape {centres.shape}; expected (n_clusters, "
                f"n_features) = ({self.n_clusters}, {n_features})"
            )
        path = os.path.join(tmpdir, "init.npy")
        np.save(path, np.ascontiguousarray(centres))
        return path

    def fit(self, X, y=None, sample_weight=None):
        """Clusters X; returns self."""
        data = _input.estimator_data(self, X, reset=True)
        self._check_params(_input.rows_of(data))
        weights = _input.weights_of(sample_weight, data)
        with tempfile.TemporaryDirectory(prefix="embcluster-init-") as tmpdir:
            n_features = data.shape[1] if isinstance(data, np.ndarray) else _spec_cols(data)
            init = self._init_file(n_features, tmpdir)
            r = _core.kmeans(
                data,
                n_clusters=int(self.n_clusters),
                init=init,
                n_init=0 if self.n_init == "auto" else int(self.n_init),
                max_iter=int(self.max_iter),
                tol=float(self.tol),
                seed=_input.seed_of(self.random_state),
                metric=str(self.metric),
                init_sample=int(self.init_sample),
                oversampling_factor=float(self.oversampling_factor),
                init_rounds=int(self.init_rounds),
                precision=str(self.precision),
                progress=_progress.callback(self.progress, self.verbose, "kmeans"),
                sample_weight=weights,
                algorithm=str(self.algorithm),
                **self._context(),
            )
        self.cluster_centers_ = r["cluster_centers"]
        self.labels_ = r["labels"]
        self.inertia_ = float(r["inertia"])
        self.n_iter_ = int(r["n_iter"])
        if not isinstance(data, np.ndarray):
            self.n_features_in_ = self.cluster_centers_.shape[1]
        self.device_ = r["device"]
        self.streamed_ = bool(r["streamed"])
        return self

    def _assign(self, X, all_distances):
        check_is_fitted(self)
        data = _input.estimator_data(self, X, reset=False)
        return _core.assign(
            data,
            self.cluster_centers_,
            metric=str(self.metric),
            all_distances=all_distances,
            **self._context(),
        )

    def predict(self, X):
        """The nearest centre of every row of X (int32)."""
        return self._assign(X, False)["labels"]

    def transform(self, X):
        """Distances of every row of X to every centre (euclidean, or cosine distance)."""
        return self._assign(X, True)["distances"]

    def score(self, X, y=None, sample_weight=None):
        """Minus the inertia of X on the fitted centres (sum of squared distances, each times its
        row's weight with sample_weight)."""
        if sample_weight is None:
            return -float(self._assign(X, False)["inertia"])
        check_is_fitted(self)
        data = _input.estimator_data(self, X, reset=False)
        w = _input.weights_of(sample_weight, data)
        d = self._assign(X, False)["distances"].astype(np.float64)
        d = d * d if self.metric == "euclidean" else d
        return -float(np.dot(w, d))


def _spec_cols(spec):
    return _core.source_shape(spec)[1]
