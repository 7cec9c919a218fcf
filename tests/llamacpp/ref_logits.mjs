// ref_logits.mjs - llama.cpp's logits for every position of a prompt, via node-llama-cpp (CPU).
//
// usage: node ref_logits.mjs MODEL.gguf [--tokens 1,2,3 | --prompt TEXT] [--positions all|last|0,3,5]
//        [--kv F16|F32]
// prints one JSON object: {"tokens": [...], "n_vocab": V, "positions": [i...], "logits": [[V]...]}
// where logits[k] are the raw logits after the prompt's first positions[k]+1 tokens.
// Set NODE_LLAMA_CPP_DIR to the folder holding node_modules/node-llama-cpp (default: this
// folder, then /work/llamacpp-ref).
import { createRequire } from "node:module";
import path from "node:path";
import fs from "node:fs";
import url from "node:url";

const here = path.dirname(url.fileURLToPath(import.meta.url));

async function loadNodeLlamaCpp() {
    const dirs = [process.env.NODE_LLAMA_CPP_DIR, here, "/work/llamacpp-ref"].filter(Boolean);
    for (const d of dirs) {
        const entry = path.join(d, "node_modules", "node-llama-cpp", "dist", "index.js");
        if (fs.existsSync(entry)) return import(url.pathToFileURL(entry).href);
    }
    throw new Error("node-llama-cpp not found: npm install node-llama-cpp in " + dirs.join(" or "));
}

export async function openLlama() {
    const nlc = await loadNodeLlamaCpp();
    // CPU build only: the references must not depend on a GPU being present.
    const llama = await nlc.getLlama({ gpu: false, build: "never", logLevel: "error" });
    return { nlc, llama };
}

// Logits at the requested positions; `tokens` are evaluated exactly (no BOS added here).
// kvType "F16" is llama.cpp's default (and ours); "F32" isolates the rounding of the weights.
export async function referenceLogits(llama, modelPath, tokens, positions, threads = 2, kvType = "F16") {
    const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
    const n_ctx_asked = Math.max(64, tokens.length + 8);
    const context = await model.createContext({
        contextSize: n_ctx_asked,
        batchSize: Math.max(8, tokens.length),
        threads,
        flashAttention: false,
        experimentalKvCacheKeyType: kvType,
        experimentalKvCacheValueType: kvType,
    });
    const seq = context.getSequence();
    const want = new Set(positions);
    const input = tokens.map((t, i) => (want.has(i) ? [t, { generateNext: { logits: true } }] : t));
    const out = await seq.controlledEvaluate(input);
    const n_vocab = out.find((o) => o?.next?.logits)?.next.logits.size;
    const rows = positions.map((p) => {
        const m = out[p]?.next?.logits;
        if (!m) throw new Error(`no logits at position ${p}`);
        const row = new Array(n_vocab);
        for (const [tok, v] of m) row[tok] = v;
        return row;
    });
    // The context llama.cpp really runs with: it pads the asked size up to a multiple of
    // 256 (llama_context), and phi3's choice of rope factors depends on it.
    const n_ctx = context._ctx?.getContextSize?.() ?? context.contextSize;
    await context.dispose();
    await model.dispose();
    return { n_vocab, rows, n_ctx, n_ctx_asked };
}

export async function tokenizeLikeCli(llama, modelPath, text) {
    const model = await llama.loadModel({ modelPath, gpuLayers: 0, vocabOnly: true });
    // BOS when the vocabulary asks for it, special tokens not parsed: llama.cpp's defaults.
    const toks = Array.from(model.tokenize(text, false));
    const bos = model.tokens.bos;
    const addBos = model.tokens.shouldPrependBosToken;
    await model.dispose();
    return addBos && bos != null && toks[0] !== bos ? [bos, ...toks] : toks;
}

async function main() {
    const args = process.argv.slice(2);
    if (args.length < 1) {
        console.error("usage: node ref_logits.mjs MODEL.gguf [--tokens 1,2,3 | --prompt TEXT] [--positions all|last|0,3]");
        process.exit(2);
    }
    const modelPath = path.resolve(args[0]);
    let tokens = null, prompt = null, posSpec = "all", kv = "F16";
    for (let i = 1; i < args.length; i++) {
        if (args[i] === "--tokens") tokens = args[++i].split(",").filter((s) => s !== "").map(Number);
        else if (args[i] === "--prompt") prompt = args[++i];
        else if (args[i] === "--positions") posSpec = args[++i];
        else if (args[i] === "--kv") kv = args[++i];
        else throw new Error("unknown argument " + args[i]);
    }
    const { llama } = await openLlama();
    if (tokens === null) tokens = await tokenizeLikeCli(llama, modelPath, prompt ?? "");
    const positions = posSpec === "all" ? tokens.map((_, i) => i)
        : posSpec === "last" ? [tokens.length - 1]
        : posSpec.split(",").map(Number);
    const { n_vocab, rows } = await referenceLogits(llama, modelPath, tokens, positions, 2, kv);
    process.stdout.write(JSON.stringify({ tokens, n_vocab, positions, logits: rows }) + "\n");
}

if (process.argv[1] && import.meta.url === url.pathToFileURL(process.argv[1]).href) {
    main().catch((e) => { console.error(e?.stack ?? String(e)); process.exit(1); });
}
