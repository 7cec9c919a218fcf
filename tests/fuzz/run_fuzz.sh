#!/bin/sh
# run_fuzz.sh - builds the GGUF reader's libFuzzer target (clang, ASan + UBSan) and runs it.
# Usage: tests/fuzz/run_fuzz.sh [SECONDS] (default 60). Work files go to $LOCALAI_FUZZ_DIR
# (default build-fuzz/). Seeds: ../shared/models/*.gguf, ../shared/vocab/*.gguf, small
# generated models of every architecture and tests/fuzz/regressions/. A crash (or leak,
# timeout, out-of-memory) is copied to tests/fuzz/regressions/ and the script fails; the
# test suite replays that directory (test fuzz-gguf-regressions).
set -eu
secs=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${LOCALAI_SHARED_DIR:-$root/../shared}
work=${LOCALAI_FUZZ_DIR:-$root/build-fuzz}
cc=${CC_FUZZ:-}
if [ -z "$cc" ]; then
  for c in clang clang-14 clang-15 clang-16 clang-17 clang-18; do
    if command -v "$c" >/dev/null 2>&1; then cc=$c; break; fi
  done
fi
if [ -z "$cc" ]; then echo "run_fuzz.sh: no clang found (set CC_FUZZ)" >&2; exit 2; fi
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"

# The reader's call path: base, gguf, quant, model (not the public open/close), tokenizer;
# compute and cpu because lib/model also holds the forward-pass builders that link them,
# and the Vulkan stand-ins of a build without Vulkan (lib/model chooses the device).
srcs=""
for f in "$root"/lib/base/*.c "$root"/lib/gguf/*.c "$root"/lib/quant/*.c "$root"/lib/model/*.c \
         "$root"/lib/tokenizer/*.c "$root"/lib/compute/*.c "$root"/lib/cpu/*.c \
         "$root"/lib/vulkan/vk_probe_none.c "$root"/lib/vulkan/vk_backend_none.c; do
  case "$f" in */model_open.c|*/model_api.c) continue ;; esac
  srcs="$srcs $f"
done
flags="-g -O1 -std=c11 -D_DEFAULT_SOURCE -DLOCALAI_BUILDING -DLOCALAI_STATIC -I$root/include -I$root/lib"
echo "run_fuzz.sh: building with $cc"
# shellcheck disable=SC2086
"$cc" $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  "$root/tests/fuzz/fuzz_gguf.c" $srcs -lm -lpthread -ldl -o "$work/fuzz_gguf"
# shellcheck disable=SC2086
"$cc" $flags -I"$root/tests/gen" "$root"/tests/gen/*.c $srcs -lm -lpthread -ldl -o "$work/gen_model"

# Seeds: the real files, and small generated models (fast to mutate) of every architecture.
for f in "$shared"/models/*.gguf "$shared"/vocab/*.gguf; do
  [ -f "$f" ] && cp "$f" "$work/seeds/"
done
small="--embd 32 --ff 32 --heads 2 --kv-heads 1 --layers 2 --ctx 64"
"$work/gen_model" --arch llama --type f32 $small --out "$work/seeds/gen-llama.gguf"
"$work/gen_model" --arch qwen2 --type f16 $small --tied --out "$work/seeds/gen-qwen2.gguf"
"$work/gen_model" --arch qwen3 --type q8_0 $small --head-dim 32 --out "$work/seeds/gen-qwen3.gguf"
"$work/gen_model" --arch phi3 --type q4_0 $small --rope-freqs --out "$work/seeds/gen-phi3.gguf"
"$work/gen_model" --arch gemma2 --type bf16 $small --tied --swa 8 --out "$work/seeds/gen-gemma2.gguf"
"$work/gen_model" --arch gemma3 --type q8_0 $small --tied --swa 8 --out "$work/seeds/gen-gemma3.gguf"
# general.alignment 1 and 2: tensors at odd or 2-byte offsets, which must be realigned.
"$work/gen_model" --arch llama --type f32 $small --alignment 1 --out "$work/seeds/gen-llama-align1.gguf"
"$work/gen_model" --arch qwen2 --type q4_K $small --ff 256 --embd 256 --alignment 2 --out "$work/seeds/gen-qwen2-align2.gguf"

echo "run_fuzz.sh: fuzzing for $secs s"
status=0
"$work/fuzz_gguf" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$work/seeds" "$root/tests/fuzz/regressions" \
  || status=$?
found=0
for a in "$work"/artifacts/crash-* "$work"/artifacts/leak-* "$work"/artifacts/timeout-* \
         "$work"/artifacts/oom-*; do
  [ -f "$a" ] || continue
  name=$(basename "$a")
  cp "$a" "$root/tests/fuzz/regressions/gguf-$name"
  echo "run_fuzz.sh: saved tests/fuzz/regressions/gguf-$name"
  found=1
done
if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
  echo "run_fuzz.sh: the fuzzer found a problem (exit $status)" >&2
  exit 1
fi
echo "run_fuzz.sh: no crash in $secs s"
