#!/usr/bin/env bash
# build-and-run.sh [MODEL] - the README's first command: installs what is missing, builds,
# and runs the main job: generate text from a model (default: ../shared/models/stories260K.gguf).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build
./build/tools/localai version
model="${1:-${LOCALAI_MODEL:-../shared/models/stories260K.gguf}}"
if [ ! -f "$model" ]; then
  echo "no model at $model: pass a GGUF file as the first argument" >&2
  exit 1
fi
./build/tools/localai run -m "$model" -p "Once upon a time" -n 128
