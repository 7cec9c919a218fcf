/* tokenizer_api.c - the tokenizer entry points of the public API. */
#include "../model/model.h"

#define NOT_YET(fn) \
    lai_fail(LOCALAI_STATUS_UNSUPPORTED, fn ": tokenization is not implemented in this build yet")

LOCALAI_API localai_status localai_tokenize(const localai_model *model, const char *text,
                                            size_t text_len, uint32_t flags,
                                            localai_token *tokens, size_t capacity,
                                            size_t *out_count) {
    (void)model; (void)text; (void)text_len; (void)flags; (void)tokens; (void)capacity;
    (void)out_count;
    return NOT_YET("localai_tokenize");
}

LOCALAI_API localai_status localai_token_to_piece(const localai_model *model,
                                                  localai_token token, uint32_t flags,
                                                  char *buf, size_t capacity, size_t *out_len) {
    (void)model; (void)token; (void)flags; (void)buf; (void)capacity; (void)out_len;
    return NOT_YET("localai_token_to_piece");
}

LOCALAI_API localai_status localai_detokenize(const localai_model *model,
                                              const localai_token *tokens, size_t n_tokens,
                                              uint32_t flags, char *buf, size_t capacity,
                                              size_t *out_len) {
    (void)model; (void)tokens; (void)n_tokens; (void)flags; (void)buf; (void)capacity;
    (void)out_len;
    return NOT_YET("localai_detokenize");
}

LOCALAI_API localai_token localai_token_special(const localai_model *model, int32_t which) {
    (void)model; (void)which;
    return LOCALAI_TOKEN_NONE;
}

LOCALAI_API int32_t localai_token_is_eog(const localai_model *model, localai_token token) {
    (void)model; (void)token;
    return 0;
}
