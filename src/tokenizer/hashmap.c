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
    m->cap = expected ? expected : 16;
    m->ents = malloc(m->cap * sizeof *m->ents);
    m->arena_cap = expected * 8 + 64;
    m->arena = malloc(m->arena_cap);
    return m->slots && m->ents && m->arena;
}

void olm_strmap_free(olm_strmap *m) {
    free(m->slots);
    free(m->ents);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static bool strmap_grow(olm_strmap *m) {
    size_t cap = (m->mask + 1) * 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t e = 0; e < m->n; e++) {
        size_t i = m->ents[e].hash & (cap - 1);
        while (slots[i]) i = (i + 1) & (cap - 1);
        slots[i] = (uint32_t)e + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    return true;
}

static inline size_t strmap_find(const olm_strmap *m, const char *key, size_t len, uint64_t h) {
    size_t i = h & m->mask;
    for (;;) {
        uint32_t s = m->slots[i];
        if (!s) return i;
        const struct olm_strent *e = &m->ents[s - 1];
        if (e->hash == h && e->len == len && memcmp(m->arena + e->off, key, len) == 0) return i;
        i = (i + 1) & m->mask;
    }
}

bool olm_strmap_put(olm_strmap *m, const char *key, size_t len, int32_t id) {
    if ((m->n + 1) * 2 > m->mask + 1 && !strmap_grow(m)) return false;
    uint64_t h = olm_hash_bytes(key, len);
    size_t i = strmap_find(m, key, len, h);
    if (m->slots[i]) {
        m->ents[m->slots[i] - 1].id = id;
        return true;
    }
    if (m->n == m->cap) {
        size_t nc = m->cap * 2;
        void *p = realloc(m->ents, nc * sizeof *m->ents);
        if (!p) return false;
        m->ents = p;
        m->cap = nc;
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
    m->ents[m->n] = (struct olm_strent){h, (uint32_t)m->arena_len, (uint32_t)len, id};
    m->arena_len += len + 1;
    m->slots[i] = (uint32_t)++m->n;
    return true;
}

int32_t olm_strmap_get(const olm_strmap *m, const char *key, size_t len) {
    if (!m->slots) return -1;
    size_t i = strmap_find(m, key, len, olm_hash_bytes(key, len));
    return m->slots[i] ? m->ents[m->slots[i] - 1].id : -1;
}

bool olm_pairmap_init(olm_pairmap *m, size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    m->keys = malloc(cap * sizeof *m->keys);
    m->rank = malloc(cap * sizeof *m->rank);
    m->newid = malloc(cap * sizeof *m->newid);
    m->mask = cap - 1;
    m->n = 0;
    if (!m->keys || !m->rank || !m->newid) return false;
    memset(m->keys, 0xFF, cap * sizeof *m->keys);
    return true;
}

void olm_pairmap_free(olm_pairmap *m) {
    free(m->keys);
    free(m->rank);
    free(m->newid);
    memset(m, 0, sizeof *m);
}

/* Fixed capacity (sized from the merges count at load): later duplicates replace
 * earlier ones, as in HF's HashMap collect. */
bool olm_pairmap_put(olm_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t newid) {
    if ((m->n + 1) * 2 > m->mask + 1) return false;
    uint64_t k = olm_pair_key(a, b);
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    while (m->keys[i] != UINT64_MAX && m->keys[i] != k) i = (i + 1) & m->mask;
    if (m->keys[i] == UINT64_MAX) m->n++;
    m->keys[i] = k;
    m->rank[i] = rank;
    m->newid[i] = newid;
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
