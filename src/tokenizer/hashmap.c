/* hashmap.c — the two lookup tables of a BPE model, open addressing, built once at
 * load and then only read (so concurrent encodes need no locks):
 *   olm_strmap: token string → id (vocab; 200k entries for o200k),
 *   olm_pairmap: (left id, right id) → (merge rank, merged id). */
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

bool olm_buf_reserve(olm_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return true;
    size_t nc = b->cap ? b->cap : 64;
    while (nc < b->len + extra + 1) nc *= 2;
    char *p = realloc(b->p, nc);
    if (!p) return false;
    b->p = p;
    b->cap = nc;
    return true;
}

bool olm_buf_put(olm_buf *b, const void *s, size_t n) {
    if (!olm_buf_reserve(b, n)) return false;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return true;
}

void olm_buf_free(olm_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* 64-bit hash: wyhash-style multiply-mix over 8-byte words (keys are short). */
static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
uint64_t olm_hash_bytes(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0x243F6A8885A308D3ull ^ (n * 0x9E3779B97F4A7C15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix(h ^ w, 0xA0761D6478BD642Full);
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)s[i] << (8 * i);
    return mix(h ^ w, 0xE7037ED1A0B428DBull);
}

bool olm_strmap_init(olm_strmap *m, size_t expected) {
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->arena_cap = expected * 8 + 64;
    m->arena = malloc(m->arena_cap);
    return m->slots && m->arena;
}

void olm_strmap_free(olm_strmap *m) {
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static inline uint32_t tag_of(uint64_t h) { return (uint32_t)(h >> 32) | 1u; }

static bool strmap_grow(olm_strmap *m) {
    size_t cap = (m->mask + 1) * 2;
    olm_strslot *slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t e = 0; e <= m->mask; e++) {
        if (!m->slots[e].tag) continue;
        const olm_strslot *o = &m->slots[e];
        size_t i = olm_hash_bytes(m->arena + o->off, o->len) & (cap - 1);
        while (slots[i].tag) i = (i + 1) & (cap - 1);
        slots[i] = *o;
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    return true;
}

static inline size_t strmap_find(const olm_strmap *m, const char *key, size_t len, uint64_t h) {
    size_t i = h & m->mask;
    uint32_t tag = tag_of(h);
    for (;;) {
        const olm_strslot *s = &m->slots[i];
        if (!s->tag) return i;
        if (s->tag == tag && s->len == len && memcmp(m->arena + s->off, key, len) == 0) return i;
        i = (i + 1) & m->mask;
    }
}

bool olm_strmap_put(olm_strmap *m, const char *key, size_t len, int32_t id) {
    if ((m->n + 1) * 2 > m->mask + 1 && !strmap_grow(m)) return false;
    uint64_t h = olm_hash_bytes(key, len);
    size_t i = strmap_find(m, key, len, h);
    if (m->slots[i].tag) {
        m->slots[i].id = id;
        return true;
    }
    if (m->arena_len + len + 1 > m->arena_cap) {
        size_t nc = m->arena_cap * 2;
        while (nc < m->arena_len + len + 1) nc *= 2;
        char *p = realloc(m->arena, nc);
        if (!p) return false;
        m->arena = p;
        m->arena_cap = nc;
    }
    memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = 0;
    m->slots[i] = (olm_strslot){tag_of(h), id, (uint32_t)m->arena_len, (uint32_t)len};
    m->arena_len += len + 1;
    m->n++;
    return true;
}

int32_t olm_strmap_get(const olm_strmap *m, const char *key, size_t len) {
    if (!m->slots) return -1;
    size_t i = strmap_find(m, key, len, olm_hash_bytes(key, len));
    return m->slots[i].tag ? m->slots[i].id : -1;
}

bool olm_pairmap_init(olm_pairmap *m, size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    m->slots = malloc(cap * sizeof *m->slots);
    m->mask = cap - 1;
    m->n = 0;
    if (!m->slots) return false;
    memset(m->slots, 0xFF, cap * sizeof *m->slots);
    return true;
}

void olm_pairmap_free(olm_pairmap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* Fixed capacity (sized from the merges count at load): later duplicates replace
 * earlier ones, as in HF's HashMap collect. */
bool olm_pairmap_put(olm_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t newid) {
    if ((m->n + 1) * 2 > m->mask + 1) return false;
    uint64_t k = olm_pair_key(a, b);
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    while (m->slots[i].key != UINT64_MAX && m->slots[i].key != k) i = (i + 1) & m->mask;
    if (m->slots[i].key == UINT64_MAX) m->n++;
    m->slots[i] = (olm_pairslot){k, rank, newid};
    return true;
}

bool olm_tokens_push(onnxllm_tokens *t, int32_t id) {
    if (t->len == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        int32_t *p = realloc(t->ids, nc * sizeof *p);
        if (!p) return false;
        t->ids = p;
        t->cap = nc;
    }
    t->ids[t->len++] = id;
    return true;
}

bool olm_pieces_push(olm_pieces *p, size_t off, size_t len, bool first) {
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        olm_piece *v = realloc(p->v, nc * sizeof *v);
        if (!v) return false;
        p->v = v;
        p->cap = nc;
    }
    p->v[p->n++] = (olm_piece){(uint32_t)off, (uint32_t)len, first};
    return true;
}

void olm_scratch_free(olm_scratch *s) {
    olm_buf_free(&s->norm);
    olm_buf_free(&s->tmp);
    olm_buf_free(&s->tmp2);
    olm_buf_free(&s->dec);
    olm_buf_free(&s->pa.text);
    olm_buf_free(&s->pb.text);
    free(s->pa.v);
    free(s->pb.v);
    free(s->sym_id);
    free(s->sym_prev);
    free(s->sym_next);
    free(s->rank);
    free(s->heap);
    free(s->ra);
    free(s->rb);
    free(s->spans);
    if (s->md) pcre2_match_data_free(s->md);
    memset(s, 0, sizeof *s);
}
