#!/usr/bin/python3
"""K-means beside its strongest peers, measured in one run: embcluster (the CLI), scikit-learn
KMeans (lloyd and elkan) and faiss Kmeans, every tool on the same number of threads (--threads,
default 2), each in a process of its own, beside the machine's sgemm limit.

The peers run in --peer-python (default: the project's .venv, as scripts/python-env.sh makes it:
PyPI's newest scikit-learn, faiss-cpu, numpy, h5py, threadpoolctl). Every tool, embcluster
included, runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (set on these machines for old
OpenBLAS builds); faiss's bundled OpenBLAS gets OPENBLAS_CORETYPE=SkylakeX where the CPU has
AVX-512. The BLAS kernel each tool used is printed (threadpoolctl in the peers, openblas_get_config
for the binary's OpenBLAS). Threads: scikit-learn under threadpool_limits(threads), faiss with
omp_set_num_threads(threads), embcluster with --threads; OPENBLAS_NUM_THREADS / OMP_NUM_THREADS
= threads for the peers as well.

sgemm limit: sgemm GFLOP/s (best of 3) at `threads` threads with the peers' numpy and with the
OpenBLAS the embcluster binary loads, on 4096^3 and on each job's own distance product (n x d by
d x k in one call; at most 2^29 output elements, fewer rows beyond that); the best of these is the
limit a job's Lloyd-equivalent GFLOP/s (2 n k d iterations / time) is set against.

Modes (any combination; --shapes when none is given):
  --shapes        K-means on three embedding shapes, data from `embcluster generate --n N --d D --k K
                  --seed 0` cached in --workdir: 200000x384 k=256 20 it, 400000x128 k=1000 10 it,
                  100000x1024 k=64 20 it; --big adds 1000000x128 k=1000 20 it; --only NxD[,NxD]
                  keeps those. Same initial centres for every tool (k rows picked with --seed),
                  n_init 1, tol 0, every iteration run (scikit-learn still stops when no label
                  changes: its iteration count is printed).
  DATA.h5[:/ds] --k K --iters I   the same comparison on a file of one's own.
  --default-job   the product's default job (scripts/run-default.sh: Fashion-MNIST, k=10,
                  k-means++, seed 0) with --n-init 3, against KMeans(n_clusters=10, n_init=3,
                  random_state=0) lloyd and elkan; then k=100 on the same data from the same
                  initial centres, tol 1e-4 (both relative to the mean feature variance),
                  max_iter 300: embcluster per --algorithms against scikit-learn elkan and lloyd,
                  time to convergence.
Per row: time (embcluster: in-library compute time from report.json, and the process's wall
time), GFLOP/s, fraction of the sgemm limit, iterations, the final inertia recomputed the same way
for every tool from its final centres, its difference relative to scikit-learn lloyd, and for
embcluster the speed-up over the faster of the peers.

embcluster runs once per --algorithms entry (--algorithm NAME); a binary without --algorithm
runs once without it (said so).

  bench/compare_peers.py                                   # the three shapes, 2 threads
  bench/compare_peers.py --shapes --only 400000x128 --json peers.json
  bench/compare_peers.py --shapes --big --default-job --threads 2
  bench/compare_peers.py --default-job --fashion datasets/fashion-mnist.h5
  bench/compare_peers.py data.h5:/data --k 1000 --iters 20 --skip faiss
"""
import argparse
import json
import os
import subprocess
import sys
import time

from benchutil import ROOT, cli_blas, cli_openblas, find_cli, run_report, tool_env

SHAPES = [(200000, 384, 256, 20), (400000, 128, 1000, 10), (100000, 1024, 64, 20)]
BIG = (1000000, 128, 1000, 20)
MAX_PRODUCT = 1 << 29  # output elements of one job-product sgemm

# ---------------------------------------------------------------- workers (in --peer-python)


def load(spec):
    import h5py
    import numpy as np

    path, _, ds = spec.partition(":")
    with h5py.File(path, "r") as f:
        return np.ascontiguousarray(f[ds or "/data"][...], dtype=np.float32)


def inertia_of(x, centres, block=65536):
    """Exact inertia of x against centres (float64 sums), independent of every peer."""
    import numpy as np

    c = centres.astype(np.float32)
    cn = (c.astype(np.float64) ** 2).sum(1)
    total = 0.0
    for s in range(0, len(x), block):
        xb = x[s:s + block]
        d = cn[None, :] - 2.0 * (xb @ c.T).astype(np.float64)
        best = d.argmin(1)
        diff = xb.astype(np.float64) - c[best].astype(np.float64)
        total += (diff * diff).sum()
    return float(total)


def work_init(t):
    """k rows of the data picked with the seed, saved as t['out']:/c."""
    import h5py
    import numpy as np

    x = load(t["data"])
    rng = np.random.default_rng(t["seed"])
    with h5py.File(t["out"], "w") as f:
        f.create_dataset("c", data=x[np.sort(rng.choice(len(x), t["k"], replace=False))])
    return {"n": x.shape[0], "d": x.shape[1]}


def work_inertia(t):
    """The inertia of every named centre file (.npy or h5:/ds) on the data."""
    import numpy as np

    x = load(t["data"])
    return {name: inertia_of(x, np.load(p) if p.endswith(".npy") else load(p))
            for name, p in t["centres"].items()}


def work_fit(t):
    import numpy as np
    from threadpoolctl import threadpool_limits

    from benchutil import blas_info

    x = load(t["data"])
    init = load(t["init"]) if t.get("init") else "k-means++"
    if t["tool"] == "faiss":
        import faiss

        faiss.omp_set_num_threads(t["threads"])
        km = faiss.Kmeans(x.shape[1], t["k"], niter=t["iters"], verbose=False, seed=t["seed"],
                          min_points_per_centroid=1, max_points_per_centroid=1 << 30)
        with threadpool_limits(t["threads"]):
            t0 = time.perf_counter()
            km.train(x, init_centroids=init)
            seconds = time.perf_counter() - t0
        centres, iters, version = km.centroids, t["iters"], faiss.__version__
    else:
        import sklearn
        from sklearn.cluster import KMeans

        km = KMeans(t["k"], init=init, n_init=t["n_init"], max_iter=t["iters"], tol=t["tol"],
                    algorithm=t["algorithm"], random_state=t["seed"])
        with threadpool_limits(t["threads"]):
            t0 = time.perf_counter()
            km.fit(x)
            seconds = time.perf_counter() - t0
        centres, iters, version = km.cluster_centers_, int(km.n_iter_), sklearn.__version__
    np.save(t["centres_out"], np.asarray(centres, dtype=np.float32))
    return {"time": seconds, "iterations": iters, "version": version, "blas": blas_info()}


def work_sgemm(t):
    """GFLOP/s of C = A B^T (A m x kk, B n x kk), best of t['repeats'], per shape."""
    import ctypes

    import numpy as np
    from threadpoolctl import threadpool_limits

    from benchutil import blas_info

    if t["blas"] == "numpy":
        def gemm(a, b, c):
            np.matmul(a, b.T, out=c)
        kernel = blas_info()
    else:
        lib = ctypes.CDLL(t["blas"])
        lib.openblas_set_num_threads(t["threads"])
        lib.openblas_get_config.restype = lib.openblas_get_corename.restype = ctypes.c_char_p
        kernel = (f"{lib.openblas_get_config().decode()} | kernel "
                  f"{lib.openblas_get_corename().decode()} ({os.path.basename(t['blas'])})")
        p, i, f = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
        lib.cblas_sgemm.argtypes = [i] * 6 + [f, p, i, p, i, f, p, i]

        def gemm(a, b, c):
            m, kk = a.shape
            lib.cblas_sgemm(101, 111, 112, m, b.shape[0], kk, 1.0, a.ctypes.data, kk,
                            b.ctypes.data, kk, 0.0, c.ctypes.data, b.shape[0])
    rng = np.random.default_rng(0)
    out = []
    with threadpool_limits(t["threads"]):
        for m, n, kk in t["shapes"]:
            a = rng.standard_normal((m, kk), dtype=np.float32)
            b = rng.standard_normal((n, kk), dtype=np.float32)
            c = np.empty((m, n), dtype=np.float32)
            best = float("inf")
            for _ in range(t["repeats"]):
                t0 = time.perf_counter()
                gemm(a, b, c)
                best = min(best, time.perf_counter() - t0)
            out.append(2.0 * m * n * kk / best / 1e9)
            del a, b, c
    return {"gflops": out, "kernel": kernel}


def worker(task_file):
    with open(task_file) as f:
        t = json.load(f)
    kinds = {"init": work_init, "inertia": work_inertia, "fit": work_fit, "sgemm": work_sgemm}
    print(json.dumps(kinds[t["kind"]](t)))


# ---------------------------------------------------------------- orchestration (any python)


class Bench:
    def __init__(self, args):
        self.args = args
        self.exe = find_cli(args.embcluster)
        self.py = args.peer_python
        self.threads = args.threads
        self.seq = 0
        os.makedirs(args.workdir, exist_ok=True)
        helptext = subprocess.run([self.exe, "kmeans", "--help"], capture_output=True,
                                  text=True).stdout
        self.has_algorithm = "--algorithm" in helptext
        self.limits = {}  # shape key: best sgemm GFLOP/s
        self.figures = {"threads": self.threads, "embcluster": self.exe, "peer_python": self.py}

    def peer(self, task, tool="numpy"):
        """Runs one worker task in the peer interpreter under the tool's environment."""
        self.seq += 1
        path = os.path.join(self.args.workdir, f"task{self.seq}.json")
        with open(path, "w") as f:
            json.dump(task, f)
        p = subprocess.run([self.py, os.path.abspath(__file__), "--worker", path],
                           capture_output=True, text=True,
                           env=tool_env(tool, self.threads) | {"PYTHONPATH": os.path.dirname(
                               os.path.abspath(__file__))})
        os.remove(path)
        if p.returncode != 0:
            print(f"{task['kind']} {task.get('tool', '')} failed:\n{p.stderr}", file=sys.stderr)
            return None
        return json.loads(p.stdout.strip().splitlines()[-1])

    def embcluster(self, spec, k, extra, name, stats=False):
        """One embcluster kmeans run; returns its figures and writes its centres. Its time: the
        in-library total without the file read, and without the data's statistics and the
        initialisation sample unless `stats` (when the peer computes them in its fit too). The
        first pass (stats_and_sample) includes its own reads: without `stats` it goes whole;
        with them, only the reads (read_wait) go."""
        out = os.path.join(self.args.workdir, "out_" + name.replace(" ", "_"))
        cmd = [self.exe, "kmeans", spec, "--n-clusters", str(k), "--device", "cpu", "--threads",
               str(self.threads), "--out", out, "--force", "--quiet", *extra]
        try:
            wall, rep = run_report(cmd, out, env=tool_env("embcluster"))
        except subprocess.CalledProcessError as e:
            print(f"  {name} failed (exit {e.returncode}): {' '.join(cmd[1:])}")
            return None
        t = rep["timings_s"]
        own = t["total"] - (t.get("read_wait", 0) if stats else t.get("stats_and_sample", 0))
        return {"time": own,
                "total": t["total"], "wall": wall, "iterations": rep["iterations"],
                "own_inertia": rep["inertia"], "converged": rep.get("converged"),
                "kernel": dict(rep.get("notes", {})).get("cpu_kernel"),
                "empty_relocations": rep.get("empty_cluster_relocations", 0),
                "history_inertia": [h["inertia"] for h in rep.get("history", [])],
                "centres": os.path.join(out, "centroids.h5") + ":/centroids"}

    def algorithms(self):
        if self.has_algorithm:
            return [a for a in self.args.algorithms.split(",") if a]
        print("  note: this embcluster has no --algorithm option: it runs once without it")
        return [None]

    def sgemm(self, products):
        """sgemm GFLOP/s on 4096^3 and each (n, d, k) product, both BLAS; fills self.limits."""
        shapes = [(4096, 4096, 4096)] + [(min(n, MAX_PRODUCT // k), k, d) for n, d, k in products]
        blas = {"numpy": "numpy"}
        lib = cli_openblas(self.exe)
        if lib:
            blas["embcluster's OpenBLAS"] = lib
        print(f"sgemm at {self.threads} threads, best of 3 (C = A B^T, m x n x k):")
        rows = {}
        for name, which in blas.items():
            r = self.peer({"kind": "sgemm", "blas": which, "shapes": shapes, "repeats": 3,
                           "threads": self.threads})
            if r:
                rows[name] = r
                print(f"  {name}: {r['kernel']}")
                print("    " + ", ".join(f"{m}x{n}x{kk} {g:.1f} GFLOP/s" for (m, n, kk), g
                                         in zip(shapes, r["gflops"])))
        peak = max((r["gflops"][0] for r in rows.values()), default=0.0)
        for i, (n, d, k) in enumerate(products, 1):
            best = max([peak] + [r["gflops"][i] for r in rows.values()])
            self.limits[(n, d, k)] = best
            print(f"  sgemm limit for {n}x{d} k={k}: {best:.1f} GFLOP/s")
        self.figures.setdefault("sgemm", []).append(
            {"shapes": shapes, "gflops": {n: r["gflops"] for n, r in rows.items()},
             "kernels": {n: r["kernel"] for n, r in rows.items()}})

    def init_file(self, spec, k, tag):
        path = os.path.join(self.args.workdir, f"init_{tag}_k{k}_s{self.args.seed}.h5")
        r = self.peer({"kind": "init", "data": spec, "k": k, "seed": self.args.seed,
                       "out": path})
        if r is None:
            sys.exit("could not read the data in the peer interpreter")
        return path, r["n"], r["d"]

    def run_peer(self, results, name, tool, spec, centres_name, **fit):
        out = os.path.join(self.args.workdir, f"centres_{centres_name}.npy")
        task = {"kind": "fit", "tool": tool, "data": spec, "threads": self.threads,
                "seed": self.args.seed, "centres_out": out, **fit}
        r = self.peer(task, tool)
        if r:
            r["centres"] = out
            results[name] = r

    def finish(self, spec, results):
        """The inertia of every tool's final centres, computed the same way for all."""
        r = self.peer({"kind": "inertia", "data": spec,
                       "centres": {n: r["centres"] for n, r in results.items()}})
        for name, inertia in (r or {}).items():
            results[name]["inertia"] = inertia
        for name, r in results.items():
            if "blas" in r:
                print(f"  {name} {r['version']} BLAS: {r['blas']}")
            elif r.get("kernel"):
                print(f"  {name} kernel: {r['kernel']}")


def table(results, flops_per_iter=None, limit=None):
    """Prints one row per tool; returns the rows as figures."""
    peers = [r["time"] for n, r in results.items() if not n.startswith("embcluster")]
    best_peer = min(peers) if peers else None
    if not results:
        return {}
    base = results.get("scikit-learn lloyd", next(iter(results.values()))).get("inertia")
    print(f"  {'tool':<24}{'time s':>9}{'wall s':>9}{'GFLOP/s':>9}{'of limit':>9}{'iters':>6}"
          f"{'final inertia':>18}{'vs sklearn':>12}{'speed-up':>10}{'(wall)':>8}")
    for name, r in results.items():
        if flops_per_iter:
            r["gflops"] = flops_per_iter * r["iterations"] / r["time"] / 1e9
            r["of_limit"] = r["gflops"] / limit if limit else None
        r["rel_inertia"] = (r["inertia"] - base) / base if base and "inertia" in r else None
        gf = f"{r['gflops']:.1f}" if flops_per_iter else "-"
        lim = f"{r['of_limit']:.2f}" if flops_per_iter and limit else "-"
        wall = f"{r['wall']:.3f}" if "wall" in r else "-"
        inertia = f"{r['inertia']:.10g}" if "inertia" in r else "-"
        rel = f"{r['rel_inertia']:.2e}" if r["rel_inertia"] is not None else "-"
        speed = wspeed = "-"
        if name.startswith("embcluster") and best_peer:
            r["speed_up"], r["speed_up_wall"] = best_peer / r["time"], best_peer / r["wall"]
            speed, wspeed = f"{r['speed_up']:.2f}x", f"{r['speed_up_wall']:.2f}x"
        print(f"  {name:<24}{r['time']:>9.3f}{wall:>9}{gf:>9}{lim:>9}{r['iterations']:>6}"
              f"{inertia:>18}{rel:>12}{speed:>10}{wspeed:>8}")
    sys.stdout.flush()
    return {n: {k: v for k, v in r.items() if k != "centres"} for n, r in results.items()}


def compare(b, spec, n, d, k, iters, tag):
    """One shape: every tool from the same initial centres, tol 0, `iters` iterations."""
    args = b.args
    init, n, d = b.init_file(spec, k, tag)
    print(f"\n{tag}: {n} x {d}, k={k}, {iters} iterations, tol 0, same initial centres, "
          f"{b.threads} threads each")
    results = {}
    for alg in b.algorithms():
        name = f"embcluster {alg}" if alg else "embcluster"
        extra = ["--init", init + ":/c", "--max-iter", str(iters), "--tol", "0", "--no-metrics"]
        results[name] = b.embcluster(spec, k, extra + (["--algorithm", alg] if alg else []), name)
    results = {n: r for n, r in results.items() if r}
    fit = {"init": init + ":/c", "k": k, "iters": iters, "tol": 0.0, "n_init": 1}
    if "sklearn" not in args.skip:
        for alg in ("lloyd", "elkan"):
            b.run_peer(results, f"scikit-learn {alg}", "sklearn", spec, f"{tag}_sk_{alg}",
                       algorithm=alg, **fit)
    if "faiss" not in args.skip:
        b.run_peer(results, "faiss", "faiss", spec, f"{tag}_faiss", **fit)
    b.finish(spec, results)
    rows = table(results, 2.0 * n * k * d, b.limits.get((n, d, k)))
    moved = max((r.get("empty_relocations", 0) for r in results.values()), default=0)
    if moved and "faiss" in results:
        print(f"  note: embcluster moved {moved} empty clusters to far rows (as scikit-learn "
              "does); faiss splits large clusters instead, so its path and inertia differ")
    return {"data": spec, "n": n, "d": d, "k": k, "iterations": iters,
            "sgemm_limit": b.limits.get((n, d, k)), "results": rows}


def generated(b, n, d, k):
    path = os.path.join(b.args.workdir, f"blobs_{n}x{d}_k{k}_s0.h5")
    if not os.path.exists(path):
        subprocess.run([b.exe, "generate", "--n", str(n), "--d", str(d), "--k", str(k), "--seed",
                        "0", "--out", path, "--quiet"], check=True)
    return path + ":/data"


def default_job(b):
    args = b.args
    spec = args.fashion if ":" in args.fashion else args.fashion + ":/data"
    jk = args.job_k
    print(f"\ndefault job: {spec} (scripts/run-default.sh), k={jk}, k-means++, seed 0, n_init "
          f"{args.n_init}, {b.threads} threads each (embcluster with its report's metrics, as "
          f"the default job runs; time: in-library total without the file read)")
    results = {"embcluster": b.embcluster(spec, jk, ["--seed", "0", "--n-init",
                                                     str(args.n_init)], "default", stats=True)}
    results = {n: r for n, r in results.items() if r}
    for alg in ("lloyd", "elkan"):
        b.run_peer(results, f"scikit-learn {alg}", "sklearn", spec, f"default_sk_{alg}", k=jk,
                   init=None, iters=300, tol=1e-4, n_init=args.n_init, algorithm=alg)
    b.finish(spec, results)
    out = {f"k{jk}": table(results)}
    if "k100" in args.skip:
        return out

    k = 100
    init, n, d = b.init_file(spec, k, "fashion")
    print(f"\n{n} x {d}, k={k}, same initial centres (rows picked with seed {args.seed}), "
          f"tol 1e-4, max_iter 300, {b.threads} threads each: time to convergence")
    results = {}
    for alg in b.algorithms():
        name = f"embcluster {alg}" if alg else "embcluster"
        extra = ["--init", init + ":/c", "--max-iter", "300", "--tol", "1e-4", "--no-metrics"]
        results[name] = b.embcluster(spec, k, extra + (["--algorithm", alg] if alg else []),
                                     "k100_" + (alg or "default"), stats=True)
    results = {n: r for n, r in results.items() if r}
    for alg in ("elkan", "lloyd"):
        b.run_peer(results, f"scikit-learn {alg}", "sklearn", spec, f"k100_sk_{alg}", k=k,
                   init=init + ":/c", iters=300, tol=1e-4, n_init=1, algorithm=alg)
    b.finish(spec, results)
    out["k100"] = table(results, 2.0 * n * k * d, None)
    reached(out["k100"])
    return out


def reached(rows):
    """Where each embcluster run first reached the best peer's final inertia (its own per-iteration
    inertia), and the time pro rata: the runs' paths part after a few iterations (rounding), so
    they converge after different counts to slightly different inertias."""
    peers = [r for n, r in rows.items() if not n.startswith("embcluster") and "inertia" in r]
    if not peers:
        return
    best = min(peers, key=lambda r: r["time"])
    for name, r in rows.items():
        if not name.startswith("embcluster"):
            continue
        hist = r.get("history_inertia") or []
        it = next((i for i, v in enumerate(hist, 1) if v <= best["inertia"]), None)
        if it is None:
            print(f"  {name}: never at or below the fastest peer's final inertia")
            continue
        r["reached_iteration"], r["reached_s"] = it, r["time"] * it / r["iterations"]
        print(f"  {name}: at or below the fastest peer's final inertia {best['inertia']:.10g} "
              f"after iteration {it} of {r['iterations']}, about {r['reached_s']:.3f} s "
              f"(pro rata): {best['time'] / r['reached_s']:.2f}x")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("data", nargs="?", help="file.h5[:/dataset]: compare on it (with --k, --iters)")
    ap.add_argument("--k", type=int, default=1000, help="clusters for DATA (default 1000)")
    ap.add_argument("--iters", type=int, default=20, help="iterations for DATA (default 20)")
    ap.add_argument("--shapes", action="store_true", help="the table's generated shapes")
    ap.add_argument("--big", action="store_true", help="with --shapes: add 1000000x128 k=1000")
    ap.add_argument("--only", default="", help="NxD[,NxD]: only these shapes (implies --shapes)")
    ap.add_argument("--default-job", action="store_true",
                    help="Fashion-MNIST k=10 n_init 3, then k=100 to convergence")
    ap.add_argument("--fashion", default=os.path.join(ROOT, "datasets", "fashion-mnist.h5"),
                    help="the default job's data, FILE[:/dataset] (default: "
                         "datasets/fashion-mnist.h5:/data)")
    ap.add_argument("--n-init", type=int, default=3, help="the default job's n_init (default 3)")
    ap.add_argument("--job-k", type=int, default=10,
                    help="the default job's n_clusters (default 10); with --fashion FILE:/dataset "
                         "the same comparison on other data")
    ap.add_argument("--threads", type=int, default=2, help="threads of every tool (default 2)")
    ap.add_argument("--algorithms", default="lloyd,auto",
                    help="embcluster --algorithm values, one run each (default lloyd,auto)")
    ap.add_argument("--seed", type=int, default=0, help="picks the initial centre rows")
    ap.add_argument("--embcluster", help="the binary (default: build/embcluster)")
    ap.add_argument("--peer-python", default=os.path.join(ROOT, ".venv", "bin", "python"),
                    help="interpreter with scikit-learn, faiss-cpu, h5py, threadpoolctl "
                         "(default: .venv/bin/python)")
    ap.add_argument("--workdir", default="/tmp/embcluster-peers",
                    help="generated data (kept), initial centres and outputs")
    ap.add_argument("--skip", default="", help="comma list: sklearn, faiss, limit (the sgemm), k100 (the default job's second part)")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    return ap.parse_args()


def main():
    args = parse_args()
    if args.worker:
        return worker(args.worker)
    args.skip = set(filter(None, args.skip.split(",")))
    if not os.path.exists(args.peer_python):
        sys.exit(f"no peer interpreter {args.peer_python}: run scripts/python-env.sh or pass "
                 "--peer-python")
    if args.only:
        args.shapes = True
    if not (args.data or args.default_job):
        args.shapes = True
    b = Bench(args)
    print(f"embcluster {b.exe}, BLAS: {cli_blas(b.exe)}; peers: {b.py}; {b.threads} threads each, "
          "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset")
    jobs = []  # (spec, n, d, k, iters, tag)
    if args.shapes:
        only = set(filter(None, args.only.lower().split(",")))
        for n, d, k, iters in SHAPES + ([BIG] if args.big else []):
            if not only or f"{n}x{d}" in only:
                jobs.append((generated(b, n, d, k), n, d, k, iters, f"{n}x{d}"))
        if not jobs:
            sys.exit(f"--only {args.only}: no such shape")
    if args.data:
        spec = args.data if ":" in args.data else args.data + ":/data"
        _, n, d = b.init_file(spec, args.k, "data")
        jobs.append((spec, n, d, args.k, args.iters, "data"))
    if jobs and "limit" not in args.skip:
        b.sgemm([(n, d, k) for _, n, d, k, _, _ in jobs])
    b.figures["kmeans"] = [compare(b, spec, n, d, k, iters, tag)
                           for spec, n, d, k, iters, tag in jobs]
    if args.default_job:
        b.figures["default_job"] = default_job(b)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(b.figures, f, indent=1)
        print(f"\nfigures in {args.json}")


if __name__ == "__main__":
    main()
