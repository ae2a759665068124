#!/usr/bin/env bash
# Installs the Debian packages embcluster builds, tests and benchmarks with (only those missing).
set -euo pipefail
pkgs=(cmake g++ make pkg-config libhdf5-dev hdf5-tools libopenblas-dev libcli11-dev
      nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libfaiss-dev
      libsimde-dev  # portable AVX-512 for the panel kernels' test on any x86-64 CPU
      python3 python3-numpy python3-h5py python3-sklearn python3-faiss python3-matplotlib
      chromium chromium-driver python3-selenium  # the report's headless-browser test
      python3-venv python3-dev python3-pip  # the Python package's venv (scripts/python-env.sh)
      libopenmpi-dev openmpi-bin  # distributed runs (mpirun -np N embcluster ...)
      clang libclang-rt-dev libomp-dev)  # the sanitizer build and libFuzzer (test-sanitizers.sh)
[ "${1:-}" = "--with-datasets" ] && pkgs+=(dataset-fashion-mnist)
# bench/bench_dbscan.py's real data: SIFT descriptors (OpenCV) of the photographs among Plasma's
# wallpapers (datasets/debian_sift_descriptors.py).
[ "${1:-}" = "--with-bench-data" ] && pkgs+=(python3-opencv plasma-workspace-wallpapers)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Python package's build and test venv (.venv: scikit-build-core, nanobind, numpy, ...).
"$(dirname "$0")/python-env.sh"
