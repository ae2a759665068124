"""embcluster.DBSCAN: scikit-learn's DBSCAN API over embcluster's exact (or FAISS) DBSCAN."""

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from . import _core, _input, _progress


class DBSCAN(ClusterMixin, BaseEstimator):
    """DBSCAN: labels equal scikit-learn's DBSCAN for the same data, eps and min_samples (border
    points included; only pairs within float32 rounding of eps may be decided otherwise).

    Parameters
    ----------
    eps : float, default=0.5
        Neighbourhood radius: euclidean distance, or 1 - cos for metric="cosine".
    min_samples : int, default=5
        Rows within eps (the row itself included) that make a core point.
    metric : {"euclidean", "cosine"}, default="euclidean"
    index : {"exact", "flat", "ivf", "hnsw"}, default="exact"
        Where neighbourhoods come from: exact distance tiles (streamed), or FAISS indexes
        (flat exact; ivf and hnsw approximate, CPU only, all rows in memory).
    nlist, nprobe : int, default=0
        ivf: cells and cells searched (0: automatic).
    hnsw_m, ef_construction, ef_search, hnsw_k : int
        hnsw: links per node, build and search beam widths, neighbours per core row.
    check_sample : int, default=1000
        FAISS indexes: rows whose exact neighbourhoods are compared with the index's.
    random_state : int, RandomState or None
        Seed of the ivf training sample and of the check sample.
    threads, device, memory, device_memory, verbose, progress
        As for :class:`embcluster.KMeans`.

    Inputs as for :class:`embcluster.KMeans`; the exact index arranges rows in spatial tiles,
    which is a copy of the data (streamed data is read in blocks instead).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int32; noise is -1
    core_sample_indices_ : ndarray of shape (n_core_samples,), int64
    components_ : ndarray of shape (n_core_samples, n_features), float32
    n_features_in_ : int
    device_ : str
    streamed_ : bool
        Whether the data exceeded ``memory`` and were read in pairs of blocks on every pass.
    """

    def __init__(
        self,
        eps=0.5,
        *,
        min_samples=5,
        metric="euclidean",
        index="exact",
        nlist=0,
        nprobe=0,
        hnsw_m=32,
        ef_construction=40,
        ef_search=0,
        hnsw_k=0,
        check_sample=1000,
        random_state=None,
        threads=None,
        device="auto",
        memory=None,
        device_memory=None,
        verbose=0,
        progress=None,
    ):
        self.eps = eps
        self.min_samples = min_samples
        self.metric = metric
        self.index = index
        self.nlist = nlist
        self.nprobe = nprobe
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.hnsw_k = hnsw_k
        self.check_sample = check_sample
        self.random_state = random_state
        self.threads = threads
        self.device = device
        self.memory = memory
        self.device_memory = device_memory
        self.verbose = verbose
        self.progress = progress

    def fit(self, X, y=None, sample_weight=None):
        """Clusters X; returns self."""
        data = _input.estimator_data(self, X, reset=True)
        _input.check_uniform_weights(sample_weight, data)
        r = _core.dbscan(
            data,
            eps=float(self.eps),
            min_samples=int(self.min_samples),
            metric=str(self.metric),
            index=str(self.index),
            nlist=int(self.nlist),
            nprobe=int(self.nprobe),
            hnsw_m=int(self.hnsw_m),
            ef_construction=int(self.ef_construction),
            ef_search=int(self.ef_search),
            hnsw_k=int(self.hnsw_k),
            check_sample=int(self.check_sample),
            seed=_input.seed_of(self.random_state),
            threads=_input.threads_of(self.threads),
            memory=_input.memory_bytes(self.memory),
            device=str(self.device),
            device_memory=_input.memory_bytes(self.device_memory),
            progress=_progress.callback(self.progress, self.verbose),
        )
        self.labels_ = r["labels"]
        self.core_sample_indices_ = np.flatnonzero(r["core"]).astype(np.int64)
        if isinstance(data, np.ndarray):
            self.components_ = data[self.core_sample_indices_].copy()
            self.n_features_in_ = data.shape[1]
        else:
            self.components_ = _core.take_rows(data, self.core_sample_indices_)
            self.n_features_in_ = _core.source_shape(data)[1]
        self.device_ = r["device"]
        self.streamed_ = bool(r["streamed"])
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Clusters X and returns labels_."""
        return self.fit(X, sample_weight=sample_weight).labels_
