"""Helpers shared by the benchmark scripts: the embcluster binary, timed runs with reports, and the
environment and BLAS of every tool."""
import glob
import json
import os
import re
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


def run_report(cmd, out_dir, env=None):
    """Runs an embcluster command that writes to out_dir (its stdout discarded); returns the wall
    seconds and out_dir/report.json."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t0
    with open(os.path.join(out_dir, "report.json")) as f:
        return wall, json.load(f)


def has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


def clean_env():
    """The environment every tool runs in: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on these
    machines for old OpenBLAS builds) unset, so that each BLAS picks its own best kernel."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def tool_env(tool, threads=0):
    """clean_env() for one tool; faiss's bundled OpenBLAS (0.3.15, which does not know newer CPUs)
    gets OPENBLAS_CORETYPE=SkylakeX where the CPU has AVX-512 (elsewhere that kernel stops with an
    illegal instruction; its own detection is left to choose). threads > 0 also caps the BLAS and
    OpenMP pools of a Python peer through the environment."""
    env = clean_env()
    if tool == "faiss" and has_avx512():
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    if threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    return env


def cli_openblas(exe):
    """The path of the OpenBLAS that the embcluster binary loads (ldd), or None."""
    out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
    m = re.search(r"(libopenblas\S*) => (\S+)", out)
    return m.group(2) if m else None


def cli_blas(exe):
    """The OpenBLAS that the embcluster binary loads and the kernel it picks in clean_env()."""
    lib = cli_openblas(exe)
    if not lib:
        return "no OpenBLAS found by ldd"
    code = ("import ctypes; l = ctypes.CDLL(%r); l.openblas_get_config.restype = ctypes.c_char_p; "
            "l.openblas_get_corename.restype = ctypes.c_char_p; "
            "print(l.openblas_get_config().decode(), '| kernel', l.openblas_get_corename().decode())"
            % lib)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=clean_env())
    return f"{p.stdout.strip()} ({os.path.basename(lib)})"


def blas_info():
    """The BLAS libraries this process loaded (threadpoolctl), one line."""
    from threadpoolctl import threadpool_info

    return ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
                     f"x{i['num_threads']} ({os.path.basename(i['filepath'])})"
                     for i in threadpool_info() if i["internal_api"] in ("openblas", "mkl", "blis"))
