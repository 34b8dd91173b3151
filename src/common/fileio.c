/* fileio.c — whole-file reads and JSON loading with positioned error messages. */
#include "common/fileio.h"
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

onnxllm_status olm_read_file(const char *path, char **out, size_t *len, onnxllm_error *err) {
    *out = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
    }
    long n = ftell(f);
    if (n < 0) {
        fclose(f);
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: not a regular file", path);
    }
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: cannot allocate %ld bytes", path, n);
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    int ferr = ferror(f);
    fclose(f);
    if (ferr || got != (size_t)n) {
        free(buf);
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: read failed", path);
    }
    buf[n] = 0;
    *out = buf;
    if (len) *len = (size_t)n;
    return ONNXLLM_OK;
}

onnxllm_status olm_parse_json(const char *text, size_t len, const char *what, cJSON **out, onnxllm_error *err) {
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (*out) return ONNXLLM_OK;
    size_t off = end && end >= text ? (size_t)(end - text) : 0;
    if (off > len) off = len;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') { line++; col = 1; } else col++;
    }
    return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: malformed JSON at line %zu, column %zu (byte %zu)", what, line, col, off);
}

onnxllm_status olm_load_json_file(const char *path, cJSON **out, onnxllm_error *err) {
    char *text;
    size_t len;
    *out = NULL;
    onnxllm_status st = olm_read_file(path, &text, &len, err);
    if (st) return st;
    st = olm_parse_json(text, len, path, out, err);
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
