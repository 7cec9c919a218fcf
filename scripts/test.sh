#!/usr/bin/env bash
# test.sh [BUILD_DIR] - the README's second command: installs what is missing, builds, runs
# every test with `meson test`, and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
bash scripts/deps.sh || exit 1
bash scripts/build.sh "$build" || exit 1
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)"
rc=$?
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
