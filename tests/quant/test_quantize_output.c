/* test_quantize_output.c - quantize writes only OUT: not the input, a planted link, a temporary. */
#include "test_util.h"
#include "gguf/gguf.h"
#include "gguf/gguf_write.h"
#include "quant/quantize_model.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Each case works in a fresh folder holding a copy of stories260K (F32, 1.1 MB), and
 * compares the whole folder before and after: with random temporary names, "no other
 * file changed and none was left behind" is the only check that covers every name. */

static char base_dir[1024];
static char *stories_bytes;
static size_t stories_len;
static int case_no;

static const char *in_dir(const char *dir, const char *name) {
    static char bufs[4][2048];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void new_case_dir(char *dir, size_t cap) {
    snprintf(dir, cap, "%s/case%d", base_dir, ++case_no);
    CHECK_MSG(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
}

static int write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) return 0;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* 1 when the file at path holds exactly p[0..n). */
static int has_bytes(const char *path, const void *p, size_t n) {
    size_t len = 0;
    char *got = test_read_file(path, &len);
    int same = got != NULL && len == n && memcmp(got, p, n) == 0;
    free(got);
    return same;
}

/* ---- a snapshot of a folder: every entry's kind, inode, size, link target, content hash - */

typedef struct entry {
    char name[256];
    mode_t mode;
    ino_t ino;
    off_t size;
    uint64_t hash; /* content of a regular file, target of a link */
} entry;

typedef struct snapshot {
    entry e[64];
    int n;
} snapshot;

static uint64_t fnv1a64(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void take_snapshot(const char *dir, snapshot *s) {
    memset(s, 0, sizeof *s);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "opendir %s", dir);
    if (d == NULL) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && s->n < 64) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        entry *e = &s->e[s->n++];
        snprintf(e->name, sizeof e->name, "%s", de->d_name);
        const char *path = in_dir(dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        e->mode = st.st_mode;
        e->ino = st.st_ino;
        e->size = st.st_size;
        if (S_ISLNK(st.st_mode)) {
            char target[1024];
            ssize_t n = readlink(path, target, sizeof target);
            e->hash = n > 0 ? fnv1a64(target, (size_t)n) : 0;
        } else if (S_ISREG(st.st_mode)) {
            size_t len = 0;
            char *data = test_read_file(path, &len);
            e->hash = data ? fnv1a64(data, len) : 0;
            free(data);
        }
    }
    closedir(d);
}

static const entry *find_entry(const snapshot *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->e[i].name, name) == 0) return &s->e[i];
    return NULL;
}

/* Every entry of `before` is still there, unchanged, and nothing new appeared, except the
 * entry named `changed` (may be NULL), which may be new or replaced. */
static void check_only_changed(const char *what, const snapshot *before, const snapshot *after,
                               const char *changed) {
    for (int i = 0; i < before->n; i++) {
        const entry *b = &before->e[i];
        if (changed != NULL && strcmp(b->name, changed) == 0) continue;
        const entry *a = find_entry(after, b->name);
        CHECK_MSG(a != NULL, "%s: %s disappeared", what, b->name);
        if (a == NULL) continue;
        CHECK_MSG(a->mode == b->mode && a->ino == b->ino && a->size == b->size && a->hash == b->hash,
                  "%s: %s changed (size %lld -> %lld)", what, b->name, (long long)b->size,
                  (long long)a->size);
    }
    for (int i = 0; i < after->n; i++) {
        const char *name = after->e[i].name;
        if (changed != NULL && strcmp(name, changed) == 0) continue;
        CHECK_MSG(find_entry(before, name) != NULL, "%s: %s left behind", what, name);
    }
}

/* OUT is a regular file (not a link), a valid GGUF of file type Q8_0 with all tensors. */
static void check_q8_output(const char *what, const char *path) {
    struct stat st;
    CHECK_MSG(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "%s: %s is not a regular file", what, path);
    lai_gguf *g = NULL;
    CHECK_STATUS(lai_gguf_open(path, 1, &g), LOCALAI_STATUS_OK);
    if (g == NULL) return;
    uint32_t ft = 0;
    CHECK_MSG(lai_gguf_get_u32(g, "general.file_type", &ft) == LOCALAI_STATUS_OK && ft == LAI_FTYPE_MOSTLY_Q8_0,
              "%s: %s has file type %u", what, path, ft);
    CHECK_MSG(g->n_tensors > 0 && (size_t)st.st_size < stories_len, "%s: %s: %llu tensors, %lld bytes", what,
              path, (unsigned long long)g->n_tensors, (long long)st.st_size);
    lai_gguf_close(g);
}

static lai_quantize_params q8_params(void) {
    lai_quantize_params p;
    lai_quantize_params_default(&p);
    p.ftype = LAI_FTYPE_MOSTLY_Q8_0;
    p.n_threads = 2;
    return p;
}

/* ---- the three reproductions ------------------------------------------------ */

/* An input named like the old fixed temporary (OUT.quantize-tmp) was truncated while
 * mapped: SIGBUS, and the input cut to 12 KB. */
static void input_named_like_old_temporary(void) {
    char dir[1024];
    new_case_dir(dir, sizeof dir);
    char in[2048], out[2048];
    snprintf(in, sizeof in, "%s", in_dir(dir, "m.gguf.quantize-tmp"));
    snprintf(out, sizeof out, "%s", in_dir(dir, "m.gguf"));
    CHECK(write_bytes(in, stories_bytes, stories_len));
    snapshot before, after;
    take_snapshot(dir, &before);
    lai_quantize_params p = q8_params();
    CHECK_STATUS(lai_quantize_model(in, out, &p), LOCALAI_STATUS_OK);
    CHECK_MSG(has_bytes(in, stories_bytes, stories_len), "the input %s was modified", in);
    check_q8_output("input named OUT.quantize-tmp", out);
    take_snapshot(dir, &after);
    check_only_changed("input named OUT.quantize-tmp", &before, &after, "m.gguf");
}

/* A link planted at a temporary name the writer might use pointed the write at a victim,
 * and OUT was left a link to it. Links at every name this library or a common tool would
 * pick; then OUT itself a link: it is replaced, its target untouched. */
static void planted_links_not_followed(void) {
    static const char victim_text[] = "precious data that must survive\n";
    static const char *const names[] = {"out.gguf.quantize-tmp", "out.gguf.tmp", "out.gguf~", ".out.gguf.tmp",
                                        "out.gguf.part", "out.tmp"};
    char dir[1024];
    new_case_dir(dir, sizeof dir);
    char in[2048], out[2048], victim[2048];
    snprintf(in, sizeof in, "%s", in_dir(dir, "in.gguf"));
    snprintf(out, sizeof out, "%s", in_dir(dir, "out.gguf"));
    snprintf(victim, sizeof victim, "%s", in_dir(dir, "victim.txt"));
    CHECK(write_bytes(in, stories_bytes, stories_len));
    CHECK(write_bytes(victim, victim_text, sizeof victim_text - 1));
    for (size_t i = 0; i < LAI_ARRAY_LEN(names); i++)
        CHECK(symlink("victim.txt", in_dir(dir, names[i])) == 0);
    snapshot before, after;
    take_snapshot(dir, &before);
    lai_quantize_params p = q8_params();
    CHECK_STATUS(lai_quantize_model(in, out, &p), LOCALAI_STATUS_OK);
    CHECK_MSG(has_bytes(victim, victim_text, sizeof victim_text - 1), "victim.txt was overwritten");
    check_q8_output("planted links", out);
    take_snapshot(dir, &after);
    check_only_changed("planted links", &before, &after, "out.gguf");

    /* OUT a link to another file: the link is replaced by the output, the file kept. */
    CHECK(remove(out) == 0);
    CHECK(symlink("victim.txt", out) == 0);
    take_snapshot(dir, &before);
    CHECK_STATUS(lai_quantize_model(in, out, &p), LOCALAI_STATUS_OK);
    CHECK_MSG(has_bytes(victim, victim_text, sizeof victim_text - 1), "victim.txt was written through OUT");
    check_q8_output("OUT a link", out);
    take_snapshot(dir, &after);
    check_only_changed("OUT a link", &before, &after, "out.gguf");

    /* The writer itself, asked for a path that is a link, replaces the link. */
    lai_gguf_writer *w = NULL;
    CHECK_STATUS(lai_gguf_writer_new(&w), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_str(w, "general.architecture", "llama"), LOCALAI_STATUS_OK);
    const char *link_path = in_dir(dir, "writer-link.gguf");
    CHECK(symlink("victim.txt", link_path) == 0);
    CHECK_STATUS(lai_gguf_writer_write_file(w, link_path), LOCALAI_STATUS_OK);
    lai_gguf_writer_free(w);
    CHECK_MSG(has_bytes(victim, victim_text, sizeof victim_text - 1), "the writer wrote through a link");
    lai_gguf *g = NULL;
    CHECK_STATUS(lai_gguf_open(link_path, 1, &g), LOCALAI_STATUS_OK);
    lai_gguf_close(g);
}

/* OUT the same file as IN (same name, a symbolic link, a hard link) used to replace the
 * F32 original silently. Refused unless overwrite_input; then IN is replaced whole. */
static void same_file_refused_unless_asked(void) {
    char dir[1024];
    new_case_dir(dir, sizeof dir);
    char in[2048], sym[2048], hard[2048];
    snprintf(in, sizeof in, "%s", in_dir(dir, "same.gguf"));
    snprintf(sym, sizeof sym, "%s", in_dir(dir, "sym.gguf"));
    snprintf(hard, sizeof hard, "%s", in_dir(dir, "hard.gguf"));
    CHECK(write_bytes(in, stories_bytes, stories_len));
    CHECK(symlink("same.gguf", sym) == 0);
    CHECK(link(in, hard) == 0);
    snapshot before, after;
    take_snapshot(dir, &before);
    lai_quantize_params p = q8_params();
    const char *const outs[] = {in, sym, hard};
    for (size_t i = 0; i < LAI_ARRAY_LEN(outs); i++) {
        CHECK_STATUS(lai_quantize_model(in, outs[i], &p), LOCALAI_STATUS_INVALID_ARGUMENT);
        CHECK_MSG(strstr(localai_errmsg(), outs[i]) != NULL && strstr(localai_errmsg(), "overwrite_input") != NULL,
                  "message: %s", localai_errmsg());
        /* and the other way round: the link as IN, the real name as OUT */
        CHECK_STATUS(lai_quantize_model(outs[i], in, &p), LOCALAI_STATUS_INVALID_ARGUMENT);
    }
    take_snapshot(dir, &after);
    check_only_changed("same file refused", &before, &after, NULL);
    CHECK(has_bytes(in, stories_bytes, stories_len));

    /* Allowed: through the hard link, only that name is replaced; then IN itself. */
    p.overwrite_input = 1;
    CHECK_STATUS(lai_quantize_model(in, hard, &p), LOCALAI_STATUS_OK);
    check_q8_output("overwrite through a hard link", hard);
    CHECK_MSG(has_bytes(in, stories_bytes, stories_len), "the other name of the hard link changed");
    take_snapshot(dir, &before);
    CHECK_STATUS(lai_quantize_model(in, in, &p), LOCALAI_STATUS_OK);
    check_q8_output("overwrite_input", in);
    take_snapshot(dir, &after);
    check_only_changed("overwrite_input", &before, &after, "same.gguf");
}

/* ---- failures leave OUT as it was and nothing behind ------------------------------- */

static int cancel_at_3(void *user, uint64_t done, uint64_t total, const char *tensor, uint32_t type) {
    (void)user; (void)total; (void)tensor; (void)type;
    return done >= 3;
}

static void failure_leaves_out_untouched(void) {
    static const char old_text[] = "the previous OUT\n";
    char dir[1024];
    new_case_dir(dir, sizeof dir);
    char in[2048], out[2048], nan_path[2048];
    snprintf(in, sizeof in, "%s", in_dir(dir, "in.gguf"));
    snprintf(out, sizeof out, "%s", in_dir(dir, "out.gguf"));
    snprintf(nan_path, sizeof nan_path, "%s", in_dir(dir, "nan.gguf"));
    CHECK(write_bytes(in, stories_bytes, stories_len));
    CHECK(write_bytes(out, old_text, sizeof old_text - 1));

    /* a weight that is not finite fails the conversion in the second tensor written */
    lai_gguf_writer *w = NULL;
    CHECK_STATUS(lai_gguf_writer_new(&w), LOCALAI_STATUS_OK);
    float vals[64 * 2];
    for (int i = 0; i < 128; i++) vals[i] = (float)i / 128.0f;
    uint64_t ne[2] = {64, 2};
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "blk.0.attn_k.weight", LAI_TYPE_F32, 2, ne, vals, sizeof vals, 1),
                 LOCALAI_STATUS_OK);
    vals[77] = NAN;
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", LAI_TYPE_F32, 2, ne, vals, sizeof vals, 1),
                 LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_write_file(w, nan_path), LOCALAI_STATUS_OK);
    lai_gguf_writer_free(w);

    snapshot before, after;
    take_snapshot(dir, &before);
    lai_quantize_params p = q8_params();
    p.progress = cancel_at_3;
    CHECK_STATUS(lai_quantize_model(in, out, &p), LOCALAI_STATUS_CANCELLED);
    take_snapshot(dir, &after);
    check_only_changed("cancelled", &before, &after, NULL);
    p.progress = NULL;
    CHECK_STATUS(lai_quantize_model(nan_path, out, &p), LOCALAI_STATUS_BAD_FORMAT);
    CHECK(strstr(localai_errmsg(), "blk.0.attn_q.weight") != NULL);
    take_snapshot(dir, &after);
    check_only_changed("failed", &before, &after, NULL);
    CHECK(has_bytes(out, old_text, sizeof old_text - 1));
}

/* OUT in a folder we cannot write: IO, with a message naming OUT. Root writes anywhere,
 * so as root the attempt runs in a child that drops to nobody (skipped if it cannot). */
static int try_unwritable(const char *in, const char *out) {
    lai_quantize_params p = q8_params();
    localai_status st = lai_quantize_model(in, out, &p);
    if (st != LOCALAI_STATUS_IO || strstr(localai_errmsg(), out) == NULL) {
        fprintf(stderr, "unwritable folder: status %d, message: %s\n", (int)st, localai_errmsg());
        return 1;
    }
    return 0;
}

static void unwritable_folder(void) {
    char dir[1024];
    new_case_dir(dir, sizeof dir);
    char in[2048], ro[2048], out[2048];
    snprintf(in, sizeof in, "%s", in_dir(dir, "in.gguf"));
    snprintf(ro, sizeof ro, "%s", in_dir(dir, "ro"));
    snprintf(out, sizeof out, "%s/out.gguf", ro);
    CHECK(write_bytes(in, stories_bytes, stories_len));
    CHECK(chmod(in, 0644) == 0);
    CHECK(mkdir(ro, 0555) == 0 && chmod(ro, 0555) == 0);
    if (geteuid() != 0) {
        CHECK(try_unwritable(in, out) == 0);
    } else {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            /* 77: cannot drop privileges, or nobody cannot reach the input (TMPDIR private) */
            if (setgid(65534) != 0 || setuid(65534) != 0 || access(in, R_OK) != 0) _exit(77);
            _exit(try_unwritable(in, out));
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
            printf("unwritable folder: skipped (root, and nobody cannot be used)\n");
        else
            CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unwritable folder check failed");
    }
    snapshot after;
    take_snapshot(ro, &after);
    CHECK_MSG(after.n == 0, "%d files created in the unwritable folder", after.n);
    chmod(ro, 0755);
}

/* ---- the platform functions directly ------------------------------------------------- */

static void platform_functions(void) {
    char dir[1024];
    new_case_dir(dir, sizeof dir);
    char a[2048], b[2048];
    snprintf(a, sizeof a, "%s", in_dir(dir, "a"));
    snprintf(b, sizeof b, "%s", in_dir(dir, "b"));
    CHECK(write_bytes(a, "a", 1));
    int same = -1;
    CHECK_STATUS(lai_file_same(a, a, &same), LOCALAI_STATUS_OK);
    CHECK(same == 1);
    CHECK_STATUS(lai_file_same(a, b, &same), LOCALAI_STATUS_OK); /* b missing */
    CHECK(same == 0);
    CHECK(write_bytes(b, "a", 1));
    CHECK_STATUS(lai_file_same(a, b, &same), LOCALAI_STATUS_OK); /* equal bytes, other file */
    CHECK(same == 0);

    /* Two temporaries for one name get two names, both beside it; discard removes. */
    lai_file_temp t1, t2;
    CHECK_STATUS(lai_file_temp_create(a, &t1), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_file_temp_create(a, &t2), LOCALAI_STATUS_OK);
    if (t1.path != NULL && t2.path != NULL) {
        CHECK(strcmp(t1.path, t2.path) != 0);
        CHECK(strncmp(t1.path, a, strlen(a)) == 0 && strchr(t1.path + strlen(a), '/') == NULL);
        mode_t mask = umask(022);
        umask(mask);
        struct stat st;
        CHECK(stat(t1.path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask));
    }
    fputs("new", t1.file);
    CHECK_STATUS(lai_file_temp_commit(&t1, a), LOCALAI_STATUS_OK);
    CHECK(t1.file == NULL && t1.path == NULL && has_bytes(a, "new", 3));
    lai_file_temp_discard(&t2);
    CHECK(t2.path == NULL);
    uint64_t size = 0;
    CHECK_STATUS(lai_file_size(a, &size), LOCALAI_STATUS_OK);
    CHECK(size == 3);
    CHECK_STATUS(lai_file_size(in_dir(dir, "missing"), &size), LOCALAI_STATUS_IO);
    snapshot s;
    take_snapshot(dir, &s);
    CHECK_MSG(s.n == 2, "%d files after commit and discard", s.n);

    /* Committing over a folder fails, and the temporary goes. */
    const char *sub = in_dir(dir, "sub");
    CHECK(mkdir(sub, 0755) == 0);
    CHECK_STATUS(lai_file_temp_create(sub, &t1), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_file_temp_commit(&t1, sub), LOCALAI_STATUS_IO);
    CHECK(strstr(localai_errmsg(), sub) != NULL);
    take_snapshot(dir, &s);
    CHECK_MSG(s.n == 3, "%d files after a failed commit", s.n);
}

int main(int argc, char **argv) {
    const char *t = getenv("TMPDIR");
    snprintf(base_dir, sizeof base_dir, "%s/lai_qo_XXXXXX", t && t[0] ? t : "/tmp");
    if (mkdtemp(base_dir) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", base_dir, strerror(errno));
        return 1;
    }
    chmod(base_dir, 0755); /* the unprivileged child must reach its input */
    stories_bytes = test_read_file(test_shared_path("models/stories260K.gguf"), &stories_len);
    CHECK_MSG(stories_bytes != NULL, "cannot read %s", test_shared_path("models/stories260K.gguf"));
    if (stories_bytes == NULL) return test_finish("test_quantize_output");

    /* Each case by name (all without arguments): one crashing case does not hide the rest. */
    static const struct { const char *name; void (*fn)(void); } cases[] = {
        {"platform", platform_functions},
        {"input-named-like-temporary", input_named_like_old_temporary},
        {"planted-links", planted_links_not_followed},
        {"same-file", same_file_refused_unless_asked},
        {"failure", failure_leaves_out_untouched},
        {"unwritable", unwritable_folder},
    };
    for (size_t i = 0; i < LAI_ARRAY_LEN(cases); i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], cases[i].name) == 0;
        if (wanted) cases[i].fn();
    }

    free(stories_bytes);
    if (test_failures == 0) {
        /* clean up only when everything passed: a failure leaves the folders to look at */
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", base_dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base_dir);
    } else {
        fprintf(stderr, "files kept in %s\n", base_dir);
    }
    return test_finish("test_quantize_output");
}
