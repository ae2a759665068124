"""embcluster: clustering of embeddings (K-means, DBSCAN, silhouette) on the CPU and CUDA, with
scikit-learn's API. Estimators: KMeans, DBSCAN. Functions: silhouette_score, silhouette_samples,
davies_bouldin_score, calinski_harabasz_score, kdist."""

from . import _core
from ._checks import EXPECTED_FAILED_CHECKS, expected_failed_checks
from ._dbscan import DBSCAN
from ._kmeans import KMeans
from ._metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    kdist,
    silhouette_samples,
    silhouette_score,
)

cuda_built = _core.cuda_built

__all__ = [
    "KMeans",
    "DBSCAN",
    "silhouette_score",
    "silhouette_samples",
    "davies_bouldin_score",
    "calinski_harabasz_score",
    "kdist",
    "cuda_built",
    "expected_failed_checks",
    "EXPECTED_FAILED_CHECKS",
]
