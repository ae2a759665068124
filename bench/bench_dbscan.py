#!/usr/bin/python3
"""DBSCAN benchmark: embcluster beside scikit-learn's DBSCAN in the same run, on blobs and on real
data, then FAISS IVF neighbourhoods on a larger data set.

Part 1: blobs from `embcluster generate` (50,000 x 128 by default); eps is the median k-distance
(`embcluster kdist`, k = min_samples), so that about half of the rows are core points and the rest
border points and noise. embcluster's exact DBSCAN and scikit-learn's DBSCAN (Debian's
python3-sklearn, n_jobs = threads) run on the same float32 rows; the script prints both times,
their ratio and whether the results agree (core points, noise, labels).

Part "real": exact DBSCAN on real data against the newest scikit-learn (the project's .venv, as
scripts/python-env.sh makes it; --sklearn-python), each tool in its own process with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, the BLAS kernel each used printed:
  sift: 50,000 SIFT descriptors (128 dimensions) of the photographs in Debian's
        plasma-workspace-wallpapers (datasets/debian_sift_descriptors.py; needs python3-opencv),
        euclidean, eps 200;
  text: the first 30,000 rows of the text embeddings of Debian's package descriptions
        (datasets/debian_text_embeddings.py, 256 dimensions), cosine, eps 0.12.
min_samples 10 for both (--min-samples). Prints both times, the ratio and whether labels and core
flags are identical. --real none skips it; --real-only runs it alone.

Part 2: 1,000,000 x 128 blobs by default, `embcluster dbscan --index ivf`: time and the recall of
core points against exact neighbourhoods on a sample (the report's check), and optionally the
exact method on the same data (--big-exact; --skip-ivf runs the exact method alone).

--device (auto, cpu, cuda, cuda:N) chooses where the exact method's passes run; the FAISS index
always runs on the CPU. On a GPU machine, the exact 1,000,000 x 128 run on the GPU:

  bench_dbscan.py --device cuda --big-exact --skip-ivf --skip-sklearn --real none

  bench_dbscan.py [--embcluster build/embcluster] [--n 50000] [--d 128] [--blobs 50]
                  [--min-samples 10] [--eps E] [--threads 2] [--device auto]
                  [--big 1000000] [--big-blobs 1000] [--nlist N] [--nprobe P] [--big-exact]
                  [--skip-ivf] [--skip-big] [--workdir DIR] [--real sift,text] [--real-only]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchutil import ROOT, blas_info, clean_env, cli_blas, run_report

REAL_SETS = {  # name: (rows, metric, eps)
    "sift": (50000, "euclidean", 200.0),
    "text": (30000, "cosine", 0.12),
}


def generate(exe, path, n, d, blobs, seed, std=1.0):
    if not os.path.exists(path):
        subprocess.run([exe, "generate", "--n", str(n), "--d", str(d), "--k", str(blobs), "--seed", str(seed),
             "--cluster-std", repr(std), "--out", path, "--quiet"], check=True)


def median_kdist(exe, data, k, sample, workdir, threads):
    out = os.path.join(workdir, "kdist")
    _, rep = run_report([exe, "kdist", data, "--k", str(k), "--sample", str(sample), "--out", out,
                         "--force", "--quiet", "--threads", str(threads)], out)
    return rep["quantiles"]["50%"], rep


def embcluster_dbscan(exe, data, eps, min_samples, threads, workdir, extra=()):
    import h5py

    out = os.path.join(workdir, "dbscan")
    wall, rep = run_report([exe, "dbscan", data, "--eps", repr(eps), "--min-samples",
                            str(min_samples), "--out", out, "--force", "--quiet", "--threads",
                            str(threads), *extra], out)
    with h5py.File(os.path.join(out, "labels.h5"), "r") as f:
        labels = f["/labels"][...]
    with h5py.File(os.path.join(out, "core_samples.h5"), "r") as f:
        core = np.zeros(len(labels), dtype=bool)
        core[f["/core_samples"][...]] = True
    return wall, rep, (labels, core)


def part_sklearn(args, exe, workdir):
    import h5py
    from sklearn import __version__ as skv
    from sklearn.cluster import DBSCAN
    from sklearn.metrics import adjusted_rand_score

    data_file = os.path.join(workdir, f"blobs_{args.n}x{args.d}_std{args.cluster_std}.h5")
    generate(exe, data_file, args.n, args.d, args.blobs, 1, args.cluster_std)
    spec = data_file + ":/data"
    eps = args.eps
    if eps is None:
        eps, _ = median_kdist(exe, spec, args.min_samples, min(args.n, 10000), workdir,
                              args.threads)
    print(f"data: {args.n} x {args.d} float32, {args.blobs} blobs of std {args.cluster_std} in "
          f"[-10, 10]^{args.d} (embcluster generate); "
          f"eps {eps:.6g} (median {args.min_samples}-distance), min_samples {args.min_samples}, "
          f"{args.threads} threads")

    wall, rep, (labels, emb_core) = embcluster_dbscan(exe, spec, eps, args.min_samples,
                                                      args.threads, workdir,
                                                      ["--device", args.device])
    t = rep["timings_s"]
    print(f"embcluster exact on {rep['device']}: {wall:.2f} s wall (process, file read included; in-library "
          f"{t['total']:.2f} s: prepare {t['prepare']:.2f}, count {t['count']:.2f}, "
          f"union {t['union']:.2f}, border {t['border']:.2f})")
    print(f"  clusters {rep['n_clusters']}, core {rep['n_core']}, border {rep['n_border']}, "
          f"noise {rep['n_noise']}")
    for p in rep["tile_passes"]:
        print(f"  {p['pass']:6s} tile pairs {p['tile_pairs']}: far {p['far']}, near {p['near']}, "
              f"settled {p['settled']}, distance tiles {p['gemm']}")

    with h5py.File(data_file, "r") as f:
        x = np.ascontiguousarray(f["/data"][...], dtype=np.float32)
    t0 = time.perf_counter()
    db = DBSCAN(eps=eps, min_samples=args.min_samples, n_jobs=args.threads).fit(x)
    sk = time.perf_counter() - t0
    core = np.zeros(len(x), dtype=bool)
    core[db.core_sample_indices_] = True
    same_labels = int((db.labels_ == labels).sum())
    print(f"scikit-learn {skv} DBSCAN (n_jobs={args.threads}): {sk:.2f} s (fit only)")
    print(f"  clusters {db.labels_.max() + 1}, core {core.sum()}, noise {(db.labels_ < 0).sum()}")
    print(f"agreement: core points differing {int((core != emb_core).sum())}, noise rows "
          f"differing {int(((db.labels_ < 0) != (labels < 0)).sum())}, identical labels "
          f"{same_labels}/{len(x)}, ARI {adjusted_rand_score(db.labels_, labels):.6f}")
    print(f"speed-up: {sk / wall:.1f}x (wall) / {sk / t['total']:.1f}x (in-library)")
    return {"n": args.n, "d": args.d, "eps": eps, "embcluster_wall_s": wall,
            "embcluster_total_s": t["total"], "sklearn_s": sk, "ratio_wall": sk / wall,
            "identical_labels": same_labels, "core_differing": int((core != emb_core).sum())}


def sklearn_worker(args):
    """Runs scikit-learn's DBSCAN on one .npy (in the peer's own interpreter); prints JSON."""
    from sklearn import __version__
    from sklearn.cluster import DBSCAN
    from threadpoolctl import threadpool_limits

    x = np.load(args.sklearn_worker)
    with threadpool_limits(args.threads):
        t0 = time.perf_counter()
        db = DBSCAN(eps=args.eps, min_samples=args.min_samples, metric=args.metric,
                    n_jobs=args.threads).fit(x)
        seconds = time.perf_counter() - t0
    core = np.zeros(len(x), dtype=bool)
    core[db.core_sample_indices_] = True
    np.savez(args.worker_out, labels=db.labels_, core=core)
    print(json.dumps({"seconds": seconds, "version": __version__, "blas": blas_info()}))


def real_data(name, rows, workdir):
    """The real set `name` (REAL_SETS) as float32 .npy in workdir, made once."""
    path = os.path.join(workdir, f"{name}_{rows}.npy")
    if os.path.exists(path):
        return path
    t0 = time.perf_counter()
    if name == "sift":
        sys.path.insert(0, os.path.join(ROOT, "datasets"))
        import debian_sift_descriptors

        x = debian_sift_descriptors.build(rows)
    else:
        import h5py

        full = os.path.join(workdir, "debian_text_embeddings.h5")
        if not os.path.exists(full):
            subprocess.run([sys.executable, os.path.join(ROOT, "datasets",
                                                         "debian_text_embeddings.py"), full],
                           check=True, stdout=subprocess.DEVNULL)
        with h5py.File(full, "r") as f:
            x = np.ascontiguousarray(f["/embeddings"][:rows], dtype=np.float32)
    np.save(path, x)
    print(f"  ({name}: {x.shape[0]} x {x.shape[1]} made in {time.perf_counter() - t0:.0f} s)")
    return path


def part_real(args, exe, workdir):
    env = clean_env()
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # for embcluster's runs too
        os.environ.pop(var, None)
    py = args.sklearn_python or os.path.join(ROOT, ".venv", "bin", "python")
    if not os.path.exists(py):
        py = sys.executable
    print(f"\nreal data, exact DBSCAN, min_samples {args.min_samples}, {args.threads} threads "
          f"each, OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset")
    print(f"  embcluster BLAS: {cli_blas(exe)}")
    figures = {}
    for name in args.real.split(","):
        rows, metric, eps = REAL_SETS[name]
        rows = getattr(args, f"{name}_rows") or rows
        eps = getattr(args, f"{name}_eps") or eps
        data = real_data(name, rows, workdir)
        extra = ["--device", args.device, "--metric", metric]
        runs = [embcluster_dbscan(exe, data, eps, args.min_samples, args.threads, workdir, extra)]
        out = os.path.join(workdir, f"sklearn_{name}.npz")
        p = subprocess.run([py, os.path.abspath(__file__), "--sklearn-worker", data, "--eps",
                            repr(eps), "--metric", metric, "--min-samples", str(args.min_samples),
                            "--threads", str(args.threads), "--worker-out", out],
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            sys.exit(f"scikit-learn ({py}) failed:\n{p.stderr}")
        sk = json.loads(p.stdout.strip().splitlines()[-1])
        # embcluster before and after scikit-learn, the faster kept: a change in the machine's
        # load shows rather than favouring one side.
        runs.append(embcluster_dbscan(exe, data, eps, args.min_samples, args.threads, workdir,
                                      extra))
        wall, rep, (labels, core) = min(runs, key=lambda r: r[0])
        ref = np.load(out)
        same = bool(np.array_equal(labels, ref["labels"]))
        same_core = bool(np.array_equal(core, ref["core"]))
        t = rep["timings_s"]
        x_shape = np.load(data, mmap_mode="r").shape
        print(f"{name}: {x_shape[0]} x {x_shape[1]} float32, {metric}, eps {eps:g}: clusters "
              f"{rep['n_clusters']}, core {rep['n_core']}, border {rep['n_border']}, noise "
              f"{rep['n_noise']}")
        print(f"  embcluster exact on {rep['device']}: {wall:.2f} s wall (in-library "
              f"{t['total']:.2f} s: prepare {t['prepare']:.2f}, count {t['count']:.2f}, union "
              f"{t['union']:.2f}, border {t['border']:.2f}); projected on "
              f"{rep['parameters'].get('projection_dims', 0)} principal directions")
        print(f"  scikit-learn {sk['version']} (n_jobs={args.threads}): {sk['seconds']:.2f} s "
              f"(fit only); BLAS: {sk['blas'] or 'none'}")
        print(f"  speed-up {sk['seconds'] / wall:.1f}x (wall) / {sk['seconds'] / t['total']:.1f}x "
              f"(in-library); identical labels: {'yes' if same else 'NO'}, identical core "
              f"flags: {'yes' if same_core else 'NO'}")
        figures[name] = {"rows": x_shape[0], "dims": x_shape[1], "metric": metric, "eps": eps,
                         "embcluster_wall_s": wall, "embcluster_total_s": t["total"],
                         "sklearn_s": sk["seconds"], "sklearn_version": sk["version"],
                         "ratio_wall": sk["seconds"] / wall, "identical_labels": same,
                         "identical_core": same_core}
    return figures


def part_ivf(args, exe, workdir):
    data_file = os.path.join(workdir, f"blobs_{args.big}x{args.d}.h5")
    t0 = time.perf_counter()
    generate(exe, data_file, args.big, args.d, args.big_blobs, 2)
    print(f"\ndata: {args.big} x {args.d} float32, {args.big_blobs} blobs "
          f"(generated in {time.perf_counter() - t0:.1f} s)")
    spec = data_file + ":/data"
    eps = args.big_eps
    if eps is None:
        t0 = time.perf_counter()
        eps, _ = median_kdist(exe, spec, args.min_samples, 2000, workdir, args.threads)
        print(f"eps {eps:.6g} (median {args.min_samples}-distance of 2000 rows, "
              f"{time.perf_counter() - t0:.1f} s)")
    out = {"n": args.big, "eps": eps}
    rep = ivf_labels = None
    if not args.skip_ivf:
        extra = ["--index", "ivf"]
        if args.nlist:
            extra += ["--nlist", str(args.nlist)]
        if args.nprobe:
            extra += ["--nprobe", str(args.nprobe)]
        wall, rep, (ivf_labels, _) = embcluster_dbscan(exe, spec, eps, args.min_samples,
                                                       args.threads, workdir, extra)
        t = rep["timings_s"]
        c = rep["check"]
        par = rep["parameters"]
        print(f"embcluster ivf (nlist {par.get('nlist')}, nprobe {par.get('nprobe')}): "
              f"{wall:.1f} s wall: train {t['index_train']:.1f}, add {t['index_add']:.1f}, "
              f"probe {t.get('index_probe', 0):.1f}, "
              f"count {t['count']:.1f}, union {t['union']:.1f}, border {t['border']:.1f}, "
              f"check {t.get('check', 0):.1f}")
        print(f"  clusters {rep['n_clusters']}, core {rep['n_core']}, noise {rep['n_noise']}")
        print(f"  vs exact neighbourhoods on {c['sample_rows']} sampled rows: core recall "
              f"{c['core_recall']:.4f} (precision {c['core_precision']:.4f}), split rows "
              f"{c['split_rows']}, clusters merged by exact >= {c['clusters_merged']}")
        out.update({"ivf_wall_s": wall, "core_recall": c["core_recall"],
                    "split_rows": c["split_rows"], "clusters_merged": c["clusters_merged"]})
    if args.big_exact:
        wall_e, rep_e, (labels_e, _) = embcluster_dbscan(exe, spec, eps, args.min_samples,
                                                         args.threads, workdir,
                                                         ["--device", args.device])
        t = rep_e["timings_s"]
        print(f"embcluster exact on {rep_e['device']}: {wall_e:.1f} s wall (process, file read "
              f"included; in-library {t['total']:.1f} s: prepare {t['prepare']:.1f}, count "
              f"{t['count']:.1f}, union {t['union']:.1f}, border {t['border']:.1f}); clusters "
              f"{rep_e['n_clusters']}, core {rep_e['n_core']}, noise {rep_e['n_noise']}")
        if "device_note" in rep_e:
            print(f"  note: {rep_e['device_note']}")
        if rep is not None:
            from sklearn.metrics import adjusted_rand_score
            print(f"  ARI ivf vs exact {adjusted_rand_score(labels_e, ivf_labels):.4f}, core rows "
                  f"found by ivf {rep['n_core']}/{rep_e['n_core']}")
        out.update({"exact_wall_s": wall_e, "exact_total_s": t["total"],
                    "exact_device": rep_e["device"]})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--embcluster", default=os.path.join(here, "..", "build", "embcluster"))
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--blobs", type=int, default=50)
    ap.add_argument("--cluster-std", type=float, default=1.0,
                    help="spread of the blobs (larger: overlapping blobs, fewer far tiles)")
    ap.add_argument("--min-samples", type=int, default=10)
    ap.add_argument("--eps", type=float, default=None)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--big", type=int, default=1000000)
    ap.add_argument("--big-blobs", type=int, default=1000)
    ap.add_argument("--big-eps", type=float, default=None)
    ap.add_argument("--nlist", type=int, default=0)
    ap.add_argument("--nprobe", type=int, default=0)
    ap.add_argument("--device", default="auto",
                    help="where the exact method runs: auto, cpu, cuda or cuda:N")
    ap.add_argument("--big-exact", action="store_true")
    ap.add_argument("--skip-ivf", action="store_true",
                    help="part 2 without the ivf index (with --big-exact: the exact run alone)")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None, help="write the figures to this file")
    ap.add_argument("--real", default="sift,text",
                    help="real sets to run against scikit-learn: sift, text, both or none")
    ap.add_argument("--real-only", action="store_true", help="the real sets alone")
    ap.add_argument("--sift-rows", type=int, default=0, help="default 50000")
    ap.add_argument("--sift-eps", type=float, default=0, help="default 200")
    ap.add_argument("--text-rows", type=int, default=0, help="default 30000")
    ap.add_argument("--text-eps", type=float, default=0, help="default 0.12 (cosine)")
    ap.add_argument("--sklearn-python", default=None,
                    help="interpreter with the newest scikit-learn (default: .venv/bin/python)")
    ap.add_argument("--sklearn-worker", help=argparse.SUPPRESS)
    ap.add_argument("--metric", default="euclidean", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sklearn_worker:
        return sklearn_worker(args)
    exe = os.path.abspath(args.embcluster)
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: build first or pass --embcluster")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or tmp
        os.makedirs(workdir, exist_ok=True)
        figures = {}
        if not args.skip_sklearn and not args.real_only:
            figures["sklearn"] = part_sklearn(args, exe, workdir)
        if args.real != "none":
            figures["real"] = part_real(args, exe, workdir)
        if not args.skip_big and not args.real_only:
            figures["ivf"] = part_ivf(args, exe, workdir)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
