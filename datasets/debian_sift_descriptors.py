#!/usr/bin/python3
"""SIFT descriptors of real photographs, made on the machine: OpenCV's SIFT (Lowe 2004; default
parameters) on the photographs among the wallpapers of Debian's plasma-workspace-wallpapers
(largest JPEG of each), one row per keypoint, 128 float32 values each (as OpenCV returns them:
integers 0..255 or so, rows of norm about 512, like the SIFT1M set's).

  debian_sift_descriptors.py OUT.npy [--rows 50000] [--seed 0]

--rows keeps that many rows picked at random (seeded) among all keypoints, in their original order
(0 = all of them, about 133,000). Needs python3-opencv and plasma-workspace-wallpapers
(apt-get install python3-opencv plasma-workspace-wallpapers). The same packages give the same rows.
"""
import argparse
import glob
import os
import sys

import numpy as np

WALLPAPERS = "/usr/share/wallpapers"
# The photographs (the package's other wallpapers are drawings and renderings).
PHOTOS = ("BytheWater", "ColdRipple", "ColorfulCups", "EveningGlow", "FallenLeaf", "OneStandsOut",
          "Path", "summer_1am")


def largest_jpeg(name):
    files = glob.glob(os.path.join(WALLPAPERS, name, "contents", "images", "*.jpg"))
    if not files:
        sys.exit(f"{WALLPAPERS}/{name}: no JPEG (apt-get install plasma-workspace-wallpapers)")

    def pixels(f):
        w, h = os.path.splitext(os.path.basename(f))[0].split("x")
        return int(w) * int(h)

    return max(files, key=pixels)


def descriptors(threads=0):
    import cv2

    if threads:
        cv2.setNumThreads(threads)
    sift = cv2.SIFT_create()
    parts = []
    for name in PHOTOS:
        path = largest_jpeg(name)
        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        _, desc = sift.detectAndCompute(img, None)
        print(f"  {path}: {img.shape[1]}x{img.shape[0]}, {len(desc)} keypoints", file=sys.stderr)
        parts.append(desc.astype(np.float32))
    return np.concatenate(parts)


def build(rows=50000, seed=0, threads=0):
    x = descriptors(threads)
    if rows and rows < len(x):
        pick = np.sort(np.random.default_rng(seed).choice(len(x), rows, replace=False))
        x = x[pick]
    return np.ascontiguousarray(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=50000, help="rows kept (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="OpenCV threads (0 = its default)")
    a = ap.parse_args()
    x = build(a.rows, a.seed, a.threads)
    np.save(a.out, x)
    print(f"{a.out}: {x.shape[0]} x {x.shape[1]} SIFT descriptors of {len(PHOTOS)} photographs")


if __name__ == "__main__":
    main()
