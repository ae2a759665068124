#!/usr/bin/env bash
# The project's own steps in the GPU check (../shared/gpu/check.sh runs it last, with EMBCLUSTER,
# BUNDLE, WORK and RESULTS set and LD_LIBRARY_PATH pointing at the bundle's libraries): the CPU
# panel kernels' test, K-means against the GPU peers (bench_gpu_peers.py), then CPU K-means with
# each panel kernel on the host's CPU. The peers' wheels (pure Python, on the machine's PyTorch
# and Triton) come from .gpubundle/wheels, put there by bench/fetch_gpu_peers.sh, or from $WHEELS;
# without them only the plain PyTorch Lloyd runs beside embcluster.
set -u
# The CPU panel kernels' test first (a second; the AVX-512 kernel runs where the CPU has AVX-512F).
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) threads," \
  "$(grep -qw avx512f /proc/cpuinfo && echo AVX-512F || echo 'no AVX-512F')"
timeout 60 "$BUNDLE/bin/test_panel_dots" --gtest_brief=1 2>&1 | tail -n 8
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
# The host's CPU: Lloyd throughput with each panel kernel it runs, beside its sgemm.
for kernel in avx512 avx2; do
  EMBCLUSTER_CPU_KERNEL=$kernel timeout 90 "$BUNDLE/bin/bench_kmeans" --n 100000 --d 384 --k 256 \
    --iters 3 --repeats 2 --threads "$(nproc)" 2>&1
done
