// gguf_f64.mjs - an independent GGUF reader for the harness: metadata, tensor index, and
// every weight type dequantized to float64 by the formulas of ggml's block formats.
// It shares no code with lib/, so the exact reference it feeds is a real second opinion.
import fs from "node:fs";

const GGUF_TYPES = { 0: "u8", 1: "i8", 2: "u16", 3: "i16", 4: "u32", 5: "i32", 6: "f32", 7: "bool",
    8: "str", 9: "arr", 10: "u64", 11: "i64", 12: "f64" };

// ggml type id -> [name, elements per block, bytes per block]
export const GGML_TYPES = {
    0: ["F32", 1, 4], 1: ["F16", 1, 2], 2: ["Q4_0", 32, 18], 3: ["Q4_1", 32, 20],
    6: ["Q5_0", 32, 22], 7: ["Q5_1", 32, 24], 8: ["Q8_0", 32, 34],
    10: ["Q2_K", 256, 84], 11: ["Q3_K", 256, 110], 12: ["Q4_K", 256, 144], 13: ["Q5_K", 256, 176],
    14: ["Q6_K", 256, 210], 20: ["IQ4_NL", 32, 18], 23: ["IQ4_XS", 256, 136], 30: ["BF16", 1, 2],
};

function f16(bits) {
    const s = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 0x1f, m = bits & 0x3ff;
    if (e === 0) return s * m * 2 ** -24;
    if (e === 31) return m ? NaN : s * Infinity;
    return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function readGguf(path) {
    const buf = fs.readFileSync(path);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let off = 0;
    const u32 = () => { const v = dv.getUint32(off, true); off += 4; return v; };
    const u64 = () => { const v = Number(dv.getBigUint64(off, true)); off += 8; return v; };
    const str = () => { const n = u64(); const s = buf.toString("utf8", off, off + n); off += n; return s; };
    const scalar = (t) => {
        let v;
        switch (GGUF_TYPES[t]) {
        case "u8": v = dv.getUint8(off); off += 1; return v;
        case "i8": v = dv.getInt8(off); off += 1; return v;
        case "u16": v = dv.getUint16(off, true); off += 2; return v;
        case "i16": v = dv.getInt16(off, true); off += 2; return v;
        case "u32": return u32();
        case "i32": v = dv.getInt32(off, true); off += 4; return v;
        case "f32": v = dv.getFloat32(off, true); off += 4; return v;
        case "bool": v = dv.getUint8(off) !== 0; off += 1; return v;
        case "str": return str();
        case "u64": return u64();
        case "i64": v = Number(dv.getBigInt64(off, true)); off += 8; return v;
        case "f64": v = dv.getFloat64(off, true); off += 8; return v;
        case "arr": {
            const et = u32(), n = u64(), a = new Array(n);
            for (let i = 0; i < n; i++) a[i] = scalar(et);
            return a;
        }
        default: throw new Error(`${path}: bad metadata type ${t} at ${off}`);
        }
    };
    if (u32() !== 0x46554747) throw new Error(`${path}: not a GGUF file`);
    const version = u32();
    if (version < 2) throw new Error(`${path}: GGUF v${version} is not supported`);
    const nTensors = u64(), nKv = u64();
    const meta = {};
    for (let i = 0; i < nKv; i++) { const k = str(); meta[k] = scalar(u32()); }
    const tensors = {};
    for (let i = 0; i < nTensors; i++) {
        const name = str(), nd = u32(), ne = [];
        for (let d = 0; d < nd; d++) ne.push(u64());
        const type = u32(), offset = u64();
        tensors[name] = { name, ne, type, offset };
    }
    const align = meta["general.alignment"] ?? 32;
    const dataStart = Math.ceil(off / align) * align;
    return { path, buf, meta, tensors, dataStart };
}

const KV_IQ4NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

function scaleMinK4(j, q) {
    if (j < 4) return [q[j] & 63, q[j + 4] & 63];
    return [(q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)];
}

// Dequantizes one block of `type` at byte offset `o` of `b` (a Uint8Array) into y[yo..].
function dequantBlock(type, b, o, y, yo) {
    const h = (i) => f16(b[o + i] | (b[o + i + 1] << 8));
    switch (type) {
    case 2: { const d = h(0); // Q4_0
        for (let j = 0; j < 16; j++) { const q = b[o + 2 + j]; y[yo + j] = ((q & 15) - 8) * d; y[yo + j + 16] = ((q >> 4) - 8) * d; }
        return; }
    case 3: { const d = h(0), m = h(2); // Q4_1
        for (let j = 0; j < 16; j++) { const q = b[o + 4 + j]; y[yo + j] = (q & 15) * d + m; y[yo + j + 16] = (q >> 4) * d + m; }
        return; }
    case 6: case 7: { // Q5_0, Q5_1
        const d = h(0), m = type === 7 ? h(2) : 0, qo = type === 7 ? 4 : 2;
        const qh = (b[o + qo] | (b[o + qo + 1] << 8) | (b[o + qo + 2] << 16) | (b[o + qo + 3] << 24)) >>> 0;
        for (let j = 0; j < 16; j++) {
            const q = b[o + qo + 4 + j];
            const x0 = (q & 15) | (((qh >>> j) << 4) & 0x10), x1 = (q >> 4) | ((qh >>> (j + 12)) & 0x10);
            if (type === 6) { y[yo + j] = (x0 - 16) * d; y[yo + j + 16] = (x1 - 16) * d; }
            else { y[yo + j] = x0 * d + m; y[yo + j + 16] = x1 * d + m; }
        }
        return; }
    case 8: { const d = h(0); // Q8_0
        for (let j = 0; j < 32; j++) y[yo + j] = ((b[o + 2 + j] << 24) >> 24) * d;
        return; }
    case 20: { const d = h(0); // IQ4_NL
        for (let j = 0; j < 16; j++) { const q = b[o + 2 + j]; y[yo + j] = d * KV_IQ4NL[q & 15]; y[yo + j + 16] = d * KV_IQ4NL[q >> 4]; }
        return; }
    case 10: { // Q2_K: scales[16] qs[64] d dmin
        const d = h(80), dmin = h(82);
        let is = 0, yi = yo;
        for (let n = 0; n < 256; n += 128) {
            const q = o + 16 + n / 4;
            for (let shift = 0; shift < 8; shift += 2) {
                for (let half = 0; half < 2; half++) {
                    const sc = b[o + is++], dl = d * (sc & 15), ml = dmin * (sc >> 4);
                    for (let l = 0; l < 16; l++) y[yi++] = dl * ((b[q + 16 * half + l] >> shift) & 3) - ml;
                }
            }
        }
        return; }
    case 11: { // Q3_K: hmask[32] qs[64] scales[12] d
        const d = h(108), sb = o + 96;
        const raw = (i) => b[sb + i];
        const sc = new Array(16);
        for (let j = 0; j < 16; j++) {
            // 16 six-bit scales: low 4 bits from bytes 0..7, high 2 bits from bytes 8..11
            const lo = j < 8 ? raw(j) & 15 : raw(j - 8) >> 4;
            const hi = (raw(8 + (j % 4)) >> (2 * Math.floor(j / 4))) & 3;
            sc[j] = (lo | (hi << 4)) - 32;
        }
        let is = 0, yi = yo, m = 1;
        for (let n = 0; n < 256; n += 128) {
            const q = o + 32 + n / 4;
            for (let shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (let half = 0; half < 2; half++) {
                    const dl = d * sc[is++];
                    for (let l = 0; l < 16; l++) {
                        const li = 16 * half + l;
                        y[yi++] = dl * (((b[q + li] >> shift) & 3) - ((b[o + li] & m) ? 0 : 4));
                    }
                }
            }
        }
        return; }
    case 12: case 13: { // Q4_K, Q5_K: d dmin scales[12] (qh[32]) qs[128]
        const d = h(0), dmin = h(2), scales = b.subarray(o + 4, o + 16);
        const k5 = type === 13, qh = o + 16, qs = o + (k5 ? 48 : 16);
        let yi = yo, is = 0, u1 = 1, u2 = 2;
        for (let j = 0; j < 256; j += 64, is += 2, u1 <<= 2, u2 <<= 2) {
            const [s1, m1] = scaleMinK4(is, scales), [s2, m2] = scaleMinK4(is + 1, scales);
            const q = qs + j / 2;
            for (let l = 0; l < 32; l++) y[yi++] = d * s1 * ((b[q + l] & 15) + (k5 && (b[qh + l] & u1) ? 16 : 0)) - dmin * m1;
            for (let l = 0; l < 32; l++) y[yi++] = d * s2 * ((b[q + l] >> 4) + (k5 && (b[qh + l] & u2) ? 16 : 0)) - dmin * m2;
        }
        return; }
    case 14: { // Q6_K: ql[128] qh[64] scales[16] d
        const d = h(208);
        for (let n = 0; n < 2; n++) {
            const ql = o + 64 * n, qh = o + 128 + 32 * n, sc = o + 192 + 8 * n, yb = yo + 128 * n;
            const s = (i) => (b[sc + i] << 24) >> 24;
            for (let l = 0; l < 32; l++) {
                const is = l >> 4;
                const q1 = ((b[ql + l] & 15) | (((b[qh + l] >> 0) & 3) << 4)) - 32;
                const q2 = ((b[ql + l + 32] & 15) | (((b[qh + l] >> 2) & 3) << 4)) - 32;
                const q3 = ((b[ql + l] >> 4) | (((b[qh + l] >> 4) & 3) << 4)) - 32;
                const q4 = ((b[ql + l + 32] >> 4) | (((b[qh + l] >> 6) & 3) << 4)) - 32;
                y[yb + l] = d * s(is) * q1; y[yb + l + 32] = d * s(is + 2) * q2;
                y[yb + l + 64] = d * s(is + 4) * q3; y[yb + l + 96] = d * s(is + 6) * q4;
            }
        }
        return; }
    case 23: { // IQ4_XS: d scales_h(u16) scales_l[4] qs[128]
        const d = h(0), sh = b[o + 2] | (b[o + 3] << 8);
        for (let ib = 0; ib < 8; ib++) {
            const ls = ((b[o + 4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
            const dl = d * (ls - 32), q = o + 8 + 16 * ib, yb = yo + 32 * ib;
            for (let j = 0; j < 16; j++) { y[yb + j] = dl * KV_IQ4NL[b[q + j] & 15]; y[yb + j + 16] = dl * KV_IQ4NL[b[q + j] >> 4]; }
        }
        return; }
    default: throw new Error(`type ${type} has no block dequantizer`);
    }
}

// The tensor `name` as a Float64Array (ne[0] innermost), or null when absent.
export function tensorF64(g, name) {
    const t = g.tensors[name];
    if (!t) return null;
    const info = GGML_TYPES[t.type];
    if (!info) throw new Error(`${name}: ggml type ${t.type} is not handled by the harness`);
    const [, bs, ts] = info;
    const n = t.ne.reduce((a, b) => a * b, 1);
    const y = new Float64Array(n);
    const base = g.dataStart + t.offset;
    const b = new Uint8Array(g.buf.buffer, g.buf.byteOffset, g.buf.byteLength);
    const dv = new DataView(g.buf.buffer, g.buf.byteOffset, g.buf.byteLength);
    if (t.type === 0) for (let i = 0; i < n; i++) y[i] = dv.getFloat32(base + 4 * i, true);
    else if (t.type === 1) for (let i = 0; i < n; i++) y[i] = f16(dv.getUint16(base + 2 * i, true));
    else if (t.type === 30) {
        const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
        for (let i = 0; i < n; i++) { bits[0] = dv.getUint16(base + 2 * i, true) << 16; y[i] = f[0]; }
    }
    else for (let blk = 0; blk < n / bs; blk++) dequantBlock(t.type, b, base + blk * ts, y, blk * bs);
    return y;
}
