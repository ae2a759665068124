#!/usr/bin/python3
"""Converts Debian's dataset-fashion-mnist (IDX files) into one HDF5 file.

  /data    70000 x 784 uint8  (60,000 training images, then 10,000 test images)
  /labels  70000 int32        (the 10 garment classes)

Usage: fashion_mnist_to_h5.py OUT.h5 [DIR]   (DIR defaults to /usr/share/datasets/fashion-mnist)
"""
import gzip
import os
import sys

import h5py
import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    src = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    images = [read_idx(os.path.join(src, f"{p}-images-idx3-ubyte.gz")) for p in ("train", "t10k")]
    labels = [read_idx(os.path.join(src, f"{p}-labels-idx1-ubyte.gz")) for p in ("train", "t10k")]
    x = np.concatenate(images).reshape(-1, 28 * 28)
    y = np.concatenate(labels).astype(np.int32)
    tmp = out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("data", data=x, chunks=(4096, 784))
        f.create_dataset("labels", data=y)
    os.replace(tmp, out)
    print(f"wrote {out}: /data {x.shape[0]} x {x.shape[1]} uint8, /labels")


if __name__ == "__main__":
    main()
