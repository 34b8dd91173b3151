/* fsutil.c — see fsutil.h. */
#include "common/fsutil.h"
#include "common/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a folder";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

int olm_open_regular(const char *path, onnxllm_error *err) {
    /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        olm_fail(err, ONNXLLM_ERR_IO, "%s: not a regular file (%s)", path, kind_of(sb.st_mode));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

bool olm_path_is_inside(const char *rel) {
    if (!rel || !*rel || *rel == '/') return false;
    const char *s = rel;
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return false;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\') return false;
        if (!slash) return true;
        s = slash + 1;
    }
}

onnxllm_status olm_mkdir_p(const char *dir, onnxllm_error *err) {
    if (!dir || !*dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no folder name given (empty path)");
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(p, dir, n + 1);
    while (n > 1 && p[n - 1] == '/') p[--n] = 0;
    onnxllm_status st = ONNXLLM_OK;
    for (size_t i = 1; i <= n && !st; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        struct stat sb;
        if (mkdir(p, 0777) != 0) {
            int e = errno;
            if (e != EEXIST) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create directory: %s", p, strerror(e));
            else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
                st = olm_fail(err, ONNXLLM_ERR_IO, "%s: exists and is not a folder", p);
        }
        p[i] = c;
    }
    free(p);
    return st;
}

bool olm_same_file(const char *a, const char *b) {
    struct stat x, y;
    return a && b && stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

void olm_remove_tree(const char *dir) {
    struct stat root;
    if (lstat(dir, &root) != 0) return;
    if (!S_ISDIR(root.st_mode)) {
        unlink(dir);
        return;
    }
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            size_t n = strlen(dir) + strlen(e->d_name) + 2;
            char *path = malloc(n);
            if (!path) continue;
            snprintf(path, n, "%s/%s", dir, e->d_name);
            struct stat sb;
            if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) olm_remove_tree(path);
            else unlink(path);
            free(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

void olm_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static char *join2(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* The parent folder of path ("." when it has none); malloc'd. */
static char *parent_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* A fresh sibling name path.TAG-<pid>-<n>; created with mkdir when make_dir. */
static char *sibling(const char *path, const char *tag, bool make_dir) {
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(path) + strlen(tag) + 40;
    char *p = malloc(n);
    if (!p) return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 20);
    for (int tries = 0; tries < 100; tries++) {
        char r[7];
        for (int i = 0; i < 6; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            r[i] = digits[(x >> 33) % 36];
        }
        r[6] = 0;
        snprintf(p, n, "%s.%s-%s", path, tag, r);
        struct stat sb;
        if (make_dir ? mkdir(p, 0777) == 0 : (lstat(p, &sb) != 0 && errno == ENOENT)) return p;
        if (errno != EEXIST) break;
    }
    free(p);
    return NULL;
}

onnxllm_status olm_replace_dir(const char *src, const char *dst, bool keep_foreign, onnxllm_error *err) {
    struct stat sb;
    char *parent = parent_of(dst);
    if (!parent) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status st = ONNXLLM_OK;
    if (lstat(dst, &sb) != 0) {
        if (rename(src, dst) != 0)
            st = olm_fail(err, ONNXLLM_ERR_IO, "cannot rename %s to %s: %s", src, dst, strerror(errno));
        goto done;
    }
    if (!S_ISDIR(sb.st_mode)) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s exists and is not a folder", dst);
        goto done;
    }
    const char *old_at = src; /* where the old version ends up */
    char *old = NULL;
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_EXCHANGE) != 0) {
        if (!(old = sibling(dst, "old", false))) {
            st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot make a temporary name", dst);
        } else if (rename(dst, old) != 0) {
            st = olm_fail(err, ONNXLLM_ERR_IO, "cannot move %s away: %s", dst, strerror(errno));
        } else if (rename(src, dst) != 0) {
            st = olm_fail(err, ONNXLLM_ERR_IO, "cannot rename %s to %s: %s", src, dst, strerror(errno));
            rename(old, dst); /* put the old version back */
        }
        old_at = old;
    }
    if (!st && keep_foreign) { /* the old folder's other entries move into the new one */
        DIR *d = opendir(old_at);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *from = join2(old_at, e->d_name), *to = join2(dst, e->d_name);
            if (from && to && lstat(to, &sb) != 0 && errno == ENOENT) rename(from, to);
            free(from);
            free(to);
        }
        if (d) closedir(d);
    }
    if (!st) olm_remove_tree(old_at);
    free(old);
done:
    if (!st) olm_fsync_dir(parent);
    free(parent);
    return st;
}

onnxllm_status olm_outdir_begin(olm_outdir *o, const char *dst, const char *const *inputs, size_t n_inputs,
                                onnxllm_error *err) {
    memset(o, 0, sizeof *o);
    if (!dst || !*dst) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no output folder given (empty path)");
    for (size_t i = 0; i < n_inputs; i++)
        if (olm_same_file(dst, inputs[i]))
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                            "output folder %s is the input %s: writing it would destroy the input; choose another "
                            "output folder",
                            dst, inputs[i]);
    size_t n = strlen(dst);
    while (n > 1 && dst[n - 1] == '/') n--;
    char *d = strndup(dst, n);
    if (!d) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!strcmp(d, "/") || !strcmp(d, ".") || !strcmp(d, "..")) {
        free(d);
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "output folder \"%s\": name a new or model folder", dst);
    }
    struct stat sb;
    onnxllm_status st = ONNXLLM_OK;
    if (stat(d, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) st = olm_fail(err, ONNXLLM_ERR_IO, "%s exists and is not a folder", d);
        else {
            /* a link to a folder: write next to (and then replace) its target */
            char *real = realpath(d, NULL);
            if (real) {
                free(d);
                d = real;
            }
        }
    } else {
        char *parent = parent_of(d);
        st = parent ? olm_mkdir_p(parent, err) : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        free(parent);
    }
    if (!st && !(o->path = sibling(d, "tmp", true)))
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create a staging folder next to it: %s", d, strerror(errno));
    if (st) {
        free(d);
        return st;
    }
    o->dst = d;
    return ONNXLLM_OK;
}

onnxllm_status olm_outdir_commit(olm_outdir *o, onnxllm_error *err) {
    olm_fsync_dir(o->path);
    onnxllm_status st = olm_replace_dir(o->path, o->dst, true, err);
    if (st) olm_remove_tree(o->path);
    free(o->path);
    free(o->dst);
    memset(o, 0, sizeof *o);
    return st;
}

onnxllm_status olm_outdir_finish(olm_outdir *o, onnxllm_status st, onnxllm_error *err) {
    if (!st) return olm_outdir_commit(o, err);
    olm_outdir_abort(o);
    return st;
}

void olm_outdir_abort(olm_outdir *o) {
    if (o->path) olm_remove_tree(o->path);
    free(o->path);
    free(o->dst);
    memset(o, 0, sizeof *o);
}
