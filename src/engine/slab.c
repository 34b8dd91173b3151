/* slab.c — the scheduler's KV memory: one memfd holding every slot's cache.
 *
 * Why a memfd and not one anonymous block: a batched decode run needs the KV of its
 * rows as ONE [B, kv_heads, cap, head] tensor per layer, but the running sequences
 * sit in arbitrary slots (a slot keeps its cached prefix when its request ends, and
 * requests end in any order). Copying KV rows together would cost ~260 KB per cached
 * position for Phi-4-mini; mapping the same file pages a second time, side by side,
 * costs a few mmap calls per layer when the batch composition changes and nothing
 * per step. The file is sparse: only written pages exist (RSS grows with the
 * positions actually used) and evicting a slot punches its pages out. */
#include "engine/batch.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t gcd_sz(size_t a, size_t b) {
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static size_t region_off(const olm_slab *sl, int layer, int kv, int slot) {
    return (((size_t)layer * 2 + (size_t)kv) * (size_t)sl->n_slots + (size_t)slot) * sl->region;
}

uint8_t *olm_slab_region(const olm_slab *sl, int layer, int kv, int slot) {
    return sl->home + region_off(sl, layer, kv, slot);
}

onnxllm_status olm_slab_init(onnxllm_model *m, olm_slab *sl, int n_slots, onnxllm_error *err) {
    memset(sl, 0, sizeof *sl);
    sl->fd = -1;
    if (n_slots < 1 || n_slots > OLM_SLAB_MAX_SLOTS)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "slots must be in [1, %d] (got %d)", OLM_SLAB_MAX_SLOTS,
                        n_slots);
    sl->m = m;
    sl->n_slots = n_slots;
    sl->n_layers = m->cfg.num_hidden_layers;
    sl->nkv = m->cfg.num_key_value_heads;
    sl->head = m->cfg.head_size;
    sl->elem = m->io.kv_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? 4 : 2;
    /* Round the capacity up so that one region is a whole number of pages (the view
     * maps regions one by one); positions past max_length are never used. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE), unit = (size_t)(sl->nkv * sl->head) * sl->elem;
    size_t step = page / gcd_sz(page, unit);
    sl->cap = (int64_t)(((size_t)m->max_length + step - 1) / step * step);
    sl->region = (size_t)sl->cap * unit;
    sl->pos_bytes = 2 * (size_t)sl->n_layers * unit;
    sl->bytes = 2 * (size_t)sl->n_layers * (size_t)n_slots * sl->region;
    sl->fd = memfd_create("onnxllm-kv-slab", MFD_CLOEXEC);
    if (sl->fd < 0) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV slab: memfd_create: %s", strerror(errno));
    if (ftruncate(sl->fd, (off_t)sl->bytes) != 0) {
        olm_slab_free(sl);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV slab: cannot size %zu bytes: %s", sl->bytes,
                        strerror(errno));
    }
    sl->home = mmap(NULL, sl->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, sl->fd, 0);
    sl->view = mmap(NULL, sl->bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (sl->home == MAP_FAILED || sl->view == MAP_FAILED) {
        if (sl->home == MAP_FAILED) sl->home = NULL;
        if (sl->view == MAP_FAILED) sl->view = NULL;
        olm_slab_free(sl);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV slab: cannot map %zu bytes (%d slots x max_length %d)",
                        sl->bytes, n_slots, m->max_length);
    }
    return ONNXLLM_OK;
}

void olm_slab_free(olm_slab *sl) {
    if (sl->home) munmap(sl->home, sl->bytes);
    if (sl->view) munmap(sl->view, sl->bytes);
    if (sl->fd >= 0) close(sl->fd);
    memset(sl, 0, sizeof *sl);
    sl->fd = -1;
}

onnxllm_status olm_slab_rows(olm_slab *sl, const int *slots, int n, uint8_t **bases, onnxllm_error *err) {
    bool consecutive = true;
    for (int i = 1; i < n; i++) consecutive &= slots[i] == slots[0] + i;
    if (consecutive) {
        for (int l = 0; l < sl->n_layers; l++)
            for (int kv = 0; kv < 2; kv++) bases[l * 2 + kv] = olm_slab_region(sl, l, kv, slots[0]);
        return ONNXLLM_OK;
    }
    for (int i = 0; i < n; i++) {
        if (i < sl->view_n && sl->view_rows[i] == slots[i]) continue;
        for (int l = 0; l < sl->n_layers; l++)
            for (int kv = 0; kv < 2; kv++) {
                uint8_t *at = sl->view + region_off(sl, l, kv, i);
                void *p = mmap(at, sl->region, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, sl->fd,
                               (off_t)region_off(sl, l, kv, slots[i]));
                if (p == MAP_FAILED) {
                    sl->view_n = 0; /* partly remapped: remap everything next time */
                    return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV slab: cannot map a batch row: %s",
                                    strerror(errno));
                }
            }
        sl->view_rows[i] = slots[i];
    }
    if (n > sl->view_n) sl->view_n = n;
    for (int l = 0; l < sl->n_layers; l++)
        for (int kv = 0; kv < 2; kv++) bases[l * 2 + kv] = sl->view + region_off(sl, l, kv, 0);
    return ONNXLLM_OK;
}

/* Bytes of positions [0, n) of one head, and where head h starts in a region. */
#define HEAD_SPAN(sl) ((size_t)(sl)->cap * (size_t)(sl)->head * (sl)->elem)
#define POS_SPAN(sl, n) ((size_t)(n) * (size_t)(sl)->head * (sl)->elem)

void olm_slab_copy(olm_slab *sl, int dst, int src, int64_t n) {
    if (dst == src || n <= 0) return;
    for (int l = 0; l < sl->n_layers; l++)
        for (int kv = 0; kv < 2; kv++) {
            uint8_t *d = olm_slab_region(sl, l, kv, dst), *s = olm_slab_region(sl, l, kv, src);
            for (int64_t h = 0; h < sl->nkv; h++)
                memcpy(d + (size_t)h * HEAD_SPAN(sl), s + (size_t)h * HEAD_SPAN(sl), POS_SPAN(sl, n));
        }
}

void olm_slab_release(olm_slab *sl, int slot) {
    for (int l = 0; l < sl->n_layers; l++)
        for (int kv = 0; kv < 2; kv++) {
            off_t off = (off_t)region_off(sl, l, kv, slot);
            if (fallocate(sl->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)sl->region) != 0)
                /* a kernel without hole punching on memfd: at least drop the contents */
                madvise(olm_slab_region(sl, l, kv, slot), sl->region, MADV_REMOVE);
        }
}

size_t olm_slab_span_bytes(const olm_slab *sl, int64_t n) {
    return 2 * (size_t)sl->n_layers * (size_t)sl->nkv * POS_SPAN(sl, n);
}

void olm_slab_gather(const olm_slab *sl, int slot, int64_t p0, int64_t p1, uint8_t *buf) {
    for (int l = 0; l < sl->n_layers; l++)
        for (int kv = 0; kv < 2; kv++) {
            const uint8_t *r = olm_slab_region(sl, l, kv, slot);
            for (int64_t h = 0; h < sl->nkv; h++) {
                memcpy(buf, r + (size_t)h * HEAD_SPAN(sl) + POS_SPAN(sl, p0), POS_SPAN(sl, p1 - p0));
                buf += POS_SPAN(sl, p1 - p0);
            }
        }
}

void olm_slab_scatter(olm_slab *sl, int slot, int64_t p0, int64_t p1, const uint8_t *buf, int64_t keep) {
    for (int l = 0; l < sl->n_layers; l++)
        for (int kv = 0; kv < 2; kv++) {
            uint8_t *r = olm_slab_region(sl, l, kv, slot);
            for (int64_t h = 0; h < sl->nkv; h++) {
                if (keep > 0) memcpy(r + (size_t)h * HEAD_SPAN(sl) + POS_SPAN(sl, p0), buf, POS_SPAN(sl, keep));
                buf += POS_SPAN(sl, p1 - p0);
            }
        }
}
