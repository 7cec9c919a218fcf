/* sampler_api.c - the sampler chain entry points of the public API. */
#include "../base/base.h"

#define NOT_YET(fn) \
    lai_fail(LOCALAI_STATUS_UNSUPPORTED, fn ": sampling is not implemented in this build yet")

LOCALAI_API localai_status localai_sampler_new(localai_sampler **out_sampler) {
    (void)out_sampler;
    return NOT_YET("localai_sampler_new");
}

LOCALAI_API void localai_sampler_free(localai_sampler *sampler) { (void)sampler; }

LOCALAI_API const char *localai_sampler_errmsg(const localai_sampler *sampler) {
    (void)sampler;
    return "";
}

LOCALAI_API localai_status localai_sampler_add_penalties(localai_sampler *s, int32_t last_n,
                                                         float repeat, float frequency,
                                                         float presence) {
    (void)s; (void)last_n; (void)repeat; (void)frequency; (void)presence;
    return NOT_YET("localai_sampler_add_penalties");
}
LOCALAI_API localai_status localai_sampler_add_top_k(localai_sampler *s, int32_t k) {
    (void)s; (void)k;
    return NOT_YET("localai_sampler_add_top_k");
}
LOCALAI_API localai_status localai_sampler_add_top_p(localai_sampler *s, float p, size_t min_keep) {
    (void)s; (void)p; (void)min_keep;
    return NOT_YET("localai_sampler_add_top_p");
}
LOCALAI_API localai_status localai_sampler_add_min_p(localai_sampler *s, float p, size_t min_keep) {
    (void)s; (void)p; (void)min_keep;
    return NOT_YET("localai_sampler_add_min_p");
}
LOCALAI_API localai_status localai_sampler_add_temperature(localai_sampler *s, float t) {
    (void)s; (void)t;
    return NOT_YET("localai_sampler_add_temperature");
}
LOCALAI_API localai_status localai_sampler_add_greedy(localai_sampler *s) {
    (void)s;
    return NOT_YET("localai_sampler_add_greedy");
}
LOCALAI_API localai_status localai_sampler_add_dist(localai_sampler *s, uint64_t seed) {
    (void)s; (void)seed;
    return NOT_YET("localai_sampler_add_dist");
}
LOCALAI_API localai_status localai_sampler_new_from_params(const localai_sampler_params *params,
                                                           localai_sampler **out_sampler) {
    (void)params; (void)out_sampler;
    return NOT_YET("localai_sampler_new_from_params");
}
LOCALAI_API localai_status localai_sample(localai_sampler *s, localai_context *ctx, int32_t i,
                                          localai_token *out_token) {
    (void)s; (void)ctx; (void)i; (void)out_token;
    return NOT_YET("localai_sample");
}
LOCALAI_API localai_status localai_sampler_accept(localai_sampler *s, localai_token token) {
    (void)s; (void)token;
    return NOT_YET("localai_sampler_accept");
}
LOCALAI_API localai_status localai_sampler_reset(localai_sampler *s) {
    (void)s;
    return NOT_YET("localai_sampler_reset");
}
