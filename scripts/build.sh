#!/usr/bin/env bash
# Configures and builds gridsync into build/ (or $BUILD_DIR), with extra cmake args.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)"
