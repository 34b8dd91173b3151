/* matcher.c — the per-request state of constrained decoding.
 *
 * A configuration is a stack of frames (root, object, array, key, leaf): the
 * top frame is a value (its kind decides what the next byte may be), the rest
 * live in a pool of persistent nodes shared between configurations. Several
 * configurations exist at once where anyOf alternatives share a prefix; each
 * of them can still complete to a valid document (see schema.c/dfa.c), so "some
 * configuration survives the bytes of a token" is exactly "the text is still a
 * prefix of a valid document".
 *
 * The mask walks the vocabulary trie depth-first, one configuration set per
 * trie depth; a rejected byte skips its whole subtree. Inside a string whose
 * automaton state loops on every plain character (an unconstrained string, a
 * key of an open object) the ~98% of tokens that are plain text are taken from
 * the vocabulary's precomputed masks and only the `rest` trie is walked. All
 * buffers belong to the matcher and only grow, so steady-state masks and
 * accepts do not allocate. */
#include "grammar/grammar.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

enum { FR_ROOT = 1, FR_TOOL, FR_OBJ, FR_ARR, FR_LEAF, FR_KEY };
enum { R_BEFORE = 0, R_AFTER };
enum { O_START = 0, O_KEY, O_COLON, O_VALUE, O_AFTER, O_NEXT };
enum { A_START = 0, A_AFTER, A_NEXT };
enum { T_FREE = 0, T_EXPECT, T_OPEN, T_AFTER, T_DONE };

typedef struct frame {
    uint32_t node;
    uint8_t kind, phase, ws, flags;
    uint32_t a; /* LEAF/KEY: DFA state; OBJ: next property index; ARR: items so far */
    int32_t b;  /* LEAF/KEY: characters; OBJ: keys so far */
    uint32_t c; /* KEY: lowest allowed label; OBJ: label of the current key */
    uint32_t d; /* KEY: highest allowed label; OBJ: defined properties so far */
    uint64_t m; /* OBJ: names seen (first 64); KEY (flags & 2): allowed names as a set */
} frame;

typedef struct snode {
    frame f;
    uint32_t below;
} snode;

typedef struct cfg {
    frame top;
    uint32_t below;
    uint32_t depth;
} cfg;

#define MAX_LEVELS (OLM_TRIE_MAX_DEPTH + 1)

struct onnxllm_matcher {
    const onnxllm_grammar *g;
    OLM_VEC(snode) pool;     /* [0] unused */
    OLM_VEC(cfg) cur;        /* current configurations */
    OLM_VEC(cfg) lv;         /* configurations of the levels of a walk, stacked */
    uint32_t loff[MAX_LEVELS + 1], lnum[MAX_LEVELS + 1], pmark[MAX_LEVELS + 1];
    /* output of the step being computed */
    uint32_t out_base, out_n;
    bool overflow;           /* more configurations than max_cfg were dropped */
    bool oom;
    bool finished;           /* eos accepted */
    OLM_VEC(frame) tmpf;     /* compaction */
    OLM_VEC(uint32_t) starts;
    OLM_VEC(uint32_t) hc;    /* compaction hash-consing table */
};

static inline bool is_ws(uint8_t b) { return b == ' ' || b == '\n' || b == '\r' || b == '\t'; }

/* ---- pool and output -------------------------------------------------------------------- */

static uint32_t push(onnxllm_matcher *m, const frame *f, uint32_t below) {
    if (!VEC_RESERVE(m->pool, m->pool.n + 1)) {
        m->oom = true;
        return 0;
    }
    snode s;
    s.f = *f;
    s.below = below;
    m->pool.v[m->pool.n++] = s;
    return (uint32_t)m->pool.n - 1;
}

static void emit(onnxllm_matcher *m, const cfg *c) {
    if (m->oom) return;
    cfg *o = m->lv.v + m->out_base;
    for (uint32_t i = 0; i < m->out_n; i++)
        if (o[i].below == c->below && o[i].depth == c->depth && !memcmp(&o[i].top, &c->top, sizeof c->top)) return;
    if (m->out_n >= m->g->max_cfg) {
        m->overflow = true;
        return;
    }
    if (!VEC_RESERVE(m->lv, (size_t)m->out_base + m->out_n + 1)) {
        m->oom = true;
        return;
    }
    m->lv.v[m->out_base + m->out_n++] = *c;
}

/* ---- helpers on nodes ------------------------------------------------------------------------ */

static inline const olm_node *NODE(const onnxllm_matcher *m, uint32_t id) { return &m->g->nodes.v[id]; }
static inline const olm_dfa *DFA(const onnxllm_matcher *m, uint32_t id) { return &m->g->dfas.v[id]; }

static inline bool viable(const olm_dfa *d, uint32_t s, int32_t cnt, int32_t min, int32_t max) {
    int64_t lo = (int64_t)min - cnt, hi = max == NO_LIMIT ? INT64_MAX / 4 : (int64_t)max - cnt;
    uint32_t dm = d->dmin[s], em = d->emin[s];
    return (dm != DFA_INF && lo <= (int64_t)dm && (int64_t)dm <= hi) || (em != DFA_INF && (int64_t)em <= hi);
}

static bool bits_in_range(const uint64_t *r, uint32_t lo, uint32_t hi) {
    if (lo > hi) return false;
    uint32_t wl = lo / 64, wh = hi / 64;
    for (uint32_t w = wl; w <= wh; w++) {
        uint64_t x = r[w];
        if (w == wl) x &= ~0ull << (lo % 64);
        if (w == wh && hi % 64 != 63) x &= (1ull << (hi % 64 + 1)) - 1;
        if (x) return true;
    }
    return false;
}

/* Labels a key frame may still reach (see obj_allowed). */
static inline bool key_reach(const onnxllm_matcher *m, const frame *k, uint32_t s) {
    const olm_node *n = NODE(m, k->node);
    const olm_dfa *d = DFA(m, n->dfa);
    const uint64_t *r = d->reach + (size_t)s * d->nlw;
    if (k->flags & 2) { /* names as a set (n <= 64) */
        uint64_t names = n->n >= 64 ? ~0ull : ((1ull << n->n) - 1);
        if (r[0] & k->m & names) return true;
    } else if (bits_in_range(r, k->c, k->d))
        return true;
    return (k->flags & 1) && d->nlabels > n->n && bits_in_range(r, n->n, d->nlabels - 1);
}

static inline uint32_t req_flag(const onnxllm_matcher *m, const olm_node *n, uint32_t i) { return m->g->pool.v[n->req + i]; }
static inline uint32_t next_req(const onnxllm_matcher *m, const olm_node *n, uint32_t i) { return m->g->pool.v[n->req + n->n + i]; }

static inline uint32_t usable_after(const onnxllm_matcher *m, const olm_node *n, uint32_t i) {
    return m->g->pool.v[n->usable + i];
}
static inline uint64_t dep_mask(const onnxllm_matcher *m, const olm_node *n, uint32_t i) {
    return (uint64_t)m->g->pool.v[n->deps + 2 * i] | ((uint64_t)m->g->pool.v[n->deps + 2 * i + 1] << 32);
}

/* Names still owed: required ones at or after pos, plus what seen names need. */
static uint64_t owed_deps(const onnxllm_matcher *m, const olm_node *n, uint64_t seen) {
    uint64_t need = 0;
    for (uint64_t x = seen; x; x &= x - 1) need |= dep_mask(m, n, (uint32_t)__builtin_ctzll(x));
    return need & ~seen;
}

/* Which keys may come next in object frame f: defined labels (*lo..*hi, or the
 * set *set when *use_set) and (*extra) additional / pattern keys. Keeps every
 * count and dependency satisfiable afterwards. False when no key may come. */
static bool obj_allowed(const onnxllm_matcher *m, const frame *f, uint32_t *lo, uint32_t *hi, bool *extra,
                        uint64_t *set, bool *use_set) {
    const olm_node *n = NODE(m, f->node);
    uint32_t N = n->n, pos = f->a, r = next_req(m, n, pos);
    int64_t nkeys = f->b, ndef = f->d;
    int64_t R = 0; /* required names still to come */
    for (uint32_t i = pos; i < N; i++) R += req_flag(m, n, i);
    /* additional keys count once toward minProperties (duplicates cannot be ruled out) */
    int64_t addc = (nkeys > ndef || n->has_extra) ? 1 : 0;
    *use_set = false;
    *set = 0;
    if (!n->deps) {
        *lo = pos;
        *hi = r < N ? r : (N ? N - 1 : 0);
        if (N == 0 || pos >= N) *lo = 1, *hi = 0; /* empty range */
        bool opt_ok = nkeys + 1 + R <= n->max;
        if (!opt_ok && r < N) *lo = r; /* only the next required one fits */
        if (!opt_ok && r >= N) *lo = 1, *hi = 0;
        if (n->min > 0) /* choosing j leaves usable_after[j+1] names (+ additional) */
            while (*lo <= *hi && ndef + 1 + (int64_t)usable_after(m, n, *hi + 1) + addc < n->min) {
                if (*hi == 0) {
                    *lo = 1;
                    break;
                }
                (*hi)--;
            }
        *extra = n->has_extra && opt_ok && ndef + (int64_t)usable_after(m, n, pos < N ? pos : N) + 1 >= n->min;
        return *lo <= *hi || *extra;
    }
    /* with dependencies (n <= 64): names as a set */
    *use_set = true;
    uint64_t seen = f->m, owed = owed_deps(m, n, seen);
    uint32_t jmax = r < N ? r : N - 1;
    if (owed) {
        uint32_t first_owed = (uint32_t)__builtin_ctzll(owed);
        if (first_owed < pos) return false; /* cannot happen while viable */
        if (first_owed < jmax) jmax = first_owed;
    }
    for (uint32_t j = pos; j <= jmax && j < N; j++) {
        uint64_t bit = 1ull << j, seen2 = seen | bit;
        uint64_t need = owed_deps(m, n, seen2);
        if (need & ((bit << 1) - 1)) continue; /* needs a name already passed */
        int64_t must = __builtin_popcountll(need);
        for (uint32_t i = j + 1; i < N; i++)
            if (req_flag(m, n, i) && !(need >> i & 1)) must++;
        if (nkeys + 1 + must > n->max) continue;
        if (n->min > 0 && ndef + 1 + (int64_t)usable_after(m, n, j + 1) + addc < n->min) continue;
        *set |= bit;
    }
    int64_t must_now = __builtin_popcountll(owed);
    for (uint32_t i = pos; i < N; i++)
        if (req_flag(m, n, i) && !(owed >> i & 1)) must_now++;
    *extra = n->has_extra && nkeys + 1 + must_now <= n->max && ndef + (int64_t)usable_after(m, n, pos) + 1 >= n->min;
    *lo = 1, *hi = 0;
    return *set || *extra;
}

static inline bool obj_can_close(const onnxllm_matcher *m, const frame *f) {
    const olm_node *n = NODE(m, f->node);
    int64_t eff = (int64_t)f->d + ((int64_t)f->b > (int64_t)f->d ? 1 : 0);
    if (n->deps && owed_deps(m, n, f->m)) return false;
    return next_req(m, n, f->a) >= n->n && eff >= n->min;
}

static uint32_t label_node(const onnxllm_matcher *m, const olm_node *n, uint32_t label) {
    if (label < n->n) return m->g->pool.v[n->list + label];
    if (label == n->n) return n->extra;
    return m->g->pool.v[n->list + n->n + (label - n->n - 1)];
}

static inline uint32_t array_item(const onnxllm_matcher *m, const olm_node *n, uint32_t k) {
    return k < n->n ? m->g->pool.v[n->list + k] : n->extra;
}

/* ---- stepping --------------------------------------------------------------------------------- */

static void feed(onnxllm_matcher *m, cfg c, uint8_t b);

/* The child on top of c was completed (popped): update the parent. */
static void child_done(const onnxllm_matcher *m, frame *f, int32_t label) {
    if (f->kind == FR_OBJ && f->phase == O_KEY) {
        const olm_node *n = NODE(m, f->node);
        f->phase = O_COLON;
        f->ws = 0;
        f->c = (uint32_t)label;
        if ((uint32_t)label < n->n) {
            f->a = (uint32_t)label + 1;
            f->d++;
            if (label < 64) f->m |= 1ull << label;
        }
        f->b++;
    }
}

static inline cfg pop(const onnxllm_matcher *m, const cfg *c) {
    const snode *s = &m->pool.v[c->below];
    cfg p;
    p.top = s->f;
    p.below = s->below;
    p.depth = c->depth - 1;
    return p;
}

static void start_value(onnxllm_matcher *m, const cfg *base, uint32_t node, uint8_t b) {
    if (node == NO_NODE) return;
    const olm_node *n = NODE(m, node);
    if (!bit_get(n->first, b)) return;
    if (n->kind == N_ANYOF) {
        for (uint32_t k = 0; k < n->n; k++) start_value(m, base, m->g->pool.v[n->list + k], b);
        return;
    }
    if (base->depth + 1 > m->g->max_depth) return;
    cfg c;
    c.below = push(m, &base->top, base->below);
    if (!c.below) return;
    c.depth = base->depth + 1;
    memset(&c.top, 0, sizeof c.top);
    c.top.node = node;
    switch (n->kind) {
    case N_LEAF:
        c.top.kind = FR_LEAF;
        c.top.a = DFA(m, n->dfa)->start;
        c.top.b = -1; /* a string's opening quote enters the first character boundary */
        feed(m, c, b);
        return;
    case N_OBJECT:
        c.top.kind = FR_OBJ;
        c.top.phase = O_START;
        emit(m, &c);
        return;
    case N_ARRAY:
        c.top.kind = FR_ARR;
        c.top.phase = A_START;
        emit(m, &c);
        return;
    }
}

static void leaf_feed(onnxllm_matcher *m, cfg c, uint8_t b) {
    const olm_node *n = NODE(m, c.top.node);
    const olm_dfa *d = DFA(m, n->dfa);
    bool key = c.top.kind == FR_KEY;
    uint32_t s = c.top.a, t = dfa_step(d, s, b);
    if (t) {
        int32_t cnt = c.top.b;
        bool counted = key ? n->key_counted : n->counted;
        if (counted) {
            if (d->flags[t] & DF_BND) cnt++;
            if (!viable(d, t, cnt, key ? (int32_t)n->key_min : n->min, key ? (int32_t)n->key_max : n->max)) return;
        }
        if (key && !key_reach(m, &c.top, t)) return;
        if (d->flags[t] & DF_TERM) {
            cfg p = pop(m, &c);
            child_done(m, &p.top, d->label[t]);
            emit(m, &p);
            return;
        }
        c.top.a = t;
        c.top.b = cnt;
        emit(m, &c);
        return;
    }
    /* the lexeme may end before b (numbers): hand b to the parent */
    if (!key && (d->flags[s] & DF_ACCEPT)) {
        cfg p = pop(m, &c);
        child_done(m, &p.top, d->label[s]);
        feed(m, p, b);
    }
}

static void start_key(onnxllm_matcher *m, cfg c, uint8_t b) {
    uint32_t lo, hi;
    bool extra, use_set;
    uint64_t set;
    if (!obj_allowed(m, &c.top, &lo, &hi, &extra, &set, &use_set)) return;
    const olm_node *n = NODE(m, c.top.node);
    c.top.phase = O_KEY;
    c.top.ws = 0;
    cfg k;
    k.below = push(m, &c.top, c.below);
    if (!k.below) return;
    k.depth = c.depth + 1;
    memset(&k.top, 0, sizeof k.top);
    k.top.kind = FR_KEY;
    k.top.node = c.top.node;
    k.top.a = DFA(m, n->dfa)->start;
    k.top.b = -1;
    k.top.c = lo;
    k.top.d = hi;
    k.top.m = set;
    k.top.flags = (uint8_t)((extra ? 1 : 0) | (use_set ? 2 : 0));
    leaf_feed(m, k, b);
}

/* Can a key follow a comma in this object? */
static bool key_can_follow(const onnxllm_matcher *m, const frame *f) {
    uint32_t lo, hi;
    bool extra, use_set;
    uint64_t set;
    if (!obj_allowed(m, f, &lo, &hi, &extra, &set, &use_set)) return false;
    const olm_node *n = NODE(m, f->node);
    const olm_dfa *d = DFA(m, n->dfa);
    if (!d->start) return false;
    frame k;
    memset(&k, 0, sizeof k);
    k.node = f->node;
    k.c = lo;
    k.d = hi;
    k.m = set;
    k.flags = (uint8_t)((extra ? 1 : 0) | (use_set ? 2 : 0));
    return key_reach(m, &k, d->start);
}

static void obj_feed(onnxllm_matcher *m, cfg c, uint8_t b) {
    frame *f = &c.top;
    uint32_t wsmax = m->g->ws_max;
    if (is_ws(b)) {
        if (f->phase != O_KEY && f->ws < wsmax) {
            f->ws++;
            emit(m, &c);
        }
        return;
    }
    switch (f->phase) {
    case O_START:
    case O_NEXT:
        if (b == '"') start_key(m, c, b);
        else if (b == '}' && f->phase == O_START && obj_can_close(m, f)) {
            cfg p = pop(m, &c);
            emit(m, &p);
        }
        return;
    case O_COLON:
        if (b == ':') {
            f->phase = O_VALUE;
            f->ws = 0;
            emit(m, &c);
        }
        return;
    case O_VALUE: {
        uint32_t vn = label_node(m, NODE(m, f->node), f->c);
        f->phase = O_AFTER;
        f->ws = 0;
        start_value(m, &c, vn, b);
        return;
    }
    case O_AFTER:
        if (b == ',' && key_can_follow(m, f)) {
            f->phase = O_NEXT;
            f->ws = 0;
            emit(m, &c);
        } else if (b == '}' && obj_can_close(m, f)) {
            cfg p = pop(m, &c);
            emit(m, &p);
        }
        return;
    }
}

static void arr_feed(onnxllm_matcher *m, cfg c, uint8_t b) {
    frame *f = &c.top;
    const olm_node *n = NODE(m, f->node);
    if (is_ws(b)) {
        if (f->ws < m->g->ws_max) {
            f->ws++;
            emit(m, &c);
        }
        return;
    }
    switch (f->phase) {
    case A_START:
        if (b == ']') {
            if (n->min == 0) {
                cfg p = pop(m, &c);
                emit(m, &p);
            }
            return;
        }
        if (n->max < 1) return;
        f->phase = A_AFTER;
        f->a = 1;
        f->ws = 0;
        start_value(m, &c, array_item(m, n, 0), b);
        return;
    case A_AFTER:
        if (b == ',' && (int64_t)f->a < n->max && array_item(m, n, f->a) != NO_NODE) {
            f->phase = A_NEXT;
            f->ws = 0;
            emit(m, &c);
        } else if (b == ']' && (int64_t)f->a >= n->min) {
            cfg p = pop(m, &c);
            emit(m, &p);
        }
        return;
    case A_NEXT: {
        uint32_t it = array_item(m, n, f->a);
        f->phase = A_AFTER;
        f->a++;
        f->ws = 0;
        start_value(m, &c, it, b);
        return;
    }
    }
}

static void root_feed(onnxllm_matcher *m, cfg c, uint8_t b) {
    frame *f = &c.top;
    if (is_ws(b)) {
        if (f->ws < m->g->ws_max) {
            f->ws++;
            emit(m, &c);
        }
        return;
    }
    if (f->phase == R_BEFORE) {
        f->phase = R_AFTER;
        f->ws = 0;
        start_value(m, &c, f->node, b);
    }
}

static void tool_feed(onnxllm_matcher *m, cfg c, uint8_t b) {
    frame *f = &c.top;
    switch (f->phase) {
    case T_FREE: { /* free text: any byte, as long as the tags are not spelled out */
        if (m->g->free_dfa != NO_NODE) {
            uint32_t t = dfa_step(DFA(m, m->g->free_dfa), f->a, b);
            if (!t) return;
            f->a = t;
        }
        emit(m, &c);
        return;
    }
    case T_OPEN:
        if (is_ws(b)) {
            if (f->ws < m->g->ws_max) {
                f->ws++;
                emit(m, &c);
            }
            return;
        }
        f->phase = T_AFTER;
        f->ws = 0;
        start_value(m, &c, f->node, b);
        return;
    case T_AFTER:
        if (is_ws(b) && f->ws < m->g->ws_max) {
            f->ws++;
            emit(m, &c);
        }
        return;
    default: return;
    }
}

static void feed(onnxllm_matcher *m, cfg c, uint8_t b) {
    switch (c.top.kind) {
    case FR_LEAF:
    case FR_KEY: leaf_feed(m, c, b); return;
    case FR_OBJ: obj_feed(m, c, b); return;
    case FR_ARR: arr_feed(m, c, b); return;
    case FR_ROOT: root_feed(m, c, b); return;
    case FR_TOOL: tool_feed(m, c, b); return;
    }
}

static void feed_special(onnxllm_matcher *m, cfg c, int32_t tok) {
    const onnxllm_grammar_vocab *v = m->g->vocab;
    if (c.top.kind != FR_TOOL) return;
    frame *f = &c.top;
    if ((f->phase == T_FREE && m->g->allow_tool_open) || f->phase == T_EXPECT) {
        if (tok == v->tool_open && m->g->root != NO_NODE) {
            f->phase = T_OPEN;
            f->ws = 0;
            emit(m, &c);
        }
    } else if (f->phase == T_AFTER && tok == v->tool_close) {
        f->phase = T_DONE;
        emit(m, &c);
    }
}

static bool cfg_accepting(const onnxllm_matcher *m, cfg c) {
    for (;;) {
        switch (c.top.kind) {
        case FR_LEAF: {
            const olm_node *n = NODE(m, c.top.node);
            const olm_dfa *d = DFA(m, n->dfa);
            if (!(d->flags[c.top.a] & DF_ACCEPT)) return false;
            c = pop(m, &c);
            continue;
        }
        case FR_ROOT: return c.top.phase == R_AFTER;
        case FR_TOOL: return c.top.phase == T_DONE || c.top.phase == T_FREE;
        default: return false;
        }
    }
}

/* ---- sets of configurations ---------------------------------------------------------------------- */

/* Advances configurations lv[src, src+n) by byte b into a new level starting at
 * `dst` (in lv). Returns the number produced. */
static uint32_t advance(onnxllm_matcher *m, uint32_t src, uint32_t n, uint8_t b, uint32_t dst) {
    m->out_base = dst;
    m->out_n = 0;
    /* fast path: a byte that stays inside a leaf (string, key, number), for one
     * configuration or several with the same top frame (alternatives that differ
     * only below it) */
    bool same = n >= 1;
    for (uint32_t i = 1; i < n && same; i++) same = !memcmp(&m->lv.v[src + i].top, &m->lv.v[src].top, sizeof(frame));
    if (same) {
        const cfg *c = &m->lv.v[src];
        uint8_t kind = c->top.kind;
        if (kind == FR_LEAF || kind == FR_KEY) {
            const olm_node *nd = NODE(m, c->top.node);
            const olm_dfa *d = DFA(m, nd->dfa);
            uint32_t t = dfa_step(d, c->top.a, b);
            if (t && !(d->flags[t] & DF_TERM)) {
                int32_t cnt = c->top.b;
                bool key = kind == FR_KEY;
                if (key ? nd->key_counted : nd->counted) {
                    if (d->flags[t] & DF_BND) cnt++;
                    if (!viable(d, t, cnt, key ? (int32_t)nd->key_min : nd->min, key ? (int32_t)nd->key_max : nd->max))
                        return 0;
                }
                if (key && !key_reach(m, &c->top, t)) return 0;
                if (!VEC_RESERVE(m->lv, (size_t)dst + n)) {
                    m->oom = true;
                    return 0;
                }
                for (uint32_t i = 0; i < n; i++) {
                    cfg *o = &m->lv.v[dst + i];
                    *o = m->lv.v[src + i];
                    o->top.a = t;
                    o->top.b = cnt;
                }
                return n;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) feed(m, m->lv.v[src + i], b);
    return m->out_n;
}

static uint32_t advance_special(onnxllm_matcher *m, uint32_t src, uint32_t n, int32_t tok, uint32_t dst) {
    m->out_base = dst;
    m->out_n = 0;
    for (uint32_t i = 0; i < n; i++) feed_special(m, m->lv.v[src + i], tok);
    return m->out_n;
}

/* Level 0 of the scratch levels = the current configurations. */
static bool load_level0(onnxllm_matcher *m) {
    if (!VEC_RESERVE(m->lv, m->cur.n + 1)) return false;
    if (m->cur.n) memcpy(m->lv.v, m->cur.v, m->cur.n * sizeof *m->cur.v);
    m->loff[0] = 0;
    m->lnum[0] = (uint32_t)m->cur.n;
    m->pmark[0] = (uint32_t)m->pool.n;
    return true;
}

/* ---- compaction: rebuild the pool from the current configurations ------------------------------------ */

static uint64_t frame_hash(const frame *f, uint32_t below) {
    const uint8_t *p = (const uint8_t *)f;
    uint64_t h = 1469598103934665603ull ^ below;
    for (size_t i = 0; i < sizeof *f; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static bool compact(onnxllm_matcher *m, cfg *cs, uint32_t n) {
    /* collect each configuration's stack (bottom first) */
    m->tmpf.n = 0;
    m->starts.n = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!VEC_PUSH(m->starts, (uint32_t)m->tmpf.n)) goto oom;
        size_t mark = m->tmpf.n;
        for (uint32_t b = cs[i].below; b; b = m->pool.v[b].below)
            if (!VEC_PUSH(m->tmpf, m->pool.v[b].f)) goto oom;
        /* reverse to bottom-first */
        for (size_t x = mark, y = m->tmpf.n; x + 1 < y; x++, y--) {
            frame t = m->tmpf.v[x];
            m->tmpf.v[x] = m->tmpf.v[y - 1];
            m->tmpf.v[y - 1] = t;
        }
    }
    if (!VEC_PUSH(m->starts, (uint32_t)m->tmpf.n)) goto oom;
    size_t hsz = 16;
    while (hsz < m->tmpf.n * 2 + 2) hsz *= 2;
    if (!VEC_RESERVE(m->hc, hsz)) goto oom;
    memset(m->hc.v, 0, hsz * sizeof *m->hc.v);
    m->pool.n = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t below = 0;
        for (uint32_t k = m->starts.v[i]; k < m->starts.v[i + 1]; k++) {
            const frame *f = &m->tmpf.v[k];
            size_t h = (size_t)frame_hash(f, below) & (hsz - 1);
            uint32_t found = 0;
            while (m->hc.v[h]) {
                uint32_t idx = m->hc.v[h];
                if (m->pool.v[idx].below == below && !memcmp(&m->pool.v[idx].f, f, sizeof *f)) {
                    found = idx;
                    break;
                }
                h = (h + 1) & (hsz - 1);
            }
            if (!found) {
                found = push(m, f, below);
                if (!found) goto oom;
                m->hc.v[h] = found;
            }
            below = found;
        }
        cs[i].below = below;
    }
    return true;
oom:
    return false;
}

/* ---- public API ----------------------------------------------------------------------------------------- */

static void init_state(onnxllm_matcher *m) {
    const onnxllm_grammar *g = m->g;
    m->pool.n = 1;
    m->cur.n = 0;
    m->finished = false;
    m->overflow = false;
    cfg c;
    memset(&c, 0, sizeof c);
    c.depth = 1;
    c.below = 0;
    if (g->root_kind == ROOT_JSON) {
        c.top.kind = FR_ROOT;
        c.top.phase = R_BEFORE;
    } else {
        c.top.kind = FR_TOOL;
        c.top.phase = g->root_kind == ROOT_FREE || g->tools_auto ? T_FREE : T_EXPECT;
    }
    c.top.node = g->root;
    if (g->free_dfa != NO_NODE) c.top.a = g->dfas.v[g->free_dfa].start;
    VEC_PUSH(m->cur, c);
}

onnxllm_status onnxllm_matcher_create(const onnxllm_grammar *g, onnxllm_matcher **out, onnxllm_error *err) {
    if (!g || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: NULL argument");
    onnxllm_matcher *m = calloc(1, sizeof *m);
    if (!m) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "matcher: out of memory");
    m->g = g;
    /* sized for typical use so that masks do not allocate; they grow if ever needed */
    if (!VEC_RESERVE(m->pool, 1024) || !VEC_RESERVE(m->cur, 16) || !VEC_RESERVE(m->lv, 4096) ||
        !VEC_RESERVE(m->tmpf, 256) || !VEC_RESERVE(m->hc, 1024)) {
        onnxllm_matcher_free(m);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "matcher: out of memory");
    }
    init_state(m);
    *out = m;
    return ONNXLLM_OK;
}

void onnxllm_matcher_free(onnxllm_matcher *m) {
    if (!m) return;
    VEC_FREE(m->pool);
    VEC_FREE(m->cur);
    VEC_FREE(m->lv);
    VEC_FREE(m->tmpf);
    VEC_FREE(m->starts);
    VEC_FREE(m->hc);
    free(m);
}

void onnxllm_matcher_reset(onnxllm_matcher *m) {
    if (m) init_state(m);
}

bool onnxllm_matcher_is_accepting(const onnxllm_matcher *m) {
    if (!m) return false;
    if (m->finished) return true;
    for (size_t i = 0; i < m->cur.n; i++)
        if (cfg_accepting(m, m->cur.v[i])) return true;
    return false;
}

/* Advances the current state by bytes; false (state unchanged) when rejected. */
static bool accept_bytes(onnxllm_matcher *m, const uint8_t *s, size_t n) {
    if (!load_level0(m)) return false;
    uint32_t src = 0, cnt = (uint32_t)m->cur.n;
    for (size_t i = 0; i < n; i++) {
        uint32_t dst = src + cnt;
        uint32_t k = advance(m, src, cnt, s[i], dst);
        if (!k || m->oom) {
            m->pool.n = m->pmark[0];
            return false;
        }
        /* move the new level to the front to keep lv small */
        memmove(m->lv.v, m->lv.v + dst, k * sizeof *m->lv.v);
        src = 0;
        cnt = k;
    }
    if (!compact(m, m->lv.v, cnt)) {
        m->oom = true;
        return false;
    }
    if (!VEC_RESERVE(m->cur, cnt)) return false;
    memcpy(m->cur.v, m->lv.v, cnt * sizeof *m->cur.v);
    m->cur.n = cnt;
    return true;
}

static bool is_eos(const onnxllm_grammar_vocab *v, int32_t t) {
    for (uint32_t i = 0; i < v->n_eos; i++)
        if (v->eos[i] == t) return true;
    return false;
}

onnxllm_status onnxllm_matcher_accept(onnxllm_matcher *m, int32_t token, onnxllm_error *err) {
    if (!m) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: NULL argument");
    const onnxllm_grammar_vocab *v = m->g->vocab;
    if (m->finished) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: token %d after the end of the output", token);
    if (token < 0 || token >= v->n_vocab) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: token %d outside the vocabulary", token);
    if (is_eos(v, token)) {
        if (!onnxllm_matcher_is_accepting(m))
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: end of output (token %d) before the output is complete", token);
        m->finished = true;
        return ONNXLLM_OK;
    }
    bool ok;
    m->oom = false;
    if (v->kind[token] == TK_SPECIAL) {
        ok = load_level0(m);
        uint32_t k = ok ? advance_special(m, 0, (uint32_t)m->cur.n, token, (uint32_t)m->cur.n) : 0;
        ok = k > 0 && !m->oom;
        if (ok) {
            memmove(m->lv.v, m->lv.v + m->cur.n, k * sizeof *m->lv.v);
            memcpy(m->cur.v, m->lv.v, k * sizeof *m->cur.v);
            m->cur.n = k;
        }
    } else if (v->kind[token] == TK_BYTES)
        ok = accept_bytes(m, v->bytes + v->off[token], v->len[token]);
    else
        ok = false;
    if (m->oom) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "matcher: out of memory");
    if (!ok) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: token %d is not allowed here", token);
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_matcher_accept_bytes(onnxllm_matcher *m, const char *s, size_t n, onnxllm_error *err) {
    if (!m || (!s && n)) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: NULL argument");
    if (m->finished) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: text after the end of the output");
    m->oom = false;
    bool ok = accept_bytes(m, (const uint8_t *)s, n);
    if (m->oom) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "matcher: out of memory");
    if (!ok) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: text not allowed here");
    return ONNXLLM_OK;
}

/* ---- masks ---------------------------------------------------------------------------------------------- */

static inline void set_tok(const onnxllm_grammar_vocab *v, uint32_t *mask, int32_t t) {
    for (; t >= 0; t = v->dup_next[t]) bit_set(mask, (uint32_t)t);
}

static void walk(onnxllm_matcher *m, const olm_trie_flat *t, uint32_t *mask) {
    const onnxllm_grammar_vocab *v = m->g->vocab;
    const olm_tnode *N = t->n;
    uint32_t end = t->count, p = 1;
    /* Levels that are "the level-0 leaf, in DFA state fa[d] with counter fb[d]" are
     * kept as those two numbers (fast[d]); a configuration is written out only when
     * a byte needs the general stepper (the lexeme ends, or another frame). */
    uint32_t fa[MAX_LEVELS + 1];
    int32_t fb[MAX_LEVELS + 1];
    uint8_t fast[MAX_LEVELS + 1];
    /* (several configurations whose top frames are the same leaf in the same state
     * — alternatives that differ only below it — step as one until the lexeme ends) */
    const cfg *c0 = &m->lv.v[m->loff[0]];
    uint32_t n0 = m->lnum[0];
    bool leaf0 = n0 >= 1 && (c0->top.kind == FR_LEAF || c0->top.kind == FR_KEY);
    for (uint32_t i = 1; i < n0 && leaf0; i++) leaf0 = !memcmp(&m->lv.v[m->loff[0] + i].top, &c0->top, sizeof c0->top);
    cfg base = *c0;
    const olm_node *ln = leaf0 ? NODE(m, base.top.node) : NULL;
    const olm_dfa *ld = leaf0 ? DFA(m, ln->dfa) : NULL;
    bool key = leaf0 && base.top.kind == FR_KEY;
    bool counted = leaf0 && (key ? ln->key_counted : ln->counted);
    int32_t cmin = leaf0 ? (key ? (int32_t)ln->key_min : ln->min) : 0, cmax = leaf0 ? (key ? (int32_t)ln->key_max : ln->max) : 0;
    fast[0] = leaf0;
    if (leaf0) fa[0] = base.top.a, fb[0] = base.top.b;
    while (p < end && !m->oom) {
        const olm_tnode *nd = &N[p];
        uint32_t d = nd->depth;
        if (fast[d - 1]) {
            uint32_t s = fa[d - 1], tt = dfa_step(ld, s, nd->byte);
            if (tt && !(ld->flags[tt] & DF_TERM)) { /* stays inside the lexeme */
                int32_t cnt = fb[d - 1];
                bool ok = true;
                if (counted) {
                    if (ld->flags[tt] & DF_BND) cnt++;
                    ok = viable(ld, tt, cnt, cmin, cmax);
                }
                if (ok && key) ok = key_reach(m, &base.top, tt);
                if (!ok) {
                    p = nd->next;
                    continue;
                }
                fast[d] = 1;
                fa[d] = tt;
                fb[d] = cnt;
                m->loff[d] = m->loff[d - 1] + n0;
                m->lnum[d] = n0;
                m->pmark[d] = m->pmark[d - 1];
                if (nd->tok >= 0) set_tok(v, mask, nd->tok);
                p++;
                continue;
            }
            if (!tt && (key || !(ld->flags[s] & DF_ACCEPT))) { /* dead, and no lexeme end to hand over */
                p = nd->next;
                continue;
            }
            /* the general stepper: write the level out */
            if (d > 1) {
                if (!VEC_RESERVE(m->lv, (size_t)m->loff[d - 1] + n0)) {
                    m->oom = true;
                    break;
                }
                for (uint32_t i = 0; i < n0; i++) {
                    cfg *w = &m->lv.v[m->loff[d - 1] + i];
                    *w = m->lv.v[m->loff[0] + i];
                    w->top.a = s;
                    w->top.b = fb[d - 1];
                }
            }
        }
        m->pool.n = m->pmark[d - 1];
        uint32_t dst = m->loff[d - 1] + m->lnum[d - 1];
        uint32_t k = advance(m, m->loff[d - 1], m->lnum[d - 1], nd->byte, dst);
        if (k) {
            fast[d] = 0;
            m->loff[d] = dst;
            m->lnum[d] = k;
            m->pmark[d] = (uint32_t)m->pool.n;
            if (nd->tok >= 0) set_tok(v, mask, nd->tok);
            p++;
        } else
            p = nd->next;
    }
    m->pool.n = m->pmark[0];
}

/* Plain tokens of weight <= budget (characters) into the mask. */
static void add_plain(const onnxllm_grammar_vocab *v, uint32_t *mask, int64_t budget) {
    const uint32_t *src;
    if (budget >= 255) src = v->plain_all;
    else if (budget < 1) return;
    else src = v->plain_le[budget > OLM_PLAIN_W ? OLM_PLAIN_W : budget];
    for (uint32_t w = 0; w < v->n_words; w++) mask[w] |= src[w];
    if (budget > OLM_PLAIN_W && budget < 255)
        for (uint32_t i = 0; i < v->n_heavy && v->weight[v->heavy[i]] <= budget; i++) bit_set(mask, (uint32_t)v->heavy[i]);
}

/* Plain tokens from a string state, by the leaf automaton alone (plain text
 * cannot close a string): the "pure" walk over the plain-token trie. */
static void pure_walk(onnxllm_matcher *m, const cfg *c, uint32_t *mask, bool use_counter) {
    const onnxllm_grammar_vocab *v = m->g->vocab;
    const olm_node *n = NODE(m, c->top.node);
    const olm_dfa *d = DFA(m, n->dfa);
    bool key = c->top.kind == FR_KEY;
    bool counted = use_counter && (key ? n->key_counted : n->counted);
    int32_t min = key ? (int32_t)n->key_min : n->min, max = key ? (int32_t)n->key_max : n->max;
    uint32_t st[MAX_LEVELS + 1];
    int32_t cn[MAX_LEVELS + 1];
    st[0] = c->top.a;
    cn[0] = c->top.b;
    const olm_tnode *N = v->plain.n;
    const uint32_t *next = d->next;
    const uint8_t *cls = d->cls, *flags = d->flags;
    const uint64_t *loopg = d->loopg, *pgrp = v->pgrp;
    /* A subtree whose bytes all loop back to the state is taken whole: the state
     * (hence the key labels it reaches) stays, and every byte is a step into that
     * boundary state, so with a counter a token of n bytes is allowed iff the n
     * counts after the current one are all viable there. */
    uint32_t room_s = 0;
    int32_t room_k = -1;
    int64_t room = 0;
    uint32_t C = d->ncls, end = v->plain.count, p = 1;
    while (p < end) {
        const olm_tnode *nd = &N[p];
        uint32_t dp = nd->depth;
        uint32_t s0 = st[dp - 1];
        if (!(pgrp[p] & ~loopg[s0])) {
            uint32_t i = v->ptok_lo[p], e = v->ptok_lo[nd->next];
            if (!counted)
                for (; i < e; i++) bit_set(mask, (uint32_t)v->ptok[i]);
            else {
                int32_t k0 = cn[dp - 1];
                if (room_k != k0 || room_s != s0) {
                    room_s = s0, room_k = k0, room = 0;
                    while (room < (int64_t)v->max_weight && viable(d, s0, k0 + (int32_t)room + 1, min, max)) room++;
                }
                int64_t lim = room + (int64_t)dp - 1; /* the first dp - 1 bytes are behind */
                for (; i < e; i++) /* bytes, each a step into the boundary state */
                    if (v->len[v->ptok[i]] <= lim) bit_set(mask, (uint32_t)v->ptok[i]);
            }
            p = nd->next;
            continue;
        }
        uint32_t t = next[(size_t)s0 * C + cls[nd->byte]];
        int32_t k = cn[dp - 1];
        if (t && counted) {
            if (flags[t] & DF_BND) k++;
            if (!viable(d, t, k, min, max)) t = 0;
        }
        if (t && key && !key_reach(m, &c->top, t)) t = 0;
        if (!t) {
            p = nd->next;
            continue;
        }
        st[dp] = t;
        cn[dp] = k;
        if (nd->tok >= 0) set_tok(v, mask, nd->tok);
        p++;
    }
}

/* A walk of a trie by one automaton alone (no counter, no labels): every token
 * whose bytes keep it alive. On the plain trie, subtrees whose bytes all loop
 * back to the state are taken whole. */
static void dfa_walk(const onnxllm_grammar_vocab *v, const olm_dfa *d, uint32_t s0, const olm_trie_flat *trie,
                     bool plain, uint32_t *mask) {
    uint32_t st[MAX_LEVELS + 1];
    st[0] = s0;
    const olm_tnode *N = trie->n;
    uint32_t C = d->ncls, end = trie->count, p = 1;
    while (p < end) {
        const olm_tnode *nd = &N[p];
        uint32_t dp = nd->depth, s = st[dp - 1];
        if (plain && !(v->pgrp[p] & ~d->loopg[s])) {
            for (uint32_t i = v->ptok_lo[p], e = v->ptok_lo[nd->next]; i < e; i++) bit_set(mask, (uint32_t)v->ptok[i]);
            p = nd->next;
            continue;
        }
        uint32_t t = d->next[(size_t)s * C + d->cls[nd->byte]];
        if (!t) {
            p = nd->next;
            continue;
        }
        st[dp] = t;
        if (nd->tok >= 0) set_tok(v, mask, nd->tok);
        p++;
    }
}

/* Free text around tool calls: the plain part is cached per automaton state (the
 * grammar's shared cache), the other tokens are walked each time. */
static void free_text_mask(onnxllm_matcher *m, uint32_t s, uint32_t *mask) {
    onnxllm_grammar *g = (onnxllm_grammar *)m->g;
    const onnxllm_grammar_vocab *v = g->vocab;
    const olm_dfa *d = DFA(m, g->free_dfa);
    _Atomic(uint32_t *) *slot = g->cache ? &g->cache[g->cache_off[g->free_dfa] + s] : NULL;
    uint32_t *hit = slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
    if (!hit && slot && atomic_load_explicit(&g->cache_bytes, memory_order_relaxed) < ((size_t)64 << 20)) {
        uint32_t *mk = calloc(v->n_words, 4);
        if (mk) {
            dfa_walk(v, d, s, &v->plain, true, mk);
            uint32_t *expect = NULL;
            if (atomic_compare_exchange_strong_explicit(slot, &expect, mk, memory_order_acq_rel, memory_order_acquire)) {
                atomic_fetch_add_explicit(&g->cache_bytes, (size_t)v->n_words * 4, memory_order_relaxed);
                hit = mk;
            } else {
                free(mk);
                hit = expect;
            }
        }
    }
    if (hit)
        for (uint32_t w = 0; w < v->n_words; w++) mask[w] |= hit[w];
    else
        dfa_walk(v, d, s, &v->plain, true, mask);
    dfa_walk(v, d, s, &v->rest, false, mask);
}

/* Can the cached (counter-free) plain mask of state s stand for the counted leaf? */
static bool counter_irrelevant(const onnxllm_matcher *m, const olm_node *n, const olm_dfa *d, uint32_t s, int32_t cnt) {
    if (!n->counted) return true;
    int64_t W = m->g->vocab->max_weight;
    int64_t room = n->max == NO_LIMIT ? INT64_MAX / 4 : (int64_t)n->max - cnt - W;
    if (d->pmaxe[s] != DFA_INF && (int64_t)d->pmaxe[s] <= room) return true;
    return cnt >= n->min && (int64_t)d->pmaxd[s] <= room;
}

static const uint32_t *cached_plain(onnxllm_matcher *m, const cfg *c) {
    onnxllm_grammar *g = (onnxllm_grammar *)m->g; /* only the cache slots are written */
    const olm_node *n = NODE(m, c->top.node);
    if (!g->cache) return NULL;
    _Atomic(uint32_t *) *slot = &g->cache[g->cache_off[n->dfa] + c->top.a];
    uint32_t *hit = atomic_load_explicit(slot, memory_order_acquire);
    if (hit) return hit;
    size_t bytes = (size_t)g->vocab->n_words * 4;
    if (atomic_load_explicit(&g->cache_bytes, memory_order_relaxed) + bytes > ((size_t)64 << 20)) return NULL;
    uint32_t *mk = calloc(g->vocab->n_words, 4);
    if (!mk) return NULL;
    pure_walk(m, c, mk, false);
    uint32_t *expect = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expect, mk, memory_order_acq_rel, memory_order_acquire)) {
        atomic_fetch_add_explicit(&g->cache_bytes, bytes, memory_order_relaxed);
        return mk;
    }
    free(mk); /* another thread published it first */
    return expect;
}

bool olm_matcher_walk_only; /* tests: counted leaves always walk (checks the band shortcut against the walk) */

/* One plain token from a counted leaf configuration, step by step as pure_walk
 * takes it. */
static bool counted_token_ok(const onnxllm_matcher *m, const olm_node *n, const olm_dfa *d, uint32_t s, int32_t k, int32_t tok) {
    const onnxllm_grammar_vocab *v = m->g->vocab;
    const uint8_t *b = v->bytes + v->off[tok];
    for (uint32_t i = 0, len = v->len[tok]; i < len; i++) {
        s = d->next[(size_t)s * d->ncls + d->cls[b[i]]];
        if (!s) return false;
        if (d->flags[s] & DF_BND) k++;
        if (!viable(d, s, k, n->min, n->max)) return false;
    }
    return true;
}

/* A counted leaf from the counter-free cached mask cm. Plain text from s only
 * reaches states with dmin <= pmaxd and emin <= pmaxe, so a token of weight w is
 * allowed with the counter iff it is without, when w <= r1 (every count on its
 * way keeps such states viable); tokens heavier than max - count + 1 are never
 * allowed; the band between is checked token by token. False: the band is too
 * wide (the caller walks). */
static bool counted_from_cache(onnxllm_matcher *m, const cfg *c, const uint32_t *cm, uint32_t *mask) {
    const onnxllm_grammar_vocab *v = m->g->vocab;
    const olm_node *n = NODE(m, c->top.node);
    const olm_dfa *d = DFA(m, n->dfa);
    uint32_t s = c->top.a;
    int32_t k = c->top.b;
    if (olm_matcher_walk_only || n->max == NO_LIMIT) return false;
    int64_t hard = (int64_t)n->max - k + 1, r1 = 0;
    if (k >= n->min && d->pmaxd[s] != DFA_INF) r1 = (int64_t)n->max - k - d->pmaxd[s];
    if (d->pmaxe[s] != DFA_INF && (int64_t)n->max - k - d->pmaxe[s] > r1) r1 = (int64_t)n->max - k - d->pmaxe[s];
    if (r1 < 0) r1 = 0;
    if (r1 >= (int64_t)v->max_weight) {
        for (uint32_t w = 0; w < v->n_words; w++) mask[w] |= cm[w];
        return true;
    }
    if (hard > (int64_t)v->max_weight) hard = v->max_weight;
    if (hard - r1 > 4) return false;
    const uint32_t *safe = v->plain_le[r1 > OLM_PLAIN_W ? OLM_PLAIN_W : r1];
    for (uint32_t w = 0; w < v->n_words; w++) mask[w] |= cm[w] & safe[w];
    if (hard > r1 && r1 < OLM_PLAIN_W) { /* the band among light tokens */
        const uint32_t *top = v->plain_le[hard > OLM_PLAIN_W ? OLM_PLAIN_W : hard];
        for (uint32_t w = 0; w < v->n_words; w++) {
            uint32_t x = cm[w] & top[w] & ~safe[w];
            while (x) {
                int32_t t = (int32_t)(w * 32 + (uint32_t)__builtin_ctz(x));
                x &= x - 1;
                if (counted_token_ok(m, n, d, s, k, t)) bit_set(mask, (uint32_t)t);
            }
        }
    }
    for (uint32_t i = 0; i < v->n_heavy; i++) { /* heavy tokens: safe ones and the band */
        int32_t t = v->heavy[i];
        int64_t wt = v->weight[t];
        if (wt > hard) break;
        if (!bit_get(cm, (uint32_t)t)) continue;
        if (wt <= r1 || counted_token_ok(m, n, d, s, k, t)) bit_set(mask, (uint32_t)t);
    }
    return true;
}

/* The plain tokens allowed from a configuration inside a string. */
static void plain_part(onnxllm_matcher *m, const cfg *c, uint32_t *mask) {
    const onnxllm_grammar_vocab *v = m->g->vocab;
    const olm_node *n = NODE(m, c->top.node);
    const olm_dfa *d = DFA(m, n->dfa);
    uint32_t s = c->top.a;
    if (c->top.kind == FR_KEY) {
        if ((d->flags[s] & DF_PLAINX) && (c->top.flags & 1) && !n->key_counted) {
            for (uint32_t w = 0; w < v->n_words; w++) mask[w] |= v->plain_all[w];
            return;
        }
        if ((d->flags[s] & DF_FREE) && (c->top.flags & 1)) {
            int64_t budget = n->key_counted && n->key_max != NO_LIMIT ? (int64_t)n->key_max - c->top.b - (int64_t)d->dmin[s] : 255;
            add_plain(v, mask, budget);
            return;
        }
        pure_walk(m, c, mask, true);
        return;
    }
    if (d->flags[s] & DF_FREE) {
        int64_t budget = n->counted && n->max != NO_LIMIT ? (int64_t)n->max - c->top.b - (int64_t)d->dmin[s] : 255;
        add_plain(v, mask, budget);
        return;
    }
    /* no plain text dies (at least none as long as a token) and no counter matters:
     * every plain token */
    if (((d->flags[s] & DF_PLAINU) || d->pdie[s] > v->max_weight) && counter_irrelevant(m, n, d, s, c->top.b)) {
        for (uint32_t w = 0; w < v->n_words; w++) mask[w] |= v->plain_all[w];
        return;
    }
    const uint32_t *cm = cached_plain(m, c);
    if (cm) {
        if (counter_irrelevant(m, n, d, s, c->top.b)) {
            for (uint32_t w = 0; w < v->n_words; w++) mask[w] |= cm[w];
            return;
        }
        if (counted_from_cache(m, c, cm, mask)) return;
    }
    pure_walk(m, c, mask, true);
}

onnxllm_status onnxllm_matcher_fill_mask(onnxllm_matcher *m, uint32_t *mask, size_t n_words, onnxllm_error *err) {
    if (!m || !mask) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: NULL argument");
    const onnxllm_grammar_vocab *v = m->g->vocab;
    if (n_words < v->n_words)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "matcher: mask of %zu words, need %u", n_words, v->n_words);
    memset(mask, 0, n_words * sizeof *mask);
    if (m->finished) return ONNXLLM_OK;
    m->oom = false;
    if (!load_level0(m)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "matcher: out of memory");
    const olm_trie_flat *trie = &v->full;
    bool bulk_free = false;
    if (m->cur.n == 1 && m->cur.v[0].top.kind == FR_TOOL && m->cur.v[0].top.phase == T_FREE) {
        /* free text before a tool call: every byte token that does not spell a tag */
        if (m->g->free_dfa == NO_NODE)
            for (uint32_t w = 0; w < v->n_words; w++) mask[w] = v->all_bytes[w];
        else
            free_text_mask(m, m->cur.v[0].top.a, mask);
        bulk_free = true;
    } else {
        /* all configurations inside strings: plain tokens per configuration, then
         * only the other tokens need the parser */
        bool interior = m->cur.n > 0;
        for (size_t i = 0; i < m->cur.n && interior; i++) {
            const cfg *c = &m->cur.v[i];
            interior = (c->top.kind == FR_LEAF || c->top.kind == FR_KEY) &&
                       (DFA(m, NODE(m, c->top.node)->dfa)->flags[c->top.a] & DF_INTERIOR);
        }
        if (interior) {
            for (size_t i = 0; i < m->cur.n; i++) {
                bool seen = false; /* the plain part depends on the top frame only */
                for (size_t j = 0; j < i && !seen; j++) seen = !memcmp(&m->cur.v[j].top, &m->cur.v[i].top, sizeof m->cur.v[i].top);
                if (!seen) plain_part(m, &m->cur.v[i], mask);
            }
            trie = &v->rest;
        }
    }
    if (!bulk_free) walk(m, trie, mask);
    /* special tokens the grammar knows */
    int32_t specials[2] = {v->tool_open, v->tool_close};
    for (int i = 0; i < 2; i++) {
        if (specials[i] < 0) continue;
        uint32_t k = advance_special(m, 0, (uint32_t)m->cur.n, specials[i], (uint32_t)m->cur.n);
        if (k) bit_set(mask, (uint32_t)specials[i]);
    }
    m->pool.n = m->pmark[0];
    if (onnxllm_matcher_is_accepting(m))
        for (uint32_t i = 0; i < v->n_eos; i++) bit_set(mask, (uint32_t)v->eos[i]);
    if (m->oom) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "matcher: out of memory");
    return ONNXLLM_OK;
}

bool onnxllm_matcher_is_finished(const onnxllm_matcher *m) { return m && m->finished; }
size_t onnxllm_matcher_mask_words(const onnxllm_matcher *m) { return m ? m->g->vocab->n_words : 0; }

int32_t onnxllm_mask_single(const uint32_t *mask, size_t n_words) {
    int32_t found = -1;
    for (size_t w = 0; w < n_words; w++) {
        uint32_t x = mask[w];
        if (!x) continue;
        if ((x & (x - 1)) || found >= 0) return -1;
        found = (int32_t)(w * 32 + (size_t)__builtin_ctz(x));
    }
    return found;
}
