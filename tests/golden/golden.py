#!/usr/bin/env python3
"""Bit-identical outputs of the embcluster command on fixed inputs.

Runs kmeans, dbscan (exact, cosine, ivf), evaluate and kdist on bundled and generated data and
reduces every output to a digest: each array file to its dtype, shape and the SHA-256 of its bytes,
each report to its figures (timings, paths and machine facts left out). `--record` writes the
digests to golden_outputs.json; without it the run is compared with that file and every
difference is printed. Any change of a label, a centre's bit or a score fails.
`--close` (builds by another compiler, which fuses multiply-adds elsewhere) lets report figures
differ in their last bits (relative 1e-12); array digests and everything else stay exact.

usage: golden.py EMBCLUSTER_BINARY [--record | --close]
"""
import math
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
GOLDEN = os.path.join(HERE, "golden_outputs.json")

# Report keys that describe the run rather than its result.
VOLATILE = {
    "seconds", "timings_s", "wall_s", "rows_per_s", "peak_rss_bytes", "input", "command",
    "cuda_devices", "version", "threads", "device", "device_note", "notes", "parameters",
    "index_bytes", "elapsed_s", "labels", "outputs", "block_rows", "streamed", "data_passes",
    "blocks", "sampled_because", "memory",
}


# DBSCAN's tile passes: how much work each pass did (pairs of tiles skipped or computed, blocks
# read) describes the run, as data_passes does; which passes ran over how many pairs is kept.
PASS_WORK = {"far", "near", "settled", "gemm", "block_pairs_read"}


def strip(value, key=None):
    if key == "tile_passes" and isinstance(value, list):
        return [{k: v for k, v in sorted(p.items()) if k not in PASS_WORK} for p in value]
    if isinstance(value, dict):
        return {k: strip(v, k) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    if isinstance(value, float):
        return repr(value)  # every bit of the double
    return value


def digest_array(a):
    a = np.ascontiguousarray(a)
    return {"dtype": str(a.dtype), "shape": list(a.shape),
            "sha256": hashlib.sha256(a.tobytes()).hexdigest()}


def digest_dir(path):
    out = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.endswith(".npy"):
            out[name] = digest_array(np.load(full))
        elif name == "report.json":
            with open(full) as f:
                out[name] = strip(json.load(f))
    return out


def run(binary, args, cwd):
    cmd = [binary] + args + ["--quiet"]
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))


def cases(tmp):
    blobs = os.path.join(tmp, "g.h5")
    dref = json.load(open(os.path.join(DATA, "dbscan_ref.json")))
    b, c = dref["blobs"], dref["cosine"]
    npy = ["--format", "npy", "--device", "cpu"]
    km = os.path.join(tmp, "kmeans")
    return [
        ("generate", ["generate", "--n", "20000", "--d", "32", "--k", "20", "--seed", "3",
                      "--out", blobs], None),
        ("kmeans", ["kmeans", blobs + ":/data", "-k", "20", "--seed", "1", "--out", km] + npy, km),
        ("kmeans_streamed", ["kmeans", blobs + ":/data", "-k", "20", "--seed", "1",
                             "--memory", "1M"] + npy, "out"),
        ("kmeans_random", ["kmeans", blobs + ":/data", "-k", "7", "--init", "random",
                           "--n-init", "3", "--seed", "5", "--threads", "1"] + npy, "out"),
        ("kmeans_parallel", ["kmeans", blobs + ":/data", "-k", "30", "--init", "k-means||",
                             "--seed", "2", "--threads", "1"] + npy, "out"),
        ("kmeans_wine", ["kmeans", os.path.join(DATA, "wine.csv"), "-k", "3", "--scale",
                         "standard", "--n-init", "4", "--seed", "2"] + npy, "out"),
        ("dbscan_exact", ["dbscan", os.path.join(DATA, "dbscan_blobs.npy"), "--eps",
                          repr(b["eps"]), "--min-samples", str(b["min_samples"])] + npy, "out"),
        ("dbscan_exact_streamed", ["dbscan", blobs + ":/data", "--eps", "6.5",
                                   "--min-samples", "10", "--memory", "1M"] + npy, "out"),
        ("dbscan_cosine", ["dbscan", os.path.join(DATA, "dbscan_cosine.npy"), "--eps",
                           repr(c["eps"]), "--min-samples", str(c["min_samples"]), "--metric",
                           "cosine"] + npy, "out"),
        ("dbscan_ivf", ["dbscan", blobs + ":/data", "--eps", "6.5", "--min-samples", "10",
                        "--index", "ivf", "--nlist", "20", "--nprobe", "2"] + npy, "out"),
        ("dbscan_flat", ["dbscan", blobs + ":/data", "--eps", "6.5", "--min-samples", "10",
                         "--index", "flat"] + npy, "out"),
        ("evaluate_exact", ["evaluate", blobs + ":/data", "--labels", km + "/labels.npy"] + npy,
         "out"),
        ("evaluate_exact_streamed", ["evaluate", blobs + ":/data", "--labels",
                                     km + "/labels.npy", "--memory", "1M"] + npy, "out"),
        ("evaluate_cosine", ["evaluate", blobs + ":/data", "--labels", km + "/labels.npy",
                             "--metric", "cosine"] + npy, "out"),
        ("evaluate_sampled", ["evaluate", blobs + ":/data", "--labels", km + "/labels.npy",
                              "--sample", "500", "--seed", "4"] + npy, "out"),
        ("evaluate_simplified", ["evaluate", blobs + ":/data", "--labels",
                                 km + "/labels.npy", "--simplified"] + npy, "out"),
        ("kdist", ["kdist", blobs + ":/data", "--k", "10", "--sample", "3000", "--format", "npy"],
         "out"),
        ("kdist_cosine", ["kdist", os.path.join(DATA, "dbscan_cosine.npy"), "--k", "6",
                          "--metric", "cosine", "--sample", "0", "--format", "npy"], "out"),
    ]


def collect(binary):
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, out in cases(tmp):
            if out == "out":
                out = os.path.join(tmp, name)
                args = args + ["--out", out]
            run(binary, args, tmp)
            if out is None:
                import h5py
                with h5py.File(os.path.join(tmp, "g.h5"), "r") as f:
                    results[name] = {k: digest_array(f[k][()]) for k in sorted(f.keys())}
            else:
                results[name] = digest_dir(out)
    return results


def close_floats(a, b):
    """Both the repr of a float, equal to the last bits (relative 1e-12)."""
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return isinstance(a, str) and isinstance(b, str) and math.isclose(x, y, rel_tol=1e-12)


def diff(a, b, path="", close=False):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                yield "%s/%s: only in %s" % (path, k, "golden" if k in a else "this run")
            else:
                yield from diff(a[k], b[k], path + "/" + k, close)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and close:
        for i, (x, y) in enumerate(zip(a, b)):
            yield from diff(x, y, "%s[%d]" % (path, i), close)
    elif a != b and not (close and close_floats(a, b)):
        yield "%s: golden %s, this run %s" % (path, str(a)[:200], str(b)[:200])


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    results = collect(os.path.abspath(sys.argv[1]))
    if "--record" in sys.argv:
        with open(GOLDEN, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
            f.write("\n")
        print("recorded %d cases in %s" % (len(results), GOLDEN))
        return
    with open(GOLDEN) as f:
        golden = json.load(f)
    # Reports recorded before a key became volatile: stripped the same way (idempotent otherwise).
    golden = {case: {name: strip(v) if name == "report.json" else v for name, v in files.items()}
              for case, files in golden.items()}
    problems = list(diff(golden, results, close="--close" in sys.argv))
    for p in problems:
        print(p)
    print("%d cases, %d differences" % (len(results), len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
