#!/usr/bin/env python3
"""`embcluster report` on the outputs of kmeans, sweep, evaluate, kdist and pca: report.html is
written, self-contained, and every figure in it decodes to a non-blank PNG; the figures a reader
expects are there (cluster sizes, silhouette, inertia, 2-D PCA scatter, elbow, k-distance curve).

Usage: check_report.py EMBCLUSTER"""
import base64
import io
import os
import re
import subprocess
import sys
import tempfile

import matplotlib.image as mpimg


def run(cli, *args, code=0):
    r = subprocess.run([cli, *args], capture_output=True, text=True)
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
    print("report: %d figures checked in 5 reports" % n)


if __name__ == "__main__":
    main()
