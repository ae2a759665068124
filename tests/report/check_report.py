#!/usr/bin/env python3
"""`embcluster report` on the outputs of kmeans, sweep, evaluate, kdist and pca: report.html is
written, self-contained, and every figure in it decodes to a non-blank PNG; the figures a reader
expects are there (cluster sizes, silhouette, inertia, 2-D PCA scatter, elbow, k-distance curve);
`--report` writes the same page with the outputs, and keeps them when the drawing fails.

Usage: check_report.py EMBCLUSTER"""
import base64
import io
import os
import re
import subprocess
import sys
import tempfile

import matplotlib.image as mpimg


def run(cli, *args, code=0, env=None):
    r = subprocess.run([cli, *args], capture_output=True, text=True, env=env)
    if r.returncode != code:
        sys.exit("%s: exit %d, expected %d\n%s%s" % (" ".join(args), r.returncode, code, r.stdout,
                                                    r.stderr))
    return r


def check_html(cli, out, want):
    run(cli, "report", out)
    page = open(os.path.join(out, "report.html")).read()
    assert "<table>" in page, out
    assert "src=\"http" not in page and "<script" not in page, "not self-contained: " + out
    imgs = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]+)"', page)
    titles = [t for t, _ in imgs]
    for w in want:
        assert any(w in t for t in titles), "%s: no figure '%s' in %s" % (out, w, titles)
    for title, data in imgs:
        raw = base64.b64decode(data)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n", title
        px = mpimg.imread(io.BytesIO(raw), format="png")
        assert px.shape[0] > 100 and px.shape[1] > 100, (title, px.shape)
        assert px.std() > 0.01, "blank figure: " + title
    figs = sorted(os.listdir(os.path.join(out, "figures")))
    assert len(figs) == len(imgs), (figs, titles)
    return len(imgs)


def check_report_option(cli, t, data):
    """--report: the page with the outputs; refused up front where it cannot be written; its
    failure one line that keeps the outputs; a run that replaces the outputs takes the old page
    and figures away with them."""
    out = os.path.join(t, "opt")
    run(cli, "-q", "kmeans", data, "-k", "4", "--device", "cpu", "--out", out, "--report")
    names = set(os.listdir(out))
    assert {"labels.h5", "centroids.h5", "report.json", "report.html", "figures"} <= names, names
    r = run(cli, "-q", "kmeans", data, "-k", "4", "--report", code=2)
    assert "--out" in r.stderr, r.stderr
    # An existing page needs --force, and the refusal comes before any work.
    before = {n: os.path.getmtime(os.path.join(out, n)) for n in os.listdir(out)}
    r = run(cli, "-q", "kdist", data, "--k", "5", "--out", out, "--report", code=1)
    assert "report.html exists (use --force" in r.stderr, r.stderr
    assert before == {n: os.path.getmtime(os.path.join(out, n)) for n in os.listdir(out)}
    # No python with matplotlib: said before any work, nothing written.
    env = dict(os.environ, EMBCLUSTER_PYTHON=os.path.join(t, "no-python"))
    fresh = os.path.join(t, "fresh")
    r = run(cli, "-q", "kdist", data, "--k", "5", "--out", fresh, "--report", code=1, env=env)
    assert "cannot run" in r.stderr and not os.path.exists(fresh), r.stderr
    # The drawing fails after the run: one line, non-zero, the run's outputs in place.
    script = os.path.join(t, "failing_report.py")
    with open(script, "w") as f:
        f.write("import sys\nif '--check' not in sys.argv:\n    sys.stderr.write('Traceback\\n"
                "embcluster report: error: drawing failed\\n')\n    sys.exit(1)\n")
    env = dict(os.environ, EMBCLUSTER_REPORT_SCRIPT=script)
    r = run(cli, "-q", "kdist", data, "--k", "5", "--out", fresh, "--report", code=1, env=env)
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1 and "report.html not written" in lines[0] and \
        "drawing failed" in lines[0], r.stderr
    assert {"kdist.h5", "report.json"} <= set(os.listdir(fresh)), os.listdir(fresh)
    # --force without --report: the previous page and figures described the replaced results.
    run(cli, "-q", "kdist", data, "--k", "5", "--out", out, "--force")
    left = set(os.listdir(out))
    assert "report.html" not in left and "figures" not in left, left
    run(cli, "-q", "kmeans", data, "-k", "3", "--device", "cpu", "--out", out, "--force",
        "--report")
    assert os.path.isfile(os.path.join(out, "report.html")), os.listdir(out)


def main():
    cli = sys.argv[1]
    with tempfile.TemporaryDirectory() as t:
        data = os.path.join(t, "b.h5")
        run(cli, "-q", "generate", "--n", "6000", "--d", "8", "--k", "4", "--seed", "2", "--out",
            data)
        km = os.path.join(t, "km")
        run(cli, "-q", "kmeans", data, "-k", "4", "--device", "cpu", "--format", "npy", "--out", km)
        n = check_html(cli, km, ["Cluster sizes", "Silhouette", "Inertia", "PCA"])
        sw = os.path.join(t, "sw")
        run(cli, "-q", "sweep", data, "--k", "2:6", "--device", "cpu", "--out", sw)
        n += check_html(cli, sw, ["Elbow"])
        ev = os.path.join(t, "ev")
        run(cli, "-q", "evaluate", data, "--labels", os.path.join(km, "labels.npy"), "--device",
            "cpu", "--out", ev)
        n += check_html(cli, ev, ["Cluster sizes", "Silhouette plot"])
        kd = os.path.join(t, "kd")
        run(cli, "-q", "kdist", data, "--k", "5", "--out", kd)
        n += check_html(cli, kd, ["k-distance"])
        pc = os.path.join(t, "pc")
        run(cli, "-q", "pca", data, "-n", "3", "--out", pc)
        n += check_html(cli, pc, ["Explained variance"])
        r = run(cli, "report", os.path.join(t, "nothing"), code=1)
        assert "no such output directory" in r.stderr, r.stderr
        os.makedirs(os.path.join(t, "empty"))
        r = run(cli, "report", os.path.join(t, "empty"), code=1)
        assert "no report.json or sweep.json" in r.stderr, r.stderr
        check_report_option(cli, t, data)
    print("report: %d figures checked in 5 reports" % n)


if __name__ == "__main__":
    main()
