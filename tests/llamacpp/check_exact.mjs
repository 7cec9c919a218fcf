// check_exact.mjs - validates the exact float64 reference (exact_f64.mjs) against llama.cpp
// itself: for each architecture it writes a small random F32 model (its own GGUF writer,
// independent of lib/ and of the project's generator) and compares all positions with
// llama.cpp run with an F32 KV cache, where llama.cpp rounds almost nothing. Measured:
// 1.3e-7 for llama, qwen2, qwen3, phi3; 7e-5..8e-5 for gemma2/gemma3, all of it from
// llama.cpp's GELU, which reads an F16 table (rounding GELU's input and output to F16 in
// the reference brings gemma to 2e-7 too). The gemma models use a sliding window (5)
// shorter than the prompt, so the window, softcapping and per-layer rope are exercised.
// Then, for each of the 14 non-F32 weight types, a llama model whose token embedding is
// random blocks of that type: llama.cpp dequantizes embedding rows exactly, so this
// checks gguf_f64.mjs's dequantizers (measured 1.2e-7..2.5e-7 for all of them).
// With the project's generator, also make_refs.mjs's rope variants (Llama 3.1 factors,
// linear, YaRN, LongRoPE long and short, partial rotary, freq_base_swa, attn_factor) on
// their 32-token prompts: measured 2e-7..5e-7, gemma 2e-4..4e-4 (the F16 GELU table).
// usage: node tests/llamacpp/check_exact.mjs [WORKDIR [GENERATOR]]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { exactLogits, nrmse } from "./exact_f64.mjs";
import { openLlama, referenceLogits } from "./ref_logits.mjs";
import { ROPE_VARIANTS } from "./make_refs.mjs";

function ggufWriter() {
    const parts = [];
    const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
    const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
    const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); parts.push(b); };
    const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };
    return { parts, u32, u64, f32, str };
}

// kv: [key, type, value]; types: "u32", "f32", "str", "bool", "arr_str", "arr_f32", "arr_i32"
function writeGguf(file, kvs, tensors) {
    const w = ggufWriter();
    w.u32(0x46554747); w.u32(3); w.u64(tensors.length); w.u64(kvs.length);
    for (const [k, t, v] of kvs) {
        w.str(k);
        if (t === "u32") { w.u32(4); w.u32(v); }
        else if (t === "f32") { w.u32(6); w.f32(v); }
        else if (t === "str") { w.u32(8); w.str(v); }
        else if (t === "bool") { w.u32(7); w.parts.push(Buffer.from([v ? 1 : 0])); }
        else if (t === "arr_str") { w.u32(9); w.u32(8); w.u64(v.length); v.forEach((s) => w.str(s)); }
        else if (t === "arr_f32") { w.u32(9); w.u32(6); w.u64(v.length); v.forEach((x) => w.f32(x)); }
        else if (t === "arr_i32") { w.u32(9); w.u32(5); w.u64(v.length); v.forEach((x) => { const b = Buffer.alloc(4); b.writeInt32LE(x); w.parts.push(b); }); }
    }
    let off = 0;
    const datas = [];
    for (const t of tensors) {
        w.str(t.name); w.u32(t.ne.length); t.ne.forEach((n) => w.u64(n)); w.u32(t.type ?? 0); w.u64(off);
        let b = t.raw;
        if (!b) {
            b = Buffer.alloc(t.data.length * 4);
            t.data.forEach((x, i) => b.writeFloatLE(x, 4 * i));
        }
        datas.push(b);
        off += Math.ceil(b.length / 32) * 32;
    }
    let head = Buffer.concat(w.parts);
    head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
    const body = datas.map((b) => Buffer.concat([b, Buffer.alloc((32 - (b.length % 32)) % 32)]));
    fs.writeFileSync(file, Buffer.concat([head, ...body]));
}

function rng(seed) {
    let x = seed >>> 0;
    return () => { // uniform in (-1, 1), then roughly normal by summing three
        let s = 0;
        for (let i = 0; i < 3; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; s += x / 2 ** 31 - 1; }
        return s / 1.7;
    };
}

// Random bytes in a block format, with every f16 scale field set to a sane value, so the
// tensor decodes to weights of about +-0.1 whatever the format.
const SCALE_FIELDS = { // type: [block bytes, elements, offsets of f16 scale fields]
    2: [18, 32, [0]], 3: [20, 32, [0, 2]], 6: [22, 32, [0]], 7: [24, 32, [0, 2]], 8: [34, 32, [0]],
    10: [84, 256, [80, 82]], 11: [110, 256, [108]], 12: [144, 256, [0, 2]], 13: [176, 256, [0, 2]],
    14: [210, 256, [208]], 20: [18, 32, [0]], 23: [136, 256, [0]],
};
function randomTensorBytes(type, n, next) {
    const byte = () => (next() >>> 5) & 255;
    if (type === 1 || type === 30) { // F16 / BF16: random normal numbers around 0.01..1
        const b = Buffer.alloc(2 * n);
        for (let i = 0; i < n; i++) {
            const sign = byte() & 1, e = -7 + (byte() % 7);
            const bits = type === 1 ? (sign << 15) | ((e + 15) << 10) | ((byte() << 2) & 1023)
                                    : (sign << 15) | ((e + 127) << 7) | (byte() & 127);
            b.writeUInt16LE(bits, 2 * i);
        }
        return b;
    }
    const [bs, qk, fields] = SCALE_FIELDS[type];
    const b = Buffer.alloc((n / qk) * bs);
    for (let i = 0; i < b.length; i++) b[i] = byte();
    for (let blk = 0; blk < n / qk; blk++)
        for (const f of fields) b.writeUInt16LE(((-9 + 15 + (byte() % 3)) << 10) | ((byte() << 2) & 1023), blk * bs + f);
    return b;
}

function lcg(seed) {
    let x = seed >>> 0;
    return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
}

// A llama model whose token embedding is stored in `type`: llama.cpp dequantizes embedding
// rows exactly (get_rows), so with F32 elsewhere and an F32 KV cache any disagreement with
// the exact reference is a dequantization bug in gguf_f64.mjs.
function makeEmbdModel(file, type, seed) {
    const n_vocab = 300, n_embd = 256;
    makeModel(file, "llama", seed, { n_embd, embdType: type, embdRaw: randomTensorBytes(type, n_embd * n_vocab, lcg(seed)) });
    return n_vocab;
}

function makeModel(file, arch, seed, opt = {}) {
    const r = rng(seed);
    const n_embd = opt.n_embd ?? 64, n_head = 4, n_head_kv = 2, hd = 16, n_ff = 96, n_layer = 2, n_vocab = 300;
    const rand = (n, s) => Array.from({ length: n }, () => r() * s);
    const norm = (n) => Array.from({ length: n }, () => 1 + 0.1 * r());
    const T = [];
    const add = (name, ne, data) => T.push({ name, ne, data });
    if (opt.embdRaw) T.push({ name: "token_embd.weight", ne: [n_embd, n_vocab], type: opt.embdType, raw: opt.embdRaw });
    else add("token_embd.weight", [n_embd, n_vocab], rand(n_embd * n_vocab, 1));
    add("output_norm.weight", [n_embd], norm(n_embd));
    const gemma = arch.startsWith("gemma");
    if (!gemma && arch !== "qwen3") add("output.weight", [n_embd, n_vocab], rand(n_embd * n_vocab, 0.2));
    for (let il = 0; il < n_layer; il++) {
        const p = `blk.${il}.`, s = 1 / Math.sqrt(n_embd);
        add(p + "attn_norm.weight", [n_embd], norm(n_embd));
        if (arch === "phi3") add(p + "attn_qkv.weight", [n_embd, (n_head + 2 * n_head_kv) * hd], rand(n_embd * (n_head + 2 * n_head_kv) * hd, s));
        else {
            add(p + "attn_q.weight", [n_embd, n_head * hd], rand(n_embd * n_head * hd, s));
            add(p + "attn_k.weight", [n_embd, n_head_kv * hd], rand(n_embd * n_head_kv * hd, s));
            add(p + "attn_v.weight", [n_embd, n_head_kv * hd], rand(n_embd * n_head_kv * hd, s));
        }
        if (arch === "qwen2") {
            add(p + "attn_q.bias", [n_head * hd], rand(n_head * hd, 0.1));
            add(p + "attn_k.bias", [n_head_kv * hd], rand(n_head_kv * hd, 0.1));
            add(p + "attn_v.bias", [n_head_kv * hd], rand(n_head_kv * hd, 0.1));
        }
        if (arch === "qwen3" || arch === "gemma3") {
            add(p + "attn_q_norm.weight", [hd], norm(hd));
            add(p + "attn_k_norm.weight", [hd], norm(hd));
        }
        add(p + "attn_output.weight", [n_head * hd, n_embd], rand(n_head * hd * n_embd, 1 / Math.sqrt(n_head * hd)));
        if (gemma) add(p + "post_attention_norm.weight", [n_embd], norm(n_embd));
        add(p + "ffn_norm.weight", [n_embd], norm(n_embd));
        if (arch === "phi3") add(p + "ffn_up.weight", [n_embd, 2 * n_ff], rand(n_embd * 2 * n_ff, s));
        else {
            add(p + "ffn_gate.weight", [n_embd, n_ff], rand(n_embd * n_ff, s));
            add(p + "ffn_up.weight", [n_embd, n_ff], rand(n_embd * n_ff, s));
        }
        add(p + "ffn_down.weight", [n_ff, n_embd], rand(n_ff * n_embd, 1 / Math.sqrt(n_ff)));
        if (gemma) add(p + "post_ffw_norm.weight", [n_embd], norm(n_embd));
    }
    const tokens = ["<unk>", "<s>", "</s>"], types = [2, 3, 3], scores = [0, 0, 0];
    for (let b = 0; b < 256; b++) { tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`); types.push(6); scores.push(0); }
    for (const sp of ["<|endoftext|>", "<|end|>", "<start_of_turn>", "<end_of_turn>"]) { tokens.push(sp); types.push(3); scores.push(0); }
    while (tokens.length < n_vocab) { tokens.push("\u2581w" + tokens.length); types.push(1); scores.push(-tokens.length); }
    const a = arch;
    const kvs = [
        ["general.architecture", "str", a], ["general.name", "str", "check-" + a],
        [`${a}.context_length`, "u32", 256], [`${a}.embedding_length`, "u32", n_embd],
        [`${a}.block_count`, "u32", n_layer], [`${a}.feed_forward_length`, "u32", n_ff],
        [`${a}.attention.head_count`, "u32", n_head], [`${a}.attention.head_count_kv`, "u32", n_head_kv],
        [`${a}.attention.key_length`, "u32", hd], [`${a}.attention.value_length`, "u32", hd],
        [`${a}.attention.layer_norm_rms_epsilon`, "f32", 1e-5], [`${a}.rope.freq_base`, "f32", 10000],
        [`${a}.rope.dimension_count`, "u32", hd],
        ["tokenizer.ggml.model", "str", "llama"], ["tokenizer.ggml.tokens", "arr_str", tokens],
        ["tokenizer.ggml.scores", "arr_f32", scores], ["tokenizer.ggml.token_type", "arr_i32", types],
        ["tokenizer.ggml.bos_token_id", "u32", 1], ["tokenizer.ggml.eos_token_id", "u32", 2],
        ["tokenizer.ggml.unknown_token_id", "u32", 0],
    ];
    if (gemma) kvs.push([`${a}.attention.sliding_window`, "u32", 5]); // smaller than the prompt: the window matters
    if (a === "gemma2") kvs.push([`${a}.attn_logit_softcapping`, "f32", 50], [`${a}.final_logit_softcapping`, "f32", 30]);
    if (a === "gemma3") kvs.push([`${a}.rope.freq_base`, "f32", 1e6]);
    // later entries win in readers that keep the last; keep one of each key
    const seen = new Set();
    const uniq = kvs.reverse().filter(([k]) => (seen.has(k) ? false : (seen.add(k), true))).reverse();
    writeGguf(file, uniq, T);
    return n_vocab;
}

const work = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), "check-exact-"));
const { llama } = await openLlama();
let worst = 0;
for (const [i, arch] of ["llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"].entries()) {
    const file = path.join(work, `check-${arch}.gguf`);
    const n_vocab = makeModel(file, arch, 1000 + i);
    const tokens = Array.from({ length: 10 }, (_, k) => (k * 37 + 5 + i) % n_vocab);
    const pos = tokens.map((_, k) => k);
    const exact = exactLogits(file, tokens, pos).map((a) => Array.from(a));
    const { rows } = await referenceLogits(llama, file, tokens, pos, 2, "F32");
    const e = nrmse(rows, exact);
    worst = Math.max(worst, e);
    console.log(`${arch.padEnd(7)} F32 weights, F32 KV: nrmse(llama.cpp, exact) = ${e.toExponential(3)}`);
}
const TYPE_IDS = { F16: 1, BF16: 30, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q2_K: 10, Q3_K: 11,
    Q4_K: 12, Q5_K: 13, Q6_K: 14, IQ4_NL: 20, IQ4_XS: 23 };
for (const [name, type] of Object.entries(TYPE_IDS)) {
    const file = path.join(work, `check-embd-${name}.gguf`);
    const n_vocab = makeEmbdModel(file, type, 77 + type);
    const tokens = Array.from({ length: 10 }, (_, k) => (k * 53 + type) % n_vocab);
    const pos = tokens.map((_, k) => k);
    const exact = exactLogits(file, tokens, pos).map((a) => Array.from(a));
    const { rows } = await referenceLogits(llama, file, tokens, pos, 2, "F32");
    const e = nrmse(rows, exact);
    worst = Math.max(worst, e);
    console.log(`llama, ${name.padEnd(6)} embedding, F32 KV: nrmse(llama.cpp, exact) = ${e.toExponential(3)}`);
}
if (process.argv[3]) {
    for (const v of ROPE_VARIANTS) {
        const file = path.join(work, `check-${v.name}.gguf`);
        execFileSync(path.resolve(process.argv[3]), ["--arch", v.args[0], "--seed", "7", ...v.args.slice(1), "--out", file]);
        const n_vocab = exactLogits(file, [0], [0])[0].length;
        const tokens = Array.from({ length: 32 }, (_, k) => (k * 41 + 3) % n_vocab);
        const pos = [3, 15, 31];
        const { rows, n_ctx } = await referenceLogits(llama, file, tokens, pos, 2, "F32");
        const e = nrmse(rows, exactLogits(file, tokens, pos, n_ctx).map((a) => Array.from(a)));
        worst = Math.max(worst, e);
        console.log(`${v.name.padEnd(26)} F32 KV: nrmse(llama.cpp, exact) = ${e.toExponential(3)}`);
    }
}
process.exit(worst < 5e-4 ? 0 : 1);
