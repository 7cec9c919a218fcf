// exact_f64.mjs - an exact (float64) forward pass of the llama family, written for the
// harness from llama.cpp's graph definitions: llama, qwen2, qwen3, phi3, gemma2, gemma3.
// Weights are the exact values of the file's block formats (gguf_f64.mjs); no activation,
// KV cache or product is rounded, so its distance to llama.cpp measures llama.cpp's own
// rounding, which sets the tolerance of the comparison (see the rule).
import { readGguf, tensorF64 } from "./gguf_f64.mjs";

const NEOX_ARCHS = new Set(["qwen2", "qwen3", "phi3", "gemma2", "gemma3"]);
const SUPPORTED = new Set(["llama", ...NEOX_ARCHS]);

function hparams(g) {
    const m = g.meta, a = m["general.architecture"];
    if (!SUPPORTED.has(a)) throw new Error(`${g.path}: architecture '${a}' is not in the exact reference`);
    const k = (s, d) => (m[`${a}.${s}`] ?? d);
    const perLayer = (v) => (Array.isArray(v) ? v[0] : v);
    const n_embd = k("embedding_length"), n_head = perLayer(k("attention.head_count"));
    const hp = {
        arch: a, n_embd, n_head, n_layer: k("block_count"),
        n_head_kv: perLayer(k("attention.head_count_kv", n_head)),
        head_k: k("attention.key_length", n_embd / n_head),
        head_v: k("attention.value_length", n_embd / n_head),
        eps: k("attention.layer_norm_rms_epsilon", 1e-5),
        base: k("rope.freq_base", 10000),
        n_swa: k("attention.sliding_window", 0),
        attn_softcap: 0, final_softcap: 0, neox: NEOX_ARCHS.has(a),
    };
    hp.n_rot = k("rope.dimension_count", hp.head_k);
    // Rope scaling as llama.cpp's loader and context set it up (llama_model::load_hparams,
    // llama_context's constructor); none of these architectures reads the yarn_* keys.
    const type = k("rope.scaling.type", "linear");
    if (!["none", "linear", "yarn", "longrope"].includes(type))
        throw new Error(`${g.path}: rope scaling '${type}' is not in the exact reference`);
    const factor = k("rope.scaling.factor", k("rope.scale_linear", 0));
    const scaleTrain = factor === 0 ? 1 : 1 / factor;
    hp.rope_type = type;
    hp.freq_scale = type === "none" ? 1 : scaleTrain; // "none" never scales
    hp.n_ctx_orig = k("rope.scaling.original_context_length", k("context_length")) || k("context_length");
    hp.ext_factor = type === "yarn" ? 1 : 0;
    hp.beta_fast = 32; hp.beta_slow = 1;
    // The attention factor handed to rope: for YaRN llama.cpp takes its mscale
    // (1 + 0.1 ln factor) and divides the kernel's own copy of it back out; then the
    // file's rope.scaling.attn_factor (phi3's LongRoPE factor) multiplies, whatever the type.
    let attn = 1;
    if (hp.ext_factor !== 0) {
        const f = 1 / hp.freq_scale;
        attn = (f <= 1 ? 1 : 0.1 * Math.log(f) + 1) / (1 + 0.1 * Math.log(f));
    }
    hp.attn_factor = attn * k("rope.scaling.attn_factor", 1);
    // Which layers slide, and their rope, as llama.cpp's per-architecture loaders set them.
    hp.swa = (il) => {
        if (!hp.n_swa) return false;
        if (a === "gemma2") return il % 2 === 0;
        if (a === "gemma3") return il % 6 < 5;
        return false; // llama.cpp runs llama/qwen/phi3 without a window
    };
    // Sliding layers: gemma3 keeps rope.freq_base_swa (10000) unscaled; gemma2 takes the
    // global base (or rope.freq_base_swa) and the file's scale (llama.cpp's gemma2 loader).
    const swaRope = a === "gemma3" ? { base: k("rope.freq_base_swa", 10000), scale: 1 }
        : { base: k("rope.freq_base_swa", hp.base), scale: scaleTrain };
    hp.rope_of = (il) => {
        const r = hp.swa(il) ? swaRope : { base: hp.base, scale: hp.freq_scale };
        return { ...r, ext: hp.ext_factor, attn: hp.attn_factor, corr: yarnCorrDims(hp.n_rot, hp.n_ctx_orig, r.base, hp.beta_fast, hp.beta_slow) };
    };
    hp.attn_scale = 1 / Math.sqrt(hp.head_k);
    // Gemma 2 27B (46 layers) and Gemma 3 27B (62 layers) scale queries by
    // 1/sqrt(n_embd / n_head) (query_pre_attn_scalar); llama.cpp knows them by layer count.
    if ((a === "gemma2" && hp.n_layer === 46) || (a === "gemma3" && hp.n_layer === 62))
        hp.attn_scale = 1 / Math.sqrt(n_embd / n_head);
    if (a === "gemma2") {
        hp.attn_softcap = k("attn_logit_softcapping", 50);
        hp.final_softcap = k("final_logit_softcapping", 30);
    }
    return hp;
}

function matvec(W, x, nIn, nOut, bias) {
    const y = new Float64Array(nOut);
    for (let o = 0; o < nOut; o++) {
        let s = 0;
        const r = o * nIn;
        for (let i = 0; i < nIn; i++) s += W[r + i] * x[i];
        y[o] = bias ? s + bias[o] : s;
    }
    return y;
}

function rmsnorm(x, w, eps, off = 0, n = x.length) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[off + i] * x[off + i];
    const r = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) x[off + i] = x[off + i] * r * (w ? w[i] : 1);
}

// YaRN's correction range: the pair indices that turn beta_fast and beta_slow times over
// the original context (ggml_rope_yarn_corr_dims).
function yarnCorrDims(nRot, nCtxOrig, base, betaFast, betaSlow) {
    const dim = (beta) => (nRot * Math.log(nCtxOrig / (beta * 2 * Math.PI))) / (2 * Math.log(base));
    return [Math.max(0, Math.floor(dim(betaFast))), Math.min(nRot - 1, Math.ceil(dim(betaSlow)))];
}

// Rotates the first nRot values of one head (rp from hp.rope_of): theta = pos * base^(-i0/nRot)
// / factor, scaled by freq_scale; YaRN blends scaled and unscaled theta by a ramp over the
// correction range and multiplies by its mscale; cos and sin carry the attention factor.
function rope(x, off, nRot, pos, rp, neox, factors) {
    let mscale = rp.attn;
    if (rp.ext !== 0) mscale *= 1 + 0.1 * Math.log(1 / rp.scale);
    for (let i0 = 0; i0 < nRot; i0 += 2) {
        const ff = factors ? factors[i0 / 2] : 1;
        const extrap = (pos * Math.pow(rp.base, -i0 / nRot)) / ff;
        let theta = rp.scale * extrap;
        if (rp.ext !== 0) {
            const y = (i0 / 2 - rp.corr[0]) / Math.max(0.001, rp.corr[1] - rp.corr[0]);
            const mix = (1 - Math.min(1, Math.max(0, y))) * rp.ext;
            theta = theta * (1 - mix) + extrap * mix;
        }
        const c = Math.cos(theta) * mscale, s = Math.sin(theta) * mscale;
        const a = neox ? off + i0 / 2 : off + i0, b = neox ? a + nRot / 2 : a + 1;
        const x0 = x[a], x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }
}

const silu = (x) => x / (1 + Math.exp(-x));
const geluTanh = (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

// Logits (Float64Array of n_vocab) after each of `tokens`, for the positions asked.
// nCtx is the context per sequence llama.cpp ran with (after its padding to 256): phi3
// picks its long rope factors when it exceeds rope.scaling.original_context_length, its
// short ones otherwise.
export function exactLogits(path, tokens, positions, nCtx = 64) {
    const g = readGguf(path);
    const hp = hparams(g);
    const W = (name) => {
        const t = tensorF64(g, name);
        if (!t) throw new Error(`${path}: tensor ${name} is missing`);
        return t;
    };
    const opt = (name) => tensorF64(g, name);
    const { n_embd, n_head, n_head_kv, head_k, head_v, eps, arch } = hp;
    const tokEmbd = W("token_embd.weight");
    const n_vocab = g.tensors["token_embd.weight"].ne[1];
    const gemma = arch === "gemma2" || arch === "gemma3";
    const T = tokens.length, nq = n_head * head_k, nk = n_head_kv * head_k, nv = n_head_kv * head_v;
    // llama.cpp's get_rope_factors: rope_freqs when present, else LongRoPE's long factors
    // when the context per sequence exceeds the original one, else the short ones (phi3
    // always loads them; llama only with rope.scaling.type longrope).
    let ropeFactors = opt("rope_freqs.weight");
    if (!ropeFactors && (arch === "phi3" || hp.rope_type === "longrope"))
        ropeFactors = opt(nCtx > hp.n_ctx_orig ? "rope_factors_long.weight" : "rope_factors_short.weight");

    let X = tokens.map((t) => {
        if (t < 0 || t >= n_vocab) throw new Error(`token ${t} outside the vocabulary`);
        const x = Float64Array.from(tokEmbd.subarray(t * n_embd, (t + 1) * n_embd));
        if (gemma) for (let i = 0; i < n_embd; i++) x[i] *= Math.sqrt(n_embd);
        return x;
    });

    for (let il = 0; il < hp.n_layer; il++) {
        const p = `blk.${il}.`;
        const ff = opt(p + "ffn_gate.weight");
        const L = {
            attn_norm: W(p + "attn_norm.weight"), wo: W(p + "attn_output.weight"), bo: opt(p + "attn_output.bias"),
            qkv: opt(p + "attn_qkv.weight"), bqkv: opt(p + "attn_qkv.bias"),
            q_norm: opt(p + "attn_q_norm.weight"), k_norm: opt(p + "attn_k_norm.weight"),
            post_attn: opt(p + "post_attention_norm.weight"), ffn_norm: W(p + "ffn_norm.weight"),
            post_ffn: opt(p + "post_ffw_norm.weight"),
            gate: ff, up: W(p + "ffn_up.weight"), down: W(p + "ffn_down.weight"),
        };
        if (!L.qkv) {
            L.wq = W(p + "attn_q.weight"); L.wk = W(p + "attn_k.weight"); L.wv = W(p + "attn_v.weight");
            L.bq = opt(p + "attn_q.bias"); L.bk = opt(p + "attn_k.bias"); L.bv = opt(p + "attn_v.bias");
        }
        const n_ff = g.tensors[p + "ffn_down.weight"].ne[0];
        const rp = hp.rope_of(il), swa = hp.swa(il);
        const Q = [], K = [], V = [];
        for (let t = 0; t < T; t++) {
            const h = Float64Array.from(X[t]);
            rmsnorm(h, L.attn_norm, eps);
            let q, k, v;
            if (L.qkv) {
                const all = matvec(L.qkv, h, n_embd, nq + nk + nv, L.bqkv);
                q = all.slice(0, nq); k = all.slice(nq, nq + nk); v = all.slice(nq + nk);
            } else {
                q = matvec(L.wq, h, n_embd, nq, L.bq); k = matvec(L.wk, h, n_embd, nk, L.bk); v = matvec(L.wv, h, n_embd, nv, L.bv);
            }
            for (let hh = 0; hh < n_head; hh++) {
                if (L.q_norm) rmsnorm(q, L.q_norm, eps, hh * head_k, head_k);
                rope(q, hh * head_k, hp.n_rot, t, rp, hp.neox, ropeFactors);
            }
            for (let hh = 0; hh < n_head_kv; hh++) {
                if (L.k_norm) rmsnorm(k, L.k_norm, eps, hh * head_k, head_k);
                rope(k, hh * head_k, hp.n_rot, t, rp, hp.neox, ropeFactors);
            }
            Q.push(q); K.push(k); V.push(v);
        }
        const group = n_head / n_head_kv;
        for (let t = 0; t < T; t++) {
            const att = new Float64Array(n_head * head_v);
            for (let hh = 0; hh < n_head; hh++) {
                const kh = Math.floor(hh / group);
                const scores = [];
                let max = -Infinity;
                for (let s = 0; s <= t; s++) {
                    if (swa && t - s >= hp.n_swa) { scores.push(-Infinity); continue; }
                    let d = 0;
                    for (let i = 0; i < head_k; i++) d += Q[t][hh * head_k + i] * K[s][kh * head_k + i];
                    d *= hp.attn_scale;
                    if (hp.attn_softcap) d = Math.tanh(d / hp.attn_softcap) * hp.attn_softcap;
                    scores.push(d);
                    if (d > max) max = d;
                }
                let z = 0;
                for (let s = 0; s <= t; s++) { scores[s] = Math.exp(scores[s] - max); z += scores[s]; }
                for (let s = 0; s <= t; s++) {
                    const w = scores[s] / z;
                    for (let i = 0; i < head_v; i++) att[hh * head_v + i] += w * V[s][kh * head_v + i];
                }
            }
            const o = matvec(L.wo, att, n_head * head_v, n_embd, L.bo);
            if (L.post_attn) rmsnorm(o, L.post_attn, eps);
            for (let i = 0; i < n_embd; i++) X[t][i] += o[i];
            const h = Float64Array.from(X[t]);
            rmsnorm(h, L.ffn_norm, eps);
            let act;
            if (L.gate) {
                const gg = matvec(L.gate, h, n_embd, n_ff), u = matvec(L.up, h, n_embd, n_ff);
                act = gg.map((x, i) => (gemma ? geluTanh(x) : silu(x)) * u[i]);
            } else { // phi3: fused gate and up, gate first
                const gu = matvec(L.up, h, n_embd, 2 * n_ff);
                act = new Float64Array(n_ff);
                for (let i = 0; i < n_ff; i++) act[i] = silu(gu[i]) * gu[n_ff + i];
            }
            const d = matvec(L.down, act, n_ff, n_embd);
            if (L.post_ffn) rmsnorm(d, L.post_ffn, eps);
            for (let i = 0; i < n_embd; i++) X[t][i] += d[i];
        }
    }
    const outNorm = W("output_norm.weight");
    const out = opt("output.weight") ?? tokEmbd, outB = opt("output.bias");
    return positions.map((pos) => {
        const h = Float64Array.from(X[pos]);
        rmsnorm(h, outNorm, eps);
        const l = matvec(out, h, n_embd, n_vocab, outB);
        if (hp.final_softcap) for (let i = 0; i < n_vocab; i++) l[i] = Math.tanh(l[i] / hp.final_softcap) * hp.final_softcap;
        return l;
    });
}

// rms(o - r) / std(r) over all compared values (the measure).
export function nrmse(ours, ref) {
    let n = 0, se = 0, sum = 0, sum2 = 0;
    for (let k = 0; k < ref.length; k++)
        for (let i = 0; i < ref[k].length; i++) {
            const r = ref[k][i], d = ours[k][i] - r;
            se += d * d; sum += r; sum2 += r * r; n++;
        }
    const mean = sum / n, variance = sum2 / n - mean * mean;
    return Math.sqrt(se / n) / Math.sqrt(variance);
}
