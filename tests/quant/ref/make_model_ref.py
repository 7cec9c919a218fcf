#!/usr/bin/env python3
"""make_model_ref.py - llama.cpp's own quantization of test models, as per-tensor manifests.

Not needed at test time: its output files (<model>.<TYPE>.txt) are committed. It calls
llama_model_quantize from llama.cpp's prebuilt libllama (npm package node-llama-cpp,
@node-llama-cpp/linux-x64/bins/linux-x64) through ctypes, then lists each tensor of the
result in file order as "name type_id fnv1a64(data)", so test_quantize_model can check
that `localai quantize` picks the same types and writes the same bytes.

Models: stories260K.gguf from ../shared (64-wide rows: every K-quant falls back), and
"synth" / "synth_tied": llama-shaped models with 256-wide rows and 8 layers whose
weights come from an integer generator that test_quantize_model.c reproduces bit for bit
(values k * 2^-28, exact in f32; see synth_tensors). synth_tied has no output.weight.

    python3 make_model_ref.py /path/to/bins/linux-x64 /path/to/stories260K.gguf
"""
import ctypes
import os
import struct
import sys
import tempfile

FTYPES = [("Q8_0", 7), ("Q4_0", 2), ("Q4_K_M", 15), ("Q5_K_M", 17), ("Q6_K", 18)]

# element count per block, bytes per block (ggml ids)
TYPE_SIZE = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
             8: (32, 34), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
             14: (256, 210), 20: (32, 18), 23: (256, 136), 30: (1, 2)}


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_gguf_tensors(path):
    """Minimal GGUF v2/v3 reader: returns [(name, type, bytes)] in file order."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    def take_str():
        nonlocal pos
        (n,) = take("Q")
        s = buf[pos:pos + n]
        pos += n
        return s.decode()

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def skip_value(t):
        if t == 8:
            take_str()
        elif t == 9:
            et, n = take("IQ")
            for _ in range(n):
                skip_value(et)
        else:
            take(scalar[t])

    magic, version, n_t, n_kv = take("4sIQQ")
    assert magic == b"GGUF"
    alignment = 32
    for _ in range(n_kv):
        key = take_str()
        (t,) = take("I")
        if key == "general.alignment":
            (alignment,) = take(scalar[t])
        else:
            skip_value(t)
    infos = []
    for _ in range(n_t):
        name = take_str()
        (nd,) = take("I")
        ne = take("%dQ" % nd)
        t, off = take("IQ")
        infos.append((name, t, ne, off))
    data_start = (pos + alignment - 1) // alignment * alignment
    out = []
    for name, t, ne, off in infos:
        n = 1
        for d in ne:
            n *= d
        blck, size = TYPE_SIZE[t]
        nbytes = n // blck * size
        out.append((name, t, buf[data_start + off:data_start + off + nbytes]))
    return out


SYNTH = dict(n_embd=256, n_ff=256, n_layer=8, n_head=4, n_head_kv=2, n_vocab=320)


def synth_tensors(tied):
    """(name, ne, values) in file order; values from a 64-bit LCG, k = top 24 bits - 2^23,
    x = k * 2^-28, every 997th value of the stream 16 times larger (outliers)."""
    e, f, L = SYNTH["n_embd"], SYNTH["n_ff"], SYNTH["n_layer"]
    kv = e * SYNTH["n_head_kv"] // SYNTH["n_head"]
    shapes = [("token_embd.weight", (e, SYNTH["n_vocab"])), ("output_norm.weight", (e,))]
    if not tied:
        shapes.append(("output.weight", (e, SYNTH["n_vocab"])))
    for i in range(L):
        p = "blk.%d." % i
        shapes += [(p + "attn_norm.weight", (e,)), (p + "attn_q.weight", (e, e)),
                   (p + "attn_k.weight", (e, kv)), (p + "attn_v.weight", (e, kv)),
                   (p + "attn_output.weight", (e, e)), (p + "ffn_norm.weight", (e,)),
                   (p + "ffn_gate.weight", (e, f)), (p + "ffn_up.weight", (e, f)),
                   (p + "ffn_down.weight", (f, e))]
    state = 0x5DEECE66D
    counter = 0
    out = []
    for name, ne in shapes:
        n = 1
        for d in ne:
            n *= d
        vals = []
        for _ in range(n):
            state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
            k = (state >> 40) - (1 << 23)
            counter += 1
            vals.append(k * 2.0 ** (-24 if counter % 997 == 0 else -28))
        out.append((name, ne, vals))
    return out


def write_synth(path, tied):
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    kvs = [("general.architecture", 8, s("llama")),
           ("llama.context_length", 4, struct.pack("<I", 256)),
           ("llama.embedding_length", 4, struct.pack("<I", SYNTH["n_embd"])),
           ("llama.block_count", 4, struct.pack("<I", SYNTH["n_layer"])),
           ("llama.feed_forward_length", 4, struct.pack("<I", SYNTH["n_ff"])),
           ("llama.attention.head_count", 4, struct.pack("<I", SYNTH["n_head"])),
           ("llama.attention.head_count_kv", 4, struct.pack("<I", SYNTH["n_head_kv"])),
           ("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5)),
           ("general.file_type", 4, struct.pack("<I", 0))]
    tensors = synth_tensors(tied)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        head += s(k) + struct.pack("<I", t) + v
    off = 0
    for name, ne, vals in tensors:
        head += s(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        head += struct.pack("<IQ", 0, off)
        off += (len(vals) * 4 + 31) // 32 * 32
    head += b"\0" * ((32 - len(head) % 32) % 32)
    with open(path, "wb") as f:
        f.write(head)
        for name, ne, vals in tensors:
            data = struct.pack("<%df" % len(vals), *vals)
            f.write(data + b"\0" * ((32 - len(data) % 32) % 32))


def main():
    bins, model = sys.argv[1], sys.argv[2]
    for dep in ("libggml-base.so", "libggml.v0.5.0.so"):
        ctypes.CDLL(os.path.join(bins, dep), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(os.path.join(bins, "libllama.v0.5.0.so"))

    class Params(ctypes.Structure):  # larger than the real struct; only the head is touched
        _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int32), ("rest", ctypes.c_uint8 * 248)]

    lib.llama_model_quantize_default_params.restype = Params
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Params)]
    lib.llama_model_quantize.restype = ctypes.c_uint32
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        models = [("stories260K", model, FTYPES)]
        for tag, tied in (("synth", False), ("synth_tied", True)):
            path = os.path.join(tmp, tag + ".gguf")
            write_synth(path, tied)
            models.append((tag, path, FTYPES if not tied else [("Q4_K_M", 15), ("Q4_0", 2)]))
        for tag, path, ftypes in models:
            quantize_all(lib, Params, here, tmp, tag, path, ftypes)


def quantize_all(lib, Params, here, tmp, tag, model, ftypes):
    if True:
        for name, ftype in ftypes:
            p = lib.llama_model_quantize_default_params()
            p.nthread = 1
            p.ftype = ftype
            out = os.path.join(tmp, name + ".gguf")
            rc = lib.llama_model_quantize(model.encode(), out.encode(), ctypes.byref(p))
            manifest = os.path.join(here, "%s.%s.txt" % (tag, name))
            if rc != 0:
                print("%s: llama.cpp refused (rc %d); no manifest" % (name, rc))
                if os.path.exists(manifest):
                    os.remove(manifest)
                continue
            with open(manifest, "w") as f:
                f.write("# llama_model_quantize(%s, %s): name type fnv1a64\n" % (tag, name))
                for tname, t, data in read_gguf_tensors(out):
                    f.write("%s %d %016x\n" % (tname, t, fnv1a64(data)))
            print("%s: wrote %s" % (name, os.path.basename(manifest)))


if __name__ == "__main__":
    main()
