#!/usr/bin/env python3
"""The command's footprint before any device is used.

The executable and the library link no CUDA library (ELF NEEDED entries); `embcluster --help`
stays under 40 MB of peak resident memory; and where there is no CUDA device, `info` and a
K-means run on the CPU never open the CUDA module (the dynamic loader's own trace says which
files it opened).

usage: footprint.py EMBCLUSTER_BINARY LIBEMBCLUSTER
"""
import os
import resource
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LIMIT_BYTES = 40 * 1000 * 1000
LINKED = ("libcudart", "libcublas", "libcuda.so")  # never NEEDED by the command or library
OPENED = ("libcudart", "libcublas", "libembcluster_cuda")  # never opened without a device


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    return [line.split("[")[1].rstrip("]") for line in out.stdout.splitlines()
            if "(NEEDED)" in line]


def opened_files(cmd):
    env = dict(os.environ, LD_DEBUG="files")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    return [line for line in p.stderr.splitlines() if "file=" in line]


def main():
    binary, library = sys.argv[1], sys.argv[2]
    failures = []
    # Peak RSS of --help, first, so that no other child has run yet.
    subprocess.run([binary, "--help"], capture_output=True, check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print("embcluster --help: peak RSS %.1f MB" % (peak / 1e6))
    if peak > LIMIT_BYTES:
        failures.append("--help peak RSS %.1f MB > 40 MB" % (peak / 1e6))
    for path in (binary, library):
        bad = [n for n in needed(path) if n.startswith(LINKED)]
        if bad:
            failures.append("%s links %s" % (path, ", ".join(bad)))
    info = subprocess.run([binary, "info"], capture_output=True, text=True, check=True).stdout
    wine = os.path.join(HERE, "data", "wine.csv")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [[binary, "--help"]]
        if "no CUDA device" in info:
            runs += [[binary, "info"]]
            runs += [[binary, "kmeans", wine, "-k", "3", "--device", dev, "--quiet", "--out",
                      os.path.join(tmp, dev)] for dev in ("cpu", "auto")]
        for cmd in runs:
            bad = [l for l in opened_files(cmd) if any(c in l for c in OPENED)]
            if bad:
                failures.append("%s opened %s" % (" ".join(cmd[1:]), bad[0].strip()))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
