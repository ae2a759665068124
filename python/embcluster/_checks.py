"""The scikit-learn estimator checks (sklearn.utils.estimator_checks) that embcluster's estimators
are expected to fail, with the reasons. Pass ``expected_failed_checks=expected_failed_checks`` to
check_estimator or parametrize_with_checks; every other check must pass."""

_NO_WEIGHTS = (
    "DBSCAN does not weight rows: non-uniform sample_weight is refused with a ValueError "
    "(uniform weights are accepted)"
)
_KMEANS_PLUS_PLUS = (
    "k-means++ draws its first centre by weight, which is not the same draw as among repeated "
    "rows (scikit-learn's own KMeans fails this check for the same reason)"
)

EXPECTED_FAILED_CHECKS = {
    "KMeans": {
        "check_sample_weight_equivalence_on_dense_data": _KMEANS_PLUS_PLUS,
    },
    "DBSCAN": {
        "check_sample_weight_equivalence_on_dense_data": _NO_WEIGHTS,
        "check_sample_weights_not_overwritten": _NO_WEIGHTS,
    },
}


def expected_failed_checks(estimator):
    """{check name: reason} for an embcluster estimator."""
    return dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
