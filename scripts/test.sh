#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs the whole test suite (ctest), then
# the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer and the readers' short
# fuzz runs (scripts/test-sanitizers.sh, in build-asan). EMBCLUSTER_SANITIZERS=0 skips the latter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j 2 --timeout 900)
if [ "${EMBCLUSTER_SANITIZERS:-1}" != "0" ]; then
  scripts/test-sanitizers.sh
fi
