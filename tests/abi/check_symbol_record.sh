#!/bin/sh
# check_symbol_record.sh LIB RECORD - every exported symbol is listed in docs/SYMBOLS.md.
set -u
lib="$1"; record="$2"
missing=0
for s in $(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sed 's/@.*//'); do
    if ! grep -q "| \`$s\` |" "$record"; then
        echo "FAIL: $s is exported but not recorded in $record (add it with the version it appears in)"
        missing=1
    fi
done
[ $missing -eq 0 ] && echo "ok: every exported symbol is recorded"
exit $missing
