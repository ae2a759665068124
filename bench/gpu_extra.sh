#!/usr/bin/env bash
# The project's own steps in the GPU check (../shared/gpu/check.sh runs it last, with EMBCLUSTER,
# BUNDLE, WORK and RESULTS set and LD_LIBRARY_PATH pointing at the bundle's libraries): K-means
# against the GPU peers, bench_gpu_peers.py. The peers' wheels (pure Python, on the machine's
# PyTorch and Triton) come from .gpubundle/wheels, put there by bench/fetch_gpu_peers.sh, or from
# $WHEELS; without them only the plain PyTorch Lloyd runs beside embcluster.
set -u
wheels=${WHEELS:-$PWD/.gpubundle/wheels}
site=$WORK/gpu-peers
mkdir -p "$site"
for w in "$wheels"/*.whl; do
  [ -f "$w" ] || continue
  env -u LD_LIBRARY_PATH python3 -m zipfile -e "$w" "$site" && echo "peer: $(basename "$w")"
done
env -u LD_LIBRARY_PATH PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" python3 \
  "$BUNDLE/bench/bench_gpu_peers.py" --cli "$EMBCLUSTER" --cli-env "${LD_LIBRARY_PATH:-}" \
  --work "$WORK" --json "$RESULTS/gpu_peers.json" ${GPU_PEERS_ARGS:-}
