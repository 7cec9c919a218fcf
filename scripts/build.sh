#!/usr/bin/env bash
# build.sh [BUILD_DIR] - configures (once) and builds liblocalai, the CLI and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" >/dev/null
fi
ninja -C "$build" -j"$(nproc)" >/dev/null
echo "build: $build ready"
