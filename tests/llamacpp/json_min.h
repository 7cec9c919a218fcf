/* json_min.h - a minimal JSON reader for the harness's reference files (trusted input,
 * but still bounds-checked: a truncated file gives an error, not a crash). */
#ifndef JSON_MIN_H
#define JSON_MIN_H

#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_kind;

typedef struct json_value {
    json_kind kind;
    double number;            /* NUMBER, BOOL (0/1) */
    char *string;             /* STRING (escapes \" \\ \/ \n \t decoded; others kept) */
    size_t n;                 /* ARRAY / OBJECT: number of items */
    struct json_value *items; /* ARRAY / OBJECT values */
    char **keys;              /* OBJECT keys */
} json_value;

/* Parses `text`; returns NULL with a message in err on failure. */
json_value *json_parse(const char *text, char *err, size_t err_cap);
void json_free(json_value *v);
/* Member `key` of an object, or NULL. */
const json_value *json_get(const json_value *obj, const char *key);

#endif /* JSON_MIN_H */
