#!/bin/sh
# check_quantize_cli.sh LOCALAI SHARED_DIR - `localai quantize` writes only OUT: an input named
# like a temporary stays intact, a planted link is not followed, OUT = IN is refused unless
# --overwrite-input, and the sizes printed are the input's before and the output's after.
set -u
exe="$1"; shared="$2"
src="$shared/models/stories260K.gguf"
[ -r "$src" ] || { echo "SKIP: no $src"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/lai_qcli.XXXXXX") || exit 1
fail() { echo "FAIL: $*"; echo "files kept in $dir"; exit 1; }
# The folder's names, kinds and contents, one line each, to see what a run changed.
listing() { (cd "$dir" && for f in $(ls -A | sort); do
    if [ -L "$f" ]; then echo "$f link $(readlink "$f")"; else echo "$f file $(cksum < "$f")"; fi
  done); }
mib() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1048576 }'; }
size() { wc -c < "$1" | tr -d ' '; }

"$exe" quantize --help | grep -q -- '--overwrite-input' || fail "usage does not mention --overwrite-input"

# 1. An input named OUT.quantize-tmp (the old fixed temporary) is read, not truncated.
cp "$src" "$dir/m.gguf.quantize-tmp"
"$exe" quantize "$dir/m.gguf.quantize-tmp" "$dir/m.gguf" Q8_0 2>"$dir/err" || fail "quantize m.gguf.quantize-tmp: $(cat "$dir/err")"
cmp -s "$src" "$dir/m.gguf.quantize-tmp" || fail "the input m.gguf.quantize-tmp was modified"
rm -f "$dir/err" "$dir/m.gguf.quantize-tmp" "$dir/m.gguf"

# 2. A link planted at the old temporary name: not followed, OUT a regular file, nothing else changed.
cp "$src" "$dir/in.gguf"
echo "precious" > "$dir/victim.txt"
ln -s victim.txt "$dir/out.gguf.quantize-tmp"
before=$(listing)
"$exe" quantize "$dir/in.gguf" "$dir/out.gguf" Q8_0 2>/dev/null || fail "quantize with a planted link failed"
[ "$(cat "$dir/victim.txt")" = "precious" ] || fail "victim.txt was overwritten"
[ -f "$dir/out.gguf" ] && [ ! -L "$dir/out.gguf" ] || fail "out.gguf is not a regular file"
after=$(listing | grep -v '^out\.gguf file')
[ "$before" = "$after" ] || fail "the folder changed beyond out.gguf: before: $before after: $after"
rm -f "$dir/out.gguf" "$dir/out.gguf.quantize-tmp" "$dir/victim.txt"

# 3. OUT = IN (same name, hard link) is refused without --overwrite-input: exit 1, a message.
ln "$dir/in.gguf" "$dir/hard.gguf"
for out in "$dir/in.gguf" "$dir/hard.gguf"; do
  "$exe" quantize "$dir/in.gguf" "$out" Q8_0 2>"$dir/err"; rc=$?
  [ $rc -eq 1 ] || fail "OUT = IN ($out) gave exit $rc"
  grep -q -- '--overwrite-input' "$dir/err" || fail "the refusal does not name --overwrite-input: $(cat "$dir/err")"
  cmp -s "$src" "$dir/in.gguf" || fail "the refused run modified the input"
done
rm -f "$dir/err" "$dir/hard.gguf"
# With the flag: IN replaced by its Q8_0 version; the sizes printed are before and after.
"$exe" quantize "$dir/in.gguf" "$dir/in.gguf" Q8_0 --overwrite-input 2>"$dir/err" || fail "--overwrite-input: $(cat "$dir/err")"
want="wrote $dir/in.gguf: $(mib "$(size "$src")") MiB -> $(mib "$(size "$dir/in.gguf")") MiB"
grep -q -F "$want" "$dir/err" || fail "expected '$want' in: $(cat "$dir/err")"
[ "$(size "$dir/in.gguf")" -lt "$(size "$src")" ] || fail "in.gguf was not replaced by a smaller Q8_0 file"
"$exe" info "$dir/in.gguf" >/dev/null 2>&1 || fail "the replaced in.gguf does not open"
[ "$(ls -A "$dir")" = "$(printf 'err\nin.gguf')" ] || fail "left behind: $(ls -A "$dir")"

rm -rf "$dir"
echo "localai quantize: input untouched, links not followed, OUT = IN refused without --overwrite-input"
