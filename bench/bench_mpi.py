#!/usr/bin/env python3
"""K-means on N MPI ranks of this machine (loopback): per-iteration time and communication, and a
scaling model for 8 GPUs of one node and 8 nodes of 1 GPU each.

Measured: `mpirun -np N embcluster kmeans` for N = 1, 2, 4 (and the plain single process), each
run twice from the same initial centres with tol 0, for ITER and 2 x ITER iterations: the
differences of the two runs are the figures of ITER iterations alone (the first pass, the
initialisation sample and the label gather cancel out). Per rank: wall time per iteration,
seconds spent communicating, bytes sent and received. The bytes are checked against the volume
the combination of the piece trees must exchange (every rank's subtrees gathered by every rank).
The outputs of every N are compared with the single process's, bit for bit.

The model: time per iteration on N ranks =
    2 n k d / (N G)                      the distance GEMM at G FLOP/s per device
  + pieces_per_rank x S / P             each piece's sums downloaded from the device (P bytes/s)
  + V(N) / B + log2(N) x a              the exchange: V(N) bytes received by the busiest rank at B,
                                        latency a per round
with S = (k d + 3 k) x 8 bytes, the sums of one node of the tree. G, P, B and a are inputs: G
defaults to 50 TFLOP/s (an H100/H200's fp32 GEMM; pass the cuBLAS SGEMM figure that
bench_cuda_kmeans measures on your device), P to 25 GB/s (PCIe 5 x16 in practice), B to 100 GB/s
within a node (host shared memory) and 25 GB/s between nodes (200 Gb/s InfiniBand), a to 5 us
and 10 us. None of these is measured here (this machine has no GPU and one node); the loopback
figures measured above are printed beside them. Efficiency = T(1) / (N T(N)); one GPU is faster
below the rows n where T(1) = T(N).

usage: bench_mpi.py [--embcluster PATH] [--mpirun mpirun] [--n 262144] [--d 128] [--k 1000]
                    [--iter 5] [--ranks 1,2,4] [--gpu-tflops 50] [--workdir DIR]
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np

from benchutil import find_cli

PIECE = 1 << 16  # rows per piece of the fixed summation order (core/piece_tree.h)


def slab(n, rank, ranks):
    pieces = (n + PIECE - 1) // PIECE
    p0, p1 = pieces * rank // ranks, pieces * (rank + 1) // ranks
    return min(n, p0 * PIECE), min(n, p1 * PIECE)


def subtrees(first_piece, end_piece):
    """Complete aligned subtrees a run of pieces makes (what a rank sends)."""
    count, p = 0, first_piece
    while p < end_piece:
        level = 0
        while p % (2 << level) == 0 and p + (2 << level) <= end_piece:
            level += 1
        p += 1 << level
        count += 1
    return count


def node_bytes(k, d):
    return (k * d + 3 * k) * 8 + 12  # sums, counts, weights, squared distances; piece, level


def exchange(n, k, d, ranks):
    """Per pass, the largest over ranks of (bytes received, bytes sent + received): every rank
    sends its subtrees to the N - 1 others (an allgather) and receives theirs."""
    if ranks == 1:
        return 0, 0
    own = []
    for r in range(ranks):
        a, b = slab(n, r, ranks)
        own.append(subtrees(a // PIECE, (b + PIECE - 1) // PIECE) * node_bytes(k, d) + 8)
    total = sum(own)
    return (max(total - o for o in own),
            max((ranks - 1) * o + total - o for o in own))


def run(cmd, env):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def measure(args, exe, data, init, ranks, iters, env):
    """Wall seconds and the report of one run (ranks 0: the plain single process)."""
    out = os.path.join(args.workdir, "np%d_it%d" % (ranks, iters))
    threads = max(1, (os.cpu_count() or 2) // max(ranks, 1))
    cmd = [exe, "kmeans", data, "-k", str(args.k), "--init", init, "--max-iter", str(iters),
           "--tol", "0", "--threads", str(threads), "--no-metrics", "--quiet", "--force",
           "--format", "npy", "--out", out]
    if ranks:
        cmd = [args.mpirun, "-np", str(ranks), "--oversubscribe", "--bind-to", "none"] + cmd
    wall = run(cmd, env)
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    labels = open(os.path.join(out, "labels.npy"), "rb").read()
    centroids = open(os.path.join(out, "centroids.npy"), "rb").read()
    return wall, rep, labels + centroids


def model(n, k, d, ranks, g_flops, pcie, bw, lat):
    """Seconds per iteration on the rank with the largest slab."""
    rows = max(b - a for a, b in (slab(n, r, ranks) for r in range(ranks)))
    gemm = 2.0 * rows * k * d / g_flops
    download = math.ceil(rows / PIECE) * node_bytes(k, d) / pcie
    comm = exchange(n, k, d, ranks)[0] / bw + (math.log2(ranks) * lat if ranks > 1 else 0)
    return gemm + download + comm


def crossover(k, d, ranks, g_flops, pcie, bw, lat):
    """The rows (whole pieces) from which N ranks beat one device."""
    p = 1
    while p < 1 << 20:
        n = p * PIECE
        if model(n, k, d, ranks, g_flops, pcie, bw, lat) < model(n, k, d, 1, g_flops, pcie, bw,
                                                                  lat):
            return n
        p += 1
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embcluster")
    ap.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    ap.add_argument("--n", type=int, default=4 * PIECE)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--iter", type=int, default=5, help="iterations of the shorter run")
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--gpu-tflops", type=float, default=50.0,
                    help="assumed fp32 GEMM TFLOP/s of one GPU (not measured here)")
    ap.add_argument("--workdir")
    args = ap.parse_args()
    exe = find_cli(args.embcluster)
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="bench_mpi_")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

    data = os.path.join(args.workdir, "data.h5")
    subprocess.run([exe, "generate", "--n", str(args.n), "--d", str(args.d), "--k", "50",
                    "--cluster-std", "4", "--seed", "1", "--out", data, "--quiet", "--force"],
                   check=True)
    rng = np.random.default_rng(2)
    init = os.path.join(args.workdir, "init.npy")
    np.save(init, rng.normal(0, 10, (args.k, args.d)).astype(np.float32))
    flop = 2.0 * args.n * args.k * args.d

    print("K-means, %d x %d, k=%d, tol 0, %d iterations differenced (%d vs %d); this machine: "
          "%d cores, loopback" % (args.n, args.d, args.k, args.iter, 2 * args.iter, args.iter,
                                  os.cpu_count()))
    print("%-14s %10s %10s %12s %14s %14s %9s" % ("ranks", "s/iter", "GFLOP/s", "comm s/iter",
                                                  "bytes/iter", "model bytes", "identical"))
    print("(bytes: sent + received by the busiest rank per iteration, measured and from the "
          "piece trees)")
    base_bits = None
    rows = {}
    for ranks in [0] + [int(r) for r in args.ranks.split(",")]:
        w1, r1, bits1 = measure(args, exe, data, init, ranks, args.iter, env)
        w2, r2, bits2 = measure(args, exe, data, init, ranks, 2 * args.iter, env)
        per_iter = (w2 - w1) / args.iter
        if ranks == 0:
            base_bits = bits2
        same = bits2 == base_bits
        comm_s = comm_b = 0.0
        if ranks > 1:
            c1 = {p["rank"]: p for p in r1["ranks"]["per_rank"]}
            c2 = {p["rank"]: p for p in r2["ranks"]["per_rank"]}
            comm_s = max((c2[r]["comm_seconds"] - c1[r]["comm_seconds"]) for r in c1) / args.iter
            comm_b = max((c2[r]["comm_bytes"] - c1[r]["comm_bytes"]) for r in c1) / args.iter
        want = exchange(args.n, args.k, args.d, ranks)[1] if ranks > 1 else 0
        name = "1 process" if ranks == 0 else "%d rank%s" % (ranks, "s" if ranks > 1 else "")
        rows[ranks] = (per_iter, comm_s, comm_b)
        print("%-14s %10.3f %10.1f %12.4f %14.0f %14.0f %9s" % (
            name, per_iter, flop / per_iter / 1e9, comm_s, comm_b, want, "yes" if same else "NO"))
    loop_bw = None
    if 2 in rows and rows[2][1] > 0:
        loop_bw = rows[2][2] / rows[2][1]
        print("loopback exchange: %.2f GB/s effective (bytes / seconds in the calls, waiting for "
              "the other rank included)" % (loop_bw / 1e9))

    g = args.gpu_tflops * 1e12
    print()
    print("Scaling model (assumed: %.0f TFLOP/s fp32 GEMM per GPU, PCIe 25 GB/s; within a node "
          "100 GB/s, 5 us; between nodes 25 GB/s, 10 us)" % args.gpu_tflops)
    jobs = [("FAISS wiki job 1M x 256, k=20000", 1_000_000, 256, 20000),
            ("100M x 128, k=10000", 100_000_000, 128, 10000)]
    setups = [("8 GPUs, one node", 8, 100e9, 5e-6), ("8 nodes x 1 GPU", 8, 25e9, 10e-6)]
    print("%-34s %-18s %11s %11s %10s %11s %10s %16s" % (
        "job", "setup", "1 GPU s/it", "8 x s/it", "speed-up", "efficiency", "comm share",
        "8 faster from"))
    for jname, n, d, k in jobs:
        for sname, ranks, bw, lat in setups:
            t1 = model(n, k, d, 1, g, 25e9, bw, lat)
            tn = model(n, k, d, ranks, g, 25e9, bw, lat)
            comm = exchange(n, k, d, ranks)[0] / bw + math.log2(ranks) * lat
            cross = crossover(k, d, ranks, g, 25e9, bw, lat)
            print("%-34s %-18s %11.4f %11.4f %10.2f %10.0f%% %9.0f%% %16s" % (
                jname, sname, t1, tn, t1 / tn, 100 * t1 / (ranks * tn), 100 * comm / tn,
                "%d rows" % cross if cross else "never"))
    print("One GPU is faster below the last column's rows (a slab is whole pieces of %d rows: "
          "below 2 pieces one rank does all the work and the others only add the exchange)."
          % PIECE)


if __name__ == "__main__":
    main()
