/* safetensors.c — mmap'd safetensors reader (single file or sharded with an index). */
#include "writer/safetensors.h"
#include "writer/quant4.h"
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

typedef struct st_file {
    char *path;
    uint8_t *map;
    size_t size;
    cJSON *header;  /* tensor names and dtypes point into it */
} st_file;

struct olm_safetensors {
    st_file *files;
    int nfiles;
    olm_st_tensor *t;  /* sorted by name */
    size_t nt;
};

static onnxllm_status olm_st_convert(const olm_st_tensor *t, float *dst, onnxllm_error *err);

/* Bytes per element; 0 for a dtype name we do not know. */
static size_t dtype_size(const char *d) {
    static const struct {
        const char *name;
        size_t size;
    } k[] = {{"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4}, {"U32", 4},
             {"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2}, {"I8", 1}, {"U8", 1},
             {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    for (size_t i = 0; i < sizeof k / sizeof *k; i++)
        if (!strcmp(d, k[i].name)) return k[i].size;
    return 0;
}

static void fmt_shape(char *buf, size_t cap, const int64_t *s, int rank) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)s[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const olm_st_tensor *)a)->name, ((const olm_st_tensor *)b)->name);
}

typedef struct {
    size_t begin, end, idx;
} span;
static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

/* Appends the tensors of one mapped file to st->t after validating every entry. */
static onnxllm_status parse_header(olm_safetensors *st, st_file *f, onnxllm_error *err) {
    if (f->size < 8)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: truncated safetensors file (%zu bytes, no header length)",
                        f->path, f->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | f->map[i];
    if (n > f->size - 8)
        return olm_fail(err, ONNXLLM_ERR_FORMAT,
                        "%s: truncated safetensors file (header length %llu but only %zu bytes follow)", f->path,
                        (unsigned long long)n, f->size - 8);
    onnxllm_status s = olm_json_parse((const char *)f->map + 8, (size_t)n, f->path, &f->header, err);
    if (s) return olm_wrap(err, s, "safetensors header");
    if (!cJSON_IsObject(f->header))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: safetensors header is not a JSON object", f->path);
    const uint8_t *data = f->map + 8 + n;
    const size_t dsize = f->size - 8 - (size_t)n;

    size_t first = st->nt, count = 0;
    for (cJSON *e = f->header->child; e; e = e->next) count += strcmp(e->string, "__metadata__") != 0;
    olm_st_tensor *nt = realloc(st->t, (st->nt + count + 1) * sizeof *nt);
    if (!nt) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", f->path);
    st->t = nt;
    for (cJSON *e = f->header->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) continue;
        const char *name = e->string;
        cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
            return olm_fail(err, ONNXLLM_ERR_FORMAT,
                            "%s: tensor '%s': header entry needs \"dtype\", \"shape\" and two \"data_offsets\"",
                            f->path, name);
        olm_st_tensor *t = &st->t[st->nt];
        memset(t, 0, sizeof *t);
        t->name = name;
        t->dtype = dt->valuestring;
        t->file = f->path;
        t->rank = cJSON_GetArraySize(sh);
        if (t->rank > OLM_ST_MAX_RANK)
            return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: tensor '%s': rank %d (at most %d supported)", f->path,
                            name, t->rank, OLM_ST_MAX_RANK);
        for (int i = 0; i < t->rank; i++)
            if (!olm_json_as_int(cJSON_GetArrayItem(sh, i), 0, INT64_MAX, &t->shape[i]))
                return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': bad shape entry", f->path, name);
        int64_t b, en, elems, need;
        if (!olm_json_as_int(cJSON_GetArrayItem(off, 0), 0, INT64_MAX, &b) ||
            !olm_json_as_int(cJSON_GetArrayItem(off, 1), 0, INT64_MAX, &en) || en < b)
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': bad data_offsets", f->path, name);
        if ((uint64_t)en > dsize)
            return olm_fail(err, ONNXLLM_ERR_FORMAT,
                            "%s: truncated safetensors file: tensor '%s' ends at data byte %lld but the data area "
                            "has %zu bytes",
                            f->path, name, (long long)en, dsize);
        t->data = data + b;
        t->nbytes = (size_t)(en - b);
        size_t es = dtype_size(t->dtype);
        bool fits = olm_dims_product(t->shape, t->rank, 0, &elems) && olm_mul_i64(elems, (int64_t)es, &need);
        if (es && (!fits || (uint64_t)need != t->nbytes)) {
            char sbuf[160], nbuf[32] = "more than 2^63";
            fmt_shape(sbuf, sizeof sbuf, t->shape, t->rank);
            if (fits) snprintf(nbuf, sizeof nbuf, "%lld", (long long)need);
            return olm_fail(err, ONNXLLM_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets span %zu bytes but %s %s needs %s", f->path, name,
                            t->nbytes, t->dtype, sbuf, nbuf);
        }
        st->nt++;
    }
    /* no two tensors of this file may share bytes */
    span *sp = malloc((count + 1) * sizeof *sp);
    if (!sp) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", f->path);
    for (size_t i = 0; i < count; i++) {
        const olm_st_tensor *t = &st->t[first + i];
        sp[i] = (span){(size_t)(t->data - data), (size_t)(t->data - data) + t->nbytes, first + i};
    }
    qsort(sp, count, sizeof *sp, cmp_span);
    size_t far = 0, far_idx = 0; /* furthest end so far, and whose */
    for (size_t i = 0; i < count; i++) {
        if (sp[i].end == sp[i].begin) continue; /* empty tensors own no bytes */
        if (sp[i].begin < far) {
            onnxllm_status r = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data area",
                                        f->path, st->t[far_idx].name, st->t[sp[i].idx].name);
            free(sp);
            return r;
        }
        far = sp[i].end;
        far_idx = sp[i].idx;
    }
    free(sp);
    return ONNXLLM_OK;
}

static onnxllm_status map_file(olm_safetensors *st, const char *path, onnxllm_error *err) {
    st_file *nf = realloc(st->files, (size_t)(st->nfiles + 1) * sizeof *nf);
    if (!nf) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    st->files = nf;
    st_file *f = &st->files[st->nfiles];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    st->nfiles++;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: not a regular file", path);
    }
    f->size = (size_t)sb.st_size;
    if (f->size) {
        void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot map: %s", path, strerror(e));
        }
        f->map = m;
    }
    close(fd);
    return parse_header(st, f, err);
}

static onnxllm_status finish(olm_safetensors *st, onnxllm_error *err) {
    qsort(st->t, st->nt, sizeof *st->t, cmp_name);
    for (size_t i = 1; i < st->nt; i++)
        if (!strcmp(st->t[i].name, st->t[i - 1].name))
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "tensor '%s' appears twice (%s and %s)", st->t[i].name,
                            st->t[i - 1].file, st->t[i].file);
    return ONNXLLM_OK;
}

onnxllm_status olm_st_open_file(const char *path, olm_safetensors **out, onnxllm_error *err) {
    *out = NULL;
    olm_safetensors *st = calloc(1, sizeof *st);
    if (!st) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status s = map_file(st, path, err);
    if (!s) s = finish(st, err);
    if (s) {
        olm_st_close(st);
        return s;
    }
    *out = st;
    return ONNXLLM_OK;
}

static onnxllm_status open_index(olm_safetensors *st, const char *dir, const char *index_path, onnxllm_error *err) {
    cJSON *idx = NULL;
    onnxllm_status s = olm_load_json_file(index_path, &idx, err);
    if (s) return s;
    cJSON *wm = cJSON_GetObjectItemCaseSensitive(idx, "weight_map");
    if (!cJSON_IsObject(wm) || !wm->child) {
        cJSON_Delete(idx);
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
    }
    /* open each distinct shard once, in order of first mention */
    for (cJSON *e = wm->child; e && !s; e = e->next) {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !olm_path_is_inside(e->valuestring)) {
            s = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: weight_map entry '%s' is not a file name in the folder",
                         index_path, e->string);
            break;
        }
        int seen = 0;
        for (cJSON *p = wm->child; p != e; p = p->next) seen |= !strcmp(p->valuestring, e->valuestring);
        if (seen) continue;
        char *path = olm_path_join(dir, e->valuestring);
        if (!path) s = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        else s = map_file(st, path, err);
        free(path);
    }
    if (!s) s = finish(st, err);
    /* every tensor the index names must be in the shard it names */
    for (cJSON *e = wm->child; e && !s; e = e->next) {
        const olm_st_tensor *t = olm_st_find(st, e->string);
        const char *slash = t ? strrchr(t->file, '/') : NULL;
        if (!t || strcmp(slash ? slash + 1 : t->file, e->valuestring))
            s = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s' is listed in %s but not found there", index_path,
                         e->string, e->valuestring);
    }
    cJSON_Delete(idx);
    return s;
}

onnxllm_status olm_st_open_dir(const char *dir, olm_safetensors **out, onnxllm_error *err) {
    *out = NULL;
    olm_safetensors *st = calloc(1, sizeof *st);
    char *index = olm_path_join(dir, "model.safetensors.index.json");
    char *single = olm_path_join(dir, "model.safetensors");
    onnxllm_status s;
    if (!st || !index || !single) {
        s = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    } else if (access(index, F_OK) == 0) {
        s = open_index(st, dir, index, err);
    } else if (access(single, F_OK) == 0) {
        s = map_file(st, single, err);
        if (!s) s = finish(st, err);
    } else {
        s = olm_fail(err, ONNXLLM_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json", dir);
    }
    free(index);
    free(single);
    if (s) {
        olm_st_close(st);
        return s;
    }
    *out = st;
    return ONNXLLM_OK;
}

void olm_st_close(olm_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->nfiles; i++) {
        if (st->files[i].map) munmap(st->files[i].map, st->files[i].size);
        cJSON_Delete(st->files[i].header);
        free(st->files[i].path);
    }
    free(st->files);
    free(st->t);
    free(st);
}

const olm_st_tensor *olm_st_find(const olm_safetensors *st, const char *name) {
    if (!st->nt) return NULL;
    olm_st_tensor key = {.name = name};
    return bsearch(&key, st->t, st->nt, sizeof key, cmp_name);
}

/* Drops the mapped pages of [p, p + n) once converted: each weight is read once, and
 * without this a full-size conversion would keep the whole checkpoint resident. */
static void release_pages(const uint8_t *p, size_t n) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + n) & ~(page - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

onnxllm_status olm_st_to_f32(const olm_st_tensor *t, float *dst, onnxllm_error *err) {
    onnxllm_status s = olm_st_convert(t, dst, err);
    if (!s) release_pages(t->data, t->nbytes);
    return s;
}

static onnxllm_status olm_st_convert(const olm_st_tensor *t, float *dst, onnxllm_error *err) {
    const uint8_t *p = t->data;
    if (!strcmp(t->dtype, "F32")) {
        memcpy(dst, p, t->nbytes);
    } else if (!strcmp(t->dtype, "BF16")) {
        for (size_t i = 0; i < t->nbytes / 2; i++) dst[i] = olm_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    } else if (!strcmp(t->dtype, "F16")) {
        for (size_t i = 0; i < t->nbytes / 2; i++) dst[i] = olm_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    } else {
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype %s (supported: BF16, F16, F32)",
                        t->file, t->name, t->dtype);
    }
    return ONNXLLM_OK;
}

/* ---- weight source ---------------------------------------------------------- */

static onnxllm_status shape_error(const olm_st_tensor *t, const int64_t *shape, int rank, onnxllm_error *err) {
    char got[160], want[160];
    fmt_shape(got, sizeof got, t->shape, t->rank);
    fmt_shape(want, sizeof want, shape, rank);
    return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected %s", t->file, t->name, got, want);
}

static int same_shape(const olm_st_tensor *t, const int64_t *shape, int rank) {
    if (t->rank != rank) return 0;
    for (int i = 0; i < rank; i++)
        if (t->shape[i] != shape[i]) return 0;
    return 1;
}

/* Stacks 2-D parts row-wise into dst, whose shape is [rows, cols]. */
static onnxllm_status stack_parts(const olm_st_source *s, const char *want, const char *prefix,
                                  const char *const *parts, int nparts, const int64_t *shape, int rank, float *dst,
                                  onnxllm_error *err) {
    const olm_st_tensor *t[3];
    int64_t rows = 0;
    char name[512];
    for (int i = 0; i < nparts; i++) {
        /* a name too long for the buffer is no tensor of the file */
        int n = snprintf(name, sizeof name, "%s%s", prefix, parts[i]);
        t[i] = n >= 0 && (size_t)n < sizeof name ? olm_st_find(s->st, name) : NULL;
        if (!t[i])
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: missing tensor '%s'", s->where, want);
        if (t[i]->rank != 2 || rank != 2 || t[i]->shape[1] != shape[1])
            return shape_error(t[i], shape, rank, err);
        rows += t[i]->shape[0];
    }
    if (rows != shape[0])
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensors %s%s... stack to %lld rows, expected %lld for '%s'",
                        s->where, prefix, parts[0], (long long)rows, (long long)shape[0], want);
    for (int i = 0; i < nparts; i++) {
        onnxllm_status st = olm_st_to_f32(t[i], dst, err);
        if (st) return st;
        dst += t[i]->shape[0] * t[i]->shape[1];
    }
    return ONNXLLM_OK;
}

static int ends_with(const char *s, const char *suffix, size_t *prefix_len) {
    size_t a = strlen(s), b = strlen(suffix);
    if (a < b || strcmp(s + a - b, suffix)) return 0;
    *prefix_len = a - b;
    return 1;
}

static onnxllm_status st_get(void *ctx, const char *name, const int64_t *shape, int rank, float *dst,
                             onnxllm_error *err) {
    const olm_st_source *s = ctx;
    const olm_st_tensor *t = olm_st_find(s->st, name);
    if (t) {
        if (!same_shape(t, shape, rank)) return shape_error(t, shape, rank, err);
        return olm_st_to_f32(t, dst, err);
    }
    size_t pl;
    char prefix[512];
    if (ends_with(name, "self_attn.qkv_proj.weight", &pl) && pl < sizeof prefix) {
        static const char *const p[] = {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"};
        snprintf(prefix, sizeof prefix, "%.*s", (int)pl, name);
        return stack_parts(s, name, prefix, p, 3, shape, rank, dst, err);
    }
    if (ends_with(name, "mlp.gate_up_proj.weight", &pl) && pl < sizeof prefix) {
        static const char *const p[] = {"mlp.gate_proj.weight", "mlp.up_proj.weight"};
        snprintf(prefix, sizeof prefix, "%.*s", (int)pl, name);
        return stack_parts(s, name, prefix, p, 2, shape, rank, dst, err);
    }
    return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: missing tensor '%s'", s->where, name);
}

/* Rows [row0, row0 + n_rows) of a stored 2-D tensor (the writer streams the
 * vocabulary-sized ones this way): a view on the mapping, converted. */
static onnxllm_status st_get_rows(void *ctx, const char *name, const int64_t *shape, int64_t row0, int64_t n_rows,
                                  float *dst, onnxllm_error *err) {
    const olm_st_source *s = ctx;
    const olm_st_tensor *t = olm_st_find(s->st, name);
    if (!t) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: missing tensor '%s'", s->where, name);
    if (!same_shape(t, shape, 2)) return shape_error(t, shape, 2, err);
    if (row0 < 0 || n_rows < 0 || row0 + n_rows > shape[0])
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "%s: rows [%lld, %lld) outside [0, %lld)", name,
                        (long long)row0, (long long)(row0 + n_rows), (long long)shape[0]);
    olm_st_tensor view = *t;
    const size_t row_bytes = t->nbytes / (size_t)(shape[0] ? shape[0] : 1);
    view.data = t->data + (size_t)row0 * row_bytes;
    view.nbytes = (size_t)n_rows * row_bytes;
    return olm_st_to_f32(&view, dst, err);
}

olm_weight_source olm_st_weight_source(olm_st_source *s) {
    return (olm_weight_source){.ctx = s, .get = st_get, .get_rows = st_get_rows};
}
