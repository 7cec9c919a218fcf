/* unicode.h - code point classes, UTF-8 decoding as llama.cpp does it, GPT-2 byte encoding. */
#ifndef LAI_UNICODE_H
#define LAI_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Class bits of a code point (generated tables in unicode_data.c). A code point has at
 * most one of the category bits (0x01..0x40); unassigned ones have none. */
enum {
    LAI_UC_NUMBER = 0x01,     /* \p{N} */
    LAI_UC_LETTER = 0x02,     /* \p{L} */
    LAI_UC_SEPARATOR = 0x04,  /* \p{Z} */
    LAI_UC_MARK = 0x08,       /* \p{M} */
    LAI_UC_PUNCT = 0x10,      /* \p{P} */
    LAI_UC_SYMBOL = 0x20,     /* \p{S} */
    LAI_UC_CONTROL = 0x40,    /* \p{C} except unassigned */
    LAI_UC_WHITESPACE = 0x80  /* White_Space (PropList.txt): what the splitters call \s */
};

#define LAI_UC_MAX 0x110000u
#define LAI_UC_REPLACEMENT 0xFFFDu

extern const uint16_t lai_uc_stage1[LAI_UC_MAX / 256];
extern const uint8_t lai_uc_stage2[][256];
extern const uint32_t lai_uc_lower[][2];
extern const size_t lai_uc_lower_count;

static inline uint8_t lai_uc_flags(uint32_t cpt) {
    if (cpt >= LAI_UC_MAX) return 0;
    return lai_uc_stage2[lai_uc_stage1[cpt >> 8]][cpt & 0xFF];
}

/* Simple lowercase mapping; the code point itself when it has none. */
uint32_t lai_uc_tolower(uint32_t cpt);

/* Byte length of the UTF-8 sequence a lead byte announces, from its high nibble (1 for
 * continuation and invalid bytes): how llama.cpp cuts text into "characters". */
static inline size_t lai_utf8_lead_len(uint8_t b) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[b >> 4];
}

/* Decodes one code point at s[*pos] (pos < n) the way llama.cpp does: the lead byte's
 * bits give the length, continuation bytes must be 10xxxxxx; overlong forms and
 * surrogates are accepted as they come. An invalid sequence consumes one byte and gives
 * U+FFFD. */
uint32_t lai_utf8_decode(const uint8_t *s, size_t n, size_t *pos);

/* Encodes `cpt` into out (room for 4); returns the length. Values past U+10FFFF (which
 * lai_utf8_decode can produce from F5..F7 lead bytes) are encoded as U+FFFD. */
size_t lai_utf8_encode(uint32_t cpt, uint8_t out[4]);

/* 1 when s[0..n) is strictly valid UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF). */
int lai_utf8_valid(const uint8_t *s, size_t n);

/* GPT-2's reversible byte <-> code point map used by byte-level BPE vocabularies:
 * printable Latin-1 bytes stand for themselves, the others for U+0100.. in byte order. */
uint32_t lai_byte_to_cpt(uint8_t b);
/* The byte a code point stands for, or -1 when it is not one of the 256. */
int lai_cpt_to_byte(uint32_t cpt);

#endif /* LAI_UNICODE_H */
