#!/usr/bin/env bash
# Builds the wheel from the source tree (pip wheel through scikit-build-core, in the project's
# .venv), installs it into a fresh venv that sees none of the build tree, checks what it holds
# (the library and the CUDA module beside the extension, RPATH $ORIGIN) and runs a short fit
# there. The wheel's build tree is SOURCE_DIR/build-wheel: kept, so a rebuild is incremental, and
# as deep as build/, so that ccache (when present) finds the objects build/ compiled.
# Usage: wheel_check.sh SOURCE_DIR WORK_DIR PYTHON
set -euo pipefail
src=$(realpath "$1") work=$(realpath -m "$2") python=$3
mkdir -p "$work"
rm -rf "$work/dist" "$work/venv"
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CMAKE_CUDA_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR=${CCACHE_BASEDIR:-$src}
fi
start=$(date +%s)
(cd "$src" && "$python" -m pip wheel . --no-build-isolation --no-deps -q -w "$work/dist" \
   -Cbuild-dir="$src/build-wheel")
echo "wheel built in $(($(date +%s) - start)) s"
wheel=$(ls "$work"/dist/embcluster-*.whl)
nvcc=0
if [ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc >/dev/null; then nvcc=1; fi
"$python" - "$wheel" "$nvcc" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
print("\n".join(sorted(names)))
need = ["embcluster/__init__.py", "embcluster/_kmeans.py", "embcluster/libembcluster.so"]
for n in need:
    assert n in names, f"the wheel lacks {n}"
assert any(n.startswith("embcluster/_core.") and n.endswith(".so") for n in names), "no _core"
assert not any(n.endswith("embcluster_report.py") or "/bin/" in n for n in names)
if sys.argv[2] == "1":
    assert "embcluster/libembcluster_cuda.so" in names, "nvcc is here but the wheel has no CUDA"
PY
# The fresh venv gets numpy and scikit-learn from the build venv's site-packages (no network).
"$python" -m venv "$work/venv"
site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
vsite=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$site" > "$vsite/build_venv.pth"
"$work/venv/bin/python" -m pip install -q --no-deps --no-index "$wheel"
cd "$work"
"$work/venv/bin/python" - <<'PY'
import os, subprocess
import numpy as np
import embcluster
pkg = os.path.dirname(embcluster.__file__)
assert "/venv/" in pkg, f"imported {pkg}, not the installed wheel"
for lib in os.listdir(pkg):
    if lib.endswith(".so"):
        out = subprocess.run(["readelf", "-d", os.path.join(pkg, lib)], capture_output=True,
                             text=True).stdout
        assert "$ORIGIN" in out, f"{lib} has no RPATH $ORIGIN"
X = np.random.default_rng(0).standard_normal((2000, 8)).astype(np.float32)
est = embcluster.KMeans(3, random_state=0).fit(X)
print("fit from the wheel:", pkg, est.inertia_, est.labels_[:10])
PY
echo "wheel check passed in $(($(date +%s) - start)) s"
