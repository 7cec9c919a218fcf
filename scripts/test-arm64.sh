#!/usr/bin/env bash
# test-arm64.sh [BUILD_DIR] - cross-builds liblocalai for arm64 (Debian 12's aarch64 toolchain)
# and runs the tests that prove the NEON kernels under qemu-user; ends with the line
# "N passed, N failed, N skipped".
#
# What runs, and why (qemu-user is 10-30x slower than the host; times measured on 2 shared
# x86 cores, whole script about 6 minutes from an empty build folder):
#   1. meson test, suites compute (kernels, levels, decode, alignment, threads), api and
#      tokenizer on qemu's "max" CPU (NEON, dotprod, i8mm): 30 tests, ~45 s. Left to the
#      x86 run: the ASan/UBSan tests (`sanitize`: slow under emulation and no kernel
#      coverage of their own), model (27k damaged files), gguf, quant, sampling, cli (these
#      run arm64 programs from Python, which needs binfmt_misc), abi (x86 baseline).
#   2. compute-levels once more on a Cortex-A53 (NEON without dotprod): the ARMv8.0 kernels
#      that CPUs without SDOT take, held to the scalar reference too (~5 s).
#   3. every llama.cpp reference in tests/llamacpp/refs at every level the emulated CPU runs
#      (scalar and neon), ~2 min for the 185; then the llama-* references (every weight
#      type, a batched prompt) on the Cortex-A53 (~25 s). The test runs its generator and
#      quantizer as child processes, and an arm64 child cannot be started from under
#      qemu-user without binfmt_misc: those two are built for the host (BUILD_DIR-host).
#      They write the same bytes on every machine (the test checks each model's hash).
# Environment: LOCALAI_ARM64_FALLBACK_REFS, a grep -E pattern for the references also run on
# the Cortex-A53 (default '^llama-'; '.' runs all of them, ~2 more minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-arm64}"
host_build="$build-host"
start=$(date +%s)
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
jobs=$(nproc)
fallback_refs="${LOCALAI_ARM64_FALLBACK_REFS:-^llama-}"

# ---- packages (idempotent, like scripts/deps.sh) ---------------------------------------
packages=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
          gcc meson ninja-build python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-arm64: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "test-arm64: run as root or install sudo" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
    SUDO=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

elapsed() { echo "$(( $(date +%s) - start )) s"; }
fail_setup() { echo "test-arm64: $1"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# ---- builds: the arm64 tree (only the programs the chosen tests run) and two host tools --
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --cross-file scripts/cross/aarch64-linux-gnu.ini -Dvulkan=disabled >/dev/null ||
    fail_setup "meson setup $build failed"
fi
if [ ! -f "$host_build/build.ninja" ]; then
  meson setup "$host_build" -Dvulkan=disabled >/dev/null || fail_setup "meson setup $host_build failed"
fi
# Test programs of the chosen suites (not the sanitized ones), the llama.cpp test, the CLI.
mapfile -t arm_targets < <(meson introspect "$build" --tests --targets | python3 -c '
import json, os, sys
info = json.load(sys.stdin)
tests, targets = info["tests"], info["targets"]
build = os.path.realpath(sys.argv[1])
want = {"compute", "api", "tokenizer", "llamacpp"}
out = set()
for t in tests:
    suites = {s.split(":")[-1] for s in t["suite"]}
    exe = os.path.realpath(t["cmd"][0])
    if suites & want and "sanitize" not in suites and exe.startswith(build + "/"):
        out.add(os.path.relpath(exe, build))
for t in targets:
    if t["name"] == "localai" and t["type"] == "executable":
        out.add(os.path.relpath(os.path.realpath(t["filename"][0]), build))
print("\n".join(sorted(out)))
' "$build" 2>/dev/null || true)
[ ${#arm_targets[@]} -gt 0 ] || fail_setup "no test programs found in $build"
mapfile -t host_tools < <(meson introspect "$host_build" --targets | python3 -c '
import json, os, sys
found = {t["name"]: t["filename"][0] for t in json.load(sys.stdin) if t["type"] == "executable"}
for name in ("gen_model", "localai"):
    print(os.path.relpath(found.get(name, "missing/" + name), sys.argv[1]))
' "$host_build")
ninja -C "$build" -j"$jobs" "${arm_targets[@]}" >/dev/null || fail_setup "arm64 build failed (ninja -C $build)"
ninja -C "$host_build" -j"$jobs" "${host_tools[@]}" >/dev/null || fail_setup "host tools build failed (ninja -C $host_build)"
gen_model="$(realpath "$host_build/${host_tools[0]}")"
quantizer="$(realpath "$host_build/${host_tools[1]}")"
echo "test-arm64: built in $(elapsed)"
for cpu in max cortex-a53; do
  printf 'test-arm64: QEMU_CPU=%-10s %s\n' "$cpu" "$(QEMU_CPU=$cpu "${qemu[@]}" "$build/tools/localai" version 2>&1 | grep -m1 'cpu ')"
done

passed=0 failed=0 skipped=0
# Adds the results of the last `meson test` in $build to the counts.
count_meson() {
  local line
  line=$(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
  ) || line="0 1 0"
  read -r p f s <<< "$line"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

# ---- 1. meson test under qemu's max CPU ------------------------------------------------
QEMU_CPU=max meson test -C "$build" --no-rebuild --print-errorlogs --num-processes "$jobs" \
  --suite compute --suite api --suite tokenizer --no-suite sanitize
count_meson
echo "test-arm64: meson test (max) done at $(elapsed)"

# ---- 2. the ARMv8.0 kernels: compute-levels on a CPU without dotprod -------------------
QEMU_CPU=cortex-a53 meson test -C "$build" --no-rebuild --print-errorlogs compute-levels
count_meson

# ---- 3. llama.cpp references at every level ------------------------------------------
vs=$(find "$build/tests/llamacpp" -maxdepth 1 -type f -name test_vs_llamacpp | head -n 1)
refs=tests/llamacpp/refs
work="$build/llamacpp-work"
rm -rf "$work"
mkdir -p "$work/logs"
if [ -z "$vs" ] || [ ! -f "$refs/index.txt" ]; then
  echo "test-arm64: no llama.cpp test or references"; failed=$((failed + 1))
else
  run_ref() { # REF CPU: one reference on one emulated CPU; prints "REF CPU STATUS"
    local dir="$WORK/$2"
    mkdir -p "$dir"
    QEMU_CPU="$2" timeout 600 qemu-aarch64 -L /usr/aarch64-linux-gnu "$VS" "$REFS/$1.json" "$GEN" "$dir" "$QUANT" \
      > "$WORK/logs/$1.$2.log" 2>&1
    local rc=$?
    rm -f "$dir/$1.gguf" "$dir/$1-src.gguf"
    echo "$1 $2 $rc"
  }
  export -f run_ref
  export VS="$vs" REFS="$refs" GEN="$gen_model" QUANT="$quantizer" WORK="$work"
  { grep -v '^ *$' "$refs/index.txt" | sed 's/$/ max/'
    grep -v '^ *$' "$refs/index.txt" | grep -E -- "$fallback_refs" | sed 's/$/ cortex-a53/'; } |
    xargs -P "$jobs" -L 1 bash -c 'run_ref "$0" "$1"' > "$work/results.txt"
  n_max=0 n_a53=0
  while read -r ref cpu rc; do
    [ "$cpu" = max ] && n_max=$((n_max + 1)) || n_a53=$((n_a53 + 1))
    if [ "$rc" -eq 0 ]; then
      passed=$((passed + 1))
    elif [ "$rc" -eq 77 ]; then
      skipped=$((skipped + 1))
    else
      failed=$((failed + 1))
      echo "llamacpp-$ref (QEMU_CPU=$cpu): FAIL (exit $rc)"
      tail -n 20 "$work/logs/$ref.$cpu.log"
    fi
  done < "$work/results.txt"
  levels=$(cat "$work"/logs/*.max.log 2>/dev/null | grep -o '\[[a-z0-9]*\]' | sort -u | tr -d '[]' | tr '\n' ' ')
  echo "test-arm64: llama.cpp references: $n_max on max (levels: ${levels% }), $n_a53 on cortex-a53, done at $(elapsed)"
  [ "$failed" -eq 0 ] && rm -rf "$work"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
