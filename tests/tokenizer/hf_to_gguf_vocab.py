#!/usr/bin/env python3
# hf_to_gguf_vocab.py - writes a vocabulary-only GGUF from a Hugging Face tokenizer.json, for tests.
#
# Usage: hf_to_gguf_vocab.py TOKENIZER_DIR OUT.gguf (bpe PRE | spm)
#        hf_to_gguf_vocab.py --mini MINI.vocab OUT.gguf PRE   (from make_mini_vocab.py)
#   bpe PRE: byte-level BPE (tokenizer.ggml.model "gpt2") with pre-tokenizer name PRE
#            (llama-bpe, qwen2, ...);
#   spm:     SentencePiece-style vocabulary (tokenizer.ggml.model "llama") from a BPE
#            tokenizer.json with byte fallback (Gemma); scores are -id, as SentencePiece
#            gives BPE pieces in merge order.
# Special tokens come from tokenizer_config.json. Only the standard library is used, so it
# runs anywhere; it is a test helper, not a full converter: the point is one GGUF that
# both llama.cpp and liblocalai read, whose outputs are then compared.
import json
import os
import struct
import sys

T_U32, T_F32, T_BOOL, T_STR, T_ARR, T_I32 = 4, 6, 7, 8, 9, 5


def w_str(out, s):
    b = s.encode("utf-8")
    out += struct.pack("<Q", len(b)) + b


def w_kv(out, key, typ, val, arr_type=None):
    w_str(out, key)
    out += struct.pack("<I", typ)
    if typ == T_U32:
        out += struct.pack("<I", val)
    elif typ == T_F32:
        out += struct.pack("<f", val)
    elif typ == T_BOOL:
        out += struct.pack("<B", 1 if val else 0)
    elif typ == T_STR:
        w_str(out, val)
    elif typ == T_ARR:
        out += struct.pack("<IQ", arr_type, len(val))
        for v in val:
            if arr_type == T_STR:
                w_str(out, v)
            elif arr_type == T_I32:
                out += struct.pack("<i", v)
            elif arr_type == T_F32:
                out += struct.pack("<f", v)


def token_content(v):
    if isinstance(v, dict):
        return v.get("content")
    return v


def read_mini(path):
    tokens, types, merges = [], [], []
    for line in open(path):
        f = line.split()
        if f[0] == "T":
            tokens.append(bytes.fromhex(f[1]).decode("utf-8"))
            types.append(int(f[2]))
        else:
            merges.append(bytes.fromhex(f[1]).decode("utf-8") + " " + bytes.fromhex(f[2]).decode("utf-8"))
    return tokens, types, merges


def write_gguf(dst, kvs):
    out = bytearray()
    out += b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs))
    for kv in kvs:
        w_kv(out, *kv)
    open(dst, "wb").write(out)


def hparams(name):
    kvs = [("general.architecture", T_STR, "llama"), ("general.name", T_STR, name)]
    for k, v in (("context_length", 4096), ("embedding_length", 64), ("block_count", 1),
                 ("feed_forward_length", 128), ("attention.head_count", 1)):
        kvs.append(("llama." + k, T_U32, v))
    kvs.append(("llama.attention.layer_norm_rms_epsilon", T_F32, 1e-5))
    return kvs


def main():
    if sys.argv[1] == "--mini":
        tokens, types, merges = read_mini(sys.argv[2])
        kvs = hparams("mini")
        kvs += [("tokenizer.ggml.model", T_STR, "gpt2"), ("tokenizer.ggml.pre", T_STR, sys.argv[4]),
                ("tokenizer.ggml.tokens", T_ARR, tokens, T_STR),
                ("tokenizer.ggml.token_type", T_ARR, types, T_I32),
                ("tokenizer.ggml.merges", T_ARR, merges, T_STR)]
        write_gguf(sys.argv[3], kvs)
        return
    src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    pre = sys.argv[4] if kind == "bpe" else None
    tok = json.load(open(os.path.join(src, "tokenizer.json"), encoding="utf-8"))
    cfg_path = os.path.join(src, "tokenizer_config.json")
    cfg = json.load(open(cfg_path, encoding="utf-8")) if os.path.exists(cfg_path) else {}

    vocab = tok["model"]["vocab"]
    added = {a["id"]: a for a in tok.get("added_tokens", [])}
    n = max(list(vocab.values()) + list(added.keys())) + 1
    tokens = [None] * n
    types = [1] * n
    for text, i in vocab.items():
        tokens[i] = text
    for i, a in added.items():
        tokens[i] = a["content"]
        types[i] = 3 if a.get("special") else 4
    for i in range(n):
        if tokens[i] is None:
            tokens[i] = "[PAD%d]" % i
            types[i] = 5
        elif kind == "spm" and types[i] == 1 and len(tokens[i]) == 6 and tokens[i].startswith("<0x") \
                and tokens[i].endswith(">"):
            types[i] = 6

    ids = {t: i for i, t in enumerate(tokens)}

    out = bytearray()
    kvs = []
    kvs.append(("general.architecture", T_STR, "llama"))
    kvs.append(("general.name", T_STR, os.path.basename(os.path.normpath(src))))
    for k, v in (("context_length", 4096), ("embedding_length", 64), ("block_count", 1),
                 ("feed_forward_length", 128), ("attention.head_count", 1)):
        kvs.append(("llama." + k, T_U32, v))
    kvs.append(("llama.attention.layer_norm_rms_epsilon", T_F32, 1e-5))
    if kind == "bpe":
        kvs.append(("tokenizer.ggml.model", T_STR, "gpt2"))
        kvs.append(("tokenizer.ggml.pre", T_STR, pre))
    else:
        kvs.append(("tokenizer.ggml.model", T_STR, "llama"))
    kvs.append(("tokenizer.ggml.tokens", T_ARR, tokens, T_STR))
    if kind == "spm":
        kvs.append(("tokenizer.ggml.scores", T_ARR, [-float(i) if types[i] == 1 else 0.0 for i in range(n)], T_F32))
    kvs.append(("tokenizer.ggml.token_type", T_ARR, types, T_I32))
    if kind == "bpe":
        merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
        kvs.append(("tokenizer.ggml.merges", T_ARR, merges, T_STR))
    for name, key in (("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"),
                      ("unk_token", "unknown_token_id"), ("pad_token", "padding_token_id")):
        t = token_content(cfg.get(name))
        if t is not None and t in ids:
            kvs.append(("tokenizer.ggml." + key, T_U32, ids[t]))
    if "add_bos_token" in cfg:
        kvs.append(("tokenizer.ggml.add_bos_token", T_BOOL, cfg["add_bos_token"]))
    if "add_eos_token" in cfg:
        kvs.append(("tokenizer.ggml.add_eos_token", T_BOOL, cfg["add_eos_token"]))
    if kind == "spm":
        kvs.append(("tokenizer.ggml.add_space_prefix", T_BOOL, False))

    out += b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs))
    for kv in kvs:
        w_kv(out, *kv)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main()
