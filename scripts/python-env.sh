#!/usr/bin/env bash
# Creates .venv (from Debian's /usr/bin/python3) with what the Python package builds, tests and
# benchmarks with: scikit-build-core, nanobind, numpy, scikit-learn, h5py, threadpoolctl, pytest,
# pandas (scikit-learn's estimator checks), faiss-cpu (the benchmark's peer). Idempotent: nothing is done when .venv is already complete.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
pkgs=(scikit-build-core nanobind numpy scikit-learn h5py threadpoolctl pytest pandas faiss-cpu)
stamp="$venv/.embcluster-complete"
want="${pkgs[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q --upgrade "${pkgs[@]}"
echo "$want" > "$stamp"
