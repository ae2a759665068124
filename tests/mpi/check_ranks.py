#!/usr/bin/env python3
"""`mpirun -np N embcluster kmeans|assign|kdist|evaluate ...` against the plain single-process run.

For N = 1, 2, 3, 4 ranks (oversubscribed on this machine) on fixed inputs: labels, centroids,
distances, inertia, iterations, history, cluster sizes, the report's silhouette and the k-distance
curve are
bit-identical to one process's, for data that splits unevenly across ranks (whole pieces of 65,536
rows to each rank), for streamed data (a small --memory: blocks smaller than a piece), for cosine,
weights, several runs and empty-cluster relocations. A rank that cannot read its slab ends the
whole job with one line naming the rank (no hang), and commands that do not spread over ranks are
refused.

--quick (the sanitizer build, where every rank runs instrumented): each case on 3 ranks only (4
for the blobs), the silhouette on the sampled rows only.

usage: check_ranks.py EMBCLUSTER MPIRUN [--quick]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

EXE, MPIRUN = sys.argv[1], sys.argv[2]
QUICK = "--quick" in sys.argv[3:]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
# The sanitizer build: MPI_Finalize unloads OpenMPI's plugins, so what they keep until then is
# reported as leaks of an unknown module, which no suppression can name. Ranks run without leak
# detection (every other sanitizer check stays on; the single-process suites check leaks).
if "ASAN_OPTIONS" in os.environ:
    ENV["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":detect_leaks=0"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(args, np_=0, timeout=300):
    cmd = ([MPIRUN, "-np", str(np_), "--oversubscribe"] if np_ else []) + [EXE] + args
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)


def ok_run(args, np_=0):
    p = run(args, np_)
    if p.returncode != 0:
        print(" ".join(args), "np", np_, "\n", p.stdout, p.stderr)
    return p.returncode == 0


def arrays(out, names):
    return {n: open(os.path.join(out, n + ".npy"), "rb").read() for n in names}


def report_fields(out, keys):
    r = json.load(open(os.path.join(out, "report.json")))
    got = {k: r.get(k) for k in keys}
    for k, v in got.items():  # times differ from run to run, and each rank counts its own reads
        if isinstance(v, dict):
            got[k] = {kk: vv for kk, vv in v.items() if kk not in ("seconds", "data_passes")}
    sil = r.get("metrics", {}).get("silhouette")
    if sil is not None:  # the sampled silhouette of the report, all but its time
        got["silhouette"] = {k: v for k, v in sil.items() if k != "seconds"}
    return got, r


def compare(name, args, outputs, keys, ranks=(1, 2, 3, 4)):
    """Runs args plainly and on every count of ranks; everything must be identical."""
    if QUICK:
        ranks = (3, 4) if name == "blobs" else (3,)
    base = os.path.join(WORK, name + "_1p")
    if not ok_run(args + ["--out", base, "--format", "npy", "--quiet"]):
        check(False, name + ": the single-process run")
        return None
    want = arrays(base, outputs)
    want_rep, rep = report_fields(base, keys)
    for n in ranks:
        out = os.path.join(WORK, "%s_np%d" % (name, n))
        if not ok_run(args + ["--out", out, "--format", "npy", "--quiet"], n):
            check(False, "%s: mpirun -np %d" % (name, n))
            continue
        got_rep, r = report_fields(out, keys)
        same = arrays(out, outputs) == want and got_rep == want_rep
        check(same, "%s: %d rank(s) bit-identical to one process (%s)" %
              (name, n, ", ".join(outputs + sorted(got_rep))))
        if n > 1 and "per_rank" not in r.get("ranks", {}):
            check(r.get("ranks", {}).get("n") == n, "%s: the report says %d ranks" % (name, n))
        elif n > 1:
            per = r.get("ranks", {}).get("per_rank", [])
            rows = [p["rows"] for p in per]
            starts = [p["first_row"] for p in per]
            total = r["rows"] if "rows" in r else sum(rows)
            check(r["ranks"]["n"] == n and sum(rows) == total and
                  starts == [sum(rows[:i]) for i in range(n)],
                  "%s: the report names %d ranks and their slabs %s" % (name, n, rows))
    return rep


WORK = tempfile.mkdtemp(prefix="embcluster_mpi_")
rng = np.random.default_rng(7)

# Blobs of 200,003 rows: 4 pieces, split 1/1/2, 1/2/1... across ranks; the last piece partial.
ok_run(["generate", "--n", "200003", "--d", "8", "--k", "12", "--seed", "3", "--out",
        os.path.join(WORK, "blobs.h5"), "--quiet"])
blobs = os.path.join(WORK, "blobs.h5")
rep = compare("blobs", ["kmeans", blobs, "-k", "12", "--seed", "5", "--metrics-sample", "2000"],
              ["labels", "centroids"],
              ["inertia", "iterations", "history", "cluster_sizes", "run_inertia", "tol_abs"])
check(rep is not None and rep.get("metrics", {}).get("silhouette") is not None,
      "blobs: the report's silhouette is compared")

# Overlapping clusters, random initial rows, two runs, streamed in blocks smaller than a piece.
centres = rng.normal(0, 3, (30, 16))
hard = (centres[rng.integers(0, 30, 150001)] + rng.normal(0, 2.5, (150001, 16))).astype(np.float32)
np.save(os.path.join(WORK, "hard.npy"), hard)
rep = compare("streamed", ["kmeans", os.path.join(WORK, "hard.npy"), "-k", "40", "--init",
                           "random", "--n-init", "2", "--max-iter", "25", "--seed", "11",
                           "--memory", "1M", "--no-metrics"],
              ["labels", "centroids"],
              ["inertia", "iterations", "history", "cluster_sizes", "run_inertia", "best_run", "tol_abs"])
check(rep is not None and rep["streamed"] and rep["iterations"] > 5,
      "streamed: the run streamed and iterated (%s iterations)" % (rep or {}).get("iterations"))

# k-means|| (its rounds on the sample every rank gathers), streamed, with bounds.
rep = compare("kmeans_parallel", ["kmeans", os.path.join(WORK, "hard.npy"), "-k", "40", "--init",
                                  "k-means||", "--max-iter", "20", "--seed", "4",
                                  "--algorithm", "yinyang", "--memory", "8M", "--no-metrics"],
              ["labels", "centroids"], ["inertia", "iterations", "history", "cluster_sizes"],
              ranks=(2, 3))
check(rep is not None and rep["parameters"]["init"] == "k-means||",
      "kmeans_parallel: the run started from k-means||")

# Cosine with weights, from centres of which two are the same: the second one gets no rows and
# takes the farthest row (a relocation, chosen among every rank's rows).
init = hard[rng.choice(150001, 20, replace=False)].copy()
init[7] = init[3]
np.save(os.path.join(WORK, "init.npy"), init)
np.save(os.path.join(WORK, "w.npy"), rng.uniform(0.5, 2.0, 150001))
rep = compare("cosine_weights_relocation",
              ["kmeans", os.path.join(WORK, "hard.npy"), "-k", "20", "--metric", "cosine",
               "--init", os.path.join(WORK, "init.npy"), "--weights", os.path.join(WORK, "w.npy"),
               "--max-iter", "15", "--no-metrics"],
              ["labels", "centroids"],
              ["inertia", "iterations", "history", "cluster_sizes", "empty_cluster_relocations"],
              ranks=(2, 3))
check(rep is not None and rep["empty_cluster_relocations"] >= 1,
      "cosine_weights_relocation: empty clusters were relocated (%s)" %
      (rep or {}).get("empty_cluster_relocations"))

# assign with the 3 nearest centres.
compare("assign", ["assign", os.path.join(WORK, "hard.npy"), "--centroids",
                   os.path.join(WORK, "streamed_1p", "centroids.npy"), "--top", "3"],
        ["labels", "distances", "top_labels", "top_distances"], ["inertia", "cluster_sizes"])

# kdist: every sampled row against each rank's slab, the ranks' nearest merged.
compare("kdist", ["kdist", os.path.join(WORK, "hard.npy"), "--k", "10", "--sample", "3000"],
        ["kdist"], ["quantiles", "suggested_eps", "knee_index"])
compare("kdist_cosine", ["kdist", blobs, "--k", "5", "--sample", "2000", "--metric", "cosine"],
        ["kdist"], ["quantiles", "suggested_eps", "knee_index"], ranks=(3,))

# The exact and the sampled silhouette: each rank scores its rows against every row. One process
# streams its rows the same way under a small --memory.
np.save(os.path.join(WORK, "hard4.npy"), hard[:140000, :4].copy())
labels = np.load(os.path.join(WORK, "streamed_1p", "labels.npy"))[:140000] % 7
np.save(os.path.join(WORK, "labels7.npy"), labels.astype(np.int32))
silhouettes = (("silhouette_exact", []), ("silhouette_sampled", ["--sample", "3000"]))
for name, extra in silhouettes[1:] if QUICK else silhouettes:
    compare(name, ["evaluate", os.path.join(WORK, "hard4.npy"), "--labels",
                   os.path.join(WORK, "labels7.npy"), "--memory", "6M"] + extra,
            ["silhouette_samples"], ["silhouette"], ranks=(2, 3))
# One process with every row in memory: the same scores too.
if not QUICK:
    default = os.path.join(WORK, "silhouette_in_memory")
    ok_run(["evaluate", os.path.join(WORK, "hard4.npy"), "--labels",
            os.path.join(WORK, "labels7.npy"), "--out", default, "--format", "npy", "--quiet"])
    check(arrays(default, ["silhouette_samples"]) ==
          arrays(os.path.join(WORK, "silhouette_exact_np3"), ["silhouette_samples"]),
          "silhouette_exact: 3 ranks bit-identical to one process holding every row in memory")

# A rank that cannot read its slab: a NaN at row 190,000, in piece 2 of 4 (rank 2 of 4).
bad = np.load(os.path.join(WORK, "hard.npy"))[:, :4].copy()
bad = np.vstack([bad, bad[:50000]])
bad[190000, 2] = np.nan
np.save(os.path.join(WORK, "bad.npy"), bad)
try:
    p = run(["kmeans", os.path.join(WORK, "bad.npy"), "-k", "5", "--quiet", "--out",
             os.path.join(WORK, "bad_out")], 4, timeout=120)
    ours = [l for l in p.stderr.splitlines() if l.startswith("embcluster:")]
    check(p.returncode != 0 and len(ours) == 1 and "rank 2:" in ours[0] and "190000" in ours[0],
          "a rank that cannot read its slab ends the job with one line naming it: %r" % ours)
    check(not os.path.exists(os.path.join(WORK, "bad_out", "labels.h5")),
          "the failed job wrote no labels")
except subprocess.TimeoutExpired:
    check(False, "a failing rank ended the job (it hung past 120 s)")

# Commands that run as one process are refused under several ranks.
p = run(["dbscan", blobs, "--eps", "1", "--min-samples", "5", "--quiet"], 2, timeout=120)
ours = [l for l in p.stderr.splitlines() if l.startswith("embcluster:")]
check(p.returncode != 0 and len(ours) == 1 and "runs as one process" in ours[0],
      "dbscan under 2 ranks is refused in one line: %r" % ours)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
