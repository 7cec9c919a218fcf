/* json_min.c - a minimal recursive-descent JSON reader (see json_min.h). */
#include "json_min.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *p;
    char *err;
    size_t err_cap;
    int depth;
} parser;

static int fail(parser *ps, const char *what) {
    snprintf(ps->err, ps->err_cap, "JSON: %s near '%.20s'", what, ps->p);
    return 0;
}

static void skip_ws(parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t') ps->p++;
}

static int parse_value(parser *ps, json_value *out);
static void free_contents(json_value *v);

static int parse_string(parser *ps, char **out) {
    if (*ps->p != '"') return fail(ps, "expected a string");
    const char *s = ++ps->p;
    size_t n = 0;
    while (s[n] && s[n] != '"') n += s[n] == '\\' && s[n + 1] ? 2 : 1;
    if (s[n] != '"') return fail(ps, "unterminated string");
    char *d = malloc(n + 1), *w = d;
    if (d == NULL) return fail(ps, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') { *w++ = s[i]; continue; }
        char c = s[++i];
        *w++ = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
    }
    *w = '\0';
    ps->p = s + n + 1;
    *out = d;
    return 1;
}

static int push(parser *ps, json_value *v, json_value *item, char *key) {
    /* capacity doubles when n reaches a power of two: no quadratic copying on 150k-float
     * logit arrays */
    int grow = (v->n & (v->n - 1)) == 0;
    size_t cap = v->n ? 2 * v->n : 1;
    if (grow) {
        json_value *items = realloc(v->items, cap * sizeof *items);
        if (items == NULL) return fail(ps, "out of memory");
        v->items = items;
    }
    if (v->kind == JSON_OBJECT) {
        char **keys = grow ? realloc(v->keys, cap * sizeof *keys) : v->keys;
        if (keys == NULL) return fail(ps, "out of memory");
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = *item;
    return 1;
}

static int parse_container(parser *ps, json_value *v, char close) {
    ps->p++;
    if (++ps->depth > 64) return fail(ps, "nested too deep");
    skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        ps->depth--;
        return 1;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (v->kind == JSON_OBJECT) {
            if (!parse_string(ps, &key)) return 0;
            skip_ws(ps);
            if (*ps->p != ':') {
                free(key);
                return fail(ps, "expected ':'");
            }
            ps->p++;
        }
        json_value item;
        memset(&item, 0, sizeof item);
        if (!parse_value(ps, &item) || !push(ps, v, &item, key)) {
            free_contents(&item);
            free(key);
            return 0;
        }
        skip_ws(ps);
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == close) { ps->p++; ps->depth--; return 1; }
        return fail(ps, "expected ',' or a closing bracket");
    }
}

static int parse_value(parser *ps, json_value *out) {
    skip_ws(ps);
    memset(out, 0, sizeof *out);
    char c = *ps->p;
    if (c == '{') { out->kind = JSON_OBJECT; return parse_container(ps, out, '}'); }
    if (c == '[') { out->kind = JSON_ARRAY; return parse_container(ps, out, ']'); }
    if (c == '"') { out->kind = JSON_STRING; return parse_string(ps, &out->string); }
    if (strncmp(ps->p, "true", 4) == 0) { out->kind = JSON_BOOL; out->number = 1; ps->p += 4; return 1; }
    if (strncmp(ps->p, "false", 5) == 0) { out->kind = JSON_BOOL; ps->p += 5; return 1; }
    if (strncmp(ps->p, "null", 4) == 0) { out->kind = JSON_NULL; ps->p += 4; return 1; }
    char *end = NULL;
    out->number = strtod(ps->p, &end);
    if (end == ps->p) return fail(ps, "unexpected character");
    out->kind = JSON_NUMBER;
    ps->p = end;
    return 1;
}

static void free_contents(json_value *v) {
    for (size_t i = 0; i < v->n; i++) {
        free_contents(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

json_value *json_parse(const char *text, char *err, size_t err_cap) {
    parser ps = {text, err, err_cap, 0};
    json_value *v = calloc(1, sizeof *v);
    if (v == NULL) return NULL;
    if (!parse_value(&ps, v)) {
        free_contents(v);
        free(v);
        return NULL;
    }
    skip_ws(&ps);
    if (*ps.p != '\0') {
        fail(&ps, "trailing characters");
        free_contents(v);
        free(v);
        return NULL;
    }
    return v;
}

void json_free(json_value *v) {
    if (v == NULL) return;
    free_contents(v);
    free(v);
}

const json_value *json_get(const json_value *obj, const char *key) {
    if (obj == NULL || obj->kind != JSON_OBJECT) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}
