#!/usr/bin/env python3
# make_mini_vocab.py - cuts a small byte-level BPE vocabulary out of a tokenizer.json, for tests.
#
# Usage: make_mini_vocab.py TOKENIZER_DIR N_MERGES OUT.vocab
# Keeps the 256 byte tokens, the first N_MERGES merges and their results, and the added
# (special) tokens. OUT.vocab is line based: "T <hex utf-8> <token type>" per token in id
# order, then "M <hex left> <hex right>" per merge in rank order. test_pretok_vectors.c
# builds a vocabulary from it; hf_to_gguf_vocab.py --mini writes the same as GGUF for
# llama.cpp, so both tokenize with identical data.
import json
import os
import sys


def byte_chars():
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def main():
    src, n_merges, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    tok = json.load(open(os.path.join(src, "tokenizer.json"), encoding="utf-8"))
    merges = [m if isinstance(m, list) else m.split(" ", 1) for m in tok["model"]["merges"]][:n_merges]
    tokens = []
    seen = set()
    for c in sorted(byte_chars()):
        tokens.append((c, 1))
        seen.add(c)
    for a, b in merges:
        if a + b not in seen:
            tokens.append((a + b, 1))
            seen.add(a + b)
    for a in tok.get("added_tokens", []):
        if a["content"] not in seen:
            tokens.append((a["content"], 3 if a.get("special") else 4))
            seen.add(a["content"])
    with open(dst, "w") as f:
        for t, ty in tokens:
            f.write("T %s %d\n" % (t.encode("utf-8").hex(), ty))
        for a, b in merges:
            f.write("M %s %s\n" % (a.encode("utf-8").hex(), b.encode("utf-8").hex()))


if __name__ == "__main__":
    main()
