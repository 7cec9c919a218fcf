// tokenizer_llamacpp.mjs - llama.cpp's tokenizer throughput (node-llama-cpp) on the texts bench_tokenizer writes.
//
// Usage: bench_tokenizer --write DIR ...   (writes DIR/english.txt and DIR/mixed.txt)
//        NODE_LLAMA_CPP=/scratch/node_modules/node-llama-cpp/dist/index.js \
//          node bench/tokenizer_llamacpp.mjs DIR MODEL.gguf...
// node-llama-cpp is installed in a scratch directory outside the repository.
import fs from "fs";
import path from "path";

const lib = await import(process.env.NODE_LLAMA_CPP || "node-llama-cpp");
const [dir, ...models] = process.argv.slice(2);
const llama = await lib.getLlama({gpu: false, logLevel: "error"});
const texts = ["english", "mixed"].map((n) => [n, fs.readFileSync(path.join(dir, n + ".txt"), "utf8")]);
for (const m of models) {
    const model = await llama.loadModel({modelPath: m, vocabOnly: true});
    for (const [name, text] of texts) {
        const bytes = Buffer.byteLength(text, "utf8");
        let best = Infinity, n = 0;
        for (let rep = 0; rep < 3; rep++) {
            const t0 = process.hrtime.bigint();
            n = model.tokenize(text, false).length;
            const dt = Number(process.hrtime.bigint() - t0) / 1e9;
            best = Math.min(best, dt);
        }
        console.log(`${path.basename(m).padEnd(48)} ${name.padEnd(8)} ${(bytes / 1e6).toFixed(2).padStart(8)} MB  ` +
                    `${String(n).padStart(9)} tokens  ${(bytes / 1e6 / best).toFixed(2).padStart(8)} MB/s`);
    }
    await model.dispose();
}
process.exit(0);
