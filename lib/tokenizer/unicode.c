/* unicode.c - UTF-8 decoding with llama.cpp's rules, lowercase lookup, GPT-2 byte map. */
#include "unicode.h"

uint32_t lai_uc_tolower(uint32_t cpt) {
    size_t lo = 0, hi = lai_uc_lower_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lai_uc_lower[mid][0] < cpt) lo = mid + 1;
        else hi = mid;
    }
    if (lo < lai_uc_lower_count && lai_uc_lower[lo][0] == cpt) return lai_uc_lower[lo][1];
    return cpt;
}

static int is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

uint32_t lai_utf8_decode(const uint8_t *s, size_t n, size_t *pos) {
    size_t i = *pos;
    uint8_t b0 = s[i];
    if (!(b0 & 0x80)) {
        *pos = i + 1;
        return b0;
    }
    if (!(b0 & 0x40)) goto invalid;
    if (!(b0 & 0x20)) {
        if (i + 1 >= n || !is_cont(s[i + 1])) goto invalid;
        *pos = i + 2;
        return ((uint32_t)(b0 & 0x1F) << 6) | (s[i + 1] & 0x3Fu);
    }
    if (!(b0 & 0x10)) {
        if (i + 2 >= n || !is_cont(s[i + 1]) || !is_cont(s[i + 2])) goto invalid;
        *pos = i + 3;
        return ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
               (s[i + 2] & 0x3Fu);
    }
    if (!(b0 & 0x08)) {
        if (i + 3 >= n || !is_cont(s[i + 1]) || !is_cont(s[i + 2]) || !is_cont(s[i + 3]))
            goto invalid;
        *pos = i + 4;
        return ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
               ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3Fu);
    }
invalid:
    *pos = i + 1;
    return LAI_UC_REPLACEMENT;
}

size_t lai_utf8_encode(uint32_t cpt, uint8_t out[4]) {
    if (cpt <= 0x7F) {
        out[0] = (uint8_t)cpt;
        return 1;
    }
    if (cpt <= 0x7FF) {
        out[0] = (uint8_t)(0xC0 | (cpt >> 6));
        out[1] = (uint8_t)(0x80 | (cpt & 0x3F));
        return 2;
    }
    if (cpt > 0x10FFFF) cpt = LAI_UC_REPLACEMENT;
    if (cpt <= 0xFFFF) {
        out[0] = (uint8_t)(0xE0 | (cpt >> 12));
        out[1] = (uint8_t)(0x80 | ((cpt >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cpt & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cpt >> 18));
    out[1] = (uint8_t)(0x80 | ((cpt >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cpt >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cpt & 0x3F));
    return 4;
}

int lai_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cpt, min;
        if ((b & 0xE0) == 0xC0) { len = 2; cpt = b & 0x1Fu; min = 0x80; }
        else if ((b & 0xF0) == 0xE0) { len = 3; cpt = b & 0x0Fu; min = 0x800; }
        else if ((b & 0xF8) == 0xF0) { len = 4; cpt = b & 0x07u; min = 0x10000; }
        else return 0;
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if (!is_cont(s[i + k])) return 0;
            cpt = (cpt << 6) | (s[i + k] & 0x3Fu);
        }
        if (cpt < min || cpt > 0x10FFFF || (cpt >= 0xD800 && cpt <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* Bytes that stand for themselves: '!'..'~', 0xA1..0xAC, 0xAE..0xFF. */
static int byte_is_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t lai_byte_to_cpt(uint8_t b) {
    if (byte_is_printable(b)) return b;
    /* The others get U+0100.. in increasing byte order. */
    uint32_t n = 0;
    for (unsigned c = 0; c < b; c++)
        if (!byte_is_printable(c)) n++;
    return 0x100 + n;
}

int lai_cpt_to_byte(uint32_t cpt) {
    if (cpt < 0x100) return byte_is_printable(cpt) ? (int)cpt : -1;
    if (cpt >= 0x100 + 68) return -1; /* 68 bytes are not printable */
    uint32_t n = cpt - 0x100;
    for (unsigned c = 0; c < 256; c++) {
        if (!byte_is_printable(c)) {
            if (n == 0) return (int)c;
            n--;
        }
    }
    return -1;
}
