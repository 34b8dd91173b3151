/* jsonstr.c — automata of JSON string lexemes.
 *
 * Constraints on strings (pattern, format, enum of names, propertyNames) are
 * stated on the decoded text, so they are built as "content" DFAs over the
 * UTF-8 bytes of the decoded string, and olm_wrap_string turns a content DFA
 * into the DFA of the JSON lexeme: the opening quote, raw characters (never
 * control bytes, '"' or '\\'), escapes mapped to the byte they decode to, and
 * the closing quote — allowed only where the content accepts. Escapes kept:
 * \" \\ \/ \b \f \n \r \t and \u00XX for control characters; any \uXXXX (not a
 * surrogate, so lengths count like JavaScript and Python) only in strings
 * without a content constraint, where every character is allowed anyway.
 * Raw UTF-8 is checked strictly (no overlongs, surrogates or > U+10FFFF). */
#include "grammar/grammar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strict UTF-8 validation as a tiny automaton ------------------------------------
 * 0 boundary; 1 one continuation byte left; 2 two left; 3 two left, first A0-BF (E0);
 * 4 two left, first 80-9F (ED); 5 three left; 6 three left, first 90-BF (F0);
 * 7 three left, first 80-8F (F4). Returns the next state or -1. */
static int utf8_step(int v, uint8_t b) {
    switch (v) {
    case 0:
        if (b < 0x80) return 0;
        if (b >= 0xC2 && b <= 0xDF) return 1;
        if (b == 0xE0) return 3;
        if (b == 0xED) return 4;
        if (b >= 0xE1 && b <= 0xEF) return 2;
        if (b == 0xF0) return 6;
        if (b == 0xF4) return 7;
        if (b >= 0xF1 && b <= 0xF3) return 5;
        return -1;
    case 1: return b >= 0x80 && b <= 0xBF ? 0 : -1;
    case 2: return b >= 0x80 && b <= 0xBF ? 1 : -1;
    case 3: return b >= 0xA0 && b <= 0xBF ? 1 : -1;
    case 4: return b >= 0x80 && b <= 0x9F ? 1 : -1;
    case 5: return b >= 0x80 && b <= 0xBF ? 2 : -1;
    case 6: return b >= 0x90 && b <= 0xBF ? 2 : -1;
    case 7: return b >= 0x80 && b <= 0x8F ? 2 : -1;
    }
    return -1;
}

/* Joins two byte partitions: bytes share a class iff they share one in both. */
static void hint_join(uint8_t *out, const uint8_t *a, const uint8_t *b) {
    uint16_t map[256 * 2];
    uint16_t keys[256];
    int n = 0;
    for (int x = 0; x < 256; x++) {
        uint16_t key = (uint16_t)(a[x] * 256 + b[x]);
        int id = -1;
        for (int i = 0; i < n && id < 0; i++)
            if (keys[i] == key) id = i;
        if (id < 0) {
            keys[n] = key;
            id = n++;
        }
        out[x] = (uint8_t)id;
    }
    (void)map;
}

/* Bytes that the UTF-8 validator treats alike. */
static uint8_t utf8_class(int b) {
    if (b < 0x80) return 1;
    if (b < 0x90) return 2;
    if (b < 0xA0) return 3;
    if (b < 0xC0) return 4;
    if (b < 0xC2) return 5;
    if (b < 0xE0) return 6;
    if (b == 0xE0) return 7;
    if (b < 0xED) return 8;
    if (b == 0xED) return 9;
    if (b < 0xF0) return 10;
    if (b == 0xF0) return 11;
    if (b < 0xF4) return 12;
    if (b == 0xF4) return 13;
    return 14;
}

/* ---- content: any valid UTF-8 ------------------------------------------------------- */
typedef struct {
    uint8_t v;
} any_st;
static bool any_step(void *ctx, const void *s, uint8_t b, void *out) {
    (void)ctx;
    int v = utf8_step(((const any_st *)s)->v, b);
    if (v < 0) return false;
    ((any_st *)out)->v = (uint8_t)v;
    return true;
}
static int32_t any_accept(void *ctx, const void *s) {
    (void)ctx;
    return ((const any_st *)s)->v == 0 ? 0 : -1;
}
static bool any_bnd(void *ctx, const void *s) {
    (void)ctx;
    return ((const any_st *)s)->v == 0;
}

onnxllm_status olm_content_any(olm_dfa *out) {
    uint8_t hint[256];
    for (int b = 0; b < 256; b++) hint[b] = utf8_class(b);
    olm_explorer x = {sizeof(any_st), any_step, any_accept, any_bnd, NULL, hint};
    any_st init = {0};
    return olm_dfa_explore(&x, &init, 64, out, NULL, 0);
}

onnxllm_status olm_content_regex(const char *pattern, size_t len, bool icase, size_t max_states, olm_dfa *out,
                                 char *why, size_t why_len) {
    olm_nfa a;
    olm_nfa_init(&a, 200000);
    uint32_t start = olm_nfa_state(&a, true), acc = 0;
    onnxllm_status st = olm_regex_to_nfa(pattern, len, icase, &a, start, &acc, why, why_len);
    if (!st) st = olm_nfa_to_dfa(&a, start, max_states, out, why, why_len);
    olm_nfa_free(&a);
    return st;
}

/* ---- content: product of several content DFAs -------------------------------------------
 * All positive parts must accept and no negative part (neg[i]) may accept; a
 * negative part that dies stays dead (0: "does not match"). Part 0 must be
 * positive (its character boundaries are used) and, when there are negative
 * parts, one that accepts only valid UTF-8. */
typedef struct {
    const olm_dfa *const *d;
    const bool *neg;
    size_t k;
} prod_ctx;
static bool prod_step(void *ctx, const void *s, uint8_t b, void *out) {
    const prod_ctx *c = ctx;
    const uint32_t *a = s;
    uint32_t *o = out;
    for (size_t i = 0; i < c->k; i++) {
        if (c->neg && c->neg[i]) o[i] = a[i] ? dfa_step(c->d[i], a[i], b) : 0;
        else if (!(o[i] = dfa_step(c->d[i], a[i], b)))
            return false;
    }
    return true;
}
static int32_t prod_accept(void *ctx, const void *s) {
    const prod_ctx *c = ctx;
    const uint32_t *a = s;
    for (size_t i = 0; i < c->k; i++) {
        bool acc = a[i] && (c->d[i]->flags[a[i]] & DF_ACCEPT);
        if (acc == (c->neg && c->neg[i])) return -1;
    }
    return 0;
}
static bool prod_bnd(void *ctx, const void *s) {
    const prod_ctx *c = ctx;
    return (c->d[0]->flags[((const uint32_t *)s)[0]] & DF_BND) != 0;
}

onnxllm_status olm_content_product(const olm_dfa *const *d, const bool *neg, size_t k, size_t max_states, olm_dfa *out,
                                   char *why, size_t why_len) {
    prod_ctx c = {d, neg, k};
    uint8_t hint[256];
    if (k == 0 || k > 16 || (neg && neg[0])) return ONNXLLM_ERR_INVALID_ARGUMENT;
    memcpy(hint, d[0]->cls, 256);
    for (size_t i = 1; i < k; i++) hint_join(hint, hint, d[i]->cls);
    olm_explorer x = {k * sizeof(uint32_t), prod_step, prod_accept, prod_bnd, &c, hint};
    uint32_t init[16];
    for (size_t i = 0; i < k; i++) {
        if (!d[i]->start && !(neg && neg[i])) /* empty language */
            return olm_dfa_make_empty(out) ? ONNXLLM_OK : ONNXLLM_ERR_OUT_OF_MEMORY;
        init[i] = d[i]->start;
    }
    return olm_dfa_explore(&x, init, max_states, out, why, why_len);
}

/* ---- content: object keys ----------------------------------------------------------------
 * Labels: 0..n-1 the defined names, n = additional, n+1+k = pattern k. State: the
 * position in a byte trie of the names (or -1 once the key is no prefix of any),
 * the UTF-8 validator, the propertyNames DFA, each pattern DFA. */
typedef struct key_trie {
    OLM_VEC(int32_t) child; /* [node*256 + byte] → node, -1 */
    OLM_VEC(int32_t) name;  /* [node] → label, -1 */
} key_trie;

/* The byte trie of n texts: a text's end node labelled `label(i)` — i, or 0 for every
 * one (label_all) — unless an earlier text labelled it. false: out of memory. */
static bool key_trie_build(key_trie *t, const char *const *texts, const size_t *lens, size_t n, bool label_all) {
    if (!VEC_RESERVE(t->child, 256) || !VEC_PUSH(t->name, -1)) return false;
    for (int b = 0; b < 256; b++) t->child.v[b] = -1;
    t->child.n = 256;
    for (size_t i = 0; i < n; i++) {
        int32_t node = 0;
        for (size_t k = 0; k < lens[i]; k++) {
            uint8_t b = (uint8_t)texts[i][k];
            int32_t ch = t->child.v[(size_t)node * 256 + b];
            if (ch < 0) {
                ch = (int32_t)t->name.n;
                if (!VEC_PUSH(t->name, -1) || !VEC_RESERVE(t->child, t->child.n + 256)) return false;
                for (int x = 0; x < 256; x++) t->child.v[t->child.n + (size_t)x] = -1;
                t->child.n += 256;
                t->child.v[(size_t)node * 256 + b] = ch;
            }
            node = ch;
        }
        if (t->name.v[node] < 0) t->name.v[node] = label_all ? 0 : (int32_t)i;
    }
    return true;
}

typedef struct {
    const key_trie *t;
    const olm_dfa *pn;          /* propertyNames content DFA or NULL */
    const olm_dfa *const *pat;  /* pattern content DFAs */
    size_t npat;
    uint32_t n;                 /* defined names */
    bool additional;            /* keys outside names/patterns allowed */
} key_ctx;

typedef struct {
    int32_t node;
    uint32_t v;
    uint32_t pn;
    uint32_t pat[]; /* flexible: npat entries */
} key_st;

static bool key_step(void *ctx, const void *s, uint8_t b, void *out) {
    const key_ctx *c = ctx;
    const key_st *a = s;
    key_st *o = out;
    int v = utf8_step((int)a->v, b);
    if (v < 0) return false;
    o->v = (uint32_t)v;
    o->node = a->node >= 0 ? c->t->child.v[(size_t)a->node * 256 + b] : -1;
    o->pn = c->pn ? dfa_step(c->pn, a->pn, b) : 0;
    bool any_pat = false;
    for (size_t i = 0; i < c->npat; i++) {
        o->pat[i] = a->pat[i] ? dfa_step(c->pat[i], a->pat[i], b) : 0;
        if (o->pat[i]) any_pat = true;
    }
    if (o->node >= 0) return true;            /* still a prefix of a name */
    if (c->pn && !o->pn) return false;        /* propertyNames rules it out */
    return c->additional || any_pat;
}
static int32_t key_accept(void *ctx, const void *s) {
    const key_ctx *c = ctx;
    const key_st *a = s;
    if (a->v) return -1;
    if (a->node >= 0 && c->t->name.v[a->node] >= 0) return c->t->name.v[a->node];
    if (c->pn && !(c->pn->flags[a->pn] & DF_ACCEPT)) return -1;
    for (size_t i = 0; i < c->npat; i++)
        if (a->pat[i] && (c->pat[i]->flags[a->pat[i]] & DF_ACCEPT)) return (int32_t)(c->n + 1 + i);
    return c->additional ? (int32_t)c->n : -1;
}
static bool key_bnd(void *ctx, const void *s) {
    (void)ctx;
    return ((const key_st *)s)->v == 0;
}

onnxllm_status olm_content_keys(const char *const *names, const size_t *lens, uint32_t n, const olm_dfa *pn,
                                const olm_dfa *const *pat, size_t npat, bool additional, size_t max_states,
                                olm_dfa *out, char *why, size_t why_len) {
    key_trie t = {0};
    onnxllm_status st = ONNXLLM_ERR_OUT_OF_MEMORY;
    size_t ss = sizeof(key_st) + npat * sizeof(uint32_t);
    key_st *init = calloc(1, ss);
    if (!init || !key_trie_build(&t, names, lens, n, false)) goto done;
    key_ctx c = {&t, pn, pat, npat, n, additional};
    /* byte classes: every byte of a name on its own, the rest as UTF-8 and the
     * propertyNames / pattern automata see them */
    uint8_t hint[256], named[256];
    for (int b = 0; b < 256; b++) {
        hint[b] = utf8_class(b);
        named[b] = 0;
    }
    for (uint32_t i = 0; i < n; i++) /* names hold no NUL: a name byte b is class b */
        for (size_t k = 0; k < lens[i]; k++) named[(uint8_t)names[i][k]] = (uint8_t)names[i][k];
    hint_join(hint, hint, named);
    if (pn) hint_join(hint, hint, pn->cls);
    for (size_t i = 0; i < npat; i++) hint_join(hint, hint, pat[i]->cls);
    init->node = 0;
    init->v = 0;
    init->pn = pn ? pn->start : 0;
    for (size_t i = 0; i < npat; i++) init->pat[i] = pat[i]->start;
    olm_explorer x = {ss, key_step, key_accept, key_bnd, &c, hint};
    st = olm_dfa_explore(&x, init, max_states, out, why, why_len);
done:
    free(init);
    VEC_FREE(t.child);
    VEC_FREE(t.name);
    return st;
}

/* ---- the JSON string wrapper ------------------------------------------------------------- */
enum { W_START, W_BODY, W_ESC, W_U0, W_U1, W_U2, W_U3, W_X1, W_X2, W_X3, W_FINAL };
typedef struct {
    uint32_t c;  /* content state */
    uint8_t ph;  /* W_* */
    uint8_t hx;  /* pending hex digit / surrogate guard */
    uint8_t pad[2];
} wr_st;

typedef struct {
    const olm_dfa *d;
    bool full_u;
} wr_ctx;

static int hexv(uint8_t c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Could an escape sequence continue the content from c? (else no '\\' transition:
 * inside a property name, say, only its letters can come) */
static bool esc_useful(const wr_ctx *w, uint32_t c, bool *ctrl) {
    static const uint8_t dec[] = {'"', '\\', '/', 8, 12, 10, 13, 9};
    bool any = false;
    *ctrl = w->full_u;
    for (int x = 0; x < 0x20 && !*ctrl; x++) *ctrl = dfa_step(w->d, c, (uint8_t)x) != 0;
    for (size_t i = 0; i < sizeof dec && !any; i++) any = dfa_step(w->d, c, dec[i]) != 0;
    return any || *ctrl;
}

static bool wr_step(void *ctx, const void *s, uint8_t b, void *out) {
    const wr_ctx *w = ctx;
    const wr_st *a = s;
    wr_st *o = out;
    o->c = a->c;
    o->hx = 0;
    const olm_dfa *d = w->d;
    bool bnd = (d->flags[a->c] & DF_BND) != 0;
    switch (a->ph) {
    case W_START:
        if (b != '"') return false;
        o->ph = W_BODY;
        return true;
    case W_BODY:
        if (b == '"') {
            if (!(d->flags[a->c] & DF_ACCEPT)) return false;
            o->ph = W_FINAL;
            return true;
        }
        if (b == '\\') {
            bool ctrl;
            if (!bnd || !esc_useful(w, a->c, &ctrl)) return false;
            o->ph = W_ESC;
            return true;
        }
        if (b < 0x20) return false;
        o->c = dfa_step(d, a->c, b);
        o->ph = W_BODY;
        return o->c != 0;
    case W_ESC: {
        int dec;
        switch (b) {
        case '"': dec = '"'; break;
        case '\\': dec = '\\'; break;
        case '/': dec = '/'; break;
        case 'b': dec = 8; break;
        case 'f': dec = 12; break;
        case 'n': dec = 10; break;
        case 'r': dec = 13; break;
        case 't': dec = 9; break;
        case 'u': {
            bool ctrl;
            esc_useful(w, a->c, &ctrl);
            if (!ctrl) return false; /* \u00XX only spells control characters here */
            o->ph = W_U0;
            return true;
        }
        default: return false;
        }
        o->c = dfa_step(d, a->c, (uint8_t)dec);
        o->ph = W_BODY;
        return o->c != 0;
    }
    case W_U0:
        if (w->full_u) {
            int h = hexv(b);
            if (h < 0) return false;
            o->ph = W_X1;
            o->hx = h == 0xD;
            return true;
        }
        if (b != '0') return false;
        o->ph = W_U1;
        return true;
    case W_U1:
        if (b != '0') return false;
        o->ph = W_U2;
        return true;
    case W_U2:
        if (b != '0' && b != '1') return false;
        o->ph = W_U3;
        o->hx = (uint8_t)(b - '0');
        return true;
    case W_U3: {
        int h = hexv(b);
        if (h < 0) return false;
        o->c = dfa_step(d, a->c, (uint8_t)(a->hx * 16 + h));
        o->ph = W_BODY;
        return o->c != 0;
    }
    case W_X1: {
        int h = hexv(b);
        if (h < 0 || (a->hx && h >= 8)) return false; /* D800-DFFF: surrogates */
        o->ph = W_X2;
        return true;
    }
    case W_X2:
        if (hexv(b) < 0) return false;
        o->ph = W_X3;
        return true;
    case W_X3:
        if (hexv(b) < 0) return false;
        o->ph = W_BODY; /* full_u: every character loops back to the same content state */
        return true;
    default: return false;
    }
}

static int32_t wr_accept(void *ctx, const void *s) {
    const wr_ctx *w = ctx;
    const wr_st *a = s;
    if (a->ph != W_FINAL) return -1;
    return w->d->label[a->c] >= 0 ? w->d->label[a->c] : 0;
}

static bool wr_bnd(void *ctx, const void *s) {
    const wr_ctx *w = ctx;
    const wr_st *a = s;
    return a->ph == W_BODY && (w->d->flags[a->c] & DF_BND);
}

onnxllm_status olm_wrap_string(const olm_dfa *content, bool full_u, bool want_reach, size_t max_states, olm_dfa *out,
                               char *why, size_t why_len) {
    wr_ctx c = {content, full_u};
    /* bytes the wrapper treats specially get their own class; others follow the content */
    uint8_t special[256], hint[256];
    for (int b = 0; b < 256; b++) {
        bool sp = b < 0x20 || b == '"' || b == '\\' || b == '/' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') ||
                  (b >= 'A' && b <= 'F') || b == 'n' || b == 'r' || b == 't' || b == 'u';
        special[b] = sp ? (uint8_t)(b + 1) : 0; /* 0 = not special */
    }
    hint_join(hint, special, content->cls);
    olm_explorer x = {sizeof(wr_st), wr_step, wr_accept, wr_bnd, &c, hint};
    wr_st init = {content->start, W_START, 0, {0, 0}};
    if (!content->start) {
        if (!olm_dfa_make_empty(out)) return ONNXLLM_ERR_OUT_OF_MEMORY;
    } else {
        onnxllm_status st = olm_dfa_explore(&x, &init, max_states, out, why, why_len);
        if (st) return st;
    }
    return olm_dfa_analyse(out, want_reach) ? ONNXLLM_OK : ONNXLLM_ERR_OUT_OF_MEMORY;
}

/* ---- literal texts: a byte trie ------------------------------------------------------------ */
typedef struct {
    const key_trie *t;
} lit_ctx;
static bool lit_step(void *ctx, const void *s, uint8_t b, void *out) {
    const lit_ctx *c = ctx;
    int32_t n = *(const int32_t *)s;
    int32_t ch = c->t->child.v[(size_t)n * 256 + b];
    *(int32_t *)out = ch;
    return ch >= 0;
}
static int32_t lit_accept(void *ctx, const void *s) {
    const lit_ctx *c = ctx;
    return c->t->name.v[*(const int32_t *)s] >= 0 ? 0 : -1;
}

onnxllm_status olm_literal_texts_dfa(const char *const *texts, const size_t *lens, size_t n, olm_dfa *out) {
    key_trie t = {0};
    onnxllm_status st = ONNXLLM_ERR_OUT_OF_MEMORY;
    if (!key_trie_build(&t, texts, lens, n, true)) goto done;
    {
        lit_ctx c = {&t};
        uint8_t hint[256] = {0};
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < lens[i]; k++) hint[(uint8_t)texts[i][k]] = (uint8_t)texts[i][k];
        hint[0] = 0; /* byte 0 never appears in JSON text; 0 = "in no literal" */
        olm_explorer x = {sizeof(int32_t), lit_step, lit_accept, NULL, &c, hint};
        int32_t init = 0;
        st = olm_dfa_explore(&x, &init, t.name.n + 2, out, NULL, 0);
        if (!st && !olm_dfa_analyse(out, false)) st = ONNXLLM_ERR_OUT_OF_MEMORY;
    }
done:
    VEC_FREE(t.child);
    VEC_FREE(t.name);
    return st;
}

/* ---- free text that never spells given strings ----------------------------------------------
 * State: the longest suffix of the text that is a prefix of a forbidden string.
 * Used for the text around tool calls: "<|tool_call|>" written with ordinary byte
 * tokens would be parsed as a call without having been constrained. */
typedef struct {
    const char *const *s;
    size_t n;
} avoid_ctx;
typedef struct {
    uint8_t len;
    char buf[31];
} avoid_st;

static bool avoid_step(void *ctx, const void *st, uint8_t b, void *out) {
    const avoid_ctx *c = ctx;
    const avoid_st *a = st;
    avoid_st *o = out;
    char tmp[32];
    size_t l = a->len;
    memcpy(tmp, a->buf, l);
    tmp[l++] = (char)b;
    for (size_t start = 0; start <= l; start++) { /* drop characters until a prefix remains */
        size_t rl = l - start;
        bool prefix = rl == 0;
        for (size_t i = 0; i < c->n && !prefix; i++) {
            size_t fl = strlen(c->s[i]);
            if (rl <= fl && !memcmp(tmp + start, c->s[i], rl)) {
                if (rl == fl) return false; /* the whole forbidden string */
                prefix = true;
            }
        }
        if (prefix) {
            memset(o, 0, sizeof *o);
            o->len = (uint8_t)rl;
            memcpy(o->buf, tmp + start, rl);
            return true;
        }
    }
    return false;
}
static int32_t avoid_accept(void *ctx, const void *st) {
    (void)ctx;
    (void)st;
    return 0;
}

onnxllm_status olm_avoid_dfa(const char *const *strings, size_t n, olm_dfa *out) {
    for (size_t i = 0; i < n; i++)
        if (strlen(strings[i]) >= 31) return ONNXLLM_ERR_INVALID_ARGUMENT;
    avoid_ctx c = {strings, n};
    uint8_t hint[256] = {0};
    for (size_t i = 0; i < n; i++)
        for (const char *p = strings[i]; *p; p++) hint[(uint8_t)*p] = (uint8_t)*p;
    olm_explorer x = {sizeof(avoid_st), avoid_step, avoid_accept, NULL, &c, hint};
    avoid_st init;
    memset(&init, 0, sizeof init);
    onnxllm_status st = olm_dfa_explore(&x, &init, 4096, out, NULL, 0);
    if (st) return st;
    return olm_dfa_analyse(out, false) ? ONNXLLM_OK : ONNXLLM_ERR_OUT_OF_MEMORY;
}
