#!/usr/bin/env python3
"""The HTML reports opened in headless Chromium, as a reader opens them.

Makes small real output directories with the built CLI and `--report` (kmeans on a CSV with named
columns, so that the cluster profiles appear, kmeans on HDF5 embeddings, sweep, kdist, dbscan,
evaluate, pca, and `embcluster report` on one of them), opens every report.html in headless
Chromium (Debian's chromium, chromium-driver and python3-selenium: scripts/deps.sh installs them;
their absence is a failure, not a skip) and checks that the page loads with no console error and
no failed or external resource, that every expected figure is there and decoded (img.complete,
naturalWidth > 0, drawn wider than 100 px), and that a full-page screenshot is a non-empty PNG of
more than one colour. The screenshots are kept in --screenshots DIR for a person to look at.
A copy of one page with a corrupt figure must fail the same checks (the checks can fail).

Usage: browser_check.py EMBCLUSTER [--screenshots DIR]"""
import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WINE = os.path.join(HERE, "..", "data", "wine.csv")
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class PageError(Exception):
    pass


def run(cli, *args):
    r = subprocess.run([cli, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def browser(profile):
    missing = [p for p in (CHROMIUM, DRIVER) if not os.path.isfile(p)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("python3-selenium")
    if missing:
        sys.exit("browser_check: missing %s: scripts/deps.sh installs chromium, chromium-driver "
                 "and python3-selenium" % ", ".join(missing))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1000", "--user-data-dir=" + profile, "--no-first-run",
              "--disable-extensions", "--disable-background-networking"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    return driver


# Every image of the page, the resources it fetched and whether the document is complete.
PAGE_STATE = """
return {
  ready: document.readyState,
  title: document.title,
  images: Array.from(document.images).map(i => ({
    id: i.id, alt: i.alt, complete: i.complete, natural: i.naturalWidth,
    natural_h: i.naturalHeight, width: i.getBoundingClientRect().width, src: i.src})),
  fetched: performance.getEntriesByType('resource').map(e => e.name),
  scripts: document.scripts.length,
  links: Array.from(document.querySelectorAll('link[href]')).map(l => l.href),
  tables: Array.from(document.querySelectorAll('table[id]')).map(t => t.id),
  height: document.documentElement.scrollHeight};
"""


PNG_URI = "data:image/png;base64,"


def whole_png(src, img, page):
    """The browser shows the top of a truncated PNG as if nothing were wrong: the bytes it was
    given must decode whole, to the size it reports."""
    from PIL import Image
    try:
        im = Image.open(io.BytesIO(base64.b64decode(src[len(PNG_URI):], validate=True)))
        im.load()
    except Exception as e:  # any decoding failure is the page's
        raise PageError("%s: figure %s (%s) is not a whole PNG: %s" % (page, img["id"],
                                                                      img["alt"], e))
    if im.size != (img["natural"], img["natural_h"]):
        raise PageError("%s: figure %s decodes to %s, shown as %s" % (
            page, img["id"], im.size, (img["natural"], img["natural_h"])))


def png_check(raw, what):
    import matplotlib.image as mpimg
    import numpy as np
    if len(raw) < 1000 or raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise PageError("%s: the screenshot is not a PNG (%d bytes)" % (what, len(raw)))
    px = mpimg.imread(io.BytesIO(raw), format="png")[..., :3]
    colours = len(np.unique((px.reshape(-1, 3) * 255).astype(np.uint8), axis=0))
    if px.std() < 0.01 or colours < 16:
        raise PageError("%s: the screenshot is blank (%d colours)" % (what, colours))
    return px.shape


def check_page(driver, html_path, want_figs, want_tables, shot):
    """Loads html_path; raises PageError naming the first thing a reader would miss."""
    driver.get_log("browser")  # what earlier pages logged
    driver.get("file://" + os.path.abspath(html_path))
    st = driver.execute_script(PAGE_STATE)
    name = os.path.relpath(html_path, os.path.dirname(os.path.dirname(html_path)))
    if st["ready"] != "complete" or "embcluster" not in st["title"]:
        raise PageError("%s: page not loaded (%s, title %r)" % (name, st["ready"], st["title"]))
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    if severe:
        raise PageError("%s: console errors: %s" % (name, severe))
    external = [u for u in st["fetched"] + st["links"] if not u.startswith(("data:", "file:"))]
    if external or st["scripts"]:
        raise PageError("%s: not self-contained: %s, %d scripts" % (name, external,
                                                                    st["scripts"]))
    imgs = {i["id"]: i for i in st["images"]}
    for fig in want_figs:
        i = imgs.get("img-" + fig)
        if i is None:
            raise PageError("%s: no figure %s (has %s)" % (name, fig, sorted(imgs)))
    for i in st["images"]:
        src = i.pop("src")
        if not (src.startswith(PNG_URI) and i["complete"] and i["natural"] > 0
                and i["width"] > 100):
            raise PageError("%s: figure %s (%s) not loaded: %s" % (name, i["id"], i["alt"], i))
        whole_png(src, i, name)
    for t in want_tables:
        if t not in st["tables"]:
            raise PageError("%s: no table %s (has %s)" % (name, t, st["tables"]))
    # The whole page, not only the first screen.
    shot_b64 = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 1280, "height": min(st["height"], 16000), "scale": 1}})
    raw = base64.b64decode(shot_b64["data"])
    shape = png_check(raw, name)
    with open(shot, "wb") as f:
        f.write(raw)
    return len(st["images"]), shape


def make_dirs(cli, t):
    """(output directory, expected figures, expected tables) of every command with --report."""
    data = os.path.join(t, "emb.h5")
    run(cli, "-q", "generate", "--n", "3000", "--d", "8", "--k", "5", "--seed", "4", "--out", data)
    cpu = ["--device", "cpu"]
    d = {n: os.path.join(t, n) for n in ("wine", "km", "sw", "kd", "db", "ev", "pc")}
    run(cli, "-q", "kmeans", WINE, "-k", "3", "--scale", "standard", *cpu, "--out", d["wine"],
        "--report")
    run(cli, "-q", "kmeans", data, "-k", "5", *cpu, "--format", "npy", "--out", d["km"])
    run(cli, "-q", "report", d["km"])  # the command's way and --report's: one page
    run(cli, "-q", "sweep", data, "--k", "2:8", *cpu, "--out", d["sw"], "--report")
    run(cli, "-q", "kdist", data, "--k", "5", "--out", d["kd"], "--report")
    with open(os.path.join(d["kd"], "report.json")) as f:
        eps = json.load(f)["suggested_eps"]
    run(cli, "-q", "dbscan", data, "--eps", repr(eps), "--min-samples", "5", *cpu, "--out",
        d["db"], "--report")
    run(cli, "-q", "evaluate", data, "--labels", os.path.join(d["km"], "labels.npy"), *cpu,
        "--out", d["ev"], "--report")
    run(cli, "-q", "pca", data, "-n", "4", "--out", d["pc"], "--report")
    clusters = ["cluster-sizes", "silhouette-per-cluster", "inertia", "pca-scatter"]
    return [
        (d["wine"], clusters + ["cluster-profiles"], ["profiles"]),
        (d["km"], clusters, []),
        (d["sw"], ["sweep-elbow-silhouette", "sweep-indices"], ["sweep-points"]),
        (d["kd"], ["k-distance"], []),
        (d["db"], ["cluster-sizes", "pca-scatter"], []),
        (d["ev"], ["cluster-sizes", "silhouette-plot", "pca-scatter"], []),
        (d["pc"], ["explained-variance"], []),
    ]


def corrupt_copy(page, out):
    """The page with its first figure's PNG bytes cut short and garbled."""
    with open(page) as f:
        text = f.read()
    text, n = re.subn(r'(src="data:image/png;base64,)([A-Za-z0-9+/]{64})[^"]*"',
                      lambda m: m.group(1) + m.group(2)[::-1] + '"', text, count=1)
    assert n == 1, "no figure to corrupt in " + page
    with open(out, "w") as f:
        f.write(text)


def main():
    cli = sys.argv[1]
    shots = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None
    with tempfile.TemporaryDirectory() as t:
        shots = shots or os.path.join(t, "screenshots")
        shutil.rmtree(shots, ignore_errors=True)
        os.makedirs(shots)
        cases = make_dirs(cli, t)
        driver = browser(os.path.join(t, "profile"))
        try:
            n = 0
            for dir_, figs, tables in cases:
                shot = os.path.join(shots, os.path.basename(dir_) + ".png")
                count, shape = check_page(driver, os.path.join(dir_, "report.html"), figs,
                                          tables, shot)
                print("%-5s %d figures, screenshot %dx%d" % (os.path.basename(dir_), count,
                                                              shape[1], shape[0]))
                n += count
            broken = os.path.join(t, "km", "broken.html")
            corrupt_copy(os.path.join(t, "km", "report.html"), broken)
            try:
                check_page(driver, broken, [], [], os.path.join(t, "broken.png"))
                sys.exit("browser_check: a page with a corrupt figure passed the checks")
            except PageError as e:
                print("corrupt figure caught: %s" % str(e)[:100])
        except PageError as e:
            sys.exit("browser_check: %s" % e)
        finally:
            driver.quit()
    print("browser: %d pages, %d figures loaded in headless Chromium; screenshots in %s"
          % (len(cases), n, shots))


if __name__ == "__main__":
    main()
