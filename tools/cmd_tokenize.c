/* cmd_tokenize.c - `localai tokenize`: print the token ids of a text on one line. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(void) {
    fprintf(stderr,
            "usage: localai tokenize -m MODEL [--no-bos] [--parse-special] (-p TEXT | -f FILE)\n"
            "  prints the token ids separated by single spaces on one line\n"
            "  -f FILE           read the text from FILE (- = standard input), at most %zu MiB\n"
            "  --no-bos          do not add BOS/EOS even where the vocabulary asks for them\n"
            "  --parse-special   text like <|eot_id|> becomes its control token\n",
            CLI_TEXT_FILE_MAX >> 20);
}

int cli_cmd_tokenize(int argc, char **argv) {
    const char *model_path = NULL, *text = NULL, *file = NULL;
    int add_special = 1, parse_special = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc) {
            model_path = argv[++i];
        } else if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--prompt") == 0) && i + 1 < argc) {
            text = argv[++i];
        } else if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--file") == 0) && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--no-bos") == 0) {
            add_special = 0;
        } else if (strcmp(argv[i], "--parse-special") == 0) {
            parse_special = 1;
        } else {
            usage();
            return 2;
        }
    }
    if (model_path == NULL || (text == NULL) == (file == NULL)) {
        usage();
        return 2;
    }
    size_t len = 0;
    char *owned = NULL;
    if (file != NULL) {
        if (!cli_read_text_file("tokenize", file, &owned, &len)) return 1;
        text = owned;
    } else {
        len = strlen(text);
    }
    localai_model *model = cli_open_model(model_path, CLI_OPEN_VOCAB_ONLY, NULL);
    if (model == NULL) {
        free(owned);
        return 1;
    }
    uint32_t flags = (add_special ? LOCALAI_TOKENIZE_ADD_SPECIAL : 0) |
                     (parse_special ? LOCALAI_TOKENIZE_PARSE_SPECIAL : 0);
    size_t n = 0, cap = len + 16;
    localai_token *toks = (localai_token *)malloc(cap * sizeof *toks);
    localai_status st = toks ? localai_tokenize(model, text, len, flags, toks, cap, &n) : LOCALAI_STATUS_OUT_OF_MEMORY;
    if (st == LOCALAI_STATUS_BUFFER_TOO_SMALL) {
        free(toks);
        cap = n;
        toks = (localai_token *)malloc((cap ? cap : 1) * sizeof *toks);
        st = toks ? localai_tokenize(model, text, len, flags, toks, cap, &n) : LOCALAI_STATUS_OUT_OF_MEMORY;
    }
    int rc = 0;
    if (st != LOCALAI_STATUS_OK) {
        rc = cli_fail("tokenize", st);
    } else {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", (int)toks[i]);
        printf("\n");
    }
    free(toks);
    free(owned);
    localai_model_close(model);
    return rc;
}
