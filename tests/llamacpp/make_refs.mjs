// make_refs.mjs - makes the committed llama.cpp references in refs/ (run by hand, not by CI).
//
// usage: node tests/llamacpp/make_refs.mjs GENERATOR|--shared-only [--only NAME,NAME] [--workdir DIR]
//                                        [--quantizer LOCALAI]
//   GENERATOR  the project's random-weight model generator (build/tests/model/gen_model)
//   LOCALAI    the localai tool whose `quantize` makes the quant-* models (default: the
//              build's tools/localai beside GENERATOR's tests/model)
// The real models of ../shared (SHARED below) are always done; set LOCALAI_SHARED_DIR
// when ../shared is elsewhere.
// For every architecture x weight type: generate the model, evaluate a fixed prompt with
// llama.cpp (node-llama-cpp, CPU, F16 KV cache, its defaults) and with the exact float64
// reference (exact_f64.mjs), and write refs/NAME.json with llama.cpp's logits at a few
// positions, the model's hash, and tol = max(1e-3, 2 * nrmse(llama.cpp, exact)).
// Needs node-llama-cpp (npm install node-llama-cpp in tests/llamacpp or /work/llamacpp-ref).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import url from "node:url";
import { exactLogits, nrmse } from "./exact_f64.mjs";
import { openLlama, referenceLogits } from "./ref_logits.mjs";

const here = path.dirname(url.fileURLToPath(import.meta.url));
export const ARCHS = ["llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"];
export const TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
    "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"];
const N_TOKENS = 12;
const POSITIONS = [2, 7, 11];
// llama.cpp's own distance to the exact evaluation is at most a few percent (the issue
// measured 1.5-3.5% for quantized weights). Far more means the exact reference and
// llama.cpp disagree about the model itself: stop rather than commit a loose tolerance.
const MAX_LLAMA_EXACT = 0.08;

// Real models in ../shared, compared at every position of a fixed prompt.
const SHARED = [
    { name: "shared-stories260k", file: "models/stories260K.gguf", tokens: [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 400, 428] },
    // llama-2-tiny-random (32000 tokens) would be 2 MB here; shared/reference has its last
    // position, and the generated F16 models cover its weight type.
];

// Shapes per architecture: every matrix row is a multiple of 256 (the K-quant block), and
// together they cover GQA ratios 2, 4 and 1 (MHA), head_dim != n_embd / n_head (qwen3,
// gemma), sliding windows shorter than the prompt (gemma2 every other layer, gemma3 five
// layers in six, with a sixth, global layer on another rope base), tied embeddings.
const SHAPES = {
    llama: ["--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2"],
    qwen2: ["--embd", "256", "--ff", "512", "--heads", "8", "--kv-heads", "2"],
    qwen3: ["--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "1", "--head-dim", "128"],
    phi3: ["--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "4", "--endoftext"],
    gemma2: ["--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2", "--head-dim", "128",
        "--swa", "6", "--tied"],
    gemma3: ["--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "1", "--head-dim", "64",
        "--layers", "6", "--swa", "4", "--rope-base", "1000000", "--tied"],
};

// Rope variants (F32 weights, so the tolerance is the tightest): every rope scaling of
// llama.cpp these architectures meet in real files, on a longer prompt so that positions
// up to 31 turn the low frequencies too. Each names its generator arguments after
// --arch; the comments say which llama.cpp path it exercises.
const ROPE_N_TOKENS = 32;
const ROPE_POSITIONS = [3, 15, 31];
const SMALL = ["--embd", "128", "--ff", "256", "--heads", "2", "--kv-heads", "1"]; // head_dim 64
export const ROPE_VARIANTS = [
    // Llama 3.1/3.2: rope_freqs.weight from the "llama3" formula (factor 8, low 1, high 4,
    // original context 32, so the factors span 1..8 over the 32 pairs)
    { name: "rope-llama3", args: ["llama", ...SMALL, "--llama3-rope", "8,1,4,32"] },
    // linear scaling: every angle divided by the factor
    { name: "rope-linear-llama", args: ["llama", ...SMALL, "--rope-scaling", "linear", "--rope-factor", "4"] },
    // YaRN (Qwen2.5/Qwen3 long context): ramp between scaled and unscaled angles over the
    // pairs 0..13 (original context 256) and the mscale 1 + 0.1 ln 4 on q and k
    { name: "rope-yarn-qwen2", args: ["qwen2", ...SMALL, "--rope-scaling", "yarn", "--rope-factor", "4",
        "--rope-orig-ctx", "256"] },
    { name: "rope-yarn-qwen3", args: ["qwen3", ...SMALL, "--head-dim", "128", "--rope-scaling", "yarn",
        "--rope-factor", "8", "--rope-orig-ctx", "64", "--rope-base", "1000000"] },
    // Phi-3 LongRoPE: llama.cpp's context (256 after padding) exceeds the original 128, so
    // it takes the long factors; rope.scaling.attn_factor scales q and k
    { name: "rope-longrope-phi3-long", args: ["phi3", ...SMALL.slice(0, 6), "--kv-heads", "2", "--endoftext",
        "--longrope", "40", "--rope-orig-ctx", "128", "--rope-attn-factor", "1.19"] },
    // ... and here 4096 > 256: the short factors; with partial rotary (48 of 64, as Phi-4-mini)
    { name: "rope-longrope-phi3-short", args: ["phi3", ...SMALL.slice(0, 6), "--kv-heads", "2", "--endoftext",
        "--longrope", "40", "--rope-orig-ctx", "4096", "--rope-attn-factor", "1.19", "--rot", "48"] },
    // partial rotary alone: only the first n_rot dims of each head turn
    { name: "rope-partial-phi3", args: ["phi3", ...SMALL, "--endoftext", "--rot", "16"] },
    { name: "rope-partial-gemma2", args: ["gemma2", ...SMALL, "--swa", "8", "--rot", "32", "--tied"] },
    // Gemma 3 (4B+): linear factor 8 on the global layers only; local layers keep
    // rope.freq_base_swa unscaled
    { name: "rope-gemma3-linear", args: ["gemma3", ...SMALL, "--layers", "6", "--swa", "8",
        "--rope-base", "1000000", "--rope-base-swa", "20000", "--rope-scaling", "linear",
        "--rope-factor", "8", "--tied"] },
    // gemma2 reads rope.freq_base_swa too (llama.cpp's gemma2 loader)
    { name: "rope-base-swa-gemma2", args: ["gemma2", ...SMALL, "--swa", "8", "--rope-base-swa", "100",
        "--tied"] },
    // rope.scaling.attn_factor multiplies whatever the scaling type (llama_context)
    { name: "rope-attn-factor-qwen3", args: ["qwen3", ...SMALL, "--rope-attn-factor", "1.3"] },
    // llama with rope.scaling.type longrope loads long/short factors too (llama.cpp's
    // llama loader); 256 > 128: the long ones
    { name: "rope-longrope-llama", args: ["llama", ...SMALL, "--rope-scaling", "longrope", "--longrope", "40",
        "--rope-orig-ctx", "128", "--rope-attn-factor", "1.19"] },
    // Not rope: phi3's fused QKV with a single KV head (its K and V views are [head_dim, 1,
    // n_tokens] with a token stride of the whole fused row; the main grid has n_kv = n_head)
    { name: "phi3-fused-qkv-1kv", args: ["phi3", ...SMALL, "--endoftext"] },
];

// Beyond the grid, what downloaded files and other models meet: { name, args (arch, then
// generator arguments), src (generator --type, default f32), quant (a `localai quantize`
// type applied to the generated file, as users make real files: per-tensor mixes, q6_K
// output, quantized token_embd, fallbacks where rows are not multiples of 256), n (prompt
// tokens, default 12), positions (default 2, 7, 11), n_batch (our test decodes the prompt
// in chunks of that many tokens; llama.cpp decodes it in one), n_threads (ours; default 2) }.
const QUANTS = ["Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0"];
const EVERY4 = (n) => Array.from({ length: n / 4 }, (_, i) => 4 * i + 3);
export const EXTRA_VARIANTS = [
    // every architecture x the common download types, from F32 or F16 files (rows of 256)
    ...ARCHS.flatMap((arch, ai) => QUANTS.map((q) => ({
        name: `quant-${arch}-${q.toLowerCase()}`, args: [arch, ...SHAPES[arch]],
        src: ai % 2 ? "f16" : "f32", quant: q,
    }))),
    // rows of 320 and 640 (not multiples of 256): llama.cpp's quantize falls back to
    // q5_0/q5_1/q8_0 per tensor
    ...["Q4_K_M", "Q5_K_M", "Q6_K"].map((q) => ({
        name: `quant-rows320-llama-${q.toLowerCase()}`, src: "f16", quant: q,
        args: ["llama", "--embd", "320", "--ff", "640", "--heads", "5", "--kv-heads", "1"],
    })),
    { name: "quant-rows320-gemma3-q4_k_m", src: "f32", quant: "Q4_K_M",
        args: ["gemma3", "--embd", "320", "--ff", "640", "--heads", "4", "--kv-heads", "2", "--head-dim", "80",
            "--swa", "4", "--tied"] },
    // Qwen2.5-0.5B's ratios (n_embd 896, 14 heads, 2 KV heads, head_dim 64, n_ff 4864), one layer
    { name: "qwen25-05b-f16", src: "f16", args: ["qwen2", "--embd", "896", "--ff", "4864", "--heads", "14",
        "--kv-heads", "2", "--layers", "1"] },
    { name: "qwen25-05b-q4_k_m", src: "f16", quant: "Q4_K_M", args: ["qwen2", "--embd", "896", "--ff", "4864",
        "--heads", "14", "--kv-heads", "2", "--layers", "1"] },
    { name: "qwen25-05b-q8_0", src: "f16", quant: "Q8_0", args: ["qwen2", "--embd", "896", "--ff", "4864",
        "--heads", "14", "--kv-heads", "2", "--layers", "1"] },
    // head_dim 64, 80, 96, 128, 256
    { name: "hd80-llama", args: ["llama", "--embd", "320", "--ff", "512", "--heads", "4", "--kv-heads", "2"] },
    { name: "hd96-phi3", args: ["phi3", "--embd", "384", "--ff", "512", "--heads", "4", "--kv-heads", "4", "--endoftext"] },
    { name: "hd128-llama-q4_k", src: "q4_K", args: ["llama", "--embd", "256", "--ff", "512", "--heads", "2", "--kv-heads", "2"] },
    { name: "hd256-gemma2", args: ["gemma2", "--embd", "256", "--ff", "512", "--heads", "2", "--kv-heads", "1",
        "--head-dim", "256", "--swa", "6", "--tied"] },
    { name: "hd256-gemma3-q8_0", src: "q8_0", args: ["gemma3", "--embd", "256", "--ff", "512", "--heads", "4",
        "--kv-heads", "2", "--head-dim", "256", "--swa", "4", "--tied"] },
    // GQA 8:1 and a single KV head
    { name: "gqa8-llama", args: ["llama", "--embd", "512", "--ff", "512", "--heads", "8", "--kv-heads", "1"] },
    { name: "gqa8-qwen2-f16", src: "f16", args: ["qwen2", "--embd", "512", "--ff", "512", "--heads", "8", "--kv-heads", "1"] },
    { name: "gqa8-qwen3", args: ["qwen3", "--embd", "256", "--ff", "512", "--heads", "8", "--kv-heads", "1", "--head-dim", "64"] },
    { name: "gqa8-gemma2", args: ["gemma2", "--embd", "256", "--ff", "512", "--heads", "8", "--kv-heads", "1",
        "--head-dim", "64", "--swa", "6", "--tied"] },
    { name: "gqa8-gemma3-q4_0", src: "q4_0", args: ["gemma3", "--embd", "256", "--ff", "512", "--heads", "8", "--kv-heads", "1",
        "--head-dim", "32", "--swa", "4", "--tied"] },
    { name: "kv1-llama-q6_k", src: "q6_K", args: ["llama", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "1"] },
    { name: "kv1-qwen2", args: ["qwen2", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "1"] },
    { name: "kv1-gemma2", args: ["gemma2", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "1",
        "--head-dim", "64", "--swa", "6", "--tied"] },
    // n_embd not a multiple of 32 (F32, F16, BF16 rows of any length)
    { name: "embd200-llama", args: ["llama", "--embd", "200", "--ff", "300", "--heads", "4", "--kv-heads", "2"] },
    { name: "embd200-qwen2-f16", src: "f16", args: ["qwen2", "--embd", "200", "--ff", "300", "--heads", "4", "--kv-heads", "1"] },
    { name: "embd200-gemma3-bf16", src: "bf16", args: ["gemma3", "--embd", "200", "--ff", "300", "--heads", "4",
        "--kv-heads", "2", "--head-dim", "50", "--swa", "4", "--tied"] },
    { name: "embd200-qwen3-f16", src: "f16", args: ["qwen3", "--embd", "200", "--ff", "300", "--heads", "2",
        "--kv-heads", "1", "--head-dim", "64"] },
    // gemma3 with 12 layers (global at 5 and 11), a 40-token prompt over a window of 8,
    // decoded 7 tokens at a time
    { name: "gemma3-12l-swa8-batch7", n: 40, positions: EVERY4(40), n_batch: 7,
        args: ["gemma3", "--embd", "128", "--ff", "256", "--heads", "2", "--kv-heads", "1", "--layers", "12",
            "--swa", "8", "--rope-base", "1000000", "--tied"] },
    // query_pre_attn_scalar = n_embd / n_head != head_dim: llama.cpp takes it for gemma2 of
    // 46 layers and gemma3 of 62 (the 27B models)
    { name: "gemma2-46l-qpas", args: ["gemma2", "--embd", "64", "--ff", "128", "--heads", "2", "--kv-heads", "1",
        "--head-dim", "48", "--layers", "46", "--swa", "6", "--tied"] },
    { name: "gemma3-62l-qpas", args: ["gemma3", "--embd", "64", "--ff", "128", "--heads", "2", "--kv-heads", "1",
        "--head-dim", "48", "--layers", "62", "--swa", "4", "--tied"] },
    // many thin layers
    { name: "llama-12l-q8_0", src: "q8_0", args: ["llama", "--embd", "64", "--ff", "128", "--heads", "2",
        "--kv-heads", "1", "--layers", "12"] },
    // prompts longer than n_batch, many compared positions
    { name: "llama-48tok-batch7", n: 48, positions: EVERY4(48), n_batch: 7, src: "f16",
        args: ["llama", "--embd", "128", "--ff", "256", "--heads", "4", "--kv-heads", "2"] },
    { name: "gemma2-48tok-batch5", n: 48, positions: EVERY4(48), n_batch: 5,
        args: ["gemma2", "--embd", "128", "--ff", "256", "--heads", "2", "--kv-heads", "1", "--head-dim", "64",
            "--swa", "8", "--tied"] },
    { name: "qwen3-60tok-batch16-q4_k_m", n: 60, positions: EVERY4(60), n_batch: 16, quant: "Q4_K_M",
        args: ["qwen3", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "1", "--head-dim", "128"] },
    { name: "phi3-40tok-batch9", n: 40, positions: EVERY4(40), n_batch: 9,
        args: ["phi3", "--embd", "128", "--ff", "256", "--heads", "2", "--kv-heads", "2", "--endoftext"] },
    // (appended after the above so that their seeds stay)
    // tied embeddings outside gemma (Qwen2.5-0.5B, Llama 3.2 1B, SmolLM): the quantizer
    // treats token_embd as the output (q6_K, or q8_0 on rows of 896)
    { name: "qwen25-05b-tied-q4_k_m", src: "f16", quant: "Q4_K_M", args: ["qwen2", "--embd", "896", "--ff", "4864",
        "--heads", "14", "--kv-heads", "2", "--layers", "1", "--tied"] },
    { name: "tied-llama-q4_0", quant: "Q4_0", args: ["llama", ...SHAPES.llama, "--tied"] },
    { name: "tied-qwen3-q8_0", src: "f16", quant: "Q8_0", args: ["qwen3", ...SHAPES.qwen3, "--tied"] },
    // the other types of our quantizer
    ...["Q4_K_S", "Q5_K_S", "Q4_1", "Q5_0", "Q5_1"].map((q, i) => ({
        name: `quant-${ARCHS[i]}-${q.toLowerCase()}`, args: [ARCHS[i], ...SHAPES[ARCHS[i]]], quant: q,
    })),
    // attention.sliding_window on architectures llama.cpp runs without a window (phi3: its
    // loader reads and drops it; llama, qwen2: not read)
    ...["phi3", "qwen2", "llama"].map((arch) => ({
        name: `nowindow-${arch}`, n: 16, positions: [3, 9, 15],
        args: [arch, ...SMALL, "--swa", "4", ...(arch === "phi3" ? ["--endoftext"] : [])],
    })),
    // one long batch (tiles of 32/64/128 rows and keys); odd thread counts
    { name: "llama-130tok", n: 130, positions: [0, 31, 63, 64, 100, 127, 128, 129], src: "f16", n_threads: 3,
        args: ["llama", "--embd", "128", "--ff", "256", "--heads", "4", "--kv-heads", "1"] },
    { name: "gemma2-100tok-q8_0", n: 100, positions: [5, 33, 66, 99], quant: "Q8_0", n_threads: 5,
        args: ["gemma2", "--embd", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2", "--head-dim", "64",
            "--swa", "16", "--tied"] },
    // other GQA ratios: 3 (llama 6:2), 5 (qwen3 10:2), 7 (qwen2 28:4 as Qwen2.5-7B), 4 on
    // phi3's fused QKV (8:2, as Phi-3-medium's 40:10), gemma3 2:1 with head_dim 256 (4B);
    // phi3 with separate q/k/v
    { name: "gqa3-llama", args: ["llama", "--embd", "384", "--ff", "512", "--heads", "6", "--kv-heads", "2"] },
    { name: "gqa5-qwen3-q6_k", quant: "Q6_K", args: ["qwen3", "--embd", "256", "--ff", "512", "--heads", "10",
        "--kv-heads", "2", "--head-dim", "32"] },
    { name: "gqa7-qwen2", args: ["qwen2", "--embd", "448", "--ff", "512", "--heads", "28", "--kv-heads", "4"] },
    { name: "gqa4-phi3-q4_k_m", quant: "Q4_K_M", args: ["phi3", "--embd", "256", "--ff", "512", "--heads", "8",
        "--kv-heads", "2", "--endoftext"] },
    { name: "gqa2-gemma3-hd256", src: "f16", args: ["gemma3", "--embd", "256", "--ff", "512", "--heads", "8",
        "--kv-heads", "4", "--head-dim", "256", "--swa", "4", "--layers", "7", "--tied"] },
    { name: "phi3-separate-qkv-q5_k_m", quant: "Q5_K_M", args: ["phi3", "--embd", "256", "--ff", "512",
        "--heads", "4", "--kv-heads", "2", "--separate-qkv", "--endoftext"] },
];

// The generator's command line for one model; "{out}" stands for the output path.
export function genArgs(arch, type, seed) {
    return ["--arch", arch, "--type", type.toLowerCase().replace("_k", "_K"), "--seed", String(seed),
        ...SHAPES[arch], "--out", "{out}"];
}

function fnv1a64(buf) {
    let h = 0xcbf29ce484222325n;
    const p = 0x100000001b3n, mask = (1n << 64n) - 1n;
    for (const b of buf) h = ((h ^ BigInt(b)) * p) & mask;
    return h.toString(16).padStart(16, "0");
}

// Prompt tokens: a fixed pseudo-random walk over the vocabulary (LCG), the same every run.
function promptTokens(nVocab, seed, n = N_TOKENS) {
    let x = (seed * 2654435761) >>> 0;
    const t = [];
    for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        t.push(x % nVocab);
    }
    return t;
}

async function main() {
    const args = process.argv.slice(2);
    if (args.length < 1) {
        console.error("usage: node make_refs.mjs GENERATOR|--shared-only [--only NAME,NAME] [--workdir DIR] [--quantizer LOCALAI]");
        process.exit(2);
    }
    const gen = args[0] === "--shared-only" ? null : path.resolve(args[0]);
    let only = null, quantizerPath = null, work = fs.mkdtempSync(path.join(os.tmpdir(), "llamacpp-refs-"));
    for (let i = 1; i < args.length; i++) {
        if (args[i] === "--only") only = new Set(args[++i].split(","));
        else if (args[i] === "--workdir") work = args[++i];
        else if (args[i] === "--quantizer") quantizerPath = path.resolve(args[++i]);
        else throw new Error("unknown argument " + args[i]);
    }
    const refsDir = path.join(here, "refs");
    fs.mkdirSync(refsDir, { recursive: true });
    const { llama } = await openLlama();
    const made = [];
    const sharedDir = process.env.LOCALAI_SHARED_DIR ?? path.join(here, "..", "..", "..", "shared");
    for (const m of SHARED) {
        if (only && !only.has(m.name)) continue;
        const file = path.join(sharedDir, m.file);
        const positions = m.tokens.map((_, i) => i);
        made.push(await makeRef(llama, m.name, file, m.tokens, positions, { shared_model: m.file }));
    }
    let seed = 0;
    for (const arch of gen ? ARCHS : []) {
        for (const type of TYPES) {
            seed++;
            const name = `${arch}-${type.toLowerCase()}`;
            if (only && !only.has(name)) continue;
            const gargs = genArgs(arch, type, seed);
            const out = path.join(work, name + ".gguf");
            execFileSync(gen, gargs.map((a) => (a === "{out}" ? out : a)), { stdio: "inherit" });
            const nVocab = exactLogits(out, [0], [0])[0].length;
            const tokens = promptTokens(nVocab, seed);
            made.push(await makeRef(llama, name, out, tokens, POSITIONS, { arch, type, gen_args: gargs }));
        }
    }
    for (const [i, v] of (gen ? ROPE_VARIANTS : []).entries()) {
        if (only && !only.has(v.name)) continue;
        const seed = 1001 + i;
        const gargs = ["--arch", v.args[0], "--seed", String(seed), ...v.args.slice(1), "--out", "{out}"];
        const out = path.join(work, v.name + ".gguf");
        execFileSync(gen, gargs.map((a) => (a === "{out}" ? out : a)), { stdio: "inherit" });
        const nVocab = exactLogits(out, [0], [0])[0].length;
        const tokens = promptTokens(nVocab, seed, ROPE_N_TOKENS);
        made.push(await makeRef(llama, v.name, out, tokens, ROPE_POSITIONS, { arch: v.args[0], type: "F32", gen_args: gargs }));
    }
    const quantizer = quantizerPath ?? (gen && path.join(path.dirname(gen), "..", "..", "tools", "localai"));
    for (const [i, v] of (gen ? EXTRA_VARIANTS : []).entries()) {
        if (only && !only.has(v.name)) continue;
        const seed = 2001 + i;
        const gargs = ["--arch", v.args[0], "--type", v.src ?? "f32", "--seed", String(seed), ...v.args.slice(1),
            "--out", "{out}"];
        const out = path.join(work, v.name + ".gguf"), src = path.join(work, v.name + "-src.gguf");
        execFileSync(gen, gargs.map((a) => (a === "{out}" ? (v.quant ? src : out) : a)), { stdio: "inherit" });
        const fields = { arch: v.args[0], type: (v.src ?? "f32").toUpperCase(), gen_args: gargs };
        if (v.quant) {
            // the same command the test runs (test_vs_llamacpp.c)
            execFileSync(quantizer, ["quantize", src, out, v.quant, "--threads", "1"], { stdio: "inherit" });
            fields.type = v.quant;
            fields.quantize = v.quant;
            fields.src_fnv1a64 = fnv1a64(fs.readFileSync(src));
        }
        if (v.n_batch) fields.n_batch = v.n_batch;
        if (v.n_threads) fields.n_threads = v.n_threads;
        const nVocab = exactLogits(out, [0], [0])[0].length;
        const tokens = promptTokens(nVocab, seed, v.n ?? N_TOKENS);
        made.push(await makeRef(llama, v.name, out, tokens, v.positions ?? POSITIONS, fields));
    }
    // The index lists every reference present (meson reads it to declare one test each).
    const all = fs.readdirSync(refsDir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    fs.writeFileSync(path.join(refsDir, "index.txt"), all.sort().join("\n") + "\n");
    console.log(`${made.length} references made; refs/index.txt lists ${all.length}`);
}

// Evaluates one model both ways and writes refs/NAME.json; returns NAME.
async function makeRef(llama, name, file, tokens, positions, fields) {
    const bytes = fs.readFileSync(file);
    const { n_vocab, rows, n_ctx, n_ctx_asked } = await referenceLogits(llama, file, tokens, positions);
    const exact = exactLogits(file, tokens, positions, n_ctx).map((a) => Array.from(a));
    if (exact[0].length !== n_vocab) throw new Error(`${name}: llama.cpp n_vocab ${n_vocab}, file ${exact[0].length}`);
    const e = nrmse(rows, exact);
    if (!(e <= MAX_LLAMA_EXACT))
        throw new Error(`${name}: llama.cpp is ${e} (nrmse) from the exact reference: investigate`);
    const tol = Math.max(1e-3, 2 * e);
    const ref = {
        name, ...fields, model_bytes: bytes.length, model_fnv1a64: fnv1a64(bytes),
        llama_cpp: "node-llama-cpp " + (await llamaVersion()) + ", CPU, F16 KV cache", n_ctx_asked, n_ctx, tokens,
        positions, n_vocab, nrmse_llama_exact: Number(e.toPrecision(4)), tol: Number(tol.toPrecision(4)),
        logits: rows.map((r) => r.map((v) => Number(v.toPrecision(7)))),
    };
    fs.writeFileSync(path.join(here, "refs", name + ".json"), JSON.stringify(ref) + "\n");
    console.log(`${name.padEnd(26)} llama.cpp vs exact f64: nrmse ${e.toExponential(3)}  tol ${tol.toExponential(3)}`);
    return name;
}

async function llamaVersion() {
    const pkg = ["", "/work/llamacpp-ref"].map((d) => path.join(d || here, "node_modules/node-llama-cpp/package.json"))
        .find((p) => fs.existsSync(p));
    return pkg ? JSON.parse(fs.readFileSync(pkg, "utf8")).version : "unknown";
}

// A command, and a module (check_exact.mjs reads ROPE_VARIANTS).
if (process.argv[1] && import.meta.url === url.pathToFileURL(process.argv[1]).href)
    main().catch((e) => { console.error(e?.stack ?? String(e)); process.exit(1); });
