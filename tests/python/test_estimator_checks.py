"""scikit-learn's own estimator checks on KMeans and DBSCAN, every one run. The checks expected to
fail are listed with their reasons in embcluster.EXPECTED_FAILED_CHECKS (strict: a listed check
that passes fails the run)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import embcluster


def expected_failed_checks(estimator):
    return embcluster.expected_failed_checks(estimator)


@parametrize_with_checks(
    [embcluster.KMeans(n_clusters=3, threads=1), embcluster.DBSCAN(threads=1)],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
