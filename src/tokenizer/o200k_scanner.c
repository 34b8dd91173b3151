/* o200k_scanner.c — hand-written, exact scanners for the split regexes of the
 * byte-level tokenizers people actually ship; every other pattern goes to PCRE2.
 *
 *  O200K  (GPT-4o, Phi-4-mini, gpt-oss):
 *    [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *   |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *   |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *  CL100K (Llama-3) / QWEN (Qwen2/3: \p{N} instead of \p{N}{1,3}):
 *    (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
 *   |\s*[\r\n]+|\s+(?!\S)|\s+
 *  GPT2 (ByteLevel use_regex):
 *    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * Each function returns the length of the match a backtracking engine (Oniguruma,
 * PCRE2) finds at position i: alternatives in order, first success wins; greedy
 * quantifiers give back characters one at a time, which for these patterns reduces
 * to the closed forms commented below. The alternations cover every character, so
 * a match always exists and has length >= 1. (?i:...) uses simple case folding:
 * ASCII case pairs plus U+017F LATIN SMALL LETTER LONG S folding to 's'. */
#include "tokenizer/tok_internal.h"

#include <string.h>

typedef struct {
    const unsigned char *s;
    size_t n;
} txt;

static inline unsigned cls_at(txt t, size_t i, size_t *len) {
    unsigned char c = t.s[i];
    if (c < 0x80) {
        *len = 1;
        return olm_char_class(c);
    }
    int32_t cp;
    *len = (size_t)olm_utf8_decode(t.s + i, t.n - i, &cp);
    return olm_char_class(cp);
}

#define U_SET (OLM_CC_LU | OLM_CC_LT | OLM_CC_LM | OLM_CC_LO | OLM_CC_M)
#define W_SET (OLM_CC_LL | OLM_CC_LM | OLM_CC_LO | OLM_CC_M)

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: its length or 0. */
static size_t contraction(txt t, size_t i) {
    if (i >= t.n || t.s[i] != '\'' || i + 1 >= t.n) return 0;
    unsigned char c = t.s[i + 1];
    if (c == 0xC5 && i + 2 < t.n && t.s[i + 2] == 0xBF) return 3; /* 'ſ */
    c |= 0x20;
    if (c == 's' || c == 't' || c == 'm' || c == 'd') return 2;
    if (i + 2 >= t.n) return 0;
    unsigned char d = t.s[i + 2] | 0x20;
    if ((c == 'r' || c == 'v') && d == 'e') return 3;
    if (c == 'l' && d == 'l') return 3;
    return 0;
}

/* not \r \n L N: the optional leading char of the word alternatives */
static inline bool word_prefix_ok(txt t, size_t i, size_t *len) {
    unsigned c = cls_at(t, i, len);
    return !(c & (OLM_CC_L | OLM_CC_N)) && t.s[i] != '\r' && t.s[i] != '\n';
}

/* o200k alternative 1 body from s: U* W+ — the last W char inside the maximal U run
 * (or a W run right after it) ends the match. Returns end or 0. */
static size_t o200k_alt1(txt t, size_t s) {
    size_t i = s, last_w_end = 0, l;
    while (i < t.n) {
        unsigned c = cls_at(t, i, &l);
        if (!(c & U_SET)) break;
        if (c & W_SET) last_w_end = i + l;
        i += l;
    }
    /* U* stopped at i: a W char there (only Ll can be W and not U) starts a W run */
    if (i < t.n) {
        unsigned c = cls_at(t, i, &l);
        if (c & W_SET) {
            i += l;
            while (i < t.n && (cls_at(t, i, &l) & W_SET)) i += l;
            return i;
        }
    }
    return last_w_end; /* backtracking U* to the last char that is also W */
}

/* o200k alternative 2 body from s: U+ W* (only reached when alt 1 failed, so W* is
 * empty unless the run after U+ is W — handled for exactness anyway). */
static size_t o200k_alt2(txt t, size_t s) {
    size_t i = s, l;
    while (i < t.n && (cls_at(t, i, &l) & U_SET)) i += l;
    if (i == s) return 0;
    while (i < t.n && (cls_at(t, i, &l) & W_SET)) i += l;
    return i;
}

/* shared tail alternatives: \s*[\r\n]+ | \s+(?!\S) | \s+   (i is whitespace) */
static size_t space_alts(txt t, size_t i) {
    size_t j = i, l, last_nl = 0;
    while (j < t.n && (cls_at(t, j, &l) & OLM_CC_WS)) {
        if (t.s[j] == '\r' || t.s[j] == '\n') last_nl = j + 1;
        j += l;
    }
    if (last_nl) return last_nl - i;  /* \s*[\r\n]+ backtracks to the last newline */
    if (j == t.n) return j - i;       /* \s+(?!\S) at end of text */
    /* \s+(?!\S): give back the last whitespace char if that leaves at least one */
    size_t k = j, pl = 0;
    /* find start of the last whitespace char before j */
    k = j - 1;
    while (k > i && (t.s[k] & 0xC0) == 0x80) k--;
    pl = k;
    if (pl > i) return pl - i;
    return j - i; /* \s+ : a single whitespace char followed by non-space */
}

/* ` ?[^\s\p{L}\p{N}]+` + tail class; `slash` adds '/' to the tail [\r\n/]* */
static size_t punct_alt(txt t, size_t i, bool slash) {
    size_t j = i, l;
    if (t.s[j] == ' ' && j + 1 < t.n) {
        unsigned c = cls_at(t, j + 1, &l);
        if (!(c & (OLM_CC_WS | OLM_CC_L | OLM_CC_N))) j++;
    }
    size_t k = j;
    while (k < t.n) {
        unsigned c = cls_at(t, k, &l);
        if (c & (OLM_CC_WS | OLM_CC_L | OLM_CC_N)) break;
        k += l;
    }
    if (k == j) return 0;
    while (k < t.n && (t.s[k] == '\r' || t.s[k] == '\n' || (slash && t.s[k] == '/'))) k++;
    return k - i;
}

static size_t scan_o200k(txt t, size_t i) {
    size_t l0, l;
    bool pre = word_prefix_ok(t, i, &l0);
    /* alternative 1, with the optional prefix char first (greedy ?) */
    size_t e = 0;
    if (pre && i + l0 < t.n) e = o200k_alt1(t, i + l0);
    if (!e) e = o200k_alt1(t, i);
    if (!e) {
        if (pre && i + l0 < t.n) e = o200k_alt2(t, i + l0);
        if (!e) e = o200k_alt2(t, i);
    }
    if (e) return e + contraction(t, e) - i;
    unsigned c = cls_at(t, i, &l);
    if (c & OLM_CC_N) { /* \p{N}{1,3} */
        size_t j = i + l;
        for (int k = 1; k < 3 && j < t.n && (cls_at(t, j, &l) & OLM_CC_N); k++) j += l;
        return j - i;
    }
    size_t p = punct_alt(t, i, true);
    if (p) return p;
    return space_alts(t, i);
}

static size_t scan_cl100k(txt t, size_t i, int max_digits) {
    size_t l0, l;
    size_t c = contraction(t, i);
    if (c) return c;
    bool pre = word_prefix_ok(t, i, &l0);
    if (pre && i + l0 < t.n && (cls_at(t, i + l0, &l) & OLM_CC_L)) {
        size_t j = i + l0;
        while (j < t.n && (cls_at(t, j, &l) & OLM_CC_L)) j += l;
        return j - i;
    }
    unsigned k = cls_at(t, i, &l);
    if (k & OLM_CC_L) {
        size_t j = i;
        while (j < t.n && (cls_at(t, j, &l) & OLM_CC_L)) j += l;
        return j - i;
    }
    if (k & OLM_CC_N) {
        size_t j = i + l;
        for (int d = 1; d < max_digits && j < t.n && (cls_at(t, j, &l) & OLM_CC_N); d++) j += l;
        return j - i;
    }
    size_t p = punct_alt(t, i, false);
    if (p) return p;
    return space_alts(t, i);
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static size_t scan_gpt2(txt t, size_t i) {
    size_t l;
    if (t.s[i] == '\'' && i + 1 < t.n) {
        unsigned char c = t.s[i + 1];
        if (c == 's' || c == 't' || c == 'm' || c == 'd') return 2;
        if (i + 2 < t.n) {
            unsigned char d = t.s[i + 2];
            if (((c == 'r' || c == 'v') && d == 'e') || (c == 'l' && d == 'l')) return 3;
        }
    }
    size_t j = i;
    if (t.s[j] == ' ' && j + 1 < t.n) j++;
    unsigned c = cls_at(t, j, &l);
    unsigned want = (c & OLM_CC_L) ? OLM_CC_L : (c & OLM_CC_N) ? OLM_CC_N : 0;
    if (want) {
        while (j < t.n && (cls_at(t, j, &l) & want)) j += l;
        return j - i;
    }
    if (!(c & OLM_CC_WS)) {
        while (j < t.n && !(cls_at(t, j, &l) & (OLM_CC_WS | OLM_CC_L | OLM_CC_N))) j += l;
        return j - i;
    }
    /* \s+(?!\S) | \s+ (no newline alternative in GPT-2's pattern) */
    j = i;
    while (j < t.n && (cls_at(t, j, &l) & OLM_CC_WS)) j += l;
    if (j == t.n) return j - i;
    size_t k = j - 1;
    while (k > i && (t.s[k] & 0xC0) == 0x80) k--;
    return k > i ? k - i : j - i;
}

size_t olm_scan_next(olm_scanner kind, const unsigned char *s, size_t n, size_t i) {
    txt t = {s, n};
    switch (kind) {
    case SCAN_O200K: return scan_o200k(t, i);
    case SCAN_CL100K: return scan_cl100k(t, i, 3);
    case SCAN_QWEN: return scan_cl100k(t, i, 1);
    case SCAN_GPT2: return scan_gpt2(t, i);
    default: return 0;
    }
}

static const char O200K_RE[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char CL100K_RE[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char QWEN_RE[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

olm_scanner olm_scanner_for(const char *re) {
    if (!strcmp(re, O200K_RE)) return SCAN_O200K;
    if (!strcmp(re, CL100K_RE)) return SCAN_CL100K;
    if (!strcmp(re, QWEN_RE)) return SCAN_QWEN;
    return SCAN_NONE;
}
