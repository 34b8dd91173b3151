/* onnx_scan.c — protobuf wire-format walk of ModelProto → GraphProto → TensorProto.
 *
 * Only the fields needed here are decoded (field numbers from onnx.proto):
 *   ModelProto.graph = 7; GraphProto.initializer = 5;
 *   TensorProto: name = 8, raw_data = 9, external_data = 13 (key = 1, value = 2),
 *   data_location = 14 (1 = EXTERNAL); typed data fields are counted by length. */
#include "engine/onnx_scan.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const uint8_t *p, *end;
} rd_t;

static int rd_varint(rd_t *r, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return -1;
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Reads one field header and, for LEN fields, its payload range. */
static int rd_field(rd_t *r, uint32_t *num, uint32_t *wt, rd_t *sub, uint64_t *val) {
    uint64_t key;
    if (rd_varint(r, &key)) return -1;
    *num = (uint32_t)(key >> 3);
    *wt = (uint32_t)(key & 7);
    switch (*wt) {
    case 0: return rd_varint(r, val);
    case 1:
        if (r->end - r->p < 8) return -1;
        r->p += 8;
        return 0;
    case 5:
        if (r->end - r->p < 4) return -1;
        r->p += 4;
        return 0;
    case 2: {
        uint64_t n;
        if (rd_varint(r, &n) || n > (uint64_t)(r->end - r->p)) return -1;
        sub->p = r->p;
        sub->end = r->p + n;
        r->p += n;
        *val = n;
        return 0;
    }
    default: return -1;
    }
}

typedef struct {
    const char *dir, *model_path;
    olm_onnx_scan *s;
    onnxllm_error *err;
} scan_t;

static onnxllm_status bad_pb(scan_t *x) {
    return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: not a valid ONNX model (protobuf parse error)", x->model_path);
}

static onnxllm_status scan_tensor(scan_t *x, rd_t t) {
    char name[128] = "", loc[256] = "";
    uint64_t offset = 0, length = 0, inline_bytes = 0, location = 0;
    bool has_len = false;
    while (t.p < t.end) {
        uint32_t num, wt;
        rd_t sub = {0};
        uint64_t v = 0;
        if (rd_field(&t, &num, &wt, &sub, &v)) return bad_pb(x);
        if (num == 8 && wt == 2) {
            snprintf(name, sizeof name, "%.*s", (int)(sub.end - sub.p), (const char *)sub.p);
        } else if (num == 14 && wt == 0) {
            location = v;
        } else if (num == 13 && wt == 2) {
            char key[32] = "", val[256] = "";
            while (sub.p < sub.end) {
                uint32_t n2, w2;
                rd_t s2 = {0};
                uint64_t v2;
                if (rd_field(&sub, &n2, &w2, &s2, &v2)) return bad_pb(x);
                if (w2 != 2) continue;
                if (n2 == 1) snprintf(key, sizeof key, "%.*s", (int)(s2.end - s2.p), (const char *)s2.p);
                if (n2 == 2) snprintf(val, sizeof val, "%.*s", (int)(s2.end - s2.p), (const char *)s2.p);
            }
            if (!strcmp(key, "location")) snprintf(loc, sizeof loc, "%s", val);
            else if (!strcmp(key, "offset")) offset = strtoull(val, NULL, 10);
            else if (!strcmp(key, "length")) { length = strtoull(val, NULL, 10); has_len = true; }
        } else if (wt == 2 && (num == 9 || (num >= 4 && num <= 7) || num == 10 || num == 11)) {
            inline_bytes += v; /* raw_data or packed typed data */
        }
    }
    x->s->n_initializers++;
    uint64_t bytes = inline_bytes;
    if (location == 1) {
        if (!loc[0] || !has_len)
            return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: initializer %s: external data without location/length",
                            x->model_path, name);
        if (loc[0] == '/' || strstr(loc, ".."))
            return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: initializer %s: external data outside the model folder",
                            x->model_path, name);
        if (!x->s->data_file[0]) snprintf(x->s->data_file, sizeof x->s->data_file, "%s", loc);
        if (strcmp(loc, x->s->data_file))
            return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED, "%s: initializers in several external files (%s, %s)",
                            x->model_path, x->s->data_file, loc);
        if (offset + length > x->s->data_needed) {
            x->s->data_needed = offset + length;
            snprintf(x->s->data_needed_by, sizeof x->s->data_needed_by, "%s", name);
        }
        bytes = length;
    }
    x->s->total_bytes += bytes;
    if (strstr(name, "embed_tokens")) x->s->embedding_bytes += bytes;
    return ONNXLLM_OK;
}

static onnxllm_status scan(scan_t *x, const uint8_t *buf, size_t len) {
    rd_t r = {buf, buf + len};
    bool has_graph = false;
    while (r.p < r.end) {
        uint32_t num, wt;
        rd_t sub = {0};
        uint64_t v;
        if (rd_field(&r, &num, &wt, &sub, &v)) return bad_pb(x);
        if (num != 7 || wt != 2) continue;
        has_graph = true;
        while (sub.p < sub.end) {
            uint32_t n2, w2;
            rd_t t = {0};
            if (rd_field(&sub, &n2, &w2, &t, &v)) return bad_pb(x);
            if (n2 == 5 && w2 == 2) {
                onnxllm_status st = scan_tensor(x, t);
                if (st) return st;
            }
        }
    }
    if (!has_graph) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: not a valid ONNX model (no graph)", x->model_path);
    return ONNXLLM_OK;
}

onnxllm_status olm_onnx_scan_file(const char *dir, const char *model_file, olm_onnx_scan *out, onnxllm_error *err) {
    memset(out, 0, sizeof *out);
    char *path = olm_path_join(dir, model_file);
    if (!path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status st = ONNXLLM_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if (sb.st_size == 0) {
        st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: empty file", path);
        goto done;
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
        goto done;
    }
    scan_t x = {dir, path, out, err};
    st = scan(&x, map, (size_t)sb.st_size);
    munmap(map, (size_t)sb.st_size);
    if (!st && out->data_file[0]) {
        char *dpath = olm_path_join(dir, out->data_file);
        struct stat db;
        if (!dpath) st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        else if (stat(dpath, &db))
            st = olm_fail(err, ONNXLLM_ERR_IO, "%s: missing (external weights of %s): %s", dpath, model_file,
                          strerror(errno));
        else if ((uint64_t)db.st_size < out->data_needed)
            st = olm_fail(err, ONNXLLM_ERR_IO, "%s: truncated: %llu bytes, %s needs %llu (tensor %s)", dpath,
                          (unsigned long long)db.st_size, model_file, (unsigned long long)out->data_needed,
                          out->data_needed_by);
        free(dpath);
    }
done:
    if (fd >= 0) close(fd);
    free(path);
    return st;
}
