// make_llamacpp_detok.mjs - writes detokenization vectors made by llama.cpp (node-llama-cpp).
//
// Usage: NODE_LLAMA_CPP=.../node-llama-cpp/dist/index.js \
//          node tests/tokenizer/make_llamacpp_detok.mjs VOCAB.gguf OUT.dtk [COUNT] [SEED]
// Each line: "<unparse_special 0|1> <id,id,...> <hex of llama_detokenize's text>", with
// remove_special off (what node-llama-cpp calls). Token sequences are the tokens of random
// texts (special tokens parsed), sometimes with random ids mixed in. node-llama-cpp returns
// a JS string, so invalid UTF-8 comes back with U+FFFD per maximal subpart (WHATWG); the C
// test decodes our bytes the same way before comparing.
import fs from "fs";

const lib = await import(process.env.NODE_LLAMA_CPP || "node-llama-cpp");
const [vocabPath, outPath, countArg, seedArg] = process.argv.slice(2);
const count = Number(countArg || 200);
let seed = Number(seedArg || 99) >>> 0;
function rnd() {
    seed = (seed + 0x6D2B79F5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const pieces = ["Hello", " world", " ,", " .", " !", " ?", " 's", " 're", " 've", " 't", " 'll",
    " ' ", "don't", "  ", "\n", " (", "é", "日本", "🦙", " x", "<s>", "</s>", "<|endoftext|>",
    "<|end|>", "<|user|>", "  Hello", "a.b", " a , b", "'m", " 'd", "12 345"];

const llama = await lib.getLlama({gpu: false, logLevel: "error"});
const model = await llama.loadModel({modelPath: vocabPath, vocabOnly: true});
const nVocab = model.tokens.bosString !== undefined ? 0 : 0;
let lines = "";
for (let i = 0; i < count; i++) {
    let text = "";
    const n = 1 + Math.floor(rnd() * 10);
    for (let k = 0; k < n; k++) text += pick(pieces);
    let ids = Array.from(model.tokenize(text, true));
    if (rnd() < 0.3) {
        // random ids from the start of the vocabulary (bytes, pieces, specials)
        for (let k = 0; k < 3; k++) ids.splice(Math.floor(rnd() * (ids.length + 1)), 0, Math.floor(rnd() * 300));
    }
    for (const unparse of [false, true]) {
        const s = model.detokenize(ids, unparse);
        lines += `${unparse ? 1 : 0} ${ids.join(",")} ${Buffer.from(s, "utf8").toString("hex")}\n`;
    }
}
void nVocab;
fs.writeFileSync(outPath, lines);
process.exit(0);
