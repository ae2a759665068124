#!/usr/bin/env python3
"""K-means (or evaluate's exact silhouette) killed with SIGKILL at random points, then resumed:
outputs identical to a run never interrupted.

Ten seeds each choose a delay within the run's duration; the run (checkpointing every iteration,
or every block of rows) is killed there and continued with --resume. The output files must be
byte-identical to the uninterrupted run's, and the report's figures equal. A checkpoint made for
other parameters or other data must be refused with one line naming what differs.

usage: kill_resume.py EMBCLUSTER_BINARY [kmeans|evaluate]
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time



def kmeans(exe, data, out, *extra, k=12, seed=7):
    return [exe, "-q", "kmeans", data, "-k", str(k), "--init", "random", "--n-init", "3",
            "--tol", "0", "--seed", str(seed), "--device", "cpu", "--format", "npy", "--no-metrics",
            "--out", out, *extra]


def evaluate(exe, data, out, *extra, labels=None, metric="euclidean"):
    # Streamed under 1 MiB: about ten blocks of rows, each saved.
    return [exe, "-q", "--memory", "1M", "evaluate", data, "--labels", labels or data + ":/labels",
            "--metric", metric, "--device", "cpu", "--format", "npy", "--out", out, *extra]


class KMeans:
    command = staticmethod(kmeans)
    rows = 10000
    files = ("labels.npy", "centroids.npy")
    figures = ["iterations", "converged", "inertia", "tol_abs", "run_inertia", "best_run",
               "history", "cluster_sizes", "empty_cluster_relocations"]
    checkpoint = "kmeans.ckpt"
    blocks = 0

    @staticmethod
    def resumed_from(report):
        return report.get("notes", {}).get("resumed_from", "start")

    @staticmethod
    def refusals(exe, data, other, tmp, cp):
        return [(kmeans(exe, data, os.path.join(tmp, "x1"), "--resume", cp, k=13),
                 "made for n_clusters=12, this run has n_clusters=13"),
                (kmeans(exe, data, os.path.join(tmp, "x2"), "--resume", cp, seed=8),
                 "made for seed=7, this run has seed=8"),
                (kmeans(exe, other, os.path.join(tmp, "x3"), "--resume", cp), "made for data="),
                (kmeans(exe, data, os.path.join(tmp, "x4"), "--resume",
                        os.path.join(tmp, "none")), "not found"),
                (kmeans(exe, data, os.path.join(tmp, "x5"), "--checkpoint", cp),
                 "kmeans.ckpt exists: --resume")]


class Evaluate:
    command = staticmethod(evaluate)
    rows = 30000  # about a second of exact silhouette, in about ten saved blocks
    files = ("silhouette_samples.npy",)
    figures = ["silhouette"]
    checkpoint = "silhouette.ckpt"
    blocks = 10  # of 3072 rows under --memory 1M, each written after the first (empty) state

    @staticmethod
    def resumed_from(report):
        rows = report["checkpoint"]["resumed_rows"]
        return "row %d" % rows if rows else "start"

    @staticmethod
    def refusals(exe, data, other, tmp, cp):
        return [(evaluate(exe, data, os.path.join(tmp, "x1"), "--resume", cp, metric="cosine"),
                 "made for metric=euclidean, this run has metric=cosine"),
                (evaluate(exe, data, os.path.join(tmp, "x2"), "--resume", cp,
                          labels=other + ":/labels"), "made for labels_hash="),
                (evaluate(exe, other, os.path.join(tmp, "x3"), "--resume", cp), "made for data="),
                (evaluate(exe, data, os.path.join(tmp, "x4"), "--resume",
                          os.path.join(tmp, "none")), "not found"),
                (evaluate(exe, data, os.path.join(tmp, "x5"), "--checkpoint", cp),
                 "silhouette.ckpt exists: --resume"),
                (evaluate(exe, data, os.path.join(tmp, "x6"), "--checkpoint",
                          os.path.join(tmp, "cp-s"), "--sample", "100"),
                 "save the exact silhouette: not with --sample")]


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for_checkpoint(p, path, writes=1):
    """When the run has written `writes` checkpoints (or ended): the kills fall after them, so that
    on a loaded machine too they fall within the saved part of the run."""
    seen, last = 0, None
    while p.poll() is None:
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            key = None
        if key is not None and key != last:
            seen, last = seen + 1, key
        if seen >= writes:
            break
        time.sleep(0.002)
    return time.monotonic()


def outputs(mode, out):
    files = {f: open(os.path.join(out, f), "rb").read() for f in mode.files}
    report = json.load(open(os.path.join(out, "report.json")))
    figures = {k: report[k] for k in mode.figures}
    if "silhouette" in figures:  # its time is no figure
        figures["silhouette"] = dict(figures["silhouette"], seconds=0, data_passes=0)
    return files, figures, report


def main():
    exe = sys.argv[1]
    mode = Evaluate if sys.argv[2:] == ["evaluate"] else KMeans
    command = mode.command
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "blobs.h5")
        r = run([exe, "-q", "generate", "--n", str(mode.rows), "--d", "8", "--k", "12", "--seed",
                 "5", "--out", data])
        assert r.returncode == 0, r.stderr
        ref = os.path.join(tmp, "ref")
        r = run(command(exe, data, ref))
        assert r.returncode == 0, r.stderr
        ref_files, ref_figures, _ = outputs(mode, ref)

        # The checkpointed run, never interrupted: same outputs, and its duration for the delays.
        full, cp = os.path.join(tmp, "full"), os.path.join(tmp, "cp-full")
        t0 = time.monotonic()
        p = subprocess.Popen(command(exe, data, full, "--checkpoint", cp, "--checkpoint-every",
                                     "1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = wait_for_checkpoint(p, os.path.join(cp, mode.checkpoint)) - t0
        stderr = p.communicate()[1]
        duration = time.monotonic() - t0 - first  # from the first checkpoint on
        assert p.returncode == 0, stderr
        if outputs(mode, full)[:2] != (ref_files, ref_figures):
            failures.append("a checkpointed run differs from a run without checkpoints")

        def kill_and_resume(name, writes, delay):
            """A run killed `delay` s after checkpoint write `writes`, resumed, its outputs checked;
            whether the kill came before the run's end, and where the resume started."""
            out, cp = os.path.join(tmp, "out" + name), os.path.join(tmp, "cp" + name)
            p = subprocess.Popen(command(exe, data, out, "--checkpoint", cp, "--checkpoint-every",
                                         "1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for_checkpoint(p, os.path.join(cp, mode.checkpoint), writes)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            killed = p.wait() == -signal.SIGKILL
            r = run(command(exe, data, out, "--resume", cp, "--force"))
            if r.returncode != 0 and "not found" in r.stderr:
                # Killed before the first checkpoint: nothing to resume, the run starts again.
                r = run(command(exe, data, out, "--checkpoint", cp, "--force"))
            if r.returncode != 0:
                failures.append("%s: resume failed: %s" % (name, r.stderr.strip()))
                return killed, "nowhere"
            files, figures, report = outputs(mode, out)
            where = mode.resumed_from(report)
            print("seed %s: killed %.2f s after checkpoint write %d (%s), resumed from %s" %
                  (name, delay, writes, "killed" if killed else "had finished", where))
            if files != ref_files:
                failures.append("seed %s: %s differ (resumed from %s)" %
                                (name, ", ".join(mode.files), where))
            for k in mode.figures:
                if figures[k] != ref_figures[k]:
                    failures.append("seed %s: report %s differs (resumed from %s)" %
                                    (name, k, where))
            left = [f for f in os.listdir(cp) if f != mode.checkpoint]
            if left:
                failures.append("seed %s: left in the checkpoint directory: %s" % (name, left))
            return killed, where

        resumed_mid_run = 0
        for seed in range(10):
            rnd = random.Random(seed)
            if mode.blocks:  # after 1 to blocks - 1 blocks saved, within the next one
                writes = rnd.randint(2, mode.blocks)
                delay = rnd.uniform(0, 1) * duration / mode.blocks
            else:  # iterations too short to watch: anywhere in the run
                writes, delay = 1, rnd.uniform(0.05, 0.95) * duration
            # A run faster than the timed one may end before its kill: that resume is checked too,
            # and the kill is tried again sooner (the delays come from one timed run).
            for attempt in range(4):
                name = "%d" % seed if attempt == 0 else "%d.%d" % (seed, attempt)
                killed, where = kill_and_resume(name, writes, delay / 2 ** attempt)
                if killed:
                    break
            resumed_mid_run += killed and where not in ("start", "nowhere")
        if resumed_mid_run < 7:
            failures.append("only %d of 10 kills resumed from a checkpoint" % resumed_mid_run)

        # Refusals: other parameters, other data; one line naming the difference.
        cp = os.path.join(tmp, "cp0")
        other = os.path.join(tmp, "other.h5")
        run([exe, "-q", "generate", "--n", str(mode.rows), "--d", "8", "--k", "12", "--seed", "6",
             "--out", other])
        cases = mode.refusals(exe, data, other, tmp, cp)
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
