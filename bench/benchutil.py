"""Helpers shared by the benchmark scripts: the embcluster binary, and timed runs with reports."""
import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_cli(path=None):
    """path when given, else build/embcluster, else the first build*/embcluster."""
    if path:
        return os.path.abspath(path)
    for cand in [os.path.join(ROOT, "build", "embcluster")] + sorted(
            glob.glob(os.path.join(ROOT, "build*", "embcluster"))):
        if os.access(cand, os.X_OK):
            return cand
    sys.exit("no embcluster binary under build*/: build first or pass its path")


def run_report(cmd, out_dir):
    """Runs an embcluster command that writes to out_dir (its stdout discarded); returns the wall
    seconds and out_dir/report.json."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    with open(os.path.join(out_dir, "report.json")) as f:
        return wall, json.load(f)
