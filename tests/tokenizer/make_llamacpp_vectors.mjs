// make_llamacpp_vectors.mjs - writes random-text tokenizer vectors made by llama.cpp (node-llama-cpp).
//
// Usage (node-llama-cpp installed in a scratch directory outside the repo):
//   NODE_LLAMA_CPP=/path/to/node_modules/node-llama-cpp/dist/index.js \
//     node tests/tokenizer/make_llamacpp_vectors.mjs VOCAB.gguf OUT_PREFIX [COUNT] [SEED]
// Writes OUT_PREFIX.inp (texts, each followed by "\n__ggml_vocab_test__\n", the format of
// llama.cpp's own vectors), OUT_PREFIX.out (ids without parsing special tokens) and
// OUT_PREFIX.outs (ids with special tokens parsed). No BOS/EOS is added in either.
import fs from "fs";

const lib = await import(process.env.NODE_LLAMA_CPP || "node-llama-cpp");
const [vocabPath, prefix, countArg, seedArg] = process.argv.slice(2);
if (!vocabPath || !prefix) {
    console.error("usage: make_llamacpp_vectors.mjs VOCAB.gguf OUT_PREFIX [COUNT] [SEED]");
    process.exit(2);
}
const count = Number(countArg || 200);
let seed = Number(seedArg || 1234) >>> 0;

// mulberry32: a small deterministic generator, so the vectors can be remade.
function rnd() {
    seed = (seed + 0x6D2B79F5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];

const words = ["Hello", "world", "the", "The", "quick", "brown", "fox", "jumps", "over", "lazy",
    "dog", "tokenizer", "llama", "cpp", "don", "I", "you", "we", "HELLO", "ünïcödé", "naïve",
    "café", "Straße", "Führer", "Cửa", "Việt", "нещо", "на", "Български", "Ελληνικά", "日本語",
    "我想在", "apple", "工作", "한국어", "हिन्दी", "العربية", "עברית", "ไทย", "ကမ္ဘာ", "កាន់តែ",
    "emoji🦙", "🚀", "😶‍🌫️", "✅", "👍🏽", "🇫🇷", "x", "y", "z", "foo_bar", "fooBar", "HTTP2",
    "a1b2", "3.14159", "1,000,000", "2024-01-01", "0x1F", "µs", "Ωmega", "ǅemal", "ﬁne", "Ⅻ",
    "½", "²³", "١٢٣", "１２３", "ＡＢＣ", "ａｂｃ", "…", "—", "«quote»", "“smart”", "‘single’"];
const puncts = [".", ",", "!", "?", ";", ":", "(", ")", "[", "]", "{", "}", "<", ">", "=", "+",
    "-", "*", "/", "\\", "|", "^", "~", "`", "$", "%", "&", "@", "#", "_", "\"", "'", "...",
    "!!", "?!", "->", "=>", "::", "//", "/*", "*/", "<=", ">=", "==", "!=", "&&", "||", "，",
    "。", "、", "！", "？", "：", "・", "§", "¶", "©", "®", "°", "±", "×", "÷", "€", "£", "¥"];
const spaces = [" ", " ", " ", "  ", "   ", "    ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ",
    "\t\t", " \t ", "\u00a0", "\u3000", "\u2028", "\u0085", "\u2003", "\u000b", "\u000c"];
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE",
    "'M", "'LL", "'D", "'x", "'"];
const numbers = () => {
    const n = 1 + Math.floor(rnd() * 12);
    let s = "";
    for (let i = 0; i < n; i++) s += String(Math.floor(rnd() * 10));
    return s;
};
const oddChars = () => String.fromCodePoint(pick([0x0, 0x1, 0x7, 0x1b, 0x1f, 0x7f, 0x80, 0x9f, 0xad,
    0x200b, 0x200d, 0xfeff, 0xe000, 0xf8ff, 0x10ffff, 0x0378, 0x0379, 0xffff, 0x1e900, 0x2126,
    0x212a, 0x0301, 0x0308, 0x093f, 0x20ac, 0xfffd, 0x1f600, 0x2ffff, 0xe0001]));

export function makeText(specials) {
    const n = 1 + Math.floor(rnd() * 24);
    let s = "";
    for (let i = 0; i < n; i++) {
        const r = rnd();
        if (r < 0.35) s += pick(words);
        else if (r < 0.5) s += pick(spaces);
        else if (r < 0.62) s += pick(puncts);
        else if (r < 0.7) s += pick(contractions);
        else if (r < 0.78) s += numbers();
        else if (r < 0.84) s += oddChars();
        else if (r < 0.92 && specials.length) s += pick(specials);
        else s += " ";
    }
    return s;
}

const llama = await lib.getLlama({gpu: false, logLevel: "error"});
const model = await llama.loadModel({modelPath: vocabPath, vocabOnly: true});

// special token texts of this vocabulary (control/user-defined pieces), for parse-special runs
const specials = [];
for (const t of ["<s>", "</s>", "<unk>", "<|endoftext|>", "<|end|>", "<|user|>", "<|assistant|>",
    "<|system|>", "<|im_start|>", "<|im_end|>", "<|eot_id|>", "<fim_prefix>", "<fim_middle>",
    "<|fim_prefix|>", ">>ABSTRACT<<", ">>TITLE<<", "<｜begin▁of▁sentence｜>",
    "<｜end▁of▁sentence｜>", "<｜fim▁hole｜>", "<pad>", "<|placeholder1|>", "<|begin_of_text|>",
    "<|start_header_id|>", "<|end_header_id|>", "<start_of_turn>", "<end_of_turn>", "<bos>",
    "<eos>", "<think>", "</think>", "<tool_call>", "<|file_sep|>"]) {
    const ids = model.tokenize(t, true);
    if (ids.length === 1) specials.push(t);
}

const texts = [];
for (let i = 0; i < count; i++) texts.push(makeText(specials));
let inp = "", out = "", outs = "";
for (const t of texts) {
    inp += t + "\n__ggml_vocab_test__\n";
    out += model.tokenize(t, false).map((x) => " " + x).join("") + "\n";
    outs += model.tokenize(t, true).map((x) => " " + x).join("") + "\n";
}
fs.writeFileSync(prefix + ".inp", inp);
fs.writeFileSync(prefix + ".out", out);
fs.writeFileSync(prefix + ".outs", outs);
console.error(`${prefix}: ${texts.length} texts, specials: ${specials.join(" ")}`);
process.exit(0);
