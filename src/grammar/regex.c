/* regex.c — ECMAScript regular expressions (what JSON Schema "pattern" means) to
 * an NFA over UTF-8 bytes.
 *
 * Semantics are JavaScript's with the u flag, which is how ajv compiles
 * patterns: \d is [0-9], \w is [A-Za-z0-9_], \s is JavaScript's white space
 * list, "." is any code point except line terminators. A pattern is a search:
 * "abc" matches any string containing abc, so the NFA is
 *     (any)* · pattern · (any)*
 * where ^ and $ are special epsilon edges: ^ may only be crossed before any
 * character was consumed, $ only when none follows (olm_nfa_to_dfa enforces
 * both). Lookaround, back-references and word boundaries cannot be expressed by
 * a finite automaton over the string alone and are reported as unsupported,
 * naming the construct. Unknown escapes of letters are refused rather than
 * guessed (JavaScript and Python disagree on them). */
#include "grammar/grammar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- NFA building -------------------------------------------------------------- */

void olm_nfa_init(olm_nfa *a, size_t limit) {
    memset(a, 0, sizeof *a);
    a->limit = limit;
    olm_nfa_state(a, true); /* state 0 unused */
}

void olm_nfa_free(olm_nfa *a) {
    VEC_FREE(a->first);
    VEC_FREE(a->enext);
    VEC_FREE(a->e);
    VEC_FREE(a->bnd);
    VEC_FREE(a->label);
}

uint32_t olm_nfa_state(olm_nfa *a, bool boundary) {
    if (a->overflow || a->first.n >= a->limit) {
        a->overflow = true;
        return 0;
    }
    if (!VEC_PUSH(a->first, 0) || !VEC_PUSH(a->bnd, (uint8_t)boundary) || !VEC_PUSH(a->label, -1)) {
        a->overflow = true;
        return 0;
    }
    return (uint32_t)a->first.n - 1;
}

static void add_edge(olm_nfa *a, uint32_t from, uint32_t to, uint8_t lo, uint8_t hi) {
    if (a->overflow || !from || !to) {
        a->overflow = true;
        return;
    }
    olm_nedge e = {to, lo, hi};
    if (!VEC_PUSH(a->e, e) || !VEC_PUSH(a->enext, a->first.v[from])) {
        a->overflow = true;
        return;
    }
    a->first.v[from] = (uint32_t)a->e.n;
}

void olm_nfa_edge(olm_nfa *a, uint32_t from, uint32_t to, uint8_t lo, uint8_t hi) { add_edge(a, from, to, lo, hi); }
void olm_nfa_eps(olm_nfa *a, uint32_t from, uint32_t to) { add_edge(a, from, to, 1, 0); }
/* anchor edges: lo 2 = ^ (only before any character), lo 3 = $ (only at the end) */
static void nfa_bol(olm_nfa *a, uint32_t from, uint32_t to) { add_edge(a, from, to, 2, 0); }
static void nfa_eol(olm_nfa *a, uint32_t from, uint32_t to) { add_edge(a, from, to, 3, 0); }

static int utf8_len_cp(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }
static void utf8_enc(uint32_t c, uint8_t *o) {
    if (c < 0x80) o[0] = (uint8_t)c;
    else if (c < 0x800) {
        o[0] = (uint8_t)(0xC0 | (c >> 6));
        o[1] = (uint8_t)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (c >> 12));
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F));
    } else {
        o[0] = (uint8_t)(0xF0 | (c >> 18));
        o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (uint8_t)(0x80 | (c & 0x3F));
    }
}

/* [lo, hi] of one encoded length → byte-range chains (the utf8-ranges split). */
static void cp_split(olm_nfa *a, uint32_t from, uint32_t to, uint32_t lo, uint32_t hi) {
    int L = utf8_len_cp(lo);
    for (int i = 1; i < L; i++) {
        uint32_t m = (1u << (6 * i)) - 1;
        if ((lo & ~m) != (hi & ~m)) {
            if (lo & m) {
                cp_split(a, from, to, lo, lo | m);
                cp_split(a, from, to, (lo | m) + 1, hi);
                return;
            }
            if ((hi & m) != m) {
                cp_split(a, from, to, lo, (hi & ~m) - 1);
                cp_split(a, from, to, hi & ~m, hi);
                return;
            }
        }
    }
    uint8_t x[4], y[4];
    utf8_enc(lo, x);
    utf8_enc(hi, y);
    uint32_t cur = from;
    for (int k = 0; k < L; k++) {
        uint32_t nx = k == L - 1 ? to : olm_nfa_state(a, false);
        add_edge(a, cur, nx, x[k], y[k]);
        cur = nx;
    }
}

void olm_nfa_cp_range(olm_nfa *a, uint32_t from, uint32_t to, uint32_t lo, uint32_t hi) {
    static const uint32_t cuts[][2] = {{0, 0x7F}, {0x80, 0x7FF}, {0x800, 0xD7FF}, {0xE000, 0xFFFF}, {0x10000, 0x10FFFF}};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        uint32_t l = lo > cuts[i][0] ? lo : cuts[i][0], h = hi < cuts[i][1] ? hi : cuts[i][1];
        if (l <= h) cp_split(a, from, to, l, h);
    }
}

/* ---- code point sets ------------------------------------------------------------- */

static bool set_add(olm_cpset *s, uint32_t lo, uint32_t hi) {
    /* insert keeping order, merging overlaps/adjacency */
    size_t n = s->r.n / 2, i = 0;
    while (i < n && s->r.v[2 * i + 1] + 1 < lo) i++;
    size_t j = i;
    while (j < n && s->r.v[2 * j] <= hi + 1) {
        if (s->r.v[2 * j] < lo) lo = s->r.v[2 * j];
        if (s->r.v[2 * j + 1] > hi) hi = s->r.v[2 * j + 1];
        j++;
    }
    /* replace [i, j) by one range */
    if (j == i) {
        if (!VEC_RESERVE(s->r, s->r.n + 2)) return false;
        memmove(s->r.v + 2 * i + 2, s->r.v + 2 * i, (s->r.n - 2 * i) * sizeof *s->r.v);
        s->r.n += 2;
    } else if (j > i + 1) {
        memmove(s->r.v + 2 * i + 2, s->r.v + 2 * j, (s->r.n - 2 * j) * sizeof *s->r.v);
        s->r.n -= 2 * (j - i - 1);
    }
    s->r.v[2 * i] = lo;
    s->r.v[2 * i + 1] = hi;
    return true;
}

static bool set_add_set(olm_cpset *s, const olm_cpset *t) {
    for (size_t i = 0; i + 1 < t->r.n; i += 2)
        if (!set_add(s, t->r.v[i], t->r.v[i + 1])) return false;
    return true;
}

/* s := complement of s within [0, 0x10FFFF] */
static bool set_negate(olm_cpset *s) {
    olm_cpset o = {0};
    uint32_t next = 0;
    for (size_t i = 0; i + 1 < s->r.n; i += 2) {
        if (s->r.v[i] > next && !set_add(&o, next, s->r.v[i] - 1)) goto fail;
        next = s->r.v[i + 1] + 1;
    }
    if (next <= 0x10FFFF && !set_add(&o, next, 0x10FFFF)) goto fail;
    VEC_FREE(s->r);
    *s = o;
    return true;
fail:
    VEC_FREE(o.r);
    return false;
}

/* adds the other ASCII case of every letter in s */
static bool set_fold(olm_cpset *s) {
    uint32_t add[52];
    int n = 0;
    for (uint32_t c = 'A'; c <= 'Z'; c++)
        for (size_t i = 0; i + 1 < s->r.n; i += 2) {
            bool up = c >= s->r.v[i] && c <= s->r.v[i + 1];
            bool lo = c + 32 >= s->r.v[i] && c + 32 <= s->r.v[i + 1];
            if (up) add[n++] = c + 32;
            if (lo) add[n++] = c;
        }
    for (int i = 0; i < n; i++)
        if (!set_add(s, add[i], add[i])) return false;
    return true;
}

static bool class_d(olm_cpset *s) { return set_add(s, '0', '9'); }
static bool class_w(olm_cpset *s) {
    return set_add(s, '0', '9') && set_add(s, 'A', 'Z') && set_add(s, '_', '_') && set_add(s, 'a', 'z');
}
static bool class_s(olm_cpset *s) {
    static const uint32_t r[][2] = {{9, 13}, {32, 32}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
                                    {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
                                    {0xFEFF, 0xFEFF}};
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        if (!set_add(s, r[i][0], r[i][1])) return false;
    return true;
}
static bool class_dot(olm_cpset *s) { /* JavaScript "." without the s flag */
    return set_add(s, 0, 9) && set_add(s, 11, 12) && set_add(s, 14, 0x2027) && set_add(s, 0x202A, 0x10FFFF);
}

/* ---- parser ----------------------------------------------------------------------- */

enum { RX_SET, RX_CAT, RX_ALT, RX_REP, RX_EMPTY, RX_BOL, RX_EOL };

typedef struct rx {
    int kind;
    olm_cpset set;
    uint32_t *kids;
    size_t nkids, capkids;
    int min, max; /* REP; max -1 = unbounded */
} rx;

typedef struct parser {
    const unsigned char *s;
    size_t n, i;
    OLM_VEC(rx) nodes;
    char *why;
    size_t why_len;
    bool oom;
    int depth;
    bool icase; /* ASCII case folding (ajv-formats' /i expressions) */
} parser;

#define RX_MAX_DEPTH 200
#define RX_MAX_REPEAT 1000

static int fail(parser *p, const char *fmt, const char *what) {
    if (p->why && p->why_len) snprintf(p->why, p->why_len, fmt, what);
    return -1;
}

static int new_node(parser *p, int kind) {
    rx r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    if (!VEC_PUSH(p->nodes, r)) {
        p->oom = true;
        return -1;
    }
    return (int)p->nodes.n - 1;
}

static bool add_kid(parser *p, int parent, int kid) {
    rx *r = &p->nodes.v[parent];
    if (r->nkids == r->capkids) {
        size_t c = r->capkids ? r->capkids * 2 : 4;
        uint32_t *k = realloc(r->kids, c * sizeof *k);
        if (!k) {
            p->oom = true;
            return false;
        }
        r->kids = k;
        r->capkids = c;
    }
    r->kids[r->nkids++] = (uint32_t)kid;
    return true;
}

static bool at_end(parser *p) { return p->i >= p->n; }
static int peek(parser *p) { return p->i < p->n ? p->s[p->i] : -1; }

static uint32_t next_cp(parser *p) {
    const unsigned char *s = p->s + p->i;
    size_t left = p->n - p->i;
    uint32_t c = s[0];
    int l = 1;
    if (c >= 0xC0 && c < 0xE0 && left >= 2) {
        c = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        l = 2;
    } else if (c >= 0xE0 && c < 0xF0 && left >= 3) {
        c = ((c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        l = 3;
    } else if (c >= 0xF0 && left >= 4) {
        c = ((c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        l = 4;
    }
    p->i += (size_t)l;
    return c;
}

static int hexval(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int read_hex(parser *p, int n, uint32_t *out) {
    uint32_t v = 0;
    for (int k = 0; k < n; k++) {
        int h = hexval(peek(p));
        if (h < 0) return -1;
        v = v * 16 + (uint32_t)h;
        p->i++;
    }
    *out = v;
    return 0;
}

/* Parses an escape after '\' (p->i at the escaped char). Result: a code point
 * (*cp, returns 1) or a class (*set, returns 2). in_class: inside [...]. */
static int parse_escape(parser *p, bool in_class, uint32_t *cp, olm_cpset *set) {
    if (at_end(p)) return fail(p, "pattern: %s", "trailing backslash");
    int c = p->s[p->i];
    switch (c) {
    case 'd': p->i++; return class_d(set) ? 2 : -1;
    case 'D': p->i++; return class_d(set) && set_negate(set) ? 2 : -1;
    case 'w': p->i++; return class_w(set) ? 2 : -1;
    case 'W': p->i++; return class_w(set) && set_negate(set) ? 2 : -1;
    case 's': p->i++; return class_s(set) ? 2 : -1;
    case 'S': p->i++; return class_s(set) && set_negate(set) ? 2 : -1;
    case 't': p->i++; *cp = 9; return 1;
    case 'n': p->i++; *cp = 10; return 1;
    case 'v': p->i++; *cp = 11; return 1;
    case 'f': p->i++; *cp = 12; return 1;
    case 'r': p->i++; *cp = 13; return 1;
    case '0':
        p->i++;
        if (peek(p) >= '0' && peek(p) <= '9') return fail(p, "pattern: %s is not supported", "octal escape");
        *cp = 0;
        return 1;
    case 'x':
        p->i++;
        if (read_hex(p, 2, cp)) return fail(p, "pattern: %s", "bad \\x escape");
        return 1;
    case 'u': {
        p->i++;
        if (peek(p) == '{') {
            p->i++;
            uint32_t v = 0;
            int nd = 0;
            while (hexval(peek(p)) >= 0 && nd < 8) {
                v = v * 16 + (uint32_t)hexval(peek(p));
                p->i++;
                nd++;
            }
            if (!nd || peek(p) != '}' || v > 0x10FFFF) return fail(p, "pattern: %s", "bad \\u{} escape");
            p->i++;
            *cp = v;
            return 1;
        }
        if (read_hex(p, 4, cp)) return fail(p, "pattern: %s", "bad \\u escape");
        if (*cp >= 0xD800 && *cp <= 0xDBFF && p->i + 6 <= p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
            size_t save = p->i;
            uint32_t lo;
            p->i += 2;
            if (!read_hex(p, 4, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
                return 1;
            }
            p->i = save;
        }
        if (*cp >= 0xD800 && *cp <= 0xDFFF) return fail(p, "pattern: %s is not supported", "a lone surrogate");
        return 1;
    }
    case 'c': {
        p->i++;
        int l = peek(p);
        if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z'))) return fail(p, "pattern: %s", "bad \\c escape");
        p->i++;
        *cp = (uint32_t)(l % 32);
        return 1;
    }
    case 'b':
        if (in_class) {
            p->i++;
            *cp = 8;
            return 1;
        }
        return fail(p, "pattern: %s is not supported", "\\b (word boundary)");
    case 'B': return fail(p, "pattern: %s is not supported", "\\B (word boundary)");
    case 'k': return fail(p, "pattern: %s is not supported", "\\k (back-reference)");
    case 'p':
    case 'P': return fail(p, "pattern: %s is not supported", "\\p{...} (Unicode property)");
    default:
        if (c >= '1' && c <= '9') return fail(p, "pattern: %s is not supported", "a back-reference");
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            char e[4] = {'\\', (char)c, 0, 0};
            return fail(p, "pattern: unknown escape %s", e);
        }
        /* identity escape of punctuation (also '-' and '/' everywhere, like Python) */
        *cp = next_cp(p);
        return 1;
    }
}

static int parse_alt(parser *p);

static int parse_class(parser *p) {
    /* p->i just after '[' */
    int id = new_node(p, RX_SET);
    if (id < 0) return -1;
    olm_cpset set = {0};
    bool neg = false;
    if (peek(p) == '^') {
        neg = true;
        p->i++;
    }
    bool first = true;
    for (;;) {
        if (at_end(p)) {
            VEC_FREE(set.r);
            return fail(p, "pattern: %s", "unterminated [");
        }
        int c = peek(p);
        if (c == ']' && !first) {
            p->i++;
            break;
        }
        if (c == ']' && first) { /* JS: [] matches nothing, [^] anything */
            p->i++;
            break;
        }
        first = false;
        uint32_t lo;
        olm_cpset esc = {0};
        int k;
        if (c == '\\') {
            p->i++;
            k = parse_escape(p, true, &lo, &esc);
        } else {
            lo = next_cp(p);
            k = 1;
        }
        if (k < 0) {
            VEC_FREE(set.r);
            VEC_FREE(esc.r);
            return -1;
        }
        if (k == 2) {
            bool ok = set_add_set(&set, &esc);
            VEC_FREE(esc.r);
            if (!ok) goto oom;
            continue;
        }
        /* a range? */
        if (peek(p) == '-' && p->i + 1 < p->n && p->s[p->i + 1] != ']') {
            size_t save = p->i;
            p->i++;
            uint32_t hi;
            olm_cpset esc2 = {0};
            int k2;
            if (peek(p) == '\\') {
                p->i++;
                k2 = parse_escape(p, true, &hi, &esc2);
            } else {
                hi = next_cp(p);
                k2 = 1;
            }
            if (k2 < 0) {
                VEC_FREE(set.r);
                return -1;
            }
            if (k2 == 2) { /* [a-\d]: '-' is literal */
                VEC_FREE(esc2.r);
                p->i = save;
                if (!set_add(&set, lo, lo)) goto oom;
                continue;
            }
            if (hi < lo) {
                VEC_FREE(set.r);
                return fail(p, "pattern: %s", "range out of order in character class");
            }
            if (!set_add(&set, lo, hi)) goto oom;
            continue;
        }
        if (!set_add(&set, lo, lo)) goto oom;
    }
    if (p->icase && !set_fold(&set)) goto oom;
    if (neg && !set_negate(&set)) goto oom;
    p->nodes.v[id].set = set;
    return id;
oom:
    VEC_FREE(set.r);
    p->oom = true;
    return -1;
}

static int parse_atom(parser *p) {
    int c = peek(p);
    if (c == '(') {
        p->i++;
        if (peek(p) == '?') {
            p->i++;
            int d = peek(p);
            if (d == ':') p->i++;
            else if (d == '<' && p->i + 1 < p->n && p->s[p->i + 1] != '=' && p->s[p->i + 1] != '!') {
                while (!at_end(p) && peek(p) != '>') p->i++; /* named group: the name is irrelevant */
                if (at_end(p)) return fail(p, "pattern: %s", "unterminated group name");
                p->i++;
            } else if (d == '=' || d == '!' || d == '<')
                return fail(p, "pattern: %s is not supported", "lookaround (?=, ?!, ?<=, ?<!)");
            else
                return fail(p, "pattern: %s is not supported", "this (? group");
        }
        if (++p->depth > RX_MAX_DEPTH) return fail(p, "pattern: %s", "nested too deeply");
        int r = parse_alt(p);
        p->depth--;
        if (r < 0) return -1;
        if (peek(p) != ')') return fail(p, "pattern: %s", "missing )");
        p->i++;
        return r;
    }
    if (c == '[') {
        p->i++;
        return parse_class(p);
    }
    if (c == '^') {
        p->i++;
        return new_node(p, RX_BOL);
    }
    if (c == '$') {
        p->i++;
        return new_node(p, RX_EOL);
    }
    int id = new_node(p, RX_SET);
    if (id < 0) return -1;
    olm_cpset set = {0};
    bool ok;
    if (c == '.') {
        p->i++;
        ok = class_dot(&set);
    } else if (c == '\\') {
        p->i++;
        uint32_t cp;
        int k = parse_escape(p, false, &cp, &set);
        if (k < 0) {
            VEC_FREE(set.r);
            return -1;
        }
        ok = k == 2 || set_add(&set, cp, cp);
    } else if (c == '*' || c == '+' || c == '?' || c == ')' || c == '|') {
        return fail(p, "pattern: %s", "nothing to repeat");
    } else {
        uint32_t cp = next_cp(p);
        ok = set_add(&set, cp, cp);
    }
    if (ok && p->icase) ok = set_fold(&set);
    if (!ok) {
        VEC_FREE(set.r);
        p->oom = true;
        return -1;
    }
    p->nodes.v[id].set = set;
    return id;
}

/* {n}, {n,}, {n,m}; returns 1 when a quantifier was read, 0 when '{' is literal. */
static int parse_braces(parser *p, int *mn, int *mx) {
    size_t save = p->i;
    p->i++;
    long a = -1, b = -1;
    bool comma = false;
    while (peek(p) >= '0' && peek(p) <= '9') {
        a = (a < 0 ? 0 : a) * 10 + (peek(p) - '0');
        if (a > 100000) a = 100000;
        p->i++;
    }
    if (peek(p) == ',') {
        comma = true;
        p->i++;
        while (peek(p) >= '0' && peek(p) <= '9') {
            b = (b < 0 ? 0 : b) * 10 + (peek(p) - '0');
            if (b > 100000) b = 100000;
            p->i++;
        }
    }
    if (peek(p) != '}' || a < 0) {
        p->i = save; /* literal '{' (as JavaScript without u, and Python, read it) */
        return 0;
    }
    p->i++;
    *mn = (int)a;
    *mx = comma ? (b < 0 ? -1 : (int)b) : (int)a;
    return 1;
}

static int parse_quant(parser *p) {
    int a = parse_atom(p);
    if (a < 0) return -1;
    for (;;) {
        int c = peek(p), mn, mx;
        if (c == '*') mn = 0, mx = -1;
        else if (c == '+') mn = 1, mx = -1;
        else if (c == '?') mn = 0, mx = 1;
        else if (c == '{') {
            int r = parse_braces(p, &mn, &mx);
            if (!r) return a; /* handled by the caller as a literal */
            p->i--;           /* compensate the ++ below */
        } else
            return a;
        p->i++;
        if (peek(p) == '?') p->i++; /* lazy: same language */
        int k = p->nodes.v[a].kind;
        if (k == RX_BOL || k == RX_EOL) return fail(p, "pattern: %s", "nothing to repeat");
        if (mx >= 0 && mx < mn) return fail(p, "pattern: %s", "numbers out of order in {} quantifier");
        if (mn > RX_MAX_REPEAT || mx > RX_MAX_REPEAT) return fail(p, "pattern: %s", "repetition count too large");
        int r = new_node(p, RX_REP);
        if (r < 0 || !add_kid(p, r, a)) return -1;
        p->nodes.v[r].min = mn;
        p->nodes.v[r].max = mx;
        a = r;
    }
}

static int parse_cat(parser *p) {
    int id = new_node(p, RX_CAT);
    if (id < 0) return -1;
    while (!at_end(p) && peek(p) != '|' && peek(p) != ')') {
        int q;
        if (peek(p) == '{') { /* a literal brace that is not a quantifier */
            int mn, mx;
            size_t save = p->i;
            if (parse_braces(p, &mn, &mx)) {
                p->i = save;
                return fail(p, "pattern: %s", "nothing to repeat");
            }
            q = new_node(p, RX_SET);
            if (q < 0) return -1;
            p->i++;
            if (!set_add(&p->nodes.v[q].set, '{', '{')) return -1;
            while (peek(p) == '*' || peek(p) == '+' || peek(p) == '?') { /* {* etc: apply to the brace */
                int r = new_node(p, RX_REP), c = peek(p);
                if (r < 0 || !add_kid(p, r, q)) return -1;
                p->nodes.v[r].min = c == '+';
                p->nodes.v[r].max = c == '?' ? 1 : -1;
                p->i++;
                q = r;
            }
        } else
            q = parse_quant(p);
        if (q < 0 || !add_kid(p, id, q)) return -1;
    }
    return id;
}

static int parse_alt(parser *p) {
    int first = parse_cat(p);
    if (first < 0 || peek(p) != '|') return first;
    int id = new_node(p, RX_ALT);
    if (id < 0 || !add_kid(p, id, first)) return -1;
    while (peek(p) == '|') {
        p->i++;
        int c = parse_cat(p);
        if (c < 0 || !add_kid(p, id, c)) return -1;
    }
    return id;
}

/* ---- AST → NFA (Thompson) --------------------------------------------------------- */

static void add_set(olm_nfa *a, uint32_t from, uint32_t to, const olm_cpset *s) {
    for (size_t i = 0; i + 1 < s->r.n; i += 2) olm_nfa_cp_range(a, from, to, s->r.v[i], s->r.v[i + 1]);
}

/* Builds node `id` between from and to. */
static void build(parser *p, olm_nfa *a, int id, uint32_t from, uint32_t to) {
    if (a->overflow) return;
    rx *r = &p->nodes.v[id];
    switch (r->kind) {
    case RX_SET: add_set(a, from, to, &r->set); break;
    case RX_EMPTY: olm_nfa_eps(a, from, to); break;
    case RX_BOL: nfa_bol(a, from, to); break;
    case RX_EOL: nfa_eol(a, from, to); break;
    case RX_CAT: {
        if (!r->nkids) {
            olm_nfa_eps(a, from, to);
            break;
        }
        uint32_t cur = from;
        for (size_t k = 0; k < r->nkids; k++) {
            uint32_t nx = k + 1 == r->nkids ? to : olm_nfa_state(a, true);
            build(p, a, (int)p->nodes.v[id].kids[k], cur, nx);
            cur = nx;
        }
        break;
    }
    case RX_ALT:
        for (size_t k = 0; k < r->nkids; k++) {
            uint32_t s = olm_nfa_state(a, true), e = olm_nfa_state(a, true);
            olm_nfa_eps(a, from, s);
            build(p, a, (int)p->nodes.v[id].kids[k], s, e);
            olm_nfa_eps(a, e, to);
        }
        break;
    case RX_REP: {
        int kid = (int)r->kids[0], mn = r->min, mx = r->max;
        uint32_t cur = from;
        for (int k = 0; k < mn; k++) {
            uint32_t nx = olm_nfa_state(a, true);
            build(p, a, kid, cur, nx);
            cur = nx;
        }
        if (mx < 0) { /* cur -(kid)-> loop */
            uint32_t s = olm_nfa_state(a, true), e = olm_nfa_state(a, true);
            olm_nfa_eps(a, cur, s);
            build(p, a, kid, s, e);
            olm_nfa_eps(a, e, s);
            olm_nfa_eps(a, e, to);
            olm_nfa_eps(a, cur, to);
        } else {
            for (int k = mn; k < mx; k++) {
                uint32_t nx = olm_nfa_state(a, true);
                olm_nfa_eps(a, cur, to);
                build(p, a, kid, cur, nx);
                cur = nx;
            }
            olm_nfa_eps(a, cur, to);
        }
        break;
    }
    }
}

onnxllm_status olm_regex_to_nfa(const char *pattern, size_t len, bool icase, olm_nfa *a, uint32_t from,
                                uint32_t *accept, char *why, size_t why_len) {
    parser p = {(const unsigned char *)pattern, len, 0, {0}, why, why_len, false, 0, icase};
    if (why && why_len) why[0] = 0;
    int root = parse_alt(&p);
    onnxllm_status st = ONNXLLM_OK;
    if (root >= 0 && !at_end(&p)) {
        fail(&p, "pattern: %s", "unmatched )");
        root = -1;
    }
    if (root < 0) {
        if (p.oom) {
            st = ONNXLLM_ERR_OUT_OF_MEMORY;
            if (why && why_len) snprintf(why, why_len, "pattern: out of memory");
        } else
            st = ONNXLLM_ERR_UNSUPPORTED;
    } else {
        /* (any)* pattern (any)* : a search, with ^/$ restricted by the DFA builder */
        olm_cpset any = {0};
        if (!set_add(&any, 0, 0x10FFFF)) st = ONNXLLM_ERR_OUT_OF_MEMORY;
        uint32_t s = olm_nfa_state(a, true), e = olm_nfa_state(a, true), fin = olm_nfa_state(a, true);
        olm_nfa_eps(a, from, s);
        add_set(a, s, s, &any);
        uint32_t ps = olm_nfa_state(a, true);
        olm_nfa_eps(a, s, ps);
        build(&p, a, root, ps, e);
        olm_nfa_eps(a, e, fin);
        add_set(a, fin, fin, &any);
        VEC_FREE(any.r);
        if (a->overflow) {
            st = ONNXLLM_ERR_UNSUPPORTED;
            if (why && why_len) snprintf(why, why_len, "pattern: too large to compile");
        } else {
            a->label.v[fin] = 0;
            *accept = fin;
        }
    }
    for (size_t i = 0; i < p.nodes.n; i++) {
        VEC_FREE(p.nodes.v[i].set.r);
        free(p.nodes.v[i].kids);
    }
    VEC_FREE(p.nodes);
    return st;
}
