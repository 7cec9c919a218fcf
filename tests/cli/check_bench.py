#!/usr/bin/env python3
# check_bench.py LOCALAI SHARED_DIR [GEN_MODEL] - `localai bench` on the tiny stories260K model:
# --json is one JSON line with the documented keys and sane values, the table prints, bad
# flags fail with exit status 2 and name their range; with GEN_MODEL, a model whose byte
# vocabulary gen_model grew with synthetic tokens (--vocab-size, as bench/compare.sh makes
# its Llama-3.2-1B-shaped models) opens and runs. Exit 77 when the model is missing.
import json
import math
import os
import subprocess
import sys
import tempfile

localai, shared = sys.argv[1], os.environ.get("LOCALAI_SHARED_DIR", sys.argv[2])
gen_model = sys.argv[3] if len(sys.argv) > 3 else None
model = os.path.join(shared, "models", "stories260K.gguf")
failures = []


def run(args, timeout=60):
    p = subprocess.run([localai, "bench"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


if not os.path.exists(model):
    print("SKIP: no " + model)
    sys.exit(77)

# --json: exactly one line, one object, the keys of the issue plus the extras.
rc, out, err = run(["-m", model, "-p", "16", "-n", "4", "-r", "2", "-t", "2", "--json"])
check("json runs", rc == 0, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
lines = out.splitlines()
check("json is one line", len(lines) == 1, repr(out[:400]))
try:
    d = json.loads(lines[0]) if lines else {}
except ValueError as e:
    d = {}
    check("json parses", False, "%s: %r" % (e, out[:400]))
keys = ["model", "threads", "pp_tokens", "pp_tps", "tg_tokens", "tg_tps", "load_ms",
        "peak_rss_mb", "cpu_level", "n_batch", "n_ctx", "reps", "pp_ms", "tg_ms", "tokens_hash"]
check("json keys", all(k in d for k in keys), "missing %r" % [k for k in keys if k not in d])
if all(k in d for k in keys):
    check("model path", d["model"] == model, d["model"])
    check("settings echoed", (d["threads"], d["pp_tokens"], d["tg_tokens"], d["reps"], d["n_batch"])
          == (2, 16, 4, 2, 512), repr(d))
    check("n_ctx default: p + n rounded up to 256", d["n_ctx"] == 256, repr(d["n_ctx"]))
    for k in ("pp_tps", "tg_tps"):
        # the tiny model runs at thousands of tokens/s; 1e7 would mean a broken clock
        v = d[k]
        check(k + " sane", isinstance(v, (int, float)) and math.isfinite(v) and 1 < v < 1e7, repr(v))
    check("pp_ms matches pp_tps", abs(d["pp_ms"] / 1e3 * d["pp_tps"] - 16) < 0.1,
          "%r ms, %r t/s" % (d["pp_ms"], d["pp_tps"]))
    check("tg_ms matches tg_tps", abs(d["tg_ms"] / 1e3 * d["tg_tps"] - 4) < 0.1,
          "%r ms, %r t/s" % (d["tg_ms"], d["tg_tps"]))
    check("min <= median <= max", d["pp_tps_min"] <= d["pp_tps"] <= d["pp_tps_max"]
          and d["tg_tps_min"] <= d["tg_tps"] <= d["tg_tps_max"], repr(d))
    check("load_ms sane", 0 < d["load_ms"] < 30000, repr(d["load_ms"]))
    check("peak_rss_mb sane", 1 < d["peak_rss_mb"] < 4096, repr(d["peak_rss_mb"]))
    check("cpu_level named", d["cpu_level"] in ("scalar", "avx2", "avx512", "neon"), d["cpu_level"])
    check("tokens_hash", len(d["tokens_hash"]) == 16, d["tokens_hash"])

# The same tokens every run (the llama.cpp harness compares this hash).
rc2, out2, _ = run(["-m", model, "-p", "16", "-n", "4", "-r", "1", "--json"])
try:
    h2 = json.loads(out2).get("tokens_hash")
except ValueError:
    h2 = None
check("tokens deterministic", rc2 == 0 and h2 == d.get("tokens_hash"), "%r vs %r" % (h2, d.get("tokens_hash")))

# Only one of the tests; the other is null in JSON.
rc, out, err = run(["-m", model, "-p", "0", "-n", "3", "-r", "1", "--json"])
try:
    d0 = json.loads(out)
except ValueError:
    d0 = {}
check("tg only", rc == 0 and d0.get("pp_tps", 1) is None and (d0.get("tg_tps") or 0) > 0,
      "rc %d: %s %s" % (rc, out.strip()[:300], err.strip()[-200:]))

# The table.
rc, out, err = run(["-m", model, "-p", "8", "-n", "2", "-r", "1"])
check("table", rc == 0 and "| pp8 |" in out and "| tg2 |" in out and "peak RSS" in out,
      "rc %d: %s" % (rc, out[:400]))

# Bad flags: exit 2, before the model is opened, with the range named.
bad = [
    (["-p", "-1"], "out of range [0, 16777216]"),
    (["-p", "x"], "expects an integer"),
    (["-n", "16777217"], "out of range [0, 16777216]"),
    (["-t", "1025"], "out of range [0, 1024]"),
    (["-r", "0"], "out of range [1, 1000]"),
    (["-b", "0"], "out of range [1, 1048576]"),
    (["-b", "1048577"], "out of range [1, 1048576]"),
    (["-c", "-5"], "out of range [0, 16777216]"),
    (["-c", "100", "-p", "200"], "-c 100 is smaller than the longest test (200 tokens)"),
    (["-p", "0", "-n", "0"], "nothing to measure"),
    (["--frobnicate", "1"], "unknown option"),
    (["-p"], "needs a value"),
    (["stray"], "unexpected argument"),
]
for args, msg in bad:
    rc, out, err = run(["-m", model] + args)
    check("refuses %s" % " ".join(args), rc == 2 and msg in err and out == "",
          "rc %d, stderr: %s" % (rc, err.strip()[-300:]))

rc, out, err = run(["-m", os.path.join(shared, "models", "no-such-model.gguf"), "-p", "4", "-n", "1"])
check("missing model fails", rc == 1 and out == "", "rc %d: %s" % (rc, err.strip()[-200:]))

if gen_model:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "synthetic-vocab.gguf")
        g = subprocess.run([gen_model, "--arch", "llama", "--type", "q8_0", "--embd", "64",
                            "--vocab-size", "1000", "--tied", "--out", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check("gen_model --vocab-size", g.returncode == 0, g.stderr.decode(errors="replace")[-300:])
        info = subprocess.run([localai, "info", "-m", path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60).stdout.decode(errors="replace")
        check("synthetic vocabulary has 1000 tokens", "1000 tokens" in info, info[-400:])
        rc, out, err = run(["-m", path, "-p", "8", "-n", "2", "-r", "1", "--json"])
        try:
            ds = json.loads(out)
        except ValueError:
            ds = {}
        check("bench on the synthetic vocabulary", rc == 0 and (ds.get("tg_tps") or 0) > 0,
              "rc %d: %s %s" % (rc, out[:300], err.strip()[-300:]))
        g = subprocess.run([gen_model, "--arch", "llama", "--vocab-size", "100", "--out", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check("gen_model refuses a vocab-size below the byte vocabulary", g.returncode != 0,
              "rc %d" % g.returncode)

rc, out, err = run(["--help"])
check("help", rc == 0 and "usage: localai bench" in out, out[:200])

print("%d failed" % len(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
