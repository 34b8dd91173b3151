/* dfa.c — deterministic automata over bytes: subset construction from the NFA,
 * a generic breadth-first explorer (products, number ranges, JSON strings),
 * pruning of states that cannot reach acceptance, and the per-state facts the
 * matcher uses:
 *   dmin  fewest characters still needed to accept
 *   emin  fewest characters to accept through a state with a one-character loop
 *         (from there, every longer length is possible too)
 *   reach accept labels still reachable (object keys)
 *   FREE  every plain character loops back (the vocabulary's plain slice applies)
 * With a length counter c and bounds [min, max], a state s is kept alive iff
 *   (min-c <= dmin <= max-c) or (emin <= max-c)
 * which is a sound under-approximation of "some accepted length fits", closed
 * under taking a step (so the matcher never walks into a dead end). */
#include "grammar/grammar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void olm_dfa_free(olm_dfa *d) {
    if (!d) return;
    free(d->next);
    free(d->flags);
    free(d->label);
    free(d->dmin);
    free(d->emin);
    free(d->reach);
    free(d->pmaxd);
    free(d->pmaxe);
    free(d->pdie);
    free(d->loopg);
    memset(d, 0, sizeof *d);
}

uint32_t olm_dfa_run(const olm_dfa *d, const uint8_t *s, size_t n) {
    uint32_t st = d->start;
    for (size_t i = 0; i < n && st; i++) st = dfa_step(d, st, s[i]);
    return st;
}

bool olm_dfa_empty(const olm_dfa *d) { return d->start == 0; }

/* The automaton of the empty language (only the dead state). */
bool olm_dfa_make_empty(olm_dfa *d) {
    memset(d, 0, sizeof *d);
    d->n = 1;
    d->ncls = 1;
    d->next = calloc(1, sizeof *d->next);
    d->flags = calloc(1, 1);
    d->label = malloc(sizeof *d->label);
    if (!d->next || !d->flags || !d->label) {
        olm_dfa_free(d);
        return false;
    }
    d->label[0] = -1;
    return true;
}

/* ---- hash set of state keys (byte strings) → ids ---------------------------------- */
typedef struct keymap {
    uint32_t *slot; /* id + 1, 0 empty */
    size_t mask;
    OLM_VEC(uint8_t) keys;
    OLM_VEC(uint32_t) koff; /* per id: offset; koff[id+1]-koff[id] = length */
} keymap;

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static bool km_init(keymap *m) {
    memset(m, 0, sizeof *m);
    m->mask = 255;
    m->slot = calloc(256, sizeof *m->slot);
    return m->slot && VEC_PUSH(m->koff, 0);
}
static void km_free(keymap *m) {
    free(m->slot);
    VEC_FREE(m->keys);
    VEC_FREE(m->koff);
}
static size_t km_count(const keymap *m) { return m->koff.n - 1; }
static const uint8_t *km_key(const keymap *m, uint32_t id, size_t *len) {
    *len = m->koff.v[id + 1] - m->koff.v[id];
    return m->keys.v + m->koff.v[id];
}

/* Returns the id of key (inserting it); *added says whether it is new; -1 on OOM. */
static int64_t km_get(keymap *m, const uint8_t *k, size_t n, bool *added) {
    *added = false;
    if (km_count(m) * 2 >= m->mask) { /* grow */
        size_t nm = m->mask * 2 + 1;
        uint32_t *ns = calloc(nm + 1, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->slot[i]) {
                size_t l;
                const uint8_t *kk = km_key(m, m->slot[i] - 1, &l);
                size_t j = (size_t)hash_bytes(kk, l) & nm;
                while (ns[j]) j = (j + 1) & nm;
                ns[j] = m->slot[i];
            }
        free(m->slot);
        m->slot = ns;
        m->mask = nm;
    }
    size_t j = (size_t)hash_bytes(k, n) & m->mask;
    while (m->slot[j]) {
        size_t l;
        const uint8_t *kk = km_key(m, m->slot[j] - 1, &l);
        if (l == n && !memcmp(kk, k, n)) return m->slot[j] - 1;
        j = (j + 1) & m->mask;
    }
    if (!VEC_RESERVE(m->keys, m->keys.n + n + 1)) return -1;
    if (n) memcpy(m->keys.v + m->keys.n, k, n);
    m->keys.n += n;
    if (!VEC_PUSH(m->koff, (uint32_t)m->keys.n)) return -1;
    uint32_t id = (uint32_t)km_count(m) - 1;
    m->slot[j] = id + 1;
    *added = true;
    return id;
}

/* ---- table helpers -------------------------------------------------------------------
 * Tables are built directly with one column per byte class of a partition given by
 * the builder (bytes of one class must step alike from every state). */
typedef struct rawdfa {
    OLM_VEC(uint32_t) next; /* n * ncls */
    OLM_VEC(uint8_t) flags;
    OLM_VEC(int32_t) label;
    uint32_t ncls;
    uint8_t cls[256];
} rawdfa;

static void raw_free(rawdfa *r) {
    VEC_FREE(r->next);
    VEC_FREE(r->flags);
    VEC_FREE(r->label);
}

static bool raw_add(rawdfa *r, uint8_t flags, int32_t label) {
    if (!VEC_RESERVE(r->next, r->next.n + r->ncls)) return false;
    memset(r->next.v + r->next.n, 0, r->ncls * sizeof *r->next.v);
    r->next.n += r->ncls;
    return VEC_PUSH(r->flags, flags) && VEC_PUSH(r->label, label);
}

/* Hands the table over to out. */
static bool raw_finish(rawdfa *r, uint32_t start, olm_dfa *out) {
    memset(out, 0, sizeof *out);
    uint32_t n = (uint32_t)r->flags.n;
    out->n = n;
    out->start = start;
    out->ncls = r->ncls;
    memcpy(out->cls, r->cls, 256);
    out->next = r->next.v;
    out->flags = r->flags.v;
    out->label = r->label.v;
    r->next.v = NULL;
    r->flags.v = NULL;
    r->label.v = NULL;
    raw_free(r);
    if (!out->next) out->next = calloc(1, sizeof *out->next);
    if (!out->flags) out->flags = calloc(1, 1);
    if (!out->label) out->label = calloc(1, sizeof *out->label);
    return out->next && out->flags && out->label;
}

/* ---- subset construction ------------------------------------------------------------ */
/* NFA items are state*2 + ended (ended: a $ edge was crossed; no character may follow). */

typedef struct closure_ctx {
    const olm_nfa *a;
    uint8_t *mark;          /* [items] */
    OLM_VEC(uint32_t) out;
    OLM_VEC(uint32_t) stack;
} closure_ctx;

static int cmp_u32(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static bool closure(closure_ctx *c, const uint32_t *seed, size_t n, bool at_start) {
    c->out.n = 0;
    c->stack.n = 0;
    for (size_t i = 0; i < n; i++)
        if (!c->mark[seed[i]]) {
            c->mark[seed[i]] = 1;
            if (!VEC_PUSH(c->stack, seed[i]) || !VEC_PUSH(c->out, seed[i])) return false;
        }
    while (c->stack.n) {
        uint32_t it = c->stack.v[--c->stack.n], st = it >> 1, ended = it & 1;
        for (uint32_t e = c->a->first.v[st]; e; e = c->a->enext.v[e - 1]) {
            const olm_nedge *ed = &c->a->e.v[e - 1];
            if (ed->lo <= ed->hi) continue;
            uint32_t to;
            if (ed->lo == 1) to = ed->to * 2 + ended;
            else if (ed->lo == 2) {
                if (!at_start) continue;
                to = ed->to * 2 + ended;
            } else
                to = ed->to * 2 + 1;
            if (!c->mark[to]) {
                c->mark[to] = 1;
                if (!VEC_PUSH(c->stack, to) || !VEC_PUSH(c->out, to)) return false;
            }
        }
    }
    for (size_t i = 0; i < c->out.n; i++) c->mark[c->out.v[i]] = 0;
    /* sort (insertion for small, else qsort) */
    if (c->out.n < 32) {
        for (size_t i = 1; i < c->out.n; i++) {
            uint32_t x = c->out.v[i];
            size_t j = i;
            while (j > 0 && c->out.v[j - 1] > x) {
                c->out.v[j] = c->out.v[j - 1];
                j--;
            }
            c->out.v[j] = x;
        }
    } else
        qsort(c->out.v, c->out.n, sizeof *c->out.v, cmp_u32);
    return true;
}

onnxllm_status olm_nfa_to_dfa(const olm_nfa *a, uint32_t start, size_t max_states, olm_dfa *out, char *why,
                              size_t why_len) {
    memset(out, 0, sizeof *out);
    size_t nitems = a->first.n * 2;
    closure_ctx c = {a, calloc(nitems ? nitems : 1, 1), {0}, {0}};
    keymap km;
    rawdfa r = {0};
    onnxllm_status st = ONNXLLM_ERR_OUT_OF_MEMORY;
    /* byte partition from the edge ranges: targets are computed once per class */
    uint8_t bcls[256];
    int nb = 0;
    {
        bool cut[257] = {0};
        cut[0] = cut[256] = true;
        for (size_t e = 0; e < a->e.n; e++)
            if (a->e.v[e].lo <= a->e.v[e].hi) {
                cut[a->e.v[e].lo] = true;
                cut[a->e.v[e].hi + 1] = true;
            }
        for (int b = 0; b < 256; b++) {
            if (b && cut[b]) nb++;
            bcls[b] = (uint8_t)nb;
        }
        nb++;
    }
    OLM_VEC(uint32_t) bucket[256];
    uint32_t bucket_n[256];
    memset(bucket, 0, sizeof bucket);
    if (!c.mark || !km_init(&km)) {
        free(c.mark);
        return ONNXLLM_ERR_OUT_OF_MEMORY;
    }
    r.ncls = (uint32_t)nb;
    memcpy(r.cls, bcls, 256);
    /* dead state 0 */
    if (!raw_add(&r, 0, -1)) goto done;
    {
        uint32_t s0 = start * 2;
        bool added;
        if (!closure(&c, &s0, 1, true)) goto done;
        if (km_get(&km, (const uint8_t *)c.out.v, c.out.n * 4, &added) < 0) goto done;
    }
    for (uint32_t id = 0; id < km_count(&km); id++) {
        if (km_count(&km) > max_states) {
            st = ONNXLLM_ERR_UNSUPPORTED;
            if (why && why_len) snprintf(why, why_len, "automaton exceeds %zu states", max_states);
            goto done;
        }
        size_t klen;
        const uint32_t *items = (const uint32_t *)km_key(&km, id, &klen);
        size_t nit = klen / 4;
        /* copy: km may reallocate while we add */
        uint32_t *its = malloc((nit ? nit : 1) * sizeof *its);
        if (!its) goto done;
        if (nit) memcpy(its, items, nit * 4);
        int32_t label = -1;
        bool bnd = true;
        for (size_t i = 0; i < nit; i++) {
            uint32_t s = its[i] >> 1;
            if (a->label.v[s] >= 0 && (label < 0 || a->label.v[s] < label)) label = a->label.v[s];
            if (!a->bnd.v[s]) bnd = false;
        }
        if (!raw_add(&r, (uint8_t)((label >= 0 ? DF_ACCEPT : 0) | (bnd ? DF_BND : 0)), label)) {
            free(its);
            goto done;
        }
        uint32_t row = id + 1;
        /* targets per byte class, gathered in one pass over the members' edges */
        for (int k = 0; k < nb; k++) bucket_n[k] = 0;
        bool full = false;
        for (size_t i = 0; i < nit && !full; i++) {
            if (its[i] & 1) continue; /* after $: no characters */
            uint32_t sn = its[i] >> 1;
            for (uint32_t e = a->first.v[sn]; e && !full; e = a->enext.v[e - 1]) {
                const olm_nedge *ed = &a->e.v[e - 1];
                if (ed->lo > ed->hi) continue;
                for (int k = bcls[ed->lo]; k <= bcls[ed->hi]; k++) {
                    if (!VEC_PUSH(bucket[k], ed->to * 2)) {
                        full = true;
                        break;
                    }
                    bucket_n[k]++;
                }
            }
        }
        if (full) {
            free(its);
            goto done;
        }
        for (int k = 0; k < nb; k++) {
            uint32_t target = 0;
            if (bucket_n[k]) {
                if (!closure(&c, bucket[k].v, bucket[k].n, false)) {
                    free(its);
                    goto done;
                }
                bool added;
                int64_t t = km_get(&km, (const uint8_t *)c.out.v, c.out.n * 4, &added);
                if (t < 0) {
                    free(its);
                    goto done;
                }
                target = (uint32_t)t + 1;
            }
            bucket[k].n = 0;
            r.next.v[(size_t)row * (size_t)nb + (size_t)k] = target;
        }
        free(its);
    }
    if (!raw_finish(&r, 1, out)) goto done;
    olm_dfa_prune(out);
    st = ONNXLLM_OK;
done:
    for (int k = 0; k < 256; k++) VEC_FREE(bucket[k]);
    free(c.mark);
    VEC_FREE(c.out);
    VEC_FREE(c.stack);
    km_free(&km);
    raw_free(&r);
    return st;
}

/* ---- explorer ----------------------------------------------------------------------- */

onnxllm_status olm_dfa_explore(const olm_explorer *x, const void *init, size_t max_states, olm_dfa *out, char *why,
                               size_t why_len) {
    memset(out, 0, sizeof *out);
    keymap km;
    rawdfa r = {0};
    onnxllm_status st = ONNXLLM_ERR_OUT_OF_MEMORY;
    uint8_t *cur = malloc(x->state_size), *nx = malloc(x->state_size);
    if (!cur || !nx || !km_init(&km)) {
        free(cur);
        free(nx);
        return ONNXLLM_ERR_OUT_OF_MEMORY;
    }
    /* classes: the builder's partition (renumbered densely), else one per byte */
    int rep[256], id_of[256];
    for (int i = 0; i < 256; i++) id_of[i] = -1;
    r.ncls = 0;
    for (int b = 0; b < 256; b++) {
        int h = x->hint ? x->hint[b] : b;
        if (id_of[h] < 0) {
            id_of[h] = (int)r.ncls;
            rep[r.ncls++] = b;
        }
        r.cls[b] = (uint8_t)id_of[h];
    }
    bool added;
    if (!raw_add(&r, 0, -1) || km_get(&km, init, x->state_size, &added) < 0) goto done;
    for (uint32_t id = 0; id < km_count(&km); id++) {
        if (km_count(&km) > max_states) {
            st = ONNXLLM_ERR_UNSUPPORTED;
            if (why && why_len) snprintf(why, why_len, "automaton exceeds %zu states", max_states);
            goto done;
        }
        size_t l;
        memcpy(cur, km_key(&km, id, &l), x->state_size);
        int32_t label = x->accept(x->ctx, cur);
        bool bnd = x->bnd ? x->bnd(x->ctx, cur) : true;
        if (!raw_add(&r, (uint8_t)((label >= 0 ? DF_ACCEPT : 0) | (bnd ? DF_BND : 0)), label)) goto done;
        uint32_t row = id + 1;
        for (uint32_t k = 0; k < r.ncls; k++) {
            uint32_t target = 0;
            memset(nx, 0, x->state_size);
            if (x->step(x->ctx, cur, (uint8_t)rep[k], nx)) {
                int64_t t = km_get(&km, nx, x->state_size, &added);
                if (t < 0) goto done;
                target = (uint32_t)t + 1;
            }
            r.next.v[(size_t)row * r.ncls + k] = target;
        }
    }
    if (!raw_finish(&r, 1, out)) goto done;
    olm_dfa_prune(out);
    st = ONNXLLM_OK;
done:
    free(cur);
    free(nx);
    km_free(&km);
    raw_free(&r);
    return st;
}

/* ---- pruning and analysis ------------------------------------------------------------- */

/* Predecessor lists (CSR): preds of x are src[off[x] .. off[x+1]). */
typedef struct rev {
    uint32_t *off, *src;
} rev;

static bool rev_build(const olm_dfa *d, rev *r) {
    uint32_t n = d->n, C = d->ncls;
    r->off = calloc((size_t)n + 2, sizeof *r->off);
    uint32_t *stamp = malloc(((size_t)n + 1) * sizeof *stamp);
    size_t m = 0;
    if (!r->off || !stamp) {
        free(r->off);
        free(stamp);
        return false;
    }
    /* one edge per (source, target) pair: rows repeat targets across many classes */
    memset(stamp, 0, ((size_t)n + 1) * sizeof *stamp);
    for (uint32_t s = 1; s < n; s++)
        for (uint32_t k = 0; k < C; k++) {
            uint32_t x = d->next[(size_t)s * C + k];
            if (x && stamp[x] != s) stamp[x] = s, r->off[x + 1]++, m++;
        }
    for (uint32_t x = 0; x < n; x++) r->off[x + 1] += r->off[x];
    r->src = malloc((m ? m : 1) * sizeof *r->src);
    uint32_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
    if (!r->src || !fill) {
        free(r->off);
        free(r->src);
        free(fill);
        free(stamp);
        return false;
    }
    memcpy(fill, r->off, ((size_t)n + 1) * sizeof *fill);
    memset(stamp, 0, ((size_t)n + 1) * sizeof *stamp);
    for (uint32_t s = 1; s < n; s++)
        for (uint32_t k = 0; k < C; k++) {
            uint32_t x = d->next[(size_t)s * C + k];
            if (x && stamp[x] != s) stamp[x] = s, r->src[fill[x]++] = s;
        }
    free(fill);
    free(stamp);
    return true;
}
static void rev_free(rev *r) {
    free(r->off);
    free(r->src);
}

void olm_dfa_prune(olm_dfa *d) {
    uint32_t n = d->n, C = d->ncls;
    uint8_t *live = calloc(n ? n : 1, 1), *reach = calloc(n ? n : 1, 1);
    uint32_t *remap = calloc(n ? n : 1, sizeof *remap), *q = malloc((n ? n : 1) * sizeof *q);
    rev r = {0};
    if (!live || !reach || !remap || !q || !rev_build(d, &r)) {
        free(live);
        free(reach);
        free(remap);
        free(q);
        return; /* keeping dead states is still correct, only slower */
    }
    size_t h = 0, t = 0;
    for (uint32_t s = 1; s < n; s++)
        if (d->flags[s] & DF_ACCEPT) live[s] = 1, q[t++] = s;
    while (h < t) {
        uint32_t x = q[h++];
        for (uint32_t i = r.off[x]; i < r.off[x + 1]; i++)
            if (!live[r.src[i]]) live[r.src[i]] = 1, q[t++] = r.src[i];
    }
    rev_free(&r);
    h = t = 0;
    if (d->start && live[d->start]) reach[d->start] = 1, q[t++] = d->start;
    while (h < t) {
        uint32_t s = q[h++];
        for (uint32_t k = 0; k < C; k++) {
            uint32_t x = d->next[(size_t)s * C + k];
            if (x && live[x] && !reach[x]) reach[x] = 1, q[t++] = x;
        }
    }
    uint32_t m = 1;
    for (uint32_t s = 1; s < n; s++) remap[s] = reach[s] ? m++ : 0;
    for (uint32_t s = 1; s < n; s++) {
        if (!remap[s]) continue;
        uint32_t to = remap[s];
        for (uint32_t k = 0; k < C; k++) d->next[(size_t)to * C + k] = remap[d->next[(size_t)s * C + k]];
        d->flags[to] = d->flags[s];
        d->label[to] = d->label[s];
    }
    for (uint32_t k = 0; k < C; k++) d->next[k] = 0;
    d->flags[0] = 0;
    d->label[0] = -1;
    d->start = d->start ? remap[d->start] : 0;
    d->n = m;
    free(live);
    free(remap);
    free(reach);
    free(q);
}

/* ---- plain characters -------------------------------------------------------------------
 * Plain text (see vocab.c): UTF-8 characters other than control bytes, '"' and
 * '\\'. plain_next enumerates the states one plain character leads to from t,
 * and whether some plain character dies on the way. Bytes are visited one per
 * byte class within each UTF-8 position's range (precomputed per DFA). */
enum { PR_ASCII, PR_L2, PR_E0, PR_E1, PR_ED, PR_EE, PR_F0, PR_F1, PR_F4, PR_C80, PR_CA0, PR_C9F, PR_C90, PR_C8F, PR_N };
typedef struct plain_ranges {
    uint8_t rep[PR_N][64]; /* one byte per distinct class in the range */
    uint8_t n[PR_N];
} plain_ranges;

static void ranges_init(const olm_dfa *d, plain_ranges *r) {
    static const int lim[PR_N][2] = {{0x20, 0x7F}, {0xC2, 0xDF}, {0xE0, 0xE0}, {0xE1, 0xEC}, {0xED, 0xED}, {0xEE, 0xEF},
                                     {0xF0, 0xF0}, {0xF1, 0xF3}, {0xF4, 0xF4}, {0x80, 0xBF}, {0xA0, 0xBF}, {0x80, 0x9F},
                                     {0x90, 0xBF}, {0x80, 0x8F}};
    for (int i = 0; i < PR_N; i++) {
        bool seen[256] = {0};
        r->n[i] = 0;
        for (int b = lim[i][0]; b <= lim[i][1]; b++) {
            if (b == '"' || b == '\\') continue;
            if (seen[d->cls[b]]) continue;
            seen[d->cls[b]] = true;
            if (r->n[i] < 64) r->rep[i][r->n[i]++] = (uint8_t)b;
        }
    }
}

typedef struct plain_ctx {
    const olm_dfa *d;
    const plain_ranges *r;
    uint32_t *out;
    uint32_t n, cap;
    bool dies;
} plain_ctx;

static void plain_add(plain_ctx *c, uint32_t s) {
    for (uint32_t i = 0; i < c->n; i++)
        if (c->out[i] == s) return;
    if (c->n < c->cap) c->out[c->n++] = s;
    else c->dies = true; /* too many distinct targets to track: treat as "unknown" */
}

/* from state m, `left` continuation bytes, the first from range `first` */
static void plain_cont(plain_ctx *c, uint32_t m, int left, int first) {
    const plain_ranges *r = c->r;
    for (int i = 0; i < r->n[first]; i++) {
        uint32_t x = dfa_step(c->d, m, r->rep[first][i]);
        if (!x) {
            c->dies = true;
            continue;
        }
        if (left == 1) plain_add(c, x);
        else plain_cont(c, x, left - 1, PR_C80);
    }
}

static void plain_next(const olm_dfa *d, const plain_ranges *r, uint32_t t, uint32_t *out, uint32_t cap, uint32_t *n,
                       bool *dies) {
    plain_ctx c = {d, r, out, 0, cap, false};
    for (int i = 0; i < r->n[PR_ASCII]; i++) {
        uint32_t x = dfa_step(d, t, r->rep[PR_ASCII][i]);
        if (!x) c.dies = true;
        else plain_add(&c, x);
    }
    static const struct { int lead, cont, left; } L[] = {{PR_L2, PR_C80, 1}, {PR_E0, PR_CA0, 2}, {PR_E1, PR_C80, 2},
                                                        {PR_ED, PR_C9F, 2}, {PR_EE, PR_C80, 2}, {PR_F0, PR_C90, 3},
                                                        {PR_F1, PR_C80, 3}, {PR_F4, PR_C8F, 3}};
    for (size_t k = 0; k < sizeof L / sizeof *L; k++)
        for (int i = 0; i < r->n[L[k].lead]; i++) {
            uint32_t m = dfa_step(d, t, r->rep[L[k].lead][i]);
            if (!m) c.dies = true;
            else plain_cont(&c, m, L[k].left, L[k].cont);
        }
    *n = c.n;
    *dies = c.dies;
}

/* One character from boundary state t back to t? (ASCII or through mid states) */
static bool char_self_loop(const olm_dfa *d, uint32_t t) {
    uint32_t C = d->ncls;
    /* explore up to depth 4 through non-boundary states */
    uint32_t frontier[64], nf = 0, nxt[64], nn;
    for (uint32_t k = 0; k < C; k++) {
        uint32_t x = d->next[(size_t)t * C + k];
        if (!x) continue;
        if (d->flags[x] & DF_BND) {
            if (x == t) return true;
        } else if (nf < 64)
            frontier[nf++] = x;
    }
    for (int depth = 0; depth < 5 && nf; depth++) {
        nn = 0;
        for (uint32_t i = 0; i < nf; i++)
            for (uint32_t k = 0; k < C; k++) {
                uint32_t x = d->next[(size_t)frontier[i] * C + k];
                if (!x) continue;
                if (d->flags[x] & DF_BND) {
                    if (x == t) return true;
                } else if (nn < 64) {
                    bool dup = false;
                    for (uint32_t j = 0; j < nn && !dup; j++) dup = nxt[j] == x;
                    if (!dup) nxt[nn++] = x;
                }
            }
        memcpy(frontier, nxt, nn * sizeof *nxt);
        nf = nn;
    }
    return false;
}

/* Backward shortest distances with 0/1 edge costs (entering a boundary state
 * costs one character) from sources with initial values: bucket queue. */
static bool back_dist(const olm_dfa *d, const rev *r, uint32_t *dist) {
    /* Dijkstra with buckets as linked lists in flat arrays (no allocation per bucket) */
    uint32_t n = d->n, nb = 0;
    for (uint32_t s = 1; s < n; s++)
        if (dist[s] != DFA_INF && dist[s] + 1 > nb) nb = dist[s] + 1;
    nb += n + 2;
    size_t cap = (size_t)n + r->off[n] + 1; /* each state enters at most once per improvement */
    uint32_t *head = malloc((size_t)nb * sizeof *head), *nxt = malloc(cap * sizeof *nxt), *who = malloc(cap * sizeof *who);
    if (!head || !nxt || !who) {
        free(head);
        free(nxt);
        free(who);
        return false;
    }
    memset(head, 0xff, (size_t)nb * sizeof *head);
    size_t used = 0;
    for (uint32_t s = 1; s < n; s++)
        if (dist[s] != DFA_INF) {
            who[used] = s;
            nxt[used] = head[dist[s]];
            head[dist[s]] = (uint32_t)used++;
        }
    for (uint32_t bk = 0; bk < nb; bk++) {
        for (uint32_t e = head[bk]; e != UINT32_MAX;) {
            uint32_t x = who[e];
            e = nxt[e];
            if (dist[x] != bk) continue;
            uint32_t c = (d->flags[x] & DF_BND) ? 1 : 0;
            for (uint32_t j = r->off[x]; j < r->off[x + 1]; j++) {
                uint32_t s = r->src[j], nd = bk + c;
                if (nd < dist[s] && nd < nb && used < cap) {
                    dist[s] = nd;
                    who[used] = s;
                    /* same bucket (cost 0): insert after the current entry so it is seen */
                    nxt[used] = nd == bk ? e : head[nd];
                    if (nd == bk) e = (uint32_t)used;
                    else head[nd] = (uint32_t)used;
                    used++;
                }
            }
        }
    }
    free(head);
    free(nxt);
    free(who);
    return true;
}

static bool plain_facts(olm_dfa *d) {
    uint32_t n = d->n;
    d->pmaxd = malloc((n ? n : 1) * sizeof *d->pmaxd);
    d->pmaxe = malloc((n ? n : 1) * sizeof *d->pmaxe);
    uint32_t *off = calloc((size_t)n + 1, sizeof *off);
    OLM_VEC(uint32_t) succ = {0};
    uint8_t *dies = calloc(n ? n : 1, 1), *acc = calloc(n ? n : 1, 1), *dies1 = calloc(n ? n : 1, 1);
    plain_ranges pr;
    ranges_init(d, &pr);
    bool ok = d->pmaxd && d->pmaxe && off && dies && acc && dies1;
    for (uint32_t s = 0; s < n && ok; s++) {
        off[s] = (uint32_t)succ.n;
        if (!s || !(d->flags[s] & DF_BND)) {
            dies[s] = 1;
            continue;
        }
        uint32_t out[64], k;
        bool dd;
        plain_next(d, &pr, s, out, 64, &k, &dd);
        dies[s] = dies1[s] = dd;
        /* every plain character loops back here */
        if (!dd && k == 1 && out[0] == s) d->flags[s] |= DF_FREE;
        for (uint32_t i = 0; i < k && ok; i++) ok = VEC_PUSH(succ, out[i]);
    }
    if (ok) off[n] = (uint32_t)succ.n;
    /* fixpoints (values only grow; DFAs are small) */
    for (uint32_t s = 0; s < n && ok; s++) {
        d->pmaxd[s] = d->dmin[s];
        d->pmaxe[s] = d->emin[s];
        acc[s] = s && (d->flags[s] & DF_ACCEPT);
    }
    for (bool ch = ok; ch;) {
        ch = false;
        for (uint32_t s = 1; s < n; s++) {
            for (uint32_t i = off[s]; i < off[s + 1]; i++) { /* (only boundary states have successors) */
                uint32_t t = succ.v[i];
                if (d->pmaxd[t] > d->pmaxd[s]) d->pmaxd[s] = d->pmaxd[t], ch = true;
                if (d->pmaxe[t] > d->pmaxe[s]) d->pmaxe[s] = d->pmaxe[t], ch = true;
                if (dies[t] && !dies[s]) dies[s] = 1, ch = true;
                if (acc[t] && !acc[s]) acc[s] = 1, ch = true;
            }
        }
    }
    for (uint32_t s = 1; s < n && ok; s++) {
        if (!acc[s]) d->flags[s] |= DF_INTERIOR;
        if (!dies[s]) d->flags[s] |= DF_PLAINU;
    }
    /* pdie: fewest plain characters after which some plain text dies (breadth-first
     * backwards from the states where one plain character dies) */
    d->pdie = malloc((n ? n : 1) * sizeof *d->pdie);
    uint32_t *q = malloc((n ? n : 1) * sizeof *q);
    uint32_t *roff = calloc((size_t)n + 1, sizeof *roff), *rsrc = malloc((succ.n ? succ.n : 1) * sizeof *rsrc);
    ok = ok && d->pdie && q && roff && rsrc;
    if (ok) {
        size_t h = 0, t = 0;
        for (uint32_t s = 0; s < n; s++) {
            d->pdie[s] = DFA_INF;
            if (!s || !(d->flags[s] & DF_BND)) { /* inside a character: no plain token fits */
                d->pdie[s] = 0;
                continue;
            }
            if (dies1[s]) d->pdie[s] = 1, q[t++] = s;
        }
        for (uint32_t s = 0; s < n; s++)
            for (uint32_t i = off[s]; i < off[s + 1]; i++) roff[succ.v[i] + 1]++;
        for (uint32_t s = 0; s < n; s++) roff[s + 1] += roff[s];
        uint32_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
        if (!fill) ok = false;
        else {
            memcpy(fill, roff, ((size_t)n + 1) * sizeof *fill);
            for (uint32_t s = 0; s < n; s++)
                for (uint32_t i = off[s]; i < off[s + 1]; i++) rsrc[fill[succ.v[i]]++] = s;
            free(fill);
            while (h < t) {
                uint32_t x = q[h++];
                for (uint32_t i = roff[x]; i < roff[x + 1]; i++) {
                    uint32_t y = rsrc[i];
                    if (d->pdie[y] == DFA_INF) d->pdie[y] = d->pdie[x] + 1, q[t++] = y;
                }
            }
        }
    }
    free(q);
    free(roff);
    free(rsrc);
    /* mid-character states (inside a multi-byte character) reached by plain text are
     * not interior by this definition; they are rare at mask time (tokens split a
     * character) and simply take the general path */
    free(off);
    free(dies);
    free(dies1);
    free(acc);
    VEC_FREE(succ);
    return ok;
}

/* loopg: the byte groups (olm_byte_group) whose every character leads back to s;
 * the non-ASCII group when every valid multi-byte character does. */
static bool loop_groups(olm_dfa *d) {
    uint32_t n = d->n;
    d->loopg = calloc(n ? n : 1, sizeof *d->loopg);
    if (!d->loopg) return false;
    plain_ranges pr;
    ranges_init(d, &pr);
    for (uint32_t s = 1; s < n; s++) {
        if (!(d->flags[s] & DF_BND)) continue;
        uint64_t bad = 0, seen = 0;
        for (int b = 0x20; b < 0x80; b++) {
            uint32_t g = olm_byte_group((uint8_t)b);
            seen |= 1ull << g;
            if (b == '"' || b == '\\' || dfa_step(d, s, (uint8_t)b) != s) bad |= 1ull << g;
        }
        uint64_t lg = seen & ~bad;
        /* multi-byte characters: every one must come back to s */
        uint32_t out[4], k;
        bool dies;
        plain_ctx c = {d, &pr, out, 0, 4, false};
        static const struct { int lead, cont, left; } L[] = {{PR_L2, PR_C80, 1}, {PR_E0, PR_CA0, 2}, {PR_E1, PR_C80, 2},
                                                            {PR_ED, PR_C9F, 2}, {PR_EE, PR_C80, 2}, {PR_F0, PR_C90, 3},
                                                            {PR_F1, PR_C80, 3}, {PR_F4, PR_C8F, 3}};
        for (size_t q = 0; q < sizeof L / sizeof *L; q++)
            for (int i = 0; i < pr.n[L[q].lead]; i++) {
                uint32_t m = dfa_step(d, s, pr.rep[L[q].lead][i]);
                if (!m) c.dies = true;
                else plain_cont(&c, m, L[q].left, L[q].cont);
            }
        k = c.n;
        dies = c.dies;
        if (!dies && k == 1 && out[0] == s) lg |= 1ull << BG_NONASCII;
        d->loopg[s] = lg;
    }
    return true;
}

bool olm_dfa_analyse(olm_dfa *d, bool want_reach) {
    uint32_t n = d->n, C = d->ncls;
    d->dmin = malloc((n ? n : 1) * sizeof *d->dmin);
    d->emin = malloc((n ? n : 1) * sizeof *d->emin);
    rev r = {0};
    if (!d->dmin || !d->emin || !rev_build(d, &r)) return false;
    for (uint32_t s = 0; s < n; s++) {
        d->dmin[s] = d->emin[s] = DFA_INF;
        bool any = false;
        for (uint32_t k = 0; k < C && !any; k++) any = d->next[(size_t)s * C + k] != 0;
        if (!any && s) d->flags[s] |= DF_TERM;
        if (s && (d->flags[s] & DF_ACCEPT)) d->dmin[s] = 0;
    }
    bool ok = back_dist(d, &r, d->dmin);
    for (uint32_t s = 1; s < n && ok; s++)
        if ((d->flags[s] & DF_BND) && d->dmin[s] != DFA_INF && char_self_loop(d, s)) d->emin[s] = d->dmin[s];
    if (ok) ok = back_dist(d, &r, d->emin);
    if (ok) ok = plain_facts(d); /* also DF_FREE */
    if (ok) ok = loop_groups(d);
    if (ok && want_reach) {
        uint32_t nl = 0;
        for (uint32_t s = 0; s < n; s++)
            if (d->label[s] + 1 > (int32_t)nl) nl = (uint32_t)d->label[s] + 1;
        d->nlabels = nl;
        d->nlw = (nl + 63) / 64;
        if (!d->nlw) d->nlw = 1;
        uint32_t W = d->nlw;
        d->reach = calloc((size_t)n * W, 8);
        uint32_t *q = malloc(((size_t)n + 1) * sizeof *q);
        uint8_t *inq = calloc(n ? n : 1, 1);
        ok = d->reach && q && inq;
        size_t h = 0, t = 0; /* circular worklist: a state is queued at most once at a time */
        for (uint32_t s = 1; s < n && ok; s++)
            if (d->label[s] >= 0) {
                d->reach[(size_t)s * W + (uint32_t)d->label[s] / 64] |= 1ull << (d->label[s] % 64);
                q[t++] = s;
                inq[s] = 1;
            }
        size_t cnt = t;
        while (ok && cnt) {
            uint32_t x = q[h];
            h = (h + 1) % ((size_t)n + 1);
            cnt--;
            inq[x] = 0;
            for (uint32_t j = r.off[x]; j < r.off[x + 1]; j++) {
                uint32_t s = r.src[j];
                bool ch = false;
                for (uint32_t w = 0; w < W; w++) {
                    uint64_t add = d->reach[(size_t)x * W + w] & ~d->reach[(size_t)s * W + w];
                    if (add) d->reach[(size_t)s * W + w] |= add, ch = true;
                }
                if (ch && !inq[s]) {
                    inq[s] = 1;
                    q[t] = s;
                    t = (t + 1) % ((size_t)n + 1);
                    cnt++;
                }
            }
        }
        free(q);
        free(inq);
    }
    rev_free(&r);
    return ok;
}

/* Key DFAs: DF_PLAINX where no plain text dies and every state it reaches can
 * still end as a key with a label >= first_extra (additional / pattern keys). */
bool olm_dfa_plainx(olm_dfa *d, uint32_t first_extra) {
    uint32_t n = d->n;
    if (!d->reach) return true;
    uint8_t *bad = calloc(n ? n : 1, 1);
    uint32_t *off = calloc((size_t)n + 1, sizeof *off);
    OLM_VEC(uint32_t) succ = {0};
    plain_ranges pr;
    ranges_init(d, &pr);
    bool ok = bad && off;
    for (uint32_t s = 0; s < n && ok; s++) {
        off[s] = (uint32_t)succ.n;
        bool ext = false;
        for (uint32_t l = first_extra; l < d->nlabels && !ext; l++)
            ext = (d->reach[(size_t)s * d->nlw + l / 64] >> (l % 64)) & 1;
        bad[s] = !s || !(d->flags[s] & DF_PLAINU) || !ext;
        if (bad[s]) continue;
        uint32_t out[64], k;
        bool dd;
        plain_next(d, &pr, s, out, 64, &k, &dd);
        for (uint32_t i = 0; i < k && ok; i++) ok = VEC_PUSH(succ, out[i]);
    }
    if (ok) off[n] = (uint32_t)succ.n;
    for (bool ch = ok; ch;) {
        ch = false;
        for (uint32_t s = 1; s < n; s++) {
            if (bad[s]) continue;
            for (uint32_t i = off[s]; i < off[s + 1]; i++)
                if (bad[succ.v[i]]) {
                    bad[s] = 1;
                    ch = true;
                    break;
                }
        }
    }
    for (uint32_t s = 1; s < n && ok; s++)
        if (!bad[s]) d->flags[s] |= DF_PLAINX;
    free(bad);
    free(off);
    VEC_FREE(succ);
    return ok;
}

