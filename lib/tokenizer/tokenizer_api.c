/* tokenizer_api.c - the tokenizer entry points of the public API. */
#include "../model/model.h"
#include "vocab_internal.h"

static localai_status get_vocab(const localai_model *model, const char *fn,
                                const lai_vocab **out) {
    if (model == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%s: model is NULL", fn);
    if (model->vocab == NULL)
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "%s: the model file has no vocabulary", fn);
    *out = model->vocab;
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_tokenize(const localai_model *model, const char *text,
                                            size_t text_len, uint32_t flags,
                                            localai_token *tokens, size_t capacity,
                                            size_t *out_count) {
    const lai_vocab *v = NULL;
    localai_status st = get_vocab(model, "localai_tokenize", &v);
    if (st) return st;
    if (text == NULL && text_len > 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_tokenize: text is NULL");
    if (tokens == NULL && capacity > 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_tokenize: tokens is NULL");
    if (out_count == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_tokenize: out_count is NULL");
    if (flags & ~(uint32_t)(LOCALAI_TOKENIZE_ADD_SPECIAL | LOCALAI_TOKENIZE_PARSE_SPECIAL))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_tokenize: unknown flags 0x%x",
                        (unsigned)flags);
    lai_tok_out out = {tokens, capacity, 0};
    const localai_allocator *previous = lai_heap_enter(lai_model_heap(model));
    st = lai_vocab_tokenize(v, text ? text : "", text_len,
                            (flags & LOCALAI_TOKENIZE_ADD_SPECIAL) != 0,
                            (flags & LOCALAI_TOKENIZE_PARSE_SPECIAL) != 0, &out);
    lai_heap_leave(previous);
    if (st) return st;
    *out_count = out.count;
    if (out.count > capacity)
        return lai_fail(LOCALAI_STATUS_BUFFER_TOO_SMALL,
                        "localai_tokenize: %zu tokens, room for %zu", out.count, capacity);
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_token_to_piece(const localai_model *model,
                                                  localai_token token, uint32_t flags,
                                                  char *buf, size_t capacity, size_t *out_len) {
    const lai_vocab *v = NULL;
    localai_status st = get_vocab(model, "localai_token_to_piece", &v);
    if (st) return st;
    if (out_len == NULL || (buf == NULL && capacity > 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_token_to_piece: NULL buffer");
    if (flags & ~(uint32_t)LOCALAI_PIECE_RENDER_SPECIAL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_token_to_piece: unknown flags 0x%x", (unsigned)flags);
    size_t len = 0;
    const char *p = lai_vocab_piece(v, token, (flags & LOCALAI_PIECE_RENDER_SPECIAL) != 0, &len);
    if (p == NULL)
        return lai_fail(LOCALAI_STATUS_NOT_FOUND,
                        "localai_token_to_piece: token %d is outside the vocabulary of %d",
                        (int)token, (int)v->n_tokens);
    *out_len = len;
    if (len > capacity)
        return lai_fail(LOCALAI_STATUS_BUFFER_TOO_SMALL,
                        "localai_token_to_piece: %zu bytes needed, %zu given", len, capacity);
    memcpy(buf, p, len);
    if (len < capacity) buf[len] = '\0';
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_detokenize(const localai_model *model,
                                              const localai_token *tokens, size_t n_tokens,
                                              uint32_t flags, char *buf, size_t capacity,
                                              size_t *out_len) {
    const lai_vocab *v = NULL;
    localai_status st = get_vocab(model, "localai_detokenize", &v);
    if (st) return st;
    if (out_len == NULL || (buf == NULL && capacity > 0) || (tokens == NULL && n_tokens > 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_detokenize: NULL argument");
    if (flags & ~(uint32_t)(LOCALAI_DETOKENIZE_REMOVE_SPECIAL | LOCALAI_DETOKENIZE_RENDER_SPECIAL))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_detokenize: unknown flags 0x%x",
                        (unsigned)flags);
    const localai_allocator *previous = lai_heap_enter(lai_model_heap(model));
    st = lai_vocab_detokenize(v, tokens, n_tokens,
                              (flags & LOCALAI_DETOKENIZE_REMOVE_SPECIAL) != 0,
                              (flags & LOCALAI_DETOKENIZE_RENDER_SPECIAL) != 0, buf, capacity,
                              out_len);
    lai_heap_leave(previous);
    if (st == LOCALAI_STATUS_OK) lai_clear_error();
    return st;
}

LOCALAI_API localai_token localai_token_special(const localai_model *model, int32_t which) {
    if (model == NULL || model->vocab == NULL) return LOCALAI_TOKEN_NONE;
    const lai_vocab *v = model->vocab;
    int32_t id;
    switch (which) {
    case LOCALAI_SPECIAL_BOS: id = v->bos; break;
    case LOCALAI_SPECIAL_EOS: id = v->eos; break;
    case LOCALAI_SPECIAL_EOT: id = v->eot; break;
    case LOCALAI_SPECIAL_UNK: id = v->unk; break;
    case LOCALAI_SPECIAL_PAD: id = v->pad; break;
    case LOCALAI_SPECIAL_SEP: id = v->sep; break;
    case LOCALAI_SPECIAL_NL: id = v->nl; break;
    default: id = -1; break;
    }
    return id >= 0 ? id : LOCALAI_TOKEN_NONE;
}

LOCALAI_API int32_t localai_token_is_eog(const localai_model *model, localai_token token) {
    if (model == NULL || model->vocab == NULL) return 0;
    return lai_vocab_is_eog(model->vocab, token);
}
