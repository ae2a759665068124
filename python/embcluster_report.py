#!/usr/bin/env python3
"""Figures and one self-contained report.html for an embcluster output directory.

Run by `embcluster report DIR` (or by hand: embcluster_report.py DIR). It reads DIR/report.json
(kmeans, dbscan, evaluate, kdist, assign, pca) or DIR/sweep.json and the arrays beside them, draws
the figures with matplotlib (Agg) into DIR/figures/*.png and writes DIR/report.html with the
figures embedded (base64) and the report's tables. Files are written under temporary names and
renamed when complete.
"""
import base64
import html
import io
import json
import os
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def fail(msg):
    sys.stderr.write("embcluster report: error: %s\n" % msg)
    sys.exit(1)


def load_array(dir_, base):
    """DIR/base.npy, .h5 (dataset /base) or .csv, or None."""
    for ext in ("npy", "h5", "csv"):
        path = os.path.join(dir_, base + "." + ext)
        if not os.path.isfile(path):
            continue
        if ext == "npy":
            return np.load(path)
        if ext == "csv":
            return np.loadtxt(path, delimiter=",", ndmin=1)
        try:
            import h5py
        except ImportError:
            return None
        with h5py.File(path, "r") as f:
            return f["/" + base][...] if "/" + base in f else None
    return None


def png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def fig_sizes(sizes, title):
    sizes = np.asarray(sizes)
    order = np.argsort(-sizes, kind="stable")
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(np.arange(len(sizes)), sizes[order], color="#4c72b0")
    ax.set_xlabel("cluster (largest first)")
    ax.set_ylabel("rows")
    ax.set_title(title)
    if len(sizes) <= 40:
        ax.set_xticks(np.arange(len(sizes)))
        ax.set_xticklabels([str(i) for i in order], fontsize=7)
    return png(fig)


def fig_silhouette_samples(samples, labels, score):
    """The classic silhouette plot: each cluster's rows sorted, stacked."""
    ok = ~np.isnan(samples)
    samples, labels = samples[ok], labels[ok]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    y = 0
    cmap = plt.get_cmap("tab20")
    for i, c in enumerate(np.unique(labels)):
        v = np.sort(samples[labels == c])
        ax.fill_betweenx(np.arange(y, y + len(v)), 0, v, color=cmap(i % 20), linewidth=0)
        if len(np.unique(labels)) <= 30:
            ax.text(-0.05, y + len(v) / 2, str(c), fontsize=7, ha="right", va="center")
        y += len(v) + max(1, len(samples) // 200)
    ax.axvline(score, color="red", linestyle="--", label="mean %.3f" % score)
    ax.set_xlabel("silhouette")
    ax.set_yticks([])
    ax.set_title("Silhouette of every row, by cluster")
    ax.legend(loc="lower right")
    return png(fig)


def fig_cluster_silhouette(clusters, score):
    labels = [c["label"] for c in clusters]
    means = [c["silhouette"] if c["silhouette"] is not None else 0 for c in clusters]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(np.arange(len(means)), means, color="#55a868")
    ax.axvline(score, color="red", linestyle="--", label="mean %.3f" % score)
    if len(labels) <= 40:
        ax.set_yticks(np.arange(len(labels)))
        ax.set_yticklabels([str(v) for v in labels], fontsize=7)
    ax.set_xlabel("mean silhouette")
    ax.set_ylabel("cluster")
    ax.set_title("Silhouette per cluster")
    ax.legend(loc="lower right")
    return png(fig)


def fig_history(history):
    it = [h["iteration"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(it, [h["inertia"] for h in history], marker="o", markersize=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel("inertia")
    ax.set_title("K-means inertia per iteration")
    return png(fig)


def fig_sweep(points, elbow, best):
    ks = [p["k"] for p in points]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(ks, [p["inertia"] for p in points], marker="o", markersize=3)
    if elbow:
        a1.axvline(elbow, color="red", linestyle="--", label="elbow k=%d" % elbow)
        a1.legend()
    a1.set_xlabel("k")
    a1.set_ylabel("inertia")
    a1.set_title("Elbow")
    s = np.array([p["silhouette"] for p in points])
    lo = np.array([p["silhouette_ci95"][0] for p in points])
    hi = np.array([p["silhouette_ci95"][1] for p in points])
    a2.plot(ks, s, marker="o", markersize=3, color="#55a868")
    a2.fill_between(ks, lo, hi, alpha=0.25, color="#55a868")
    if best:
        a2.axvline(best, color="red", linestyle="--", label="best k=%d" % best)
        a2.legend()
    a2.set_xlabel("k")
    a2.set_ylabel("silhouette (95% interval)")
    a2.set_title("Silhouette")
    return png(fig)


def fig_kdist(curve, eps, k):
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(np.arange(len(curve)), curve)
    if eps and eps > 0:
        ax.axhline(eps, color="red", linestyle="--", label="suggested eps %.4g" % eps)
        ax.legend()
    ax.set_xlabel("rows, sorted")
    ax.set_ylabel("distance to the %d-th nearest" % k)
    ax.set_title("k-distance curve")
    return png(fig)


def fig_explained(ratio):
    ratio = np.asarray(ratio)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(np.arange(1, len(ratio) + 1), ratio, color="#4c72b0", label="per component")
    ax.plot(np.arange(1, len(ratio) + 1), np.cumsum(ratio), color="#c44e52", marker="o",
            markersize=3, label="cumulative")
    ax.set_xlabel("component")
    ax.set_ylabel("explained variance ratio")
    ax.set_title("Explained variance")
    ax.legend()
    return png(fig)


def fig_scatter(x, labels, title):
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(x[:, 0], x[:, 1], c=labels, s=4, cmap="tab20", alpha=0.7, linewidths=0)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(title)
    return png(fig)


def read_input_sample(report, n_rows, rng):
    """A sample of the input rows (HDF5 or .npy; None for other formats)."""
    name = report.get("input", {}).get("name", "")
    path, _, ds = name.partition(":")
    if not os.path.isfile(path):
        return None, None
    rows = report["input"]["rows"]
    pick = np.sort(rng.choice(rows, size=min(n_rows, rows), replace=False))
    if path.endswith(".npy"):
        return np.load(path, mmap_mode="r")[pick].astype(np.float64), pick
    if path.endswith((".h5", ".hdf5")):
        try:
            import h5py
        except ImportError:
            return None, None
        with h5py.File(path, "r") as f:
            d = f[ds or "/data"] if (ds or "/data") in f else None
            return (None, None) if d is None else (d[pick].astype(np.float64), pick)
    return None, None


def pca_scatter(report, labels):
    x, pick = read_input_sample(report, 5000, np.random.default_rng(0))
    if x is None or x.ndim != 2 or x.shape[1] < 2:
        return None
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return fig_scatter(x @ vt[:2].T, labels[pick], "2-D PCA of %d sampled rows" % len(pick))


def figures(dir_, rep, kind):
    figs = []
    if kind == "sweep":
        figs.append(("Elbow and silhouette over k",
                     fig_sweep(rep["points"], rep.get("elbow_k"), rep.get("best_silhouette_k"))))
        return figs
    sizes = rep.get("cluster_sizes") or rep.get("metrics", {}).get("cluster_sizes")
    if sizes:
        figs.append(("Cluster sizes", fig_sizes(sizes, "Rows per cluster")))
    sil = rep.get("silhouette") or rep.get("metrics", {}).get("silhouette")
    samples, labels = load_array(dir_, "silhouette_samples"), load_array(dir_, "labels")
    if samples is not None and rep.get("labels"):
        lab = load_labels(rep["labels"])
        if lab is not None and len(lab) == len(samples):
            figs.append(("Silhouette plot", fig_silhouette_samples(samples, lab, sil["score"])))
    elif sil and sil.get("clusters"):
        figs.append(("Silhouette per cluster", fig_cluster_silhouette(sil["clusters"],
                                                                      sil["score"])))
    if rep.get("history"):
        figs.append(("Inertia per iteration", fig_history(rep["history"])))
    if kind == "pca" and rep.get("explained_variance_ratio"):
        figs.append(("Explained variance", fig_explained(rep["explained_variance_ratio"])))
    if kind == "kdist":
        curve = load_array(dir_, "kdist")
        if curve is not None:
            figs.append(("k-distance curve", fig_kdist(curve, rep.get("suggested_eps"),
                                                       rep["parameters"]["k"])))
    if labels is not None and labels.ndim == 1:
        sc = pca_scatter(rep, labels.astype(np.int64))
        if sc is not None:
            figs.append(("2-D PCA of a sample", sc))
    return figs


def load_labels(spec):
    path, _, ds = spec.partition(":")
    if path.endswith(".npy") and os.path.isfile(path):
        return np.load(path)
    if path.endswith((".h5", ".hdf5")) and os.path.isfile(path):
        import h5py
        with h5py.File(path, "r") as f:
            return f[ds or "/labels"][...]
    return None


def table(rep):
    rows = []
    for key in ("command", "version", "inertia", "iterations", "converged", "suggested_k",
                "elbow_k", "suggested_eps", "wall_s"):
        if key in rep:
            rows.append((key, rep[key]))
    inp = rep.get("input", {})
    if inp:
        rows.insert(1, ("input", "%s (%s x %s, %s)" % (inp.get("name"), inp.get("rows"),
                                                       inp.get("cols"), inp.get("dtype"))))
    m = rep.get("metrics", rep)
    for key in ("davies_bouldin", "calinski_harabasz"):
        if key in m:
            rows.append((key, m[key]))
    sil = m.get("silhouette")
    if isinstance(sil, dict) and "score" in sil:
        rows.append(("silhouette", "%s (%s)" % (sil["score"], sil.get("method"))))
    return "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(str(k)), html.escape(str(v)))
                   for k, v in rows)


def profiles_table(rep):
    p = rep.get("profiles")
    if not p:
        return ""
    head = "".join("<th>%s</th>" % html.escape(c) for c in p["columns"])
    body = "<tr><th>all rows</th>%s</tr>" % "".join("<td>%.4g</td>" % v for v in p["overall_mean"])
    for c in p["clusters"]:
        cells = "".join("<td>%s</td>" % ("-" if v is None else "%.4g" % v) for v in c["mean"])
        body += "<tr><th>cluster %d (%d rows)</th>%s</tr>" % (c["label"], c["size"], cells)
    return "<h2>Cluster profiles (mean per column)</h2><table><tr><th></th>%s</tr>%s</table>" % (
        head, body)


def write_atomic(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    if len(sys.argv) != 2:
        fail("usage: embcluster report DIR")
    dir_ = sys.argv[1]
    path = next((os.path.join(dir_, n) for n in ("report.json", "sweep.json")
                 if os.path.isfile(os.path.join(dir_, n))), None)
    if path is None:
        fail("%s: no report.json or sweep.json (an output directory of embcluster)" % dir_)
    try:
        rep = json.load(open(path))
    except ValueError as e:
        fail("%s: not a JSON report (%s)" % (path, e))
    kind = rep.get("command", "report")
    figs = figures(dir_, rep, kind)
    os.makedirs(os.path.join(dir_, "figures"), exist_ok=True)
    parts = []
    for i, (title, data) in enumerate(figs):
        write_atomic(os.path.join(dir_, "figures", "%02d.png" % (i + 1)), data)
        parts.append('<figure><img alt="%s" src="data:image/png;base64,%s"><figcaption>%s'
                     "</figcaption></figure>" % (html.escape(title),
                                                 base64.b64encode(data).decode(),
                                                 html.escape(title)))
    page = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>embcluster %s</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}figure{margin:1.5em 0}</style></head>
<body><h1>embcluster %s</h1><table>%s</table>%s%s</body></html>
""" % (html.escape(kind), html.escape(kind), table(rep), profiles_table(rep), "".join(parts))
    write_atomic(os.path.join(dir_, "report.html"), page.encode())
    print("report: %s/report.html (%d figures)" % (dir_, len(figs)))


if __name__ == "__main__":
    main()
