#!/usr/bin/env bash
# The whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (clang, CPU only)
# in ./build-asan, with the readers' libFuzzer targets and their short runs (fuzz/README.md).
# Any sanitizer report fails the run: reports go to files in build-asan/sanitizer-logs, which must
# stay empty (a CLI run whose test expects a failure cannot hide one).
# On 2 cores shared with other builds: ~16 min to build from scratch (no ccache), ~9-12 min to run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=build-asan
start=$(date +%s)
# -O1: the suite runs in minutes and the build fits CI; line tables name the frames in reports.
# -ffp-contract=fast: multiply-adds fused as g++ fuses them (-ffp-contract=fast is its default),
# though not always at the same places: golden_outputs lets report figures differ in their last
# bits here (EMBCLUSTER_GOLDEN_EXACT=OFF); the Release build checks them bit for bit.
flags="-O1 -gline-tables-only -fno-omit-frame-pointer -ffp-contract=fast"
flags+=" -fsanitize=address,undefined -fno-sanitize-recover=undefined"
# The CUDA module is not built: ASan cannot see into device code or the CUDA runtime's allocations.
# Nor is the Python package: an ASan extension cannot be loaded into an uninstrumented python.
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_C_FLAGS_SANITIZE="$flags" -DCMAKE_CXX_FLAGS_SANITIZE="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DEMBCLUSTER_CUDA=OFF -DEMBCLUSTER_PYTHON_PACKAGE=OFF -DEMBCLUSTER_BENCH=OFF -DEMBCLUSTER_FUZZ=ON -DEMBCLUSTER_GOLDEN_EXACT=OFF \
  >/dev/null
cmake --build "$dir" -j "$(nproc)"
built=$(date +%s)

logs=$root/$dir/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:\
check_initialization_order=1:log_path=$logs/asan"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
# Left out (label no_sanitizer), each for a reason of its own:
#   cli_without_cuda_libraries: measures the command's resident memory (ASan's shadow inflates it);
#   install_consumer: builds a project of its own with the default compiler and no sanitizer
#   runtime, which cannot link a sanitized library.
rc=0
(cd "$dir" && ctest --output-on-failure -j "$(nproc)" --timeout 900 -LE no_sanitizer) || rc=$?
if [ -n "$(ls -A "$logs")" ]; then
  echo "sanitizer reports:" >&2
  for f in "$logs"/*; do echo "== $f" >&2; cat "$f" >&2; done
  rc=1
fi
echo "sanitizer build: $((built - start)) s, tests: $(($(date +%s) - built)) s"
exit $rc
