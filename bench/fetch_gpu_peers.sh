#!/usr/bin/env bash
# Puts the GPU peers' wheels (flash-kmeans, fastkmeans: pure Python on PyTorch and Triton) from
# PyPI into .gpubundle/wheels, beside the bundle that ../shared/gpu/make_bundle.sh makes, for a
# GPU machine without a package registry (bench/gpu_extra.sh unpacks them there).
#   bench/fetch_gpu_peers.sh [DEST]      (default: .gpubundle/wheels of this checkout)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.gpubundle/wheels}
mkdir -p "$dest"
py=python3
[ -x "$root/.venv/bin/python" ] && py=$root/.venv/bin/python
"$py" -m pip download --quiet --no-deps --only-binary :all: -d "$dest" flash-kmeans fastkmeans
ls -l "$dest"
