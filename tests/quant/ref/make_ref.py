#!/usr/bin/env python3
"""make_ref.py - regenerate the llama.cpp reference vectors in this folder.

Not needed at test time: the .ref files it writes are committed. It loads libggml-base.so
from llama.cpp's prebuilt binaries (npm package node-llama-cpp, folder
@node-llama-cpp/linux-x64/bins/linux-x64) through ctypes:

    python3 make_ref.py /path/to/libggml-base.so

Files written (all little-endian):
  input.ref       "LAIQIN01", u32 n, then n f32: the shared quantizer input
                  (N_ROWS rows of N_PER_ROW, several distributions, see make_input)
  <type>.ref      "LAIQREF1", u32 ggml type id, u32 n_quant, u32 n_deq, then
                  - n_quant > 0: ggml_quantize_chunk(type, input) bytes (no imatrix,
                    i.e. llama.cpp's reference quantizer), n_quant elements
                  - n_deq elements' worth of random blocks (random bytes, f16 scale
                    fields set to finite values), then ggml's dequantization of them
                    as n_deq f32
"""
import ctypes
import math
import random
import struct
import sys

N_ROWS = 4
N_PER_ROW = 1024
N_DEQ = 512

# name, ggml id, block elements, block bytes, offsets of f16 fields, quantize with ggml?
TYPES = [
    ("q4_0", 2, 32, 18, [0], True),
    ("q4_1", 3, 32, 20, [0, 2], True),
    ("q5_0", 6, 32, 22, [0], True),
    ("q5_1", 7, 32, 24, [0, 2], True),
    ("q8_0", 8, 32, 34, [0], True),
    ("q2_K", 10, 256, 84, [80, 82], True),
    ("q3_K", 11, 256, 110, [108], True),
    ("q4_K", 12, 256, 144, [0, 2], True),
    ("q5_K", 13, 256, 176, [0, 2], True),
    ("q6_K", 14, 256, 210, [208], True),
    ("iq4_nl", 20, 32, 18, [0], False),
    ("iq4_xs", 23, 256, 136, [0], False),
    ("f16", 1, 1, 2, [], True),
    ("bf16", 30, 1, 2, [], True),
]


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def make_input(rng):
    rows = []
    # row 0: standard normal
    rows.append([rng.gauss(0, 1) for _ in range(N_PER_ROW)])
    # row 1: typical trained weights (sd 0.02) with rare large outliers
    r = [rng.gauss(0, 0.02) for _ in range(N_PER_ROW)]
    for i in rng.sample(range(N_PER_ROW), 12):
        r[i] = rng.choice([-1, 1]) * rng.uniform(0.2, 0.6)
    rows.append(r)
    # row 2: uniform, with whole 32-blocks that are zero, constant, all positive and all
    # negative (the paths where scales or mins degenerate)
    r = [rng.uniform(-1, 1) for _ in range(N_PER_ROW)]
    for i in range(32):
        r[i] = 0.0
    for i in range(32, 64):
        r[i] = 0.375
    for i in range(64, 96):
        r[i] = rng.uniform(0.5, 1.5)
    for i in range(96, 128):
        r[i] = -rng.uniform(0.5, 1.5)
    for i in range(256, 512):  # a whole super-block of zeros
        r[i] = 0.0
    rows.append(r)
    # row 3: magnitudes from tiny to large, one sign-skewed super-block
    r = [rng.gauss(0, 1) * 10 ** rng.uniform(-6, 3) for _ in range(N_PER_ROW)]
    for i in range(512, 768):
        r[i] = abs(r[i]) + 0.1
    rows.append(r)
    return [f32(v) for row in rows for v in row]


def random_blocks(rng, n_elems, blck, bsize, f16_offsets):
    nb = n_elems // blck
    out = bytearray(rng.getrandbits(8) for _ in range(nb * bsize))
    for b in range(nb):
        for off in f16_offsets:
            v = rng.choice([-1, 1]) * 10 ** rng.uniform(-4, 0)
            struct.pack_into("<e", out, b * bsize + off, v)
    return bytes(out)


def random_halves(rng, n, bf16):
    # finite values only (exponent field not all ones)
    vals = []
    while len(vals) < n:
        h = rng.getrandbits(16)
        if bf16 and (h >> 7) & 0xFF == 0xFF:
            continue
        if not bf16 and (h >> 10) & 0x1F == 0x1F:
            continue
        vals.append(h)
    return struct.pack("<%dH" % n, *vals)


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                        ctypes.c_void_p]
    rng = random.Random(20240611)
    x = make_input(rng)
    n = len(x)
    with open("input.ref", "wb") as f:
        f.write(b"LAIQIN01" + struct.pack("<I", n) + struct.pack("<%df" % n, *x))
    xbuf = (ctypes.c_float * n)(*x)
    for name, tid, blck, bsize, f16s, quantize in TYPES:
        qbytes = b""
        if quantize:
            qbuf = ctypes.create_string_buffer(n // blck * bsize)
            size = lib.ggml_quantize_chunk(tid, xbuf, qbuf, 0, N_ROWS, N_PER_ROW, None)
            assert size == n // blck * bsize, (name, size)
            qbytes = qbuf.raw
        if blck == 1:
            raw = random_halves(rng, N_DEQ, tid == 30)
        else:
            raw = random_blocks(rng, N_DEQ, blck, bsize, f16s)
        out = (ctypes.c_float * N_DEQ)()
        if name == "f16":
            lib.ggml_fp16_to_fp32_row(raw, out, ctypes.c_int64(N_DEQ))
        elif name == "bf16":
            lib.ggml_bf16_to_fp32_row(raw, out, ctypes.c_int64(N_DEQ))
        else:
            getattr(lib, "dequantize_row_" + name)(raw, out, ctypes.c_int64(N_DEQ))
        with open(name + ".ref", "wb") as f:
            f.write(b"LAIQREF1" + struct.pack("<III", tid, n if quantize else 0, N_DEQ))
            f.write(qbytes + raw + bytes(out))
    print("wrote input.ref and %d type files" % len(TYPES))


if __name__ == "__main__":
    main()
