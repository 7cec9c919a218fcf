#!/usr/bin/env bash
# bench/compare.sh - liblocalai vs llama.cpp on Llama-3.2-1B-shaped models, in one run on one machine; writes docs/PERFORMANCE.md.
#
# usage: bash bench/compare.sh [options]
#   -t N            threads for both engines (default 2)
#   -p N            prompt tokens, pp (default 512)
#   -n N            generated tokens, tg (default 128)
#   -r N            repetitions inside each run; each run reports its median (default 2)
#   -b N            n_batch: prompt tokens per decode call (default 512)
#   -R N            rounds per model: ours (mapped), ours (read into memory), llama.cpp,
#                   llama.cpp without its repacked copies, ours (mapped), ... (default 3);
#                   the table shows the median over the rounds and their range
#   --ours-p N --ours-n N --ours-r N
#                   shorter tests for liblocalai only (while its kernels are slow); llama.cpp
#                   is then run at these settings too, for the ratios, and at -p/-n/-r for
#                   its own row
#   --models LIST   comma-separated subset of small-q4_0,1b-q4_0,1b-q8_0,1b-q4_k_m,1b-f16
#                   (default: all)
#   --doc FILE      the page whose generated section is replaced (default docs/PERFORMANCE.md)
#   --no-doc        only print the section
#   --report FILE   only render the section from the results of an earlier run
#                   ($BENCH_DIR/results/*.jsonl) and put it into the page
#
# What it does, in order:
#   1. builds liblocalai in release mode in build-bench/ (localai, gen_model, ceilings);
#   2. makes the models, once: random weights shaped like Llama-3.2-1B (n_embd 2048, 16
#      layers, n_ff 8192, 32 heads, 8 KV heads, head_dim 64, vocabulary 128256, tied
#      embeddings, rope base 500000 with Llama 3 rope factors, context 131072) as F16 with
#      tests/gen/gen_model, quantized to Q4_0, Q8_0 and Q4_K_M with `localai quantize`
#      (byte-identical to llama.cpp's quantizer), plus a small model (n_embd 512, 8 layers,
#      vocabulary 32000) as Q4_0; they live in $BENCH_DIR and are reused when present;
#   3. measures the machine's ceilings with bench/ceilings.c (read bandwidth, int8 MAC/s,
#      fp32 FLOP/s on the same threads);
#   4. runs `localai bench --json` (the file mapped, then read into memory with --no-mmap)
#      and bench/llamacpp_bench.c (as configured by default, which repacks weights into
#      memory of its own, then with --no-repack, on the mapped file) (llama.cpp's prebuilt CPU
#      libraries from the npm package node-llama-cpp@3.22.1, opened with dlopen) alternately
#      on each file with the same threads, prompt, generation length, n_batch and token ids;
#   5. writes the results section of docs/PERFORMANCE.md (between its markers; the rest of
#      the page is kept) and keeps every JSON line in $BENCH_DIR/results/.
#
# Needs: meson, ninja, a C compiler, python3, git, and llama.cpp from npm, outside the tree:
#   mkdir -p /work/llamacpp-ref && cd /work/llamacpp-ref && npm install node-llama-cpp@3.22.1
# Environment:
#   BENCH_DIR      models and results (default: bench-models beside the repository); never
#                  inside the repository's tracked files
#   LLAMACPP_DIR   the folder where node-llama-cpp was installed (default: llamacpp-ref
#                  beside the repository)
#   BENCH_TIMEOUT  seconds allowed for one benchmark process (default 3600)
#
# A benchmark never fails a build: nothing runs this in CI. A failed run is reported in the
# table and the script goes on.
set -u
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
BENCH_DIR=${BENCH_DIR:-$(cd "$ROOT/.." && pwd)/bench-models}
LLAMACPP_DIR=${LLAMACPP_DIR:-$(cd "$ROOT/.." && pwd)/llamacpp-ref}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-3600}
COMMAND="bash bench/compare.sh${*:+ $*}"

THREADS=2 P=512 N=128 REPS=2 NBATCH=512 ROUNDS=3
OURS_P='' OURS_N='' OURS_R=''
MODELS=small-q4_0,1b-q4_0,1b-q8_0,1b-q4_k_m,1b-f16
DOC=$ROOT/docs/PERFORMANCE.md
WRITE_DOC=1
REPORT=''

die() { echo "bench/compare.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
    opt=$1
    case $opt in
        --no-doc) WRITE_DOC=0; shift; continue ;;
        -h|--help) sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    esac
    [ $# -ge 2 ] || die "$opt needs a value (see --help)"
    val=$2
    case $opt in
        -t) THREADS=$val ;;
        -p) P=$val ;;
        -n) N=$val ;;
        -r) REPS=$val ;;
        -b) NBATCH=$val ;;
        -R) ROUNDS=$val ;;
        --ours-p) OURS_P=$val ;;
        --ours-n) OURS_N=$val ;;
        --ours-r) OURS_R=$val ;;
        --models) MODELS=$val ;;
        --doc) DOC=$val ;;
        --report) REPORT=$val ;;
        *) die "unknown option $opt (see --help)" ;;
    esac
    shift 2
done
for v in THREADS P N REPS NBATCH ROUNDS; do
    is_uint "${!v}" || die "-${v}: '${!v}' is not a non-negative integer"
done
[ "$THREADS" -ge 1 ] && [ "$REPS" -ge 1 ] && [ "$NBATCH" -ge 1 ] && [ "$ROUNDS" -ge 1 ] ||
    die "-t, -r, -b and -R must be at least 1"
OURS_P=${OURS_P:-$P} OURS_N=${OURS_N:-$N} OURS_R=${OURS_R:-$REPS}
is_uint "$OURS_P" && is_uint "$OURS_N" && is_uint "$OURS_R" && [ "$OURS_R" -ge 1 ] ||
    die "--ours-p, --ours-n and --ours-r take integers (--ours-r at least 1)"
LIMITED=0
[ "$OURS_P/$OURS_N/$OURS_R" != "$P/$N/$REPS" ] && LIMITED=1

for tool in meson ninja cc python3 git; do
    command -v $tool > /dev/null || die "$tool is needed (apt-get install meson ninja-build gcc python3 git)"
done

# --- 5. the page: report RESULTS.jsonl renders the section and puts it into $DOC --------------
report() {
local results=$1 SECTION
SECTION=$(mktemp) || die "mktemp failed"
python3 - "$results" "$SECTION" << 'PY' || die "could not write the report"
import json, math, statistics, struct, sys

results, out_path = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(results) if l.strip()]
meta = next(l for l in lines if l["kind"] == "meta")
ceil = next((l for l in lines if l["kind"] == "ceilings"), {})
end = next((l for l in lines if l["kind"] == "end"), {})
runs = [l for l in lines if l["kind"] == "run"]
T, P, N, R = (int(meta[k]) for k in ("threads", "p", "n", "reps"))
OP, ON, OR = (int(meta[k]) for k in ("ours_p", "ours_n", "ours_r"))
NB, ROUNDS, LIMITED = int(meta["n_batch"]), int(meta["rounds"]), meta["limited"] == "1"

# --- what a token costs, from the GGUF header: bytes streamed and multiply-accumulates
# ggml type id -> (elements per block, bytes per block)
TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
         10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
         20: (32, 18), 23: (256, 136), 30: (1, 2)}
TYPE_NAMES = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0",
              10: "q2_K", 11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 20: "iq4_nl",
              23: "iq4_xs", 30: "bf16"}

def gguf_header(path):
    f = open(path, "rb")
    def u(fmt):
        return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]
    def s():
        return f.read(u("Q")).decode("utf-8", "replace")
    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
    def value(t):
        if t == 8: return s()
        if t == 9:
            at, n = u("I"), u("Q")
            if at in scalar and n > 64:  # long arrays: skip, keep the length
                f.seek(n * struct.calcsize(scalar[at]), 1)
                return n
            return [value(at) for _ in range(n)]
        return u(scalar[t])
    assert f.read(4) == b"GGUF"
    u("I")
    n_t, n_kv = u("Q"), u("Q")
    kv = {}
    for _ in range(n_kv):
        k = s()
        kv[k] = value(u("I"))
    tensors = {}
    for _ in range(n_t):
        name = s()
        dims = [u("Q") for _ in range(u("I"))]
        t = u("I")
        u("Q")
        tensors[name] = (dims, t)
    return kv, tensors

def nbytes(dims, t):
    per, size = TYPES[t]
    n = math.prod(dims)
    return n // per * size

def costs(path):
    kv, tensors = gguf_header(path)
    arch = kv.get("general.architecture", "llama")
    tied = "output.weight" not in tensors
    emb_dims, emb_t = tensors["token_embd.weight"]
    total = sum(nbytes(d, t) for d, t in tensors.values())
    row = nbytes([emb_dims[0]], emb_t)
    # tg streams every tensor once per token, except the embedding table, of which only
    # one row is read when it is not also the output matrix; tied, the output matmul reads
    # it whole (once: the one-row lookup is then counted in it)
    weights_read = total if tied else total - nbytes(emb_dims, emb_t) + row
    layer_macs = sum(math.prod(d) for n, (d, t) in tensors.items()
                     if n.startswith("blk.") and len(d) == 2)
    out_dims = (tensors.get("output.weight") or tensors["token_embd.weight"])[0]
    out_macs = math.prod(out_dims)
    n_layer = kv[arch + ".block_count"]
    n_head = kv[arch + ".attention.head_count"]
    n_head_kv = kv[arch + ".attention.head_count_kv"]
    n_embd = kv[arch + ".embedding_length"]
    hd = kv.get(arch + ".attention.key_length", n_embd // n_head)
    types = {}
    for n, (d, t) in tensors.items():
        if len(d) == 2:
            types[TYPE_NAMES.get(t, str(t))] = types.get(TYPE_NAMES.get(t, str(t)), 0) + 1
    return dict(tied=tied, total=total, weights_read=weights_read, layer_macs=layer_macs,
                out_macs=out_macs, n_layer=n_layer, n_head=n_head, n_head_kv=n_head_kv,
                hd=hd, file_bytes=__import__("os").path.getsize(path), types=types,
                float_weights=emb_t in (0, 1, 30) and all(t in (0, 1, 30) for d, t in tensors.values()))

def kv_bytes_per_tg_token(c, n):
    # each generated token reads the K and V cache (f16) of the tokens before it; from an
    # empty cache the average length over n steps is (n + 1) / 2
    return 2 * c["n_layer"] * c["n_head_kv"] * c["hd"] * 2 * (n + 1) / 2

def pp_macs_per_token(c, p):
    # every prompt token goes through every layer's matrices; the output matrix runs only
    # for the token whose logits are asked for, the last of each n_batch chunk
    chunks = math.ceil(p / NB)
    return c["layer_macs"] + chunks * c["out_macs"] / p

def attn_macs_per_token(c, p):
    # QK^T and AV of the causal attention: token i attends to i + 1 positions
    return 2 * c["n_layer"] * c["n_head"] * c["hd"] * (p + 1) / 2

# --- runs: the median over rounds of each run's median
def pick(engine, model, p, n):
    rs = [r for r in runs if r["engine"] == engine and r["bench_model"] == model
          and int(r.get("pp_tokens", r.get("p", -1))) == p and int(r.get("tg_tokens", r.get("n", -1))) == n]
    ok = [r for r in rs if not r.get("failed")]
    if not ok:
        return None
    agg = dict(ok[0])
    for k in ("pp_tps", "tg_tps", "load_ms", "peak_rss_mb"):
        vals = [r[k] for r in ok if r.get(k) is not None]
        agg[k] = statistics.median(vals) if vals else None
    agg["n_runs"] = len(ok)
    for k in ("pp_tps", "tg_tps"):
        vals = [r[k] for r in ok if r.get(k) is not None]
        agg[k + "_range"] = (min(vals), max(vals)) if vals else None
    return agg

def cell(a, k):
    """median, and the range over the rounds when there were several"""
    if not a:
        return "failed"
    v, rg = a.get(k), a.get(k + "_range")
    if v is None:
        return "—"
    if rg and a["n_runs"] > 1:
        return "%s (%s–%s)" % (fmt(v), fmt(rg[0]), fmt(rg[1]))
    return fmt(v)

def fmt(x, d=2):
    if x is None: return "—"
    if x >= 100: return "%.0f" % x
    if x >= 10: return "%.1f" % x
    return "%.*f" % (d, x)

def ratio(a, b):
    return "%.3f" % (a / b) if a and b else "—"

def pct(a, b):
    if not a or not b: return "—"
    v = 100 * a / b
    return ("%.1f%%" % v) if v >= 1 else ("%.2f%%" % v)

models = []
for r in runs:
    if r["bench_model"] not in models:
        models.append(r["bench_model"])
bw = ceil.get("read_gbs", 0) * 1e9
i8 = ceil.get("int8_gmacs", 0) * 1e9
f32 = ceil.get("fp32_gflops", 0) * 1e9
mib = 1024 * 1024

o = []
w = o.append
w("## Model throughput (CPU): liblocalai vs llama.cpp")
w("")
w("Made by `bench/compare.sh` on %s at commit `%s`:" % (meta["date"], meta["commit"]))
w("")
w("```sh")
w(meta["command"])
w("```")
w("")
w("Machine: %s (family %s, model %s), %s cores, %s GiB; flags %s; %s. Threads used: %d by "
  "both engines. Load average (1, 5, 15 min) %s at the start, %s at the end (%s); other "
  "work on the machine at the same time slows both engines." % (
      meta["cpu"], meta["cpu_family"], meta["cpu_model"], meta["cores"], meta["mem_gib"],
      meta["flags"].strip() or "—", meta["cc"], T, meta["loadavg"], end.get("loadavg", "?"),
      end.get("date", "?")))
w("")
w("llama.cpp: the prebuilt CPU libraries of node-llama-cpp %s (llama.cpp release %s, source "
  "bundle %s), `%s`, driven by `bench/llamacpp_bench.c` through dlopen; its CPU library is "
  "chosen by ggml for this CPU (%s)." % (
      meta["nlc_version"], meta["llama_tag"], meta["llama_commit"], meta["llama_lib"],
      next((r.get("cpu_level") for r in runs if r["engine"] == "llama.cpp" and r.get("cpu_level")), "?")))
ours_level = next((r.get("cpu_level") for r in runs if r["engine"] == "liblocalai" and r.get("cpu_level")), "?")
w("liblocalai: `localai bench`, CPU kernel level `%s`." % ours_level)
w("")
w("### Ceilings (%d threads, `bench/ceilings.c`)" % T)
w("")
if ceil.get("failed") or not ceil:
    w("The ceilings program failed; the ceiling columns are empty.")
else:
    w("| ceiling | value | how |")
    w("| --- | ---: | --- |")
    w("| read bandwidth | %.1f GB/s | %s loads streaming a %d MiB buffer, best of 10 |" % (
        ceil["read_gbs"], ceil["read_kind"], ceil["buffer_mib"]))
    w("| int8 dot product | %.0f GMAC/s | %s, 12 independent accumulators, best of 10 |" % (
        ceil["int8_gmacs"], ceil["int8_kind"]))
    w("| fp32 FMA | %.0f GFLOP/s | %s, 12 independent accumulators, best of 10 |" % (
        ceil["fp32_gflops"], ceil["fp32_kind"]))
w("")
if LIMITED:
    w("liblocalai ran shorter tests (pp%d, tg%d, %d repetition(s)) while its kernels are "
      "scalar; llama.cpp ran the same settings for the ratios below, and its pp%d/tg%d "
      "numbers are in the last table." % (OP, ON, OR, P, N))
else:
    w("Both engines: pp%d, tg%d, %d repetitions per run." % (P, N, R))
w("n_batch %d, n_ctx = p + n rounded up to 256, %d round(s) per model (ours mapped, ours "
  "read into memory, llama.cpp, llama.cpp without repacking, ours mapped, ...; the median "
  "over rounds of each run's median)." % (NB, ROUNDS))
w("")

info = {}
for m in models:
    path = next(r["model"] for r in runs if r["bench_model"] == m and "model" in r) \
        if any("model" in r for r in runs if r["bench_model"] == m) else None
    info[m] = costs(path) if path else None

w("### Throughput (tokens/s)")
w("")
w("Median over the rounds (in brackets: the lowest and highest round).")
w("")
w("| model | file | pp%d ours | pp%d llama.cpp | ours/llama.cpp | tg%d ours | tg%d llama.cpp | ours/llama.cpp |" % (OP, OP, ON, ON))
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for m in models:
    a, b, c = pick("liblocalai", m, OP, ON), pick("llama.cpp", m, OP, ON), info[m]
    size = "%.0f MiB" % (c["file_bytes"] / mib) if c else "—"
    w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        m, size, cell(a, "pp_tps"), cell(b, "pp_tps"), ratio(a and a["pp_tps"], b and b["pp_tps"]),
        cell(a, "tg_tps"), cell(b, "tg_tps"), ratio(a and a["tg_tps"], b and b["tg_tps"])))
    if a and b and a.get("tokens_hash") != b.get("tokens_hash"):
        w("")
        w("**Warning**: on %s the two engines decoded different token ids (hash %s vs %s)." % (
            m, a.get("tokens_hash"), b.get("tokens_hash")))
w("")

w("### Against the ceilings")
w("")
w("tg ceiling = read bandwidth / bytes read per generated token; pp ceiling = int8 MAC/s "
  "(fp32 FMA/s for the f16 file) / multiply-accumulates per prompt token. How both are counted "
  "is explained below the table.")
w("")
w("| model | bytes/token (tg%d) | tg ceiling | tg ours | tg llama.cpp | MAC/token (pp%d) | pp ceiling | pp ours | pp llama.cpp |" % (ON, OP))
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for m in models:
    a, b, c = pick("liblocalai", m, OP, ON), pick("llama.cpp", m, OP, ON), info[m]
    if not c:
        continue
    tg_bytes = c["weights_read"] + kv_bytes_per_tg_token(c, ON)
    tg_ceil = bw / tg_bytes if bw else None
    macs = pp_macs_per_token(c, OP) if OP else None
    peak = (f32 / 2) if c["float_weights"] else i8
    pp_ceil = peak / macs if peak and macs else None
    w("| %s | %.1f MiB | %s t/s | %s | %s | %.1f M | %s t/s (%s) | %s | %s |" % (
        m, tg_bytes / mib, fmt(tg_ceil), pct(a and a["tg_tps"], tg_ceil), pct(b and b["tg_tps"], tg_ceil),
        (macs or 0) / 1e6, fmt(pp_ceil), "fp32" if c["float_weights"] else "int8",
        pct(a and a["pp_tps"], pp_ceil), pct(b and b["pp_tps"], pp_ceil)))
w("")
c0 = next((info[m] for m in models if info[m] and m.startswith("1b")), None)
w("How a token is counted:")
w("")
w("- **tg bytes/token**: every tensor of the file is read once per generated token (weights "
  "stay in their block format; the f32 norm vectors are included). The embeddings are tied "
  "(no `output.weight`), so the output matmul streams the whole token_embd table once per "
  "token; the one-row lookup at the input is inside that count. (An untied file would count "
  "its output matrix and one embedding row.) Plus the KV cache (f16 K and V of every layer) "
  "of the tokens before it: from an empty cache, (n + 1) / 2 positions on average over tg%d." % ON)
w("- **pp MAC/token**: the weight matrices' multiply-accumulates: each prompt token goes "
  "through q, k, v, o, gate, up and down of every layer (ne0 x ne1 MACs each); the output "
  "matrix (n_embd x n_vocab) runs only for the token whose logits are asked for, the last of "
  "each n_batch chunk, so it adds ceil(p / n_batch) x n_embd x n_vocab / p per token. "
  "Attention's QK^T and AV (2 x n_layer x n_head x head_dim x (i + 1) for token i) run in "
  "f16/f32 and are left out of the int8 ceiling%s." % (
      ("; on the 1B shape they would add %.1f%% at pp%d" % (100 * attn_macs_per_token(c0, OP) / pp_macs_per_token(c0, OP), OP))
      if c0 and OP else ""))
if c0:
    w("- On the 1B shape: %.0f M MACs per token in the 16 layers, %.0f M in the output matrix "
      "(2048 x 128256)." % (c0["layer_macs"] / 1e6, c0["out_macs"] / 1e6))
w("")

read_rows = [m for m in models if pick("liblocalai-read", m, OP, ON)]
if read_rows:
    w("### Weights read into memory (`localai bench --no-mmap`)")
    w("")
    w("The same runs with the file read into memory (`use_mmap = 0`: 2 MiB-aligned anonymous "
      "memory advised for huge pages) instead of mapped in 4 KiB pages, in the same rounds. "
      "Generation streams the weights with fewer TLB misses and with hardware prefetchers "
      "that stop at page boundaries 512 times less often; the cost is the load (the kernel "
      "zeroes and the read copies every byte) and, outside the process, a second copy of "
      "the file besides the page cache.")
    w("")
    w("| model | pp%d read | ours/llama.cpp | tg%d read | ours/llama.cpp | tg / ceiling | load ms | peak RSS MiB |" % (OP, ON))
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in read_rows:
        a, b, c = pick("liblocalai-read", m, OP, ON), pick("llama.cpp", m, OP, ON), info[m]
        tg_ceil = bw / (c["weights_read"] + kv_bytes_per_tg_token(c, ON)) if c and bw else None
        w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            m, cell(a, "pp_tps"), ratio(a["pp_tps"], b and b["pp_tps"]), cell(a, "tg_tps"),
            ratio(a["tg_tps"], b and b["tg_tps"]), pct(a["tg_tps"], tg_ceil),
            fmt(a["load_ms"], 1), fmt(a["peak_rss_mb"], 1)))
    w("")

mapped_rows = [m for m in models if pick("llama.cpp-mapped", m, OP, ON)]
if mapped_rows:
    w("### Like for like: where the weights live")
    w("")
    w("By default llama.cpp copies the weight types it has repacked kernels for into memory "
      "of its own at load (the CPU_REPACK and AMX buffer types: `REPACK = 1` above), so its "
      "generation reads anonymous memory, as ours does with `--no-mmap`; the tables above pair "
      "each of our placements with that default. Here llama.cpp runs with "
      "`use_extra_bufts = false` (`llamacpp_bench --no-repack`): its kernels on the mapped file "
      "as it is, the placement of our default row.")
    w("")
    w("| model | pp%d ours mapped | pp%d llama.cpp mapped | ours/llama.cpp | tg%d ours mapped | tg%d llama.cpp mapped | ours/llama.cpp | load ms llama.cpp mapped | peak RSS MiB llama.cpp mapped |" % (OP, OP, ON, ON))
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in mapped_rows:
        a, b = pick("liblocalai", m, OP, ON), pick("llama.cpp-mapped", m, OP, ON)
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            m, cell(a, "pp_tps"), cell(b, "pp_tps"), ratio(a and a["pp_tps"], b["pp_tps"]),
            cell(a, "tg_tps"), cell(b, "tg_tps"), ratio(a and a["tg_tps"], b["tg_tps"]),
            fmt(b["load_ms"], 1), fmt(b["peak_rss_mb"], 1)))
    w("")

w("### Load time and memory")
w("")
w("Load = open the model + create a context, until the first decode can start (the files are "
  "memory-mapped by both; llama.cpp also repacks some weight types for its kernels here). Peak "
  "RSS = getrusage's ru_maxrss at the end of the process (mapped file pages that were touched "
  "count).")
w("")
w("| model | load ms ours | load ms llama.cpp | peak RSS MiB ours | peak RSS MiB llama.cpp |")
w("| --- | ---: | ---: | ---: | ---: |")
for m in models:
    a, b = pick("liblocalai", m, OP, ON), pick("llama.cpp", m, OP, ON)
    w("| %s | %s | %s | %s | %s |" % (m, fmt(a and a["load_ms"], 1), fmt(b and b["load_ms"], 1),
                                     fmt(a and a["peak_rss_mb"], 1), fmt(b and b["peak_rss_mb"], 1)))
w("")
if LIMITED:
    w("### llama.cpp at pp%d / tg%d (%d repetitions)" % (P, N, R))
    w("")
    w("| model | pp%d t/s | tg%d t/s | tg / ceiling |" % (P, N))
    w("| --- | ---: | ---: | ---: |")
    for m in models:
        b, c = pick("llama.cpp", m, P, N), info[m]
        tg_ceil = bw / (c["weights_read"] + kv_bytes_per_tg_token(c, N)) if c and bw else None
        w("| %s | %s | %s | %s |" % (m, cell(b, "pp_tps"), cell(b, "tg_tps"),
                                     pct(b and b["tg_tps"], tg_ceil)))
    w("")
w("### The models")
w("")
w("Random weights (`tests/gen/gen_model`, seed 1) in the shape of Llama-3.2-1B: n_embd 2048, "
  "16 layers, n_ff 8192, 32 heads, 8 KV heads, head_dim 64, vocabulary 128256 (the byte "
  "vocabulary plus synthetic tokens: `--vocab-size`), tied embeddings, rope base 500000 with "
  "Llama 3 rope factors, context 131072; F16, then Q4_0, Q8_0 and Q4_K_M by `localai quantize` "
  "(the same bytes as llama.cpp's quantizer). The small model: n_embd 512, 8 layers, n_ff 2048, "
  "8 heads, 2 KV heads, vocabulary 32000, Q4_0. Random weights run at the speed of trained ones: "
  "no kernel depends on the values. Tokens: the same deterministic pseudo-random ids for both "
  "engines (control and end-of-generation tokens skipped; both print a hash of them, compared "
  "above). tg starts from an empty cache, as llama-bench's tg, after one warm-up decode of "
  "min(p, n_batch) prompt tokens and one generation step.")
w("")
for m in models:
    c = info[m]
    if c:
        w("- %s: %.1f M parameters in %.1f MiB of tensors; matrices: %s." % (
            m, next((r["n_params"] for r in runs if r["bench_model"] == m and r.get("n_params")), 0) / 1e6,
            c["total"] / mib, ", ".join("%d %s" % (v, k) for k, v in sorted(c["types"].items()))))
w("")
w("Reproduce (about 15-20 minutes on 2 cores; the models are made once, ~5.4 GB, in "
  "`$BENCH_DIR`, default `../bench-models`):")
w("")
w("```sh")
w("mkdir -p ../llamacpp-ref && (cd ../llamacpp-ref && npm install node-llama-cpp@3.22.1)")
w("bash bench/compare.sh                  # pp512/tg128, 2 repetitions x 3 rounds, 2 threads")
w("bash bench/compare.sh --ours-p 64 --ours-n 16 --ours-r 1 -R 1   # when our kernels are slow")
w("bash bench/compare.sh --models small-q4_0 -p 128 -n 32 --no-doc  # a quick look")
w("```")
w("")
w("`localai bench -m MODEL [-p 512] [-n 128] [-t T] [-r REPS] [-b N_BATCH] [-c N_CTX] [--no-mmap] [--json]` "
  "measures one file the same way (`--help` explains each number).")
open(out_path, "w").write("\n".join(o) + "\n")
PY

BEGIN_MARK='<!-- begin: generated by bench/compare.sh; edits between these markers are overwritten -->'
END_MARK='<!-- end: generated by bench/compare.sh -->'
if [ "$WRITE_DOC" = 0 ]; then
    cat "$SECTION"
    rm -f "$SECTION"
    return 0
fi
python3 - "$DOC" "$SECTION" "$BEGIN_MARK" "$END_MARK" << 'PY' || die "could not update $DOC"
import sys
doc, section, begin, end = sys.argv[1:5]
text = open(doc).read() if __import__("os").path.exists(doc) else "# Performance\n\n"
block = begin + "\n" + open(section).read().rstrip("\n") + "\n" + end + "\n"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    text = head + block + rest.split(end, 1)[1].lstrip("\n")
else:
    # before the first section after the page's introduction
    at = text.find("\n## ")
    text = (text + "\n" + block) if at < 0 else text[:at + 1] + block + "\n" + text[at + 1:]
open(doc, "w").write(text)
PY
rm -f "$SECTION"
say "wrote $DOC"
}

if [ -n "$REPORT" ]; then
    report "$REPORT"
    exit 0
fi

# --- llama.cpp from the npm package -------------------------------------------------------
case $(uname -m) in
    x86_64) NPM_ARCH=linux-x64 ;;
    aarch64) NPM_ARCH=linux-arm64 ;;
    *) die "no prebuilt llama.cpp CPU libraries for $(uname -m) in node-llama-cpp" ;;
esac
NPM_HINT="install it with: mkdir -p $LLAMACPP_DIR && cd $LLAMACPP_DIR && npm install node-llama-cpp@3.22.1 (or set LLAMACPP_DIR)"
NLC=$LLAMACPP_DIR/node_modules/node-llama-cpp
BINS=$LLAMACPP_DIR/node_modules/@node-llama-cpp/$NPM_ARCH/bins/$NPM_ARCH
[ -f "$NLC/package.json" ] || die "node-llama-cpp is not in $LLAMACPP_DIR; $NPM_HINT"
LIBLLAMA=
for f in "$BINS"/libllama*.so; do
    case $f in *common*) ;; *) [ -f "$f" ] && LIBLLAMA=$f && break ;; esac
done
[ -n "$LIBLLAMA" ] || die "no libllama*.so in $BINS (the prebuilt CPU package @node-llama-cpp/$NPM_ARCH); $NPM_HINT"
BUNDLE=$NLC/llama/gitRelease.bundle
[ -f "$BUNDLE" ] || die "$BUNDLE (llama.cpp's source, for its headers) is missing; $NPM_HINT"
NLC_VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$NLC/package.json")
LLAMA_TAG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("tag", "?"))' \
    "$NLC/llama/llama.cpp.info.json" 2> /dev/null || echo "?")

# --- 1. build ------------------------------------------------------------------------------
say "building liblocalai (release) in $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" --buildtype=release > "$BUILD.setup.log" 2>&1 ||
        { cat "$BUILD.setup.log" >&2; die "meson setup failed"; }
    rm -f "$BUILD.setup.log"
fi
ninja -C "$BUILD" tools/localai tests/model/gen_model bench/ceilings > /dev/null ||
    die "the build failed (ninja -C $BUILD shows why)"
LOCALAI=$BUILD/tools/localai
GEN=$BUILD/tests/model/gen_model
CEILINGS=$BUILD/bench/ceilings

# llama.cpp's headers come out of the source bundle inside the npm package (nothing of
# llama.cpp is copied into the repository); the harness is built against them and opens
# the prebuilt libraries at run time.
LLH=$BUILD/llamacpp
HARNESS=$LLH/llamacpp_bench
# (git archive dates the files by the commit, so a stamp file records the extraction)
if [ ! -f "$LLH/extracted" ] || [ "$BUNDLE" -nt "$LLH/extracted" ]; then
    say "extracting llama.cpp headers from $BUNDLE"
    rm -rf "$LLH/git" "$LLH/src" && mkdir -p "$LLH/src" &&
        git init -q --bare "$LLH/git" &&
        git --git-dir="$LLH/git" fetch -q "$BUNDLE" HEAD &&
        git --git-dir="$LLH/git" archive FETCH_HEAD include ggml/include | tar -x -C "$LLH/src" &&
        touch "$LLH/extracted" || die "could not read llama.cpp's headers from $BUNDLE"
fi
LLAMA_COMMIT=$(git --git-dir="$LLH/git" rev-parse --short FETCH_HEAD 2> /dev/null || echo "?")
if [ ! -x "$HARNESS" ] || [ "$ROOT/bench/llamacpp_bench.c" -nt "$HARNESS" ] ||
   [ "$LLH/extracted" -nt "$HARNESS" ]; then
    cc -std=c11 -O2 -Wall -Wextra -I"$LLH/src/include" -I"$LLH/src/ggml/include" \
        "$ROOT/bench/llamacpp_bench.c" -ldl -o "$HARNESS" || die "could not build bench/llamacpp_bench.c"
fi

# --- 2. models -----------------------------------------------------------------------------
mkdir -p "$BENCH_DIR/results" || die "cannot create $BENCH_DIR"
case $(cd "$BENCH_DIR" && pwd)/ in
    "$ROOT"/build*/*) ;;
    "$ROOT"/*) die "BENCH_DIR=$BENCH_DIR is inside the repository; use a folder outside it or under build-bench/" ;;
esac
LLAMA1B_ARGS="--arch llama --type f16 --embd 2048 --layers 16 --heads 32 --kv-heads 8 --ff 8192 --ctx 131072 --vocab-size 128256 --tied --rope-base 500000 --llama3-rope 32,1,4,8192 --seed 1"
SMALL_ARGS="--arch llama --type f16 --embd 512 --layers 8 --heads 8 --kv-heads 2 --ff 2048 --ctx 131072 --vocab-size 32000 --tied --rope-base 500000 --llama3-rope 32,1,4,8192 --seed 1"

# make_f16 NAME ARGS: regenerated when absent or made with other arguments
make_f16() {
    local out=$BENCH_DIR/$1-f16.gguf
    if [ -f "$out" ] && [ "$(cat "$out.args" 2> /dev/null)" = "$2" ]; then return 0; fi
    say "generating $out"
    # shellcheck disable=SC2086
    "$GEN" $2 --out "$out" && echo "$2" > "$out.args" || { rm -f "$out" "$out.args"; return 1; }
}
# make_quant NAME TYPE: from NAME-f16.gguf, again when the f16 file is newer
make_quant() {
    local src=$BENCH_DIR/$1-f16.gguf out=$BENCH_DIR/$1-$2.gguf
    if [ -f "$out" ] && [ "$out" -nt "$src" ]; then return 0; fi
    say "quantizing $src to $2"
    "$LOCALAI" quantize "$src" "$out" "$2" > /dev/null
}

declare -A FILE
for m in ${MODELS//,/ }; do
    case $m in
        small-q4_0) make_f16 small "$SMALL_ARGS" && make_quant small q4_0 && FILE[$m]=$BENCH_DIR/small-q4_0.gguf ;;
        1b-f16) make_f16 llama1b "$LLAMA1B_ARGS" && FILE[$m]=$BENCH_DIR/llama1b-f16.gguf ;;
        1b-q4_0) make_f16 llama1b "$LLAMA1B_ARGS" && make_quant llama1b q4_0 && FILE[$m]=$BENCH_DIR/llama1b-q4_0.gguf ;;
        1b-q8_0) make_f16 llama1b "$LLAMA1B_ARGS" && make_quant llama1b q8_0 && FILE[$m]=$BENCH_DIR/llama1b-q8_0.gguf ;;
        1b-q4_k_m) make_f16 llama1b "$LLAMA1B_ARGS" && make_quant llama1b q4_K_M && FILE[$m]=$BENCH_DIR/llama1b-q4_K_M.gguf ;;
        *) die "unknown model '$m' (small-q4_0, 1b-q4_0, 1b-q8_0, 1b-q4_k_m, 1b-f16)" ;;
    esac
    [ -n "${FILE[$m]:-}" ] || die "could not make the model $m"
done

# --- 3. ceilings and the machine -------------------------------------------------------------
STAMP=$(date -u +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results/$STAMP.jsonl
: > "$RESULTS"
meta() { python3 -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"; }
COMMIT=$(git -C "$ROOT" describe --always --dirty --abbrev=12 2> /dev/null || echo "unknown")
meta kind meta date "$(date -u '+%Y-%m-%d %H:%M UTC')" commit "$COMMIT" command "$COMMAND" \
    cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    cpu_family "$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2- | tr -d ' ')" \
    cpu_model "$(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2- | tr -d ' ')" \
    cores "$(nproc)" mem_gib "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)" \
    flags "$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16|amx_int8)$' | tr '\n' ' ')" \
    loadavg "$(cut -d' ' -f1-3 /proc/loadavg)" cc "$(cc --version | head -n 1)" \
    threads "$THREADS" p "$P" n "$N" reps "$REPS" n_batch "$NBATCH" rounds "$ROUNDS" \
    ours_p "$OURS_P" ours_n "$OURS_N" ours_r "$OURS_R" limited "$LIMITED" \
    nlc_version "$NLC_VERSION" llama_tag "$LLAMA_TAG" llama_commit "$LLAMA_COMMIT" \
    llama_lib "${LIBLLAMA#"$LLAMACPP_DIR"/}" >> "$RESULTS"

say "ceilings with $THREADS threads"
"$CEILINGS" -t "$THREADS" --json | sed 's/^{/{"kind": "ceilings", /' | tee -a "$RESULTS" >&2 ||
    echo '{"kind": "ceilings", "failed": true}' >> "$RESULTS"

# --- 4. the runs -------------------------------------------------------------------------------
# run ENGINE MODEL FILE P N R: one JSON line tagged with the model name (or a failure line)
run() {
    local engine=$1 model=$2 file=$3 p=$4 n=$5 r=$6 out rc
    if [ "$engine" = liblocalai ]; then
        out=$(timeout "$BENCH_TIMEOUT" "$LOCALAI" bench -m "$file" -p "$p" -n "$n" -r "$r" \
            -t "$THREADS" -b "$NBATCH" --json 2> "$BUILD/last-run.log")
    elif [ "$engine" = liblocalai-read ]; then # the file read into memory (huge pages)
        out=$(timeout "$BENCH_TIMEOUT" "$LOCALAI" bench -m "$file" -p "$p" -n "$n" -r "$r" \
            -t "$THREADS" -b "$NBATCH" --no-mmap --json 2> "$BUILD/last-run.log")
        out=${out/\"engine\": \"liblocalai\"/\"engine\": \"liblocalai-read\"}
    elif [ "$engine" = llama.cpp-mapped ]; then # llama.cpp on the mapped file, no repacked copies
        out=$(timeout "$BENCH_TIMEOUT" "$HARNESS" --lib "$LIBLLAMA" -m "$file" -p "$p" -n "$n" \
            -r "$r" -t "$THREADS" -b "$NBATCH" --no-repack 2> "$BUILD/last-run.log")
        out=${out/\"engine\": \"llama.cpp\"/\"engine\": \"llama.cpp-mapped\"}
    else
        out=$(timeout "$BENCH_TIMEOUT" "$HARNESS" --lib "$LIBLLAMA" -m "$file" -p "$p" -n "$n" \
            -r "$r" -t "$THREADS" -b "$NBATCH" 2> "$BUILD/last-run.log")
    fi
    rc=$?
    if [ $rc -ne 0 ] || [ "${out:0:1}" != "{" ]; then
        echo "   $engine failed (exit $rc): $(tail -n 3 "$BUILD/last-run.log" | tr '\n' ' ')" >&2
        meta kind run engine "$engine" bench_model "$model" failed "exit $rc" p "$p" n "$n" >> "$RESULTS"
        return
    fi
    echo "{\"kind\": \"run\", \"bench_model\": \"$model\", ${out:1}" >> "$RESULTS"
    echo "   $engine p$p n$n: $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("pp %s t/s, tg %s t/s" % (d["pp_tps"], d["tg_tps"]))' "$out")" >&2
}

for m in ${MODELS//,/ }; do
    for ((round = 1; round <= ROUNDS; round++)); do
        say "$m round $round/$ROUNDS"
        run liblocalai "$m" "${FILE[$m]}" "$OURS_P" "$OURS_N" "$OURS_R"
        run liblocalai-read "$m" "${FILE[$m]}" "$OURS_P" "$OURS_N" "$OURS_R"
        run llama.cpp "$m" "${FILE[$m]}" "$OURS_P" "$OURS_N" "$OURS_R"
        run llama.cpp-mapped "$m" "${FILE[$m]}" "$OURS_P" "$OURS_N" "$OURS_R"
        [ "$LIMITED" = 1 ] && run llama.cpp "$m" "${FILE[$m]}" "$P" "$N" "$REPS"
    done
done
meta kind end loadavg "$(cut -d' ' -f1-3 /proc/loadavg)" date "$(date -u '+%Y-%m-%d %H:%M UTC')" >> "$RESULTS"
say "raw results: $RESULTS"
report "$RESULTS"
