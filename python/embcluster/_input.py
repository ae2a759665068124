"""Inputs of the estimators and functions: arrays (used in place when float32 and C-contiguous),
h5py datasets and data specs ("x.h5:/data", "x.npy", ...), streamed by the library's readers."""

import os

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight, validate_data

from . import _core


def is_streamed(X):
    """True for inputs the library reads itself: a data spec or an h5py dataset."""
    if isinstance(X, (str, os.PathLike)):
        return True
    return type(X).__module__.startswith("h5py") and hasattr(X, "file") and hasattr(X, "name")


def spec_of(X):
    """The data spec of a path or an h5py dataset (file and dataset path, read by the library's
    own HDF5 reader; the file must be readable by a second reader, e.g. opened with mode "r")."""
    if isinstance(X, (str, os.PathLike)):
        return os.fspath(X)
    return f"{X.file.filename}:{X.name}"


def _from_dlpack(X):
    if hasattr(X, "__dlpack__") and not hasattr(X, "__array__"):
        return np.from_dlpack(X)
    return X


def estimator_data(est, X, reset):
    """X for an estimator: a data spec (string) for streamed inputs, else a float32 C-contiguous
    array (no copy when X already is one; other dtypes and layouts are converted once), with
    scikit-learn's checks and feature-name bookkeeping."""
    if is_streamed(X):
        if reset and hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
        return spec_of(X)
    X = _from_dlpack(X)
    return validate_data(est, X, dtype=np.float32, order="C", reset=reset)


def function_data(X):
    """X for a function (silhouette_score, ...): as estimator_data, without an estimator."""
    if is_streamed(X):
        return spec_of(X)
    return check_array(_from_dlpack(X), dtype=np.float32, order="C")


def rows_of(data):
    return data.shape[0] if isinstance(data, np.ndarray) else None


def encode_labels(labels, n_rows, include_noise):
    """Labels as int32 codes 0..k-1 in sorted order of the labels; -1 stays -1 (noise) unless
    include_noise."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    if n_rows is not None and labels.shape[0] != n_rows:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{n_rows}, "
            f"{labels.shape[0]}]"
        )
    codes = np.full(labels.shape[0], -1, dtype=np.int32)
    keep = np.ones(labels.shape[0], dtype=bool)
    if not include_noise and labels.dtype.kind in "iu":
        keep = labels != -1
    codes[keep] = np.unique(labels[keep], return_inverse=True)[1].reshape(-1)
    return np.ascontiguousarray(codes, dtype=np.int32)


def memory_bytes(memory):
    """memory=: None (the library's default: half the available memory), bytes, or "256M"."""
    if memory is None:
        return 0
    if isinstance(memory, str):
        return _core.parse_bytes(memory)
    if isinstance(memory, (int, np.integer)) and not isinstance(memory, bool) and memory > 0:
        return int(memory)
    raise ValueError(f"memory={memory!r} must be a positive number of bytes or a size like '256M'")


def threads_of(threads):
    if threads is None:
        return 0
    if isinstance(threads, (int, np.integer)) and not isinstance(threads, bool) and threads >= 0:
        return int(threads)
    raise ValueError(f"threads={threads!r} must be None or an integer >= 0 (0 = every core)")


def seed_of(random_state):
    """An int random_state is the library's seed as is (the command's --seed); None or a
    RandomState draws one."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state={random_state} must be >= 0")
        return int(random_state)
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def weights_of(sample_weight, data):
    """sample_weight as a float64 C-contiguous vector (checked against an array's rows here, else
    by the library), or None for no weights."""
    if sample_weight is None:
        return None
    if isinstance(data, np.ndarray):
        sample_weight = _check_sample_weight(sample_weight, data, dtype=np.float64)
    return np.ascontiguousarray(np.asarray(sample_weight, dtype=np.float64).reshape(-1))


def check_uniform_weights(sample_weight, data):
    """For DBSCAN, which does not weight rows: uniform weights are accepted, others refused."""
    w = weights_of(sample_weight, data)
    if w is None or not w.size:
        return 1.0
    if not np.all(w == w[0]):
        raise ValueError("sample_weight: DBSCAN does not weight rows; only uniform weights are "
                         "accepted")
    if w[0] <= 0:
        raise ValueError("sample_weight: every weight is zero or negative")
    return float(w[0])
