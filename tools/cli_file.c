/* cli_file.c - reading a text argument file (-f FILE or -) whole, with a size cap. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

/* Reads fd to its end into a malloc'd buffer (NUL-terminated), failing once more than
 * `cap` bytes arrive: a pipe or stdin has no size to check beforehand. */
static int read_fd(const char *cmd, const char *name, int fd, size_t cap, char **out,
                   size_t *out_len) {
    size_t size = cap < (1u << 16) ? cap + 1 : 1u << 16, n = 0;
    char *buf = malloc(size);
    if (buf == NULL) {
        fprintf(stderr, "localai %s: no memory to read %s\n", cmd, name);
        return 0;
    }
    /* Invariant at the top: n <= cap. The buffer grows to at most cap + 1 bytes, enough
     * to see that the input is too long, and a finished read always leaves n < size, so
     * the terminating NUL fits. */
    for (;;) {
        if (n == size) {
            size_t grown_size = size * 2 > cap + 1 ? cap + 1 : size * 2;
            char *grown = realloc(buf, grown_size);
            if (grown == NULL) {
                free(buf);
                fprintf(stderr, "localai %s: no memory to read %s\n", cmd, name);
                return 0;
            }
            buf = grown;
            size = grown_size;
        }
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int err = errno;
            free(buf);
            fprintf(stderr, "localai %s: cannot read %s: %s\n", cmd, name, strerror(err));
            return 0;
        }
        if (got == 0) break;
        n += (size_t)got;
        if (n > cap) {
            free(buf);
            fprintf(stderr, "localai %s: %s is larger than the %zu MiB limit for -f\n", cmd, name,
                    cap >> 20);
            return 0;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 1;
}

int cli_read_text_file(const char *cmd, const char *path, char **out, size_t *out_len) {
    const size_t cap = CLI_TEXT_FILE_MAX;
    if (strcmp(path, "-") == 0) return read_fd(cmd, "standard input", STDIN_FILENO, cap, out, out_len);
    /* Look before opening: opening a device can block or have side effects, and reading
     * /dev/zero or a directory never gives text. A FIFO is read like a pipe (it waits for
     * a writer, as cat does). */
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "localai %s: cannot read %s: %s\n", cmd, path, strerror(errno));
        return 0;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        fprintf(stderr, "localai %s: %s is %s; -f takes a regular file of at most %zu MiB, "
                        "a FIFO, or - for standard input\n", cmd, path, file_kind(st.st_mode),
                cap >> 20);
        return 0;
    }
    if (S_ISREG(st.st_mode) && st.st_size >= 0 && (uintmax_t)st.st_size > cap) {
        fprintf(stderr, "localai %s: %s has %jd bytes, more than the %zu MiB limit for -f\n", cmd,
                path, (intmax_t)st.st_size, cap >> 20);
        return 0;
    }
    int fd = open(path, O_RDONLY | O_NOCTTY);
    if (fd < 0) {
        fprintf(stderr, "localai %s: cannot read %s: %s\n", cmd, path, strerror(errno));
        return 0;
    }
    /* The path may have been replaced between stat and open: check what was opened. */
    struct stat opened;
    if (fstat(fd, &opened) != 0 || (opened.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) {
        fprintf(stderr, "localai %s: %s changed while it was opened\n", cmd, path);
        close(fd);
        return 0;
    }
    int ok = read_fd(cmd, path, fd, cap, out, out_len);
    close(fd);
    return ok;
}
