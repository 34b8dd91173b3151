/* fileio.c — whole-file reads and JSON loading with positioned error messages. */
#include "common/fileio.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/json.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

onnxllm_status olm_read_file(const char *path, char **out, size_t *len, onnxllm_error *err) {
    *out = NULL;
    if (len) *len = 0;
    int fd = olm_open_regular(path, err);
    if (fd < 0) return err ? err->status : ONNXLLM_ERR_IO;
    struct stat sb;
    char *buf = NULL;
    size_t n = 0;
    onnxllm_status st = ONNXLLM_OK;
    if (fstat(fd, &sb) != 0) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    } else if ((uint64_t)sb.st_size >= SIZE_MAX / 2 || !(buf = malloc((size_t)sb.st_size + 1))) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: cannot allocate %lld bytes", path, (long long)sb.st_size);
    } else {
        while (n < (size_t)sb.st_size) {
            ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            n += (size_t)r;
        }
        if (n != (size_t)sb.st_size) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: read failed (file changed?)", path);
    }
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return ONNXLLM_OK;
}

onnxllm_status olm_load_json_file(const char *path, cJSON **out, onnxllm_error *err) {
    char *text;
    size_t len;
    *out = NULL;
    onnxllm_status st = olm_read_file(path, &text, &len, err);
    if (st) return st;
    st = olm_json_parse(text, len, path, out, err);
    free(text);
    return st;
}

char *olm_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t o = a;
    if (a && dir[a - 1] != '/') p[o++] = '/';
    memcpy(p + o, name, b + 1);
    return p;
}
