#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and clusters the bundled default dataset
# (Fashion-MNIST, 70,000 images of 784 pixels, from Debian's dataset-fashion-mnist) into 10 clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --with-datasets
scripts/build.sh
data=datasets/fashion-mnist.h5
[ -f "$data" ] || /usr/bin/python3 datasets/fashion_mnist_to_h5.py "$data"
./build/embcluster kmeans "$data:/data" --n-clusters 10 --seed 0 --out out/fashion-mnist --force "$@"
