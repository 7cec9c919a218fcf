#!/bin/sh
# check_run_cli.sh LOCALAI SHARED_DIR - `localai run` greedy from BOS on stories260K prints
# exactly the text of shared/models/SOURCES.md (llama2.c's and llama.cpp's output),
# --ids prints llama.cpp's token ids, and `localai logits` agrees with llama.cpp's last-position
# logits. Exit 77 while the model cannot be run yet.
set -u
exe="$1"; shared="$2"
model="$shared/models/stories260K.gguf"
out=$("$exe" run -m "$model" -p "" -n 256 --temp 0 2>/tmp/localai_run_err.$$)
rc=$?
err=$(cat /tmp/localai_run_err.$$); rm -f /tmp/localai_run_err.$$
if [ $rc -ne 0 ]; then
  case "$err" in *unsupported*) echo "SKIP: $err"; exit 77;; esac
  echo "localai run failed ($rc): $err"; exit 1
fi
# The expected text: the fenced block after "This is the same text as llama2.c" in SOURCES.md.
want=$(awk '/^This is the same text as llama2.c/{f=1; next} f && /^```/{n++; if (n==2) exit; next} f && n==1' "$shared/models/SOURCES.md")
if [ "$out" != "$want" ]; then
  echo "localai run printed:"; echo "$out"; echo "--- expected:"; echo "$want"; exit 1
fi
ids=$("$exe" run -m "$model" -p "" -n 256 --temp 0 --ids 2>/dev/null)
want_ids=$(sed -n 's/.*"tokens":\[\([0-9,]*\)\].*/\1/p' "$shared/reference/stories260K.greedy-from-bos.json" | tr ',' ' ')
if [ "$ids" != "$want_ids" ]; then
  echo "localai run --ids printed:"; echo "$ids"; echo "--- expected:"; echo "$want_ids"; exit 1
fi
# `localai logits`: one JSON object whose tokens and logits are llama.cpp's for this prompt.
"$exe" logits -m "$model" -p "Once upon a time, there was a little dog" 2>/dev/null >"${TMPDIR:-/tmp}/localai_logits.$$" || {
  echo "localai logits failed"; exit 1; }
python3 - "${TMPDIR:-/tmp}/localai_logits.$$" "$shared/reference/stories260K.logits-once.json" <<'PY' || exit 1
import json, math, sys
ours, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert ours["tokens"] == ref["prompt_tokens"], (ours["tokens"], ref["prompt_tokens"])
x, y = ours["logits"], ref["logits"]
assert ours["n_vocab"] == len(x) == len(y) == ref["n_vocab"]
m = sum(y) / len(y)
sd = math.sqrt(sum((v - m) ** 2 for v in y) / len(y))
e = math.sqrt(sum((a - b) ** 2 for a, b in zip(x, y)) / len(y)) / sd
assert e <= 1e-3, "nrmse %g" % e
assert max(range(len(x)), key=x.__getitem__) == ref["argmax"]
print("localai logits: tokens as llama.cpp, nrmse %.2e" % e)
PY
rm -f "${TMPDIR:-/tmp}/localai_logits.$$"
# Bad flags are refused with a message and exit code 2.
"$exe" run -m "$model" --temp abc >/dev/null 2>&1; [ $? -eq 2 ] || { echo "--temp abc accepted"; exit 1; }
"$exe" run -m "$model" --bogus 1 >/dev/null 2>&1; [ $? -eq 2 ] || { echo "--bogus accepted"; exit 1; }
"$exe" logits -m "$model" >/dev/null 2>&1; [ $? -eq 2 ] || { echo "logits without -p accepted"; exit 1; }
echo "localai run: stories260K greedy text and ids match"
