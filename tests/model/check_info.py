#!/usr/bin/env python3
# check_info.py - `localai info --json` on every shared file: valid JSON with the right facts.
import json
import struct
import tempfile
import os
import subprocess
import sys

localai = sys.argv[1]
shared = os.environ.get("LOCALAI_SHARED_DIR", sys.argv[2])

# Facts from ../shared/models/SOURCES.md and the vocab files' own metadata.
EXPECT = {
    "models/stories260K.gguf": dict(architecture="llama", embedding_length=64, block_count=5,
                                    head_count=8, head_count_kv=4, vocab_size=512,
                                    context_length=2048, n_tensors=48, tensor_types={"f32": 48},
                                    vocab_type="llama", vocab_only=False, chat_template=False,
                                    n_params=292800, special_tokens={"bos": 1, "eos": 2, "unknown": 0}),
    "models/llama-2-tiny-random-UNTRAINED.gguf": dict(architecture="llama", embedding_length=8,
                                    block_count=1, head_count=2, head_count_kv=2, vocab_size=32000,
                                    context_length=4096, n_tensors=12,
                                    tensor_types={"f32": 3, "f16": 9},
                                    file_type={"id": 1, "name": "F16"}, vocab_only=False),
    "vocab/ggml-vocab-deepseek-coder.gguf": dict(architecture="llama", vocab_size=32256,
                                    vocab_type="gpt2", vocab_pre="deepseek-coder", vocab_only=True,
                                    n_tensors=0, add_bos_token=True,
                                    special_tokens={"bos": 32013, "eos": 32014, "padding": 32014}),
    "vocab/ggml-vocab-falcon.gguf": dict(architecture="falcon", vocab_size=65024, vocab_type="gpt2",
                                    vocab_pre="falcon", vocab_only=True, block_count=32),
    "vocab/ggml-vocab-gpt-2.gguf": dict(architecture="gpt2", vocab_size=50257, vocab_type="gpt2",
                                    vocab_pre="gpt-2", vocab_only=True, embedding_length=768),
    "vocab/ggml-vocab-llama-spm.gguf": dict(architecture="llama", vocab_size=32000,
                                    vocab_type="llama", vocab_pre="default", vocab_only=True),
    "vocab/ggml-vocab-phi-3.gguf": dict(architecture="phi3", vocab_size=32064, vocab_type="llama",
                                    chat_template=True, chat_template_names=["default"],
                                    vocab_only=True, embedding_length=3072),
    "vocab/ggml-vocab-starcoder.gguf": dict(architecture="starcoder2", vocab_size=49152,
                                    vocab_type="gpt2", vocab_pre="starcoder", vocab_only=True,
                                    head_count_kv=2),
}

failures = 0
for rel, want in EXPECT.items():
    path = os.path.join(shared, rel)
    for fmt in (["--json"], []):
        r = subprocess.run([localai, "info", path] + fmt, capture_output=True)
        if r.returncode != 0:
            print(f"{rel} {fmt}: exit {r.returncode}: {r.stderr.decode(errors='replace')}")
            failures += 1
            continue
        if not fmt:
            continue
        try:
            got = json.loads(r.stdout.decode("utf-8"))
        except ValueError as e:
            print(f"{rel}: invalid JSON: {e}")
            failures += 1
            continue
        for k, v in want.items():
            if got.get(k) != v:
                print(f"{rel}: {k} = {got.get(k)!r}, expected {v!r}")
                failures += 1

# JSON escaping: a hand-written vocabulary file whose strings need escapes or are not UTF-8.
def gguf_str(b):
    return struct.pack("<Q", len(b)) + b

def kv_str(key, val):
    return gguf_str(key.encode()) + struct.pack("<I", 8) + gguf_str(val)

def kv_strs(key, vals):
    out = gguf_str(key.encode()) + struct.pack("<IIQ", 9, 8, len(vals))
    return out + b"".join(gguf_str(v) for v in vals)

name = b'quote" back\\ nl\n tab\t ctl\x01 bad\xff ok\xc3\xa9'
kvs = [kv_str("general.architecture", b"llama"), kv_str("general.name", name),
       kv_str("tokenizer.ggml.model", b"llama"),
       kv_strs("tokenizer.ggml.tokens", [b"<unk>", b"<s>", b"</s>", b"a", b"b"]),
       gguf_str(b"tokenizer.ggml.scores") + struct.pack("<IIQ5f", 9, 6, 5, 0, 0, 0, -1, -2),
       gguf_str(b"tokenizer.ggml.token_type") + struct.pack("<IIQ5i", 9, 5, 5, 2, 3, 3, 1, 1),
       kv_str("tokenizer.chat_template", b"{{x}}"), kv_str("tokenizer.chat_template.tool_use", b"T")]
blob = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs)
tmp = os.path.join(tempfile.mkdtemp(), "escape.gguf")
with open(tmp, "wb") as f:
    f.write(blob)
r = subprocess.run([localai, "info", tmp, "--json"], capture_output=True)
try:
    got = json.loads(r.stdout.decode("utf-8"))
    want_name = 'quote" back\\ nl\n tab\t ctl\x01 bad\ufffd ok\u00e9'
    if got["name"] != want_name:
        print("escape.gguf: name", repr(got["name"]), "expected", repr(want_name))
        failures += 1
    if got["chat_template_names"] != ["default", "tool_use"] or got["vocab_size"] != 5:
        print("escape.gguf: templates/vocab", got["chat_template_names"], got["vocab_size"])
        failures += 1
except (ValueError, KeyError) as e:
    print("escape.gguf: bad JSON:", e, r.stdout, r.stderr)
    failures += 1
os.remove(tmp)

# A file that is not GGUF fails with a message, not a crash.
r = subprocess.run([localai, "info", os.path.join(shared, "models/stories260K.bin")], capture_output=True)
if r.returncode != 1 or b"magic" not in r.stderr:
    print("stories260K.bin: expected exit 1 and a message about the magic:", r.returncode, r.stderr)
    failures += 1
print(f"check_info: {failures} failures")
sys.exit(1 if failures else 0)
