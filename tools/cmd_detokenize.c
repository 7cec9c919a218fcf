/* cmd_detokenize.c - `localai detokenize`: print the text of token ids. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void usage(void) {
    fprintf(stderr,
            "usage: localai detokenize -m MODEL [--render-special] [--remove-special] ID...\n"
            "  prints the text the ids stand for (ids may also be one quoted list, separated\n"
            "  by spaces or commas)\n");
}

/* Appends the ids in `arg` (separated by spaces or commas) to *ids. A bad one is named
 * with its argument's position, and why it is bad: not a number, or outside int32 (the
 * vocabulary's own range is the library's to check, with its message). */
static int parse_ids(const char *arg, int index, localai_token **ids, size_t *n) {
    const char *s = arg;
    while (*s) {
        while (*s == ' ' || *s == ',') s++;
        if (!*s) break;
        size_t len = strcspn(s, " ,");
        char *item = (char *)malloc(len + 1);
        localai_token *grown = (localai_token *)realloc(*ids, sizeof **ids * (*n + 1));
        if (grown != NULL) *ids = grown;
        if (item == NULL || grown == NULL) {
            free(item);
            fprintf(stderr, "localai detokenize: out of memory\n");
            return 0;
        }
        memcpy(item, s, len);
        item[len] = '\0';
        char what[48];
        snprintf(what, sizeof what, "token id (argument %d)", index);
        int32_t v = 0;
        int ok = cli_parse_i32("detokenize", what, item, INT32_MIN, INT32_MAX, &v);
        free(item);
        if (!ok) return 0;
        (*ids)[(*n)++] = (localai_token)v;
        s += len;
    }
    return 1;
}

int cli_cmd_detokenize(int argc, char **argv) {
    const char *model_path = NULL;
    uint32_t flags = 0;
    localai_token *ids = (localai_token *)malloc(sizeof(localai_token) * (size_t)(argc + 1));
    size_t n = 0;
    if (ids == NULL) return 1;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc) {
            model_path = argv[++i];
        } else if (strcmp(argv[i], "--render-special") == 0) {
            flags |= LOCALAI_DETOKENIZE_RENDER_SPECIAL;
        } else if (strcmp(argv[i], "--remove-special") == 0) {
            flags |= LOCALAI_DETOKENIZE_REMOVE_SPECIAL;
        } else if (strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) {
            fprintf(stderr, "localai detokenize: %s needs a value\n", argv[i]);
            free(ids);
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0' &&
                   (argv[i][1] < '0' || argv[i][1] > '9')) {
            fprintf(stderr, "localai detokenize: unknown option '%s'\n", argv[i]);
            usage();
            free(ids);
            return 2;
        } else if (!parse_ids(argv[i], i, &ids, &n)) {
            free(ids);
            return 2;
        }
    }
    if (model_path == NULL) {
        usage();
        free(ids);
        return 2;
    }
    localai_model *model = cli_open_model(model_path, CLI_OPEN_VOCAB_ONLY, NULL);
    if (model == NULL) {
        free(ids);
        return 1;
    }
    size_t len = 0;
    localai_status st = localai_detokenize(model, ids, n, flags, NULL, 0, &len);
    int rc = 0;
    if (st == LOCALAI_STATUS_OK || st == LOCALAI_STATUS_BUFFER_TOO_SMALL) {
        char *text = (char *)malloc(len + 1);
        st = text ? localai_detokenize(model, ids, n, flags, text, len + 1, &len)
                  : LOCALAI_STATUS_OUT_OF_MEMORY;
        if (st == LOCALAI_STATUS_OK) {
            fwrite(text, 1, len, stdout);
            printf("\n");
        }
        free(text);
    }
    if (st != LOCALAI_STATUS_OK) rc = cli_fail("detokenize", st);
    free(ids);
    localai_model_close(model);
    return rc;
}
