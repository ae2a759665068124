#!/usr/bin/env python3
"""K-means killed with SIGKILL at random points, then resumed: outputs identical to a run never
interrupted.

Ten seeds each choose a delay within the run's duration; the run (checkpointing every iteration)
is killed there and continued with --resume. The labels and centroids files must be byte-identical
to the uninterrupted run's, and the report's figures equal. A checkpoint made for other parameters
or other data must be refused with one line naming what differs.

usage: kill_resume.py EMBCLUSTER_BINARY
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

FIGURES = ["iterations", "converged", "inertia", "tol_abs", "run_inertia", "best_run", "history",
           "cluster_sizes", "empty_cluster_relocations"]


def kmeans(exe, data, out, *extra, k=12, seed=7):
    return [exe, "-q", "kmeans", data, "-k", str(k), "--init", "random", "--n-init", "3",
            "--tol", "0", "--seed", str(seed), "--device", "cpu", "--format", "npy", "--no-metrics",
            "--out", out, *extra]


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def outputs(out):
    files = {f: open(os.path.join(out, f), "rb").read() for f in ("labels.npy", "centroids.npy")}
    report = json.load(open(os.path.join(out, "report.json")))
    return files, {k: report[k] for k in FIGURES}, report.get("notes", {})


def main():
    exe = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "blobs.h5")
        r = run([exe, "-q", "generate", "--n", "10000", "--d", "8", "--k", "12", "--seed", "5",
                 "--out", data])
        assert r.returncode == 0, r.stderr
        ref = os.path.join(tmp, "ref")
        r = run(kmeans(exe, data, ref))
        assert r.returncode == 0, r.stderr
        ref_files, ref_figures, _ = outputs(ref)

        # The checkpointed run, never interrupted: same outputs, and its duration for the delays.
        full, cp = os.path.join(tmp, "full"), os.path.join(tmp, "cp-full")
        t0 = time.monotonic()
        r = run(kmeans(exe, data, full, "--checkpoint", cp, "--checkpoint-every", "1"))
        duration = time.monotonic() - t0
        assert r.returncode == 0, r.stderr
        if outputs(full)[:2] != (ref_files, ref_figures):
            failures.append("a checkpointed run differs from a run without checkpoints")

        resumed_mid_run = 0
        for seed in range(10):
            delay = random.Random(seed).uniform(0.05, 0.95) * duration
            out, cp = os.path.join(tmp, "out%d" % seed), os.path.join(tmp, "cp%d" % seed)
            p = subprocess.Popen(kmeans(exe, data, out, "--checkpoint", cp, "--checkpoint-every",
                                        "1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            killed = p.wait() == -signal.SIGKILL
            r = run(kmeans(exe, data, out, "--resume", cp, "--force"))
            if r.returncode != 0 and "not found" in r.stderr:
                # Killed before the first checkpoint: nothing to resume, the run starts again.
                r = run(kmeans(exe, data, out, "--checkpoint", cp, "--force"))
            if r.returncode != 0:
                failures.append("seed %d: resume failed: %s" % (seed, r.stderr.strip()))
                continue
            files, figures, notes = outputs(out)
            where = notes.get("resumed_from", "start")
            print("seed %d: killed at %.2f s (%s), resumed from %s" %
                  (seed, delay, "killed" if killed else "had finished", where))
            resumed_mid_run += killed and where != "start"
            if files != ref_files:
                failures.append("seed %d: labels or centroids differ (resumed from %s)" %
                                (seed, where))
            for k in FIGURES:
                if figures[k] != ref_figures[k]:
                    failures.append("seed %d: report %s differs (resumed from %s)" %
                                    (seed, k, where))
            left = [f for f in os.listdir(cp) if f != "kmeans.ckpt"]
            if left:
                failures.append("seed %d: left in the checkpoint directory: %s" % (seed, left))
        if resumed_mid_run < 7:
            failures.append("only %d of 10 kills resumed from a checkpoint" % resumed_mid_run)

        # Refusals: other parameters, other data; one line naming the difference.
        cp = os.path.join(tmp, "cp0")
        other = os.path.join(tmp, "other.h5")
        run([exe, "-q", "generate", "--n", "10000", "--d", "8", "--k", "12", "--seed", "6",
             "--out", other])
        cases = [(kmeans(exe, data, os.path.join(tmp, "x1"), "--resume", cp, k=13),
                  "made for n_clusters=12, this run has n_clusters=13"),
                 (kmeans(exe, data, os.path.join(tmp, "x2"), "--resume", cp, seed=8),
                  "made for seed=7, this run has seed=8"),
                 (kmeans(exe, other, os.path.join(tmp, "x3"), "--resume", cp), "made for data="),
                 (kmeans(exe, data, os.path.join(tmp, "x4"), "--resume",
                         os.path.join(tmp, "none")), "not found"),
                 (kmeans(exe, data, os.path.join(tmp, "x5"), "--checkpoint", cp),
                  "kmeans.ckpt exists: --resume")]
        for cmd, want in cases:
            r = run(cmd)
            lines = r.stderr.strip().splitlines()
            if r.returncode != 1 or len(lines) != 1 or want not in lines[0]:
                failures.append("refusal: rc %d, %r; wanted one line with %r" %
                                (r.returncode, r.stderr, want))
    for f in failures:
        print("FAIL:", f)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
