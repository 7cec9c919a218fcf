// common.glsl - what every liblocalai compute shader shares: the push constants, the six storage bindings, byte and half reads.
//
// Binding 0 is the op's dst, bindings 1..5 its srcs, each the whole VkBuffer the tensor
// lives in; where a tensor starts is a byte offset in the push constants (tensor offsets
// and views need not meet minStorageBufferOffsetAlignment). Every binding is declared
// twice, as floats and as 32-bit words, aliasing the same memory: f32 activations are
// read as floats, quantized blocks and f16 as words with bytes picked out of them (no
// 8- or 16-bit storage feature needed). lib/vulkan/vk_ops.c fills the push constants
// (struct vk_push there mirrors this block).
#extension GL_EXT_control_flow_attributes : enable

layout(push_constant) uniform Push {
    uint off[6];   // byte offsets: dst, src0 .. src4
    uint ne[4];    // op-specific sizes (usually src0's ne)
    uint nb[10];   // op-specific byte strides
    int ip[4];     // the op's integer parameters
    float fp[6];   // the op's float parameters
    uint n;        // work items of the dispatch
    uint aux;      // op-specific
} pc; // 128 bytes: the least maxPushConstantsSize a device may have

layout(std430, set = 0, binding = 0) buffer DstF { float dst_f[]; };
layout(std430, set = 0, binding = 0) buffer DstU { uint dst_u[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src0F { float src0_f[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src0U { uint src0_u[]; };
layout(std430, set = 0, binding = 2) readonly buffer Src1F { float src1_f[]; };
layout(std430, set = 0, binding = 2) readonly buffer Src1U { uint src1_u[]; };
layout(std430, set = 0, binding = 3) readonly buffer Src2F { float src2_f[]; };
layout(std430, set = 0, binding = 3) readonly buffer Src2U { uint src2_u[]; };
layout(std430, set = 0, binding = 4) readonly buffer Src3U { uint src3_u[]; };
layout(std430, set = 0, binding = 5) readonly buffer Src4U { uint src4_u[]; };

// The index of this invocation across a dispatch that may span several rows of
// workgroups (more than maxComputeWorkGroupCount[0] of them). Every shader declares its
// local size before including this file: gl_WorkGroupSize means (1, 1, 1) until then.
uint global_id() {
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
}
uint group_id() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

// Byte, 16-bit and 32-bit reads at any byte address of a binding, as unsigned values.
#define LAI_READERS(NAME, ARR)                                                            \
    uint NAME##_u8(uint a) { return (ARR[a >> 2] >> ((a & 3u) * 8u)) & 0xffu; }           \
    uint NAME##_u16(uint a) {                                                             \
        return (a & 1u) == 0u ? (ARR[a >> 2] >> ((a & 2u) * 8u)) & 0xffffu                \
                              : NAME##_u8(a) | (NAME##_u8(a + 1u) << 8);                  \
    }                                                                                     \
    uint NAME##_u32(uint a) {                                                             \
        return (a & 3u) == 0u ? ARR[a >> 2] : NAME##_u16(a) | (NAME##_u16(a + 2u) << 16); \
    }
LAI_READERS(s0, src0_u)
LAI_READERS(s1, src1_u)
LAI_READERS(s3, src3_u)
LAI_READERS(s4, src4_u)

float half_bits(uint h) { return unpackHalf2x16(h).x; }
float bf16_bits(uint h) { return uintBitsToFloat(h << 16); }

// f32 -> f16 bits, rounded to nearest even as lib/quant's lai_f32_to_f16 (the CPU's KV
// cache bytes), independent of how a driver rounds packHalf2x16.
uint f32_to_f16_rte(float f) {
    uint x = floatBitsToUint(f);
    uint sign = (x >> 16) & 0x8000u;
    uint ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u); // NaN, inf
    if (ax >= 0x477ff000u) return sign | 0x7c00u;                                  // overflow
    if (ax < 0x38800000u) {                                                        // subnormal or 0
        if (ax < 0x33000000u) return sign;
        uint e = ax >> 23;
        uint m = (ax & 0x7fffffu) | 0x800000u;
        uint shift = 126u - e;             // 14 .. 24
        uint h = m >> shift;
        uint rem = m & ((1u << shift) - 1u), half_ = 1u << (shift - 1u);
        if (rem > half_ || (rem == half_ && (h & 1u) != 0u)) h++;
        return sign | h;
    }
    uint h = ((ax >> 13) - (112u << 10));
    uint rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) h++;
    return sign | h;
}

// sin and cos of x with an error of a few ulp at any magnitude a float angle takes
// (rope angles reach 10^5 rad), where GLSL's sin/cos only promise 2^-11 on [-pi, pi].
// Reduction by pi/2 in three parts (Cody-Waite), then minimax polynomials on [-pi/4, pi/4].
vec2 lai_sincos(float x) {
    float k = round(x * 0.63661977236758134f);
    float r = fma(k, -1.5707963705062866f, x);
    r = fma(k, 4.3711388286737929e-08f, r);
    r = fma(k, 1.7151245100059246e-15f, r);
    float r2 = r * r;
    float s = r + r * r2 * (-1.6666654611e-1f + r2 * (8.3321608736e-3f + r2 * -1.9515295891e-4f));
    float c = 1.0f + r2 * (-0.5f + r2 * (4.166664568298827e-2f + r2 * (-1.388731625493765e-3f + r2 * 2.443315711809948e-5f)));
    int q = int(k) & 3;
    vec2 sc = q == 0 ? vec2(s, c) : q == 1 ? vec2(c, -s) : q == 2 ? vec2(-s, -c) : vec2(-c, s);
    return sc; // (sin, cos)
}

// tanh without inf / inf at large |x| (some drivers' tanh returns NaN there).
float lai_tanh(float x) {
    float e = exp(-2.0 * abs(x));
    return sign(x) * ((1.0 - e) / (1.0 + e));
}
