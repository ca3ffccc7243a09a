#!/usr/bin/env bash
# Configures and builds gridsync into build/ (or $BUILD_DIR); extra arguments go
# to cmake's configure step; $TARGETS (space-separated) limits what is built.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)" "${targets[@]}"
