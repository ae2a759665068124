"""Shared fixtures of the Python package's tests. Run by ctest (python_package) with PYTHONPATH
at the build's package and EMBCLUSTER_CLI at the command; nothing may pass by being skipped."""

import os
import subprocess

# scikit-learn's check_array_api_input runs only with SciPy's array API support switched on, which
# must happen before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    # A skipped test proves nothing: the run fails when any test was skipped.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        reporter.write_line("FAILED: tests were skipped (every test of this suite must run)")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("EMBCLUSTER_CLI")
    assert path and os.access(path, os.X_OK), "EMBCLUSTER_CLI must name the embcluster command"
    return path


@pytest.fixture
def run_cli(cli):
    def run(*args):
        p = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return p

    return run


def blobs(n=600, d=8, k=4, seed=0, spread=0.6):
    """Well separated float32 blobs and their true labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(k, d))
    y = rng.integers(0, k, size=n)
    X = centres[y] + rng.normal(scale=spread, size=(n, d))
    return np.ascontiguousarray(X, dtype=np.float32), y


@pytest.fixture
def data():
    return blobs()
