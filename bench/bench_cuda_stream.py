#!/usr/bin/python3
"""K-means on data larger than the device budget: how busy the GPU is, and what holds it back.

Clusters an HDF5 file (by default 20,000,000 x 128 float32 blobs, 10 GB, generated when missing)
with `embcluster kmeans --device cuda --device-memory 4G`, so that most blocks are streamed from
the file through pinned buffers on every iteration, and reads the report:

  - GPU busy: the kernels' time (GEMM, argmin, update; summed over the two streams) as a share of
    the Lloyd iterations' wall time;
  - the other candidates, each as a share of the same wall time: waiting for the reader (disk and
    HDF5 decoding) and host-to-device copies (PCIe), with the copy rate in GB/s;
  - the reader's own rate: one plain pass over the file with h5py in blocks (GB/s), measured in
    the same run.

Prints the busy share and, when it is below 80 %, the largest of the other shares as the bottleneck.

  bench_cuda_stream.py [--file big.h5] [--n 20000000 --d 128 --k 1000] [--iters 10]
                       [--device-memory 4G] [--memory 8G] [--device cuda] [--cli build/embcluster]

Runs anywhere (--device cpu gives the CPU's figures, without GPU shares), with Debian's python3-h5py.
"""
import argparse
import os
import subprocess
import tempfile
import time

import h5py

from benchutil import find_cli, run_report


def read_rate(path, dataset, block_bytes=64 << 20):
    """One pass over the dataset in row blocks: GB/s of float32 rows."""
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        n, d = ds.shape
        rows = max(1, block_bytes // (4 * d))
        t0 = time.perf_counter()
        for s in range(0, n, rows):
            ds[s:s + rows]
        sec = time.perf_counter() - t0
    return n * d * 4 / sec / 1e9, sec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", default=None, help="HDF5 file (default: generated in --workdir)")
    ap.add_argument("--dataset", default="/data")
    ap.add_argument("--n", type=int, default=20_000_000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--device-memory", default="4G")
    ap.add_argument("--memory", default="8G", help="host budget for data blocks")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--cli", default=None)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--skip-read-test", action="store_true")
    args = ap.parse_args()

    exe = find_cli(args.cli)
    workdir = args.workdir or tempfile.mkdtemp(prefix="stream_bench_")
    os.makedirs(workdir, exist_ok=True)
    path = args.file or os.path.join(workdir, f"blobs_{args.n}x{args.d}.h5")
    if not os.path.exists(path):
        t0 = time.perf_counter()
        subprocess.run([exe, "generate", "--n", str(args.n), "--d", str(args.d), "--k",
                        str(args.k), "--out", path, "--quiet"], check=True)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s")
    with h5py.File(path, "r") as f:
        n, d = f[args.dataset].shape
    gb = n * d * 4 / 1e9
    print(f"data {path}:{args.dataset}: {n} x {d} float32 = {gb:.2f} GB, k {args.k}, "
          f"{args.iters} iterations, device budget {args.device_memory}")

    if not args.skip_read_test:
        rate, sec = read_rate(path, args.dataset)
        print(f"plain read of the file (h5py, 64 MiB blocks): {sec:.1f} s = {rate:.2f} GB/s")

    out = os.path.join(workdir, "out")
    cmd = [exe, "kmeans", f"{path}:{args.dataset}", "--n-clusters", str(args.k), "--init",
           "random", "--max-iter", str(args.iters), "--tol", "0", "--device", args.device,
           "--device-memory", args.device_memory, "--memory", args.memory, "--out", out,
           "--force", "--quiet"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    wall, rep = run_report(cmd, out)
    t = rep["timings_s"]
    notes = rep.get("notes", {})
    iters = rep["iterations"]
    lloyd = t["total"] - t.get("stats_and_sample", 0) - t.get("init", 0)
    print(f"embcluster on {rep['device']}: {wall:.1f} s wall, {iters} iterations in {lloyd:.2f} s "
          f"({lloyd / max(iters, 1):.3f} s each, {n * iters / lloyd / 1e6:.1f} M rows/s), first "
          f"pass {t.get('stats_and_sample', 0):.1f} s, init {t.get('init', 0):.2f} s")
    for key in ("device_memory_budget", "device_memory_used", "device_resident_blocks",
                "gpu_chunk_rows"):
        if key in notes:
            print(f"  {key}: {notes[key]}")

    shares = {"reader (disk + HDF5 decoding)": t.get("read_wait", 0) / lloyd}
    if "gpu_gemm" in t:
        kernels = t.get("gpu_gemm", 0) + t.get("gpu_argmin", 0) + t.get("gpu_update", 0)
        busy = kernels / lloyd
        transfer = t.get("gpu_transfer", 0)
        shares["host-to-device copies (PCIe)"] = transfer / lloyd
        resident = int(notes.get("device_resident_blocks", "0") or 0)
        print(f"  kernels {kernels:.2f} s (GEMM {t.get('gpu_gemm', 0):.2f}, argmin "
              f"{t.get('gpu_argmin', 0):.2f}, update {t.get('gpu_update', 0):.2f}), copies "
              f"{transfer:.2f} s, reader wait {t.get('read_wait', 0):.2f} s; "
              f"{resident} blocks resident")
        if transfer > 0:
            moved = gb * iters  # upper bound: every block copied on every iteration
            print(f"  copy rate <= {moved / transfer:.1f} GB/s")
        print(f"GPU busy {100 * busy:.1f} % of the Lloyd wall time (target >= 80 %)")
        if busy < 0.8:
            name, share = max(shares.items(), key=lambda kv: kv[1])
            print(f"bottleneck: {name}, {100 * share:.1f} % of the wall time")
    else:
        print(f"no GPU timings (device {rep['device']}): reader wait "
              f"{100 * shares['reader (disk + HDF5 decoding)']:.1f} % of the Lloyd wall time")


if __name__ == "__main__":
    main()
