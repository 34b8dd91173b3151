/* onnx_scan.c — protobuf wire-format walk of ModelProto → GraphProto → TensorProto.
 *
 * Read with the bounded reader of common/pbread.h. Only the fields needed here are decoded (field numbers from onnx.proto):
 *   ModelProto.graph = 7; GraphProto.initializer = 5;
 *   TensorProto: name = 8, raw_data = 9, external_data = 13 (key = 1, value = 2),
 *   data_location = 14 (1 = EXTERNAL); typed data fields are counted by length. */
#include "engine/onnx_scan.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/untrusted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *dir, *model_path;
    olm_onnx_scan *s;
    onnxllm_error *err;
} scan_t;

static onnxllm_status bad_pb(scan_t *x) {
    return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: not a valid ONNX model (protobuf parse error)", x->model_path);
}

static bool parse_u64(const olm_pb_field *f, uint64_t *out) {
    return f->wire == OLM_PB_LEN && olm_parse_u64((const char *)f->data, f->len, out);
}

static onnxllm_status scan_tensor(scan_t *x, olm_pb_reader t) {
    char name[128] = "", loc[256] = "";
    uint64_t offset = 0, length = 0, inline_bytes = 0, location = 0;
    bool has_len = false, bad_num = false;
    olm_pb_field f;
    while (olm_pb_next(&t, &f)) {
        if (f.num == 8 && f.wire == OLM_PB_LEN) {
            snprintf(name, sizeof name, "%.*s", (int)f.len, (const char *)f.data);
        } else if (f.num == 14 && f.wire == OLM_PB_VARINT) {
            location = f.v;
        } else if (f.num == 13 && f.wire == OLM_PB_LEN) {
            olm_pb_reader e = olm_pb_sub(&f);
            olm_pb_field k = {.wire = -1}, v = {.wire = OLM_PB_LEN, .data = (const uint8_t *)""}, kf;
            while (olm_pb_next(&e, &kf)) {
                if (kf.num == 1) k = kf;
                if (kf.num == 2) v = kf;
            }
            if (e.bad) return bad_pb(x);
            if (olm_pb_eq(&k, "location")) {
                if (v.len >= sizeof loc) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: initializer %s: external data location too long", x->model_path, name);
                snprintf(loc, sizeof loc, "%.*s", (int)v.len, (const char *)v.data);
            } else if (olm_pb_eq(&k, "offset")) {
                bad_num |= !parse_u64(&v, &offset);
            } else if (olm_pb_eq(&k, "length")) {
                bad_num |= !parse_u64(&v, &length);
                has_len = true;
            }
        } else if (f.wire == OLM_PB_LEN && (f.num == 9 || (f.num >= 4 && f.num <= 7) || f.num == 10 || f.num == 11)) {
            inline_bytes += f.len; /* raw_data or packed typed data: bounded by the file size */
        }
    }
    if (t.bad) return bad_pb(x);
    x->s->n_initializers++;
    uint64_t bytes = inline_bytes, end;
    if (location == 1) {
        if (!loc[0] || !has_len)
            return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: initializer %s: external data without location/length",
                            x->model_path, name);
        if (bad_num || !olm_add_u64(offset, length, &end))
            return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: initializer %s: external data offset/length is not a number "
                            "that fits a file", x->model_path, name);
        if (!olm_path_is_inside(loc))
            return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: initializer %s: external data outside the model folder",
                            x->model_path, name);
        if (!x->s->data_file[0]) snprintf(x->s->data_file, sizeof x->s->data_file, "%s", loc);
        if (strcmp(loc, x->s->data_file))
            return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED, "%s: initializers in several external files (%s, %s)",
                            x->model_path, x->s->data_file, loc);
        if (end > x->s->data_needed) {
            x->s->data_needed = end;
            snprintf(x->s->data_needed_by, sizeof x->s->data_needed_by, "%s", name);
        }
        bytes = length;
    }
    if (!olm_add_u64(x->s->total_bytes, bytes, &x->s->total_bytes))
        return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: initializer sizes overflow", x->model_path);
    if (strstr(name, "embed_tokens")) x->s->embedding_bytes += bytes;
    return ONNXLLM_OK;
}

static onnxllm_status scan(scan_t *x, const uint8_t *buf, size_t len) {
    olm_pb_reader r = olm_pb_reader_init(buf, len);
    bool has_graph = false;
    olm_pb_field f, g;
    while (olm_pb_next(&r, &f)) {
        if (f.num != 7 || f.wire != OLM_PB_LEN) continue;
        has_graph = true;
        olm_pb_reader sub = olm_pb_sub(&f);
        while (olm_pb_next(&sub, &g)) {
            if (g.num == 5 && g.wire == OLM_PB_LEN) {
                onnxllm_status st = scan_tensor(x, olm_pb_sub(&g));
                if (st) return st;
            }
        }
        if (sub.bad) return bad_pb(x);
    }
    if (r.bad) return bad_pb(x);
    if (!has_graph) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: not a valid ONNX model (no graph)", x->model_path);
    return ONNXLLM_OK;
}

onnxllm_status olm_onnx_scan_file(const char *dir, const char *model_file, olm_onnx_scan *out, onnxllm_error *err) {
    memset(out, 0, sizeof *out);
    char *path = olm_path_join(dir, model_file);
    if (!path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status st = ONNXLLM_OK;
    int fd = olm_open_regular(path, err);
    struct stat sb;
    if (fd < 0) {
        st = err ? err->status : ONNXLLM_ERR_IO;
        goto done;
    }
    if (fstat(fd, &sb)) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
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
        else if (!S_ISREG(db.st_mode))
            st = olm_fail(err, ONNXLLM_ERR_IO, "%s: not a regular file (external weights of %s)", dpath, model_file);
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
