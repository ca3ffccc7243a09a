#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every ctest test,
# then the same suite under valgrind memcheck (scripts/valgrind.sh, on the same
# build; VALGRIND=0 skips it), then under AddressSanitizer +
# UndefinedBehaviorSanitizer, then each libFuzzer target for FUZZ_SECONDS
# (default 60) when clang is present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build and test (RelWithDebInfo)"
BUILD_DIR=build bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$jobs")

if [ "${VALGRIND:-1}" != 0 ]; then
  echo "== the same suite under valgrind memcheck"
  VG_BUILD_DIR=build VG_NO_BUILD=1 bash scripts/valgrind.sh
fi

echo "== build and test under ASan + UBSan"
BUILD_DIR=build-asan BUILD_TYPE=Debug bash scripts/build.sh -DGS_SANITIZE=ON
# The scenario tests that can run smaller do so here (GS_TEST_SCALE): the
# sanitizers make every process several times slower.
(cd build-asan && GS_TEST_SCALE=${GS_TEST_SCALE:-0.25} ASAN_OPTIONS=detect_leaks=1 \
   LSAN_OPTIONS=suppressions=$(pwd)/../scripts/lsan.supp \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")

if command -v clang >/dev/null 2>&1 && [ "${FUZZ_SECONDS:-60}" != 0 ]; then
  echo "== fuzz each target for ${FUZZ_SECONDS:-60} s"
  bash scripts/fuzz.sh
fi
echo "== all tests passed"
