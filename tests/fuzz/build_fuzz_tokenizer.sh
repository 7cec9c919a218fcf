#!/bin/sh
# build_fuzz_tokenizer.sh - builds the tokenizer fuzz target with clang's libFuzzer and ASan.
# Usage: tests/fuzz/build_fuzz_tokenizer.sh [OUT]   then: OUT -max_total_time=60
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-fuzz_tokenizer}
# every library source except the Vulkan backend (its stub stands in)
srcs=$(ls "$root"/lib/*/*.c | grep -v "/lib/vulkan/" ; echo "$root/lib/vulkan/vk_probe_none.c")
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE -DLOCALAI_BUILDING \
  -DLOCALAI_SHARED_DIR_DEFAULT="\"$root/../shared\"" -I"$root/include" -I"$root/lib" \
  "$root/tests/fuzz/fuzz_tokenizer.c" $srcs -lm -lpthread -ldl -o "$out"
echo "built $out"
