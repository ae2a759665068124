"""Cluster-quality functions with scikit-learn's signatures over embcluster's metrics: exact or
sampled silhouette (tiles, never n x n), Davies-Bouldin, Calinski-Harabasz, and the k-distance
curve that helps to choose DBSCAN's eps. X: an array (float32 C-contiguous used in place, others
converted once), an h5py dataset or a data spec, streamed under memory=."""

import numpy as np

from . import _core, _input, _progress


def _ctx(threads, memory):
    return dict(threads=_input.threads_of(threads), memory=_input.memory_bytes(memory))


def _device(device, device_memory):
    return dict(device=str(device), device_memory=_input.memory_bytes(device_memory))


def _silhouette(X, labels, metric, sample_size, random_state, include_noise, threads, memory,
                device, device_memory, progress):
    data = _input.function_data(X)
    codes = _input.encode_labels(labels, _input.rows_of(data), include_noise)
    if sample_size is None:
        sample_size = 0
    elif not isinstance(sample_size, (int, np.integer)) or sample_size < 1:
        raise ValueError(f"sample_size={sample_size!r} must be None or an integer >= 1")
    return _core.silhouette(
        data, codes, metric=str(metric), sample_size=int(sample_size),
        seed=_input.seed_of(random_state), include_noise=include_noise,
        progress=_progress.callback(progress, False), **_ctx(threads, memory),
        **_device(device, device_memory))


def silhouette_score(X, labels, *, metric="euclidean", sample_size=None, random_state=None,
                     include_noise=True, threads=None, memory=None, device="auto",
                     device_memory=None, progress=None):
    """Mean silhouette coefficient (as sklearn.metrics.silhouette_score).

    metric: "euclidean" or "cosine". sample_size: score that many rows drawn uniformly (seeded by
    random_state), each against ALL rows (scikit-learn scores the sample against the sample
    only). include_noise: label -1 is an ordinary cluster (True, as scikit-learn) or noise left
    out (False, the command's default)."""
    return float(_silhouette(X, labels, metric, sample_size, random_state, include_noise,
                             threads, memory, device, device_memory, progress)["score"])


def silhouette_samples(X, labels, *, metric="euclidean", include_noise=True, threads=None,
                       memory=None, device="auto", device_memory=None, progress=None):
    """Silhouette of every row (float32; NaN for noise rows left out with include_noise=False)."""
    return _silhouette(X, labels, metric, None, None, include_noise, threads, memory, device,
                       device_memory, progress)["samples"]


def _cluster_metrics(X, labels, metric, include_noise, threads, memory):
    data = _input.function_data(X)
    codes = _input.encode_labels(labels, _input.rows_of(data), include_noise)
    return _core.cluster_metrics(data, codes, metric=str(metric), include_noise=include_noise,
                                 **_ctx(threads, memory))


def davies_bouldin_score(X, labels, *, metric="euclidean", include_noise=True, threads=None,
                         memory=None):
    """Davies-Bouldin index (as sklearn.metrics.davies_bouldin_score; lower is better).
    metric="cosine" computes it on the L2-normalised rows."""
    return float(_cluster_metrics(X, labels, metric, include_noise, threads, memory)
                 ["davies_bouldin"])


def calinski_harabasz_score(X, labels, *, metric="euclidean", include_noise=True, threads=None,
                            memory=None):
    """Calinski-Harabasz index (as sklearn.metrics.calinski_harabasz_score; higher is better)."""
    return float(_cluster_metrics(X, labels, metric, include_noise, threads, memory)
                 ["calinski_harabasz"])


def kdist(X, k=5, *, sample=10000, random_state=0, metric="euclidean", threads=None,
          memory=None, progress=None):
    """The sorted k-distance curve of a sample of rows (each against every row), counting the row
    itself as the first neighbour as DBSCAN's min_samples does. Returns a dict: "kdist" (sorted
    ascending), "rows" (the row of each value), "knee", "suggested_eps" and "quantiles"."""
    data = _input.function_data(X)
    return _core.kdist(data, k=int(k), sample=int(sample), seed=_input.seed_of(random_state),
                       metric=str(metric), progress=_progress.callback(progress, False),
                       **_ctx(threads, memory))
