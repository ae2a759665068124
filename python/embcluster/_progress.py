"""Progress of a long run: verbose= prints a line per step, progress= a callable that receives a
dict per step (phase, ... as the library reports them), or True for a tqdm bar when tqdm is
installed (else verbose lines)."""

import sys


def _kmeans_line(info):
    if info["phase"] == "iterate":
        return f"Iteration {info['iteration']}, inertia {info['inertia']:.6g}."
    if info["phase"] == "device":
        note = f" ({info['device_note']})" if info.get("device_note") else ""
        return f"device: {info['device']}{note}"
    return None


def _fraction_line(info):
    if "fraction" in info:
        return f"{info['phase']}: {100 * info['fraction']:.1f}%"
    if "rows_done" in info:
        return f"silhouette: {info['rows_done']} of {info['rows_total']} rows"
    return None


class _Bar:
    def __init__(self, tqdm):
        self._bar = tqdm(total=100, unit="%")
        self._last = 0.0

    def __call__(self, info):
        frac = info.get("fraction")
        if frac is None and info.get("rows_total"):
            frac = info.get("rows_done", 0) / info["rows_total"]
        if frac is None and info.get("max_iter"):
            frac = info.get("iteration", 0) / info["max_iter"]
        if frac is not None:
            self._bar.update(max(0.0, 100 * frac - self._last))
            self._last = max(self._last, 100 * frac)
        self._bar.set_postfix_str(str(info.get("phase", "")))


def callback(progress, verbose, kind="fraction"):
    """The callable the library calls, or None."""
    if callable(progress):
        return progress
    if progress is True:
        try:
            from tqdm.auto import tqdm

            return _Bar(tqdm)
        except ImportError:
            verbose = True
    if not verbose:
        return None
    line = _kmeans_line if kind == "kmeans" else _fraction_line

    def show(info):
        text = line(info)
        if text:
            print(text, file=sys.stderr, flush=True)

    return show
