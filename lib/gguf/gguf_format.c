/* gguf_format.c - renders a metadata value as text (numbers, booleans, strings, arrays). */
#include "gguf_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* Arrays longer than this show their first elements and their length. */
#define FORMAT_ARRAY_SHOWN 16

typedef struct text_out {
    char *buf;
    size_t cap;
    size_t len; /* bytes the full text needs, even past cap */
} text_out;

static void put_bytes(text_out *o, const char *s, size_t n) {
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len = (n > SIZE_MAX - o->len) ? SIZE_MAX : o->len + n;
}

static void put_str(text_out *o, const char *s) { put_bytes(o, s, strlen(s)); }

/* Shortest decimal text that reads back as the same float (or double). */
static void put_float(text_out *o, double v, int is_f32) {
    char tmp[40];
    if (v != v) {
        put_str(o, "nan");
        return;
    }
    if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        put_str(o, v > 0 ? "inf" : "-inf");
        return;
    }
    int max_prec = is_f32 ? 9 : 17;
    int prec = 1;
    for (; prec <= max_prec; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (is_f32 ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v) break;
    }
    /* Whole numbers of moderate size read better without an exponent (1000, not 1e+03). */
    double mag = v < 0 ? -v : v;
    if (strchr(tmp, 'e') != NULL && mag >= 1.0 && mag < 1e15) {
        int digits = 1;
        for (double x = mag; x >= 10.0; x /= 10.0) digits++;
        if (digits > prec) snprintf(tmp, sizeof tmp, "%.*g", digits, v);
    }
    put_str(o, tmp);
}

static void put_scalar(text_out *o, uint32_t type, const uint8_t *p) {
    char tmp[32];
    uint64_t raw = 0;
    uint64_t n = lai_gguf_scalar_size(type);
    for (uint64_t i = n; i-- > 0;) raw = raw << 8 | p[i];
    switch (type) {
    case LAI_GGUF_BOOL: put_str(o, p[0] ? "true" : "false"); return;
    case LAI_GGUF_FLOAT32: {
        float f;
        memcpy(&f, p, 4);
        put_float(o, f, 1);
        return;
    }
    case LAI_GGUF_FLOAT64: {
        double d;
        memcpy(&d, p, 8);
        put_float(o, d, 0);
        return;
    }
    case LAI_GGUF_INT8: snprintf(tmp, sizeof tmp, "%d", (int)(int8_t)(uint8_t)raw); break;
    case LAI_GGUF_INT16: snprintf(tmp, sizeof tmp, "%d", (int)(int16_t)(uint16_t)raw); break;
    case LAI_GGUF_INT32: snprintf(tmp, sizeof tmp, "%ld", (long)(int32_t)(uint32_t)raw); break;
    case LAI_GGUF_INT64: snprintf(tmp, sizeof tmp, "%lld", (long long)(int64_t)raw); break;
    default: snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)raw); break;
    }
    put_str(o, tmp);
}

/* A string inside an array, quoted so commas and brackets stay unambiguous. */
static void put_quoted(text_out *o, lai_str s) {
    put_str(o, "\"");
    for (uint64_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        char tmp[8];
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            put_bytes(o, tmp, 2);
        } else if (c == '\n') {
            put_str(o, "\\n");
        } else if (c == '\t') {
            put_str(o, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            put_str(o, tmp);
        } else {
            put_bytes(o, (const char *)&s.ptr[i], 1);
        }
    }
    put_str(o, "\"");
}

size_t lai_gguf_format_value(const lai_gguf_kv *kv, char *buf, size_t capacity) {
    text_out o = {buf, capacity, 0};
    if (kv == NULL) {
        put_str(&o, "");
    } else if (kv->type == LAI_GGUF_STRING) {
        put_bytes(&o, kv->strings[0].ptr, (size_t)kv->strings[0].len);
    } else if (kv->type != LAI_GGUF_ARRAY) {
        put_scalar(&o, kv->type, kv->value);
    } else {
        put_str(&o, "[");
        uint64_t shown = kv->array_len < FORMAT_ARRAY_SHOWN ? kv->array_len : FORMAT_ARRAY_SHOWN;
        uint64_t sz = lai_gguf_scalar_size(kv->array_type);
        for (uint64_t i = 0; i < shown; i++) {
            if (i) put_str(&o, ", ");
            if (kv->array_type == LAI_GGUF_STRING) put_quoted(&o, kv->strings[i]);
            else put_scalar(&o, kv->array_type, kv->value + i * sz);
        }
        if (shown < kv->array_len) {
            char tmp[48];
            snprintf(tmp, sizeof tmp, ", ... (%llu items)", (unsigned long long)kv->array_len);
            put_str(&o, tmp);
        }
        put_str(&o, "]");
    }
    if (capacity > 0) buf[o.len < capacity ? o.len : capacity - 1] = '\0';
    return o.len;
}
