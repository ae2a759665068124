#!/usr/bin/env python3
"""Figures and one self-contained report.html for an embcluster output directory.

Run by `embcluster report DIR` and by `--report` on every command (or by hand:
embcluster_report.py DIR [--quiet]; `--check` only checks that numpy and matplotlib load). It
reads DIR/report.json (kmeans, dbscan, evaluate, kdist, assign, pca) or DIR/sweep.json and the
arrays beside them, draws the figures (embcluster_figures.py, matplotlib) into
DIR/figures/NN-name.png and writes DIR/report.html with the figures embedded (base64) and the
report's tables: no script, no external resource. Files are written under temporary names and
renamed when complete; figures of an earlier report that this one does not draw are removed.
Any failure is one line on stderr, "embcluster report: error: WHY", and exit status 1.
"""
import base64
import html
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    sys.stderr.write("embcluster report: error: %s\n" % msg)
    sys.exit(1)


try:
    import numpy as np
    import embcluster_figures as figs
except ImportError as e:
    fail("python3 with numpy and matplotlib is needed (Debian: apt install python3-numpy "
         "python3-matplotlib): %s" % e)

FIGURE_NAME = re.compile(r"[0-9]{2}-[a-z0-9-]+\.png")  # also known to src/cli/report_html.cpp


def load_array(dir_, base):
    """DIR/base.npy, .h5 (dataset /base) or .csv, or None."""
    for ext in ("npy", "h5", "csv"):
        path = os.path.join(dir_, base + "." + ext)
        if os.path.isfile(path):
            return read_array(path, "/" + base)
    return None


def read_array(path, dataset):
    if path.endswith(".npy"):
        return np.load(path)
    if path.endswith(".csv"):
        return np.loadtxt(path, delimiter=",", ndmin=1)
    if path.endswith((".h5", ".hdf5")):
        try:
            import h5py
        except ImportError:
            return None
        with h5py.File(path, "r") as f:
            return f[dataset][...] if dataset in f else None
    return None


def load_labels(dir_, rep):
    """The run's labels: DIR/labels.* (kmeans, dbscan, assign), else evaluate's --labels."""
    lab = load_array(dir_, "labels")
    if lab is None and isinstance(rep.get("labels"), str):
        path, _, ds = rep["labels"].partition(":")
        if os.path.isfile(path):
            lab = read_array(path, ds or "/labels")
    return None if lab is None or lab.ndim != 1 else lab.astype(np.int64)


def read_csv_rows(path, columns, pick):
    """The picked rows of the named (or numbered) columns of a CSV with a header line."""
    with open(path) as f:
        header = [h.strip() for h in f.readline().rstrip("\n").split(",")]
    idx = [header.index(c) if c in header else int(c) for c in columns]
    x = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=idx, ndmin=2)
    x = x[pick]
    col_mean = np.nanmean(x, axis=0)  # --impute mean, as the run read them
    bad = np.isnan(x)
    x[bad] = np.take(col_mean, np.nonzero(bad)[1])
    return x


def input_path(name):
    """The input file and the preparation steps of a report's input name:
    "x.h5:/emb (l2) (pca 8)" -> ("x.h5:/emb", ["l2", "pca 8"])."""
    steps = []
    while name.endswith(")") and " (" in name:
        name, _, step = name.rpartition(" (")
        steps.insert(0, step[:-1])
    return name, steps


def read_input_sample(rep, n_rows, rng):
    """A sample of the input rows (HDF5, .npy or CSV) and the rows picked, or (None, None)."""
    inp = rep.get("input", {})
    name, steps = input_path(inp.get("name", ""))
    path, _, ds = name.partition(":")
    if not os.path.isfile(path) or not inp.get("rows"):
        return None, None
    rows = inp["rows"]
    pick = np.sort(rng.choice(rows, size=min(n_rows, rows), replace=False))
    if path.endswith(".npy"):
        return np.load(path, mmap_mode="r")[pick].astype(np.float64), pick
    if path.endswith(".csv") and inp.get("columns"):
        return read_csv_rows(path, inp["columns"], pick), pick
    if path.endswith((".h5", ".hdf5")):
        try:
            import h5py
        except ImportError:
            return None, None
        with h5py.File(path, "r") as f:
            d = f[ds or "/data"] if (ds or "/data") in f else None
            return (None, None) if d is None else (d[pick].astype(np.float64), pick)
    return None, None


def pca_scatter(rep, labels):
    x, pick = read_input_sample(rep, 5000, np.random.default_rng(0))
    if x is None or x.ndim != 2 or x.shape[1] < 2 or len(labels) != rep["input"]["rows"]:
        return None
    if "l2" in input_path(rep["input"]["name"])[1]:  # as the run saw them: on the unit sphere
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
    x = x - x.mean(axis=0)
    tabular = bool(rep["input"].get("columns"))
    if tabular:  # columns in different units: each its own scale
        sd = x.std(axis=0)
        x = x / np.where(sd > 0, sd, 1)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    share = s ** 2 / max(float((s ** 2).sum()), 1e-300)
    rows = ("%d sampled rows" if len(pick) < len(labels) else "all %d rows") % len(pick)
    title = "2-D PCA of %s%s" % (rows, ", columns standardised" if tabular else "")
    return figs.scatter(x @ vt[:2].T, labels[pick], share, title)


def cluster_figures(dir_, rep, out):
    m = rep.get("metrics", rep)
    sizes = rep.get("cluster_sizes") or m.get("cluster_sizes")
    if sizes:
        labels = m.get("cluster_labels") or list(range(len(sizes)))
        noise = rep.get("n_noise") or (m.get("noise") or {}).get("rows") or 0
        out.append(("cluster-sizes", "Cluster sizes", figs.sizes(sizes, labels, noise)))
    sil = m.get("silhouette")
    samples = load_array(dir_, "silhouette_samples")
    labels = load_labels(dir_, rep)
    if (samples is not None and labels is not None and len(labels) == len(samples)
            and isinstance(sil, dict)):
        out.append(("silhouette-plot", "Silhouette plot",
                    figs.silhouette_samples(samples, labels, sil["score"])))
    elif isinstance(sil, dict) and sil.get("clusters"):
        out.append(("silhouette-per-cluster", "Silhouette per cluster",
                    figs.cluster_silhouette(sil["clusters"], sil["score"])))
    if rep.get("history"):
        out.append(("inertia", "Inertia per iteration", figs.history(rep["history"])))
    p = rep.get("profiles")
    if p and p.get("clusters"):
        out.append(("cluster-profiles", "Cluster profiles",
                    figs.profiles(p["columns"], p["overall_mean"], p["clusters"])))
    if labels is not None:
        sc = pca_scatter(rep, labels)
        if sc is not None:
            out.append(("pca-scatter", "2-D PCA of a sample, by cluster", sc))


def figures(dir_, rep, kind):
    """(name, title, PNG bytes) of every figure the report has."""
    out = []
    if kind == "sweep":
        pts = rep.get("points") or []
        if pts:
            out.append(("sweep-elbow-silhouette", "Elbow and silhouette over k",
                        figs.sweep(pts, rep.get("elbow_k"), rep.get("suggested_k"))))
            out.append(("sweep-indices", "Davies-Bouldin and Calinski-Harabasz over k",
                        figs.sweep_indices(pts, rep.get("suggested_k"))))
        return out
    if kind == "pca" and rep.get("explained_variance_ratio"):
        out.append(("explained-variance", "Explained variance",
                    figs.explained(rep["explained_variance_ratio"])))
    if kind == "kdist":
        curve = load_array(dir_, "kdist")
        if curve is not None:
            out.append(("k-distance", "k-distance curve",
                        figs.kdist(curve, rep.get("suggested_eps"), rep.get("knee_index"),
                                   rep["parameters"]["k"])))
    cluster_figures(dir_, rep, out)
    return out


def cell(v):
    if isinstance(v, float):
        return "%.6g" % v
    if isinstance(v, list):
        return ", ".join(cell(x) for x in v)
    return str(v)


def summary_table(rep):
    rows = [("command", rep.get("command"))]
    inp = rep.get("input", {})
    if inp:
        rows.append(("input", "%s (%s rows x %s columns, %s)" % (
            inp.get("name"), inp.get("rows"), inp.get("cols"), inp.get("dtype"))))
    par = rep.get("parameters")
    if isinstance(par, dict):
        rows.append(("parameters", "; ".join("%s = %s" % (k, cell(v)) for k, v in par.items())))
    for key in ("device", "n_clusters", "n_noise", "inertia", "iterations", "converged",
                "elbow_k", "best_silhouette_k", "suggested_k", "suggested_eps", "total_variance",
                "wall_s", "version"):
        if key in rep and not isinstance(rep[key], (dict, list)):
            rows.append((key, cell(rep[key])))
    m = rep.get("metrics", rep)
    sil = m.get("silhouette")
    if isinstance(sil, dict) and "score" in sil:
        rows.append(("silhouette", "%s (%s, %s rows scored)" % (
            cell(sil["score"]), sil.get("method"), sil.get("rows_scored"))))
    for key in ("davies_bouldin", "calinski_harabasz"):
        if key in m:
            rows.append((key, cell(m[key])))
    if rep.get("outputs"):
        rows.append(("outputs", ", ".join(rep["outputs"])))
    return '<table>%s</table>' % "".join(
        "<tr><th>%s</th><td>%s</td></tr>" % (html.escape(str(k)), html.escape(str(v)))
        for k, v in rows)


def sweep_table(rep):
    pts = rep.get("points") or []
    if not pts:
        return ""
    head = ("k", "inertia", "silhouette", "95% interval", "Davies-Bouldin", "Calinski-Harabasz",
            "iterations", "seconds")
    body = ""
    for p in pts:
        mark = ' class="pick"' if p["k"] == rep.get("suggested_k") else ""
        lo, hi = p["silhouette_ci95"]
        body += "<tr%s><td>%d</td><td>%.6g</td><td>%.4f</td><td>[%.4f, %.4f]</td><td>%.4f</td>" \
                "<td>%.6g</td><td>%d</td><td>%.2f</td></tr>" % (
                    mark, p["k"], p["inertia"], p["silhouette"], lo, hi, p["davies_bouldin"],
                    p["calinski_harabasz"], p["iterations"], p["seconds"])
    return ('<h2>Every k</h2><table id="sweep-points"><tr>%s</tr>%s</table>'
            % ("".join("<th>%s</th>" % h for h in head), body))


def profiles_table(rep):
    p = rep.get("profiles")
    if not p:
        return ""
    overall = np.asarray(p["overall_mean"], dtype=float)
    diffs = np.array([[np.nan if v is None else v for v in c["minus_overall"]]
                      for c in p["clusters"]], dtype=float)
    scale = np.nanmax(np.abs(diffs), axis=0) if len(diffs) else overall * 0
    head = "".join("<th>%s</th>" % html.escape(c) for c in p["columns"])
    body = "<tr><th>all rows</th>%s</tr>" % "".join("<td>%.4g</td>" % v for v in overall)
    for c, d in zip(p["clusters"], diffs):
        cells = ""
        for v, dv, s in zip(c["mean"], d, scale):
            if v is None:
                cells += "<td>-</td>"
                continue
            a = 0.0 if not (s > 0) or np.isnan(dv) else min(1.0, abs(dv) / s) * 0.55
            rgb = "214,96,77" if dv > 0 else "67,147,195"
            cells += '<td style="background:rgba(%s,%.2f)">%.4g</td>' % (rgb, a, v)
        body += "<tr><th>cluster %d (%d rows)</th>%s</tr>" % (c["label"], c["size"], cells)
    return ('<h2>Cluster profiles (mean per column; red above, blue below the overall mean)</h2>'
            '<div class="wide"><table id="profiles"><tr><th></th>%s</tr>%s</table></div>'
            % (head, body))


STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0}th,td{border:1px solid #ccc;padding:3px 8px;
text-align:left;font-size:14px}th{background:#f4f4f4;white-space:nowrap}tr.pick td{font-weight:bold;
background:#e8f5e9}figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:14px}.wide{overflow-x:auto}"""


def page(rep, kind, parts):
    hint = ""
    if kind in ("kmeans", "assign", "dbscan"):
        hint = ("<p>The silhouette of every row, plotted cluster by cluster: <code>embcluster "
                "evaluate DATA --labels DIR/labels.h5 --out DIR2 --report</code>.</p>")
    return """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>embcluster %s report</title><style>%s</style></head>
<body><h1>embcluster %s</h1>%s%s%s%s%s</body></html>
""" % (html.escape(kind), STYLE, html.escape(kind), summary_table(rep), sweep_table(rep),
       profiles_table(rep), "".join(parts), hint)


def write_atomic(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def report(dir_, quiet):
    path = next((os.path.join(dir_, n) for n in ("report.json", "sweep.json")
                 if os.path.isfile(os.path.join(dir_, n))), None)
    if path is None:
        fail("%s: no report.json or sweep.json (an output directory of embcluster)" % dir_)
    try:
        with open(path) as f:
            rep = json.load(f)
    except ValueError as e:
        fail("%s: not a JSON report (%s)" % (path, e))
    if not isinstance(rep, dict):
        fail("%s: not a JSON report (not an object)" % path)
    kind = rep.get("command", "report")
    drawn = figures(dir_, rep, kind)
    fig_dir = os.path.join(dir_, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    parts, names = [], set()
    for i, (name, title, data) in enumerate(drawn):
        fname = "%02d-%s.png" % (i + 1, name)
        names.add(fname)
        write_atomic(os.path.join(fig_dir, fname), data)
        parts.append('<figure id="fig-%s"><img alt="%s" src="data:image/png;base64,%s" '
                     'id="img-%s"><figcaption>%s (figures/%s)</figcaption></figure>' % (
                         name, html.escape(title), base64.b64encode(data).decode(), name,
                         html.escape(title), fname))
    for old in os.listdir(fig_dir):  # an earlier report's figures that this one has not
        if FIGURE_NAME.fullmatch(old) and old not in names:
            os.remove(os.path.join(fig_dir, old))
    write_atomic(os.path.join(dir_, "report.html"), page(rep, kind, parts).encode())
    if not quiet:
        print("report: %s/report.html (%d figures, also in %s)" % (dir_, len(drawn), fig_dir))


def main():
    args = [a for a in sys.argv[1:] if a not in ("--quiet", "--check")]
    if "--check" in sys.argv[1:]:
        return
    if len(args) != 1:
        fail("usage: embcluster_report.py DIR [--quiet] | --check")
    try:
        report(args[0], "--quiet" in sys.argv[1:])
    except KeyboardInterrupt:
        fail("interrupted")
    except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
        fail("%s: %s: %s" % (args[0], type(e).__name__, e))


if __name__ == "__main__":
    main()
