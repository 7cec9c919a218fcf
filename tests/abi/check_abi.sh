#!/bin/sh
# check_abi.sh LIB BASELINE HEADERS_DIR - compares the public ABI of the built library with
# the committed baseline (abigail-tools). Exit 77 (skip) when abidiff is not installed.
# An intended change regenerates the baseline in the same commit:
#   abidw --no-corpus-path --headers-dir include --out-file abi/liblocalai.abi build/liblocalai.so.0
set -u
lib="$1"; baseline="$2"; headers="$3"
if ! command -v abidiff >/dev/null 2>&1; then
    echo "abidiff not installed (Debian package abigail-tools): skipping"; exit 77
fi
abidiff --headers-dir2 "$headers" --no-added-syms "$baseline" "$lib"
rc=$?
# abidiff: bit 2 (4) = ABI change, bit 3 (8) = incompatible change; 1/2 = tool error.
if [ $rc -eq 0 ]; then echo "ok: ABI matches $baseline"; exit 0; fi
if [ $((rc & 8)) -ne 0 ]; then echo "FAIL: incompatible ABI change against $baseline"; exit 1; fi
if [ $((rc & 4)) -ne 0 ]; then
    echo "FAIL: ABI changed against $baseline; if intended, regenerate the baseline (see docs/ABI.md)"; exit 1
fi
echo "FAIL: abidiff error $rc"; exit 1
