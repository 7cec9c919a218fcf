#version 450
// get_rows.comp - dst row i = row ids[i] of the table src0 as f32 (one variant per table type).
// pc.ne[0]: row length, pc.ne[1]: table rows; pc.nb[0]: table's nb1, pc.nb[1]: dst's nb1.
// An id out of range gives a row of zeros (the host validates ids; never read outside).
layout(local_size_x = 256) in;
#include "common.glsl"
#include "dequant.glsl"

void main() {
    uint e = global_id();
    if (e < pc.n) {
        uint i = e / pc.ne[0], c = e % pc.ne[0];
        int id = int(src1_u[pc.off[2] / 4u + i]);
        bool ok = id >= 0 && uint(id) < pc.ne[1];
        float v = dq_elem(pc.off[1] + uint(ok ? id : 0) * pc.nb[0], c);
        dst_f[(pc.off[0] + i * pc.nb[1]) / 4u + c] = ok ? v : 0.0;
    }
}
