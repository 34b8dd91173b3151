/* pretokenizers.c — HF pre-tokenizers: Split, ByteLevel, Metaspace, Digits,
 * Punctuation, Whitespace, WhitespaceSplit, Sequence.
 *
 * A pre-tokenized segment is a list of pieces (byte ranges) over one text buffer
 * (sc->pa.text). Steps that only split emit sub-ranges; steps that change content
 * (Metaspace, ByteLevel's prefix space) append the new content to the buffer.
 * The ByteLevel byte→char mapping itself is not materialized: when ByteLevel is
 * the last step the BPE model reads raw bytes through a 256-entry table (bpe.c).
 * Split semantics follow tokenizers/src/tokenizer/normalizer.rs `split` and
 * pattern.rs `find_matches` (empty pieces dropped). */
#include "tokenizer/tok_internal.h"
#include "common/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool span_push(olm_scratch *sc, size_t s, size_t e, bool m) {
    if (sc->nspans == sc->spans_cap) {
        size_t nc = sc->spans_cap ? sc->spans_cap * 2 : 256;
        void *p = realloc(sc->spans, nc * sizeof *sc->spans);
        if (!p) return false;
        sc->spans = p;
        sc->spans_cap = nc;
    }
    sc->spans[sc->nspans++] = (struct olm_span){(uint32_t)s, (uint32_t)e, m};
    return true;
}

/* ---- find_matches: spans covering [0,n), m = matched by the pattern ------------- */
typedef struct {
    olm_scratch *sc;
    size_t prev;
} span_ctx;

static bool span_match(void *user, size_t ms, size_t me) {
    span_ctx *c = user;
    if (ms != c->prev && !span_push(c->sc, c->prev, ms, false)) return false;
    c->prev = me;
    return span_push(c->sc, ms, me, true);
}

static bool pattern_matches(const olm_pattern *p, const char *s, size_t n, olm_scratch *sc) {
    span_ctx c = {sc, 0};
    if (!olm_pattern_foreach(p, s, n, &sc->md, span_match, &c)) return false;
    return c.prev == n || span_push(sc, c.prev, n, false);
}

typedef bool (*char_pred)(int32_t cp, const olm_pretok *p);
static bool pred_digit(int32_t cp, const olm_pretok *p) { (void)p; return (olm_char_class(cp) & OLM_CC_N) != 0; } /* char::is_numeric */
static bool pred_punct(int32_t cp, const olm_pretok *p) {
    (void)p;
    if (cp < 0x80) return cp > 0x20 && cp < 0x7F && ispunct(cp);
    return (olm_char_class(cp) & OLM_CC_P) != 0;
}
static bool pred_ws(int32_t cp, const olm_pretok *p) { (void)p; return (olm_char_class(cp) & OLM_CC_WS) != 0; }
static bool pred_repl(int32_t cp, const olm_pretok *p) { return cp == p->replacement; }

/* each matching char is its own match (pattern.rs, impl Pattern for Fn(char)) */
static bool pred_matches(char_pred f, const olm_pretok *p, const char *s, size_t n, olm_scratch *sc) {
    size_t last = 0, i = 0;
    while (i < n) {
        int32_t cp;
        int l = olm_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (f(cp, p)) {
            if (last < i && !span_push(sc, last, i, false)) return false;
            if (!span_push(sc, i, i + (size_t)l, true)) return false;
            last = i + (size_t)l;
        }
        i += (size_t)l;
    }
    if (n > last && !span_push(sc, last, n, false)) return false;
    return true;
}

/* Applies behaviour + invert to sc->spans of a piece at `base` and pushes the kept
 * non-empty pieces to out. */
static bool apply_behavior(olm_split_behavior b, bool invert, size_t base, bool first, olm_scratch *sc,
                           olm_pieces *out) {
    struct olm_span *v = sc->spans;
    size_t n = sc->nspans, k = 0;
    if (invert)
        for (size_t i = 0; i < n; i++) v[i].m = !v[i].m;
    /* rewrite v in place into (range, remove) entries, as the Rust fold does */
    switch (b) {
    case SPLIT_ISOLATED:
        for (size_t i = 0; i < n; i++) v[i].m = false;
        k = n;
        break;
    case SPLIT_REMOVED: k = n; break;
    case SPLIT_CONTIGUOUS: {
        bool prevm = false;
        for (size_t i = 0; i < n; i++) {
            bool m = v[i].m;
            if (m == prevm && k > 0) v[k - 1].e = v[i].e;
            else v[k++] = (struct olm_span){v[i].s, v[i].e, false};
            prevm = m;
        }
        break;
    }
    case SPLIT_MERGED_PREV: {
        bool prevm = false;
        for (size_t i = 0; i < n; i++) {
            bool m = v[i].m;
            if (m && !prevm && k > 0) v[k - 1].e = v[i].e;
            else v[k++] = (struct olm_span){v[i].s, v[i].e, false};
            prevm = m;
        }
        break;
    }
    case SPLIT_MERGED_NEXT: { /* fold from the right */
        bool prevm = false;
        size_t w = n; /* write from the end */
        for (size_t i = n; i-- > 0;) {
            bool m = v[i].m;
            if (m && !prevm && w < n) v[w].s = v[i].s;
            else v[--w] = (struct olm_span){v[i].s, v[i].e, false};
            prevm = m;
        }
        memmove(v, v + w, (n - w) * sizeof *v);
        k = n - w;
        break;
    }
    }
    for (size_t i = 0; i < k; i++) {
        if (v[i].m || v[i].e == v[i].s) continue;
        if (!olm_pieces_push(out, base + v[i].s, v[i].e - v[i].s, first && v[i].s == 0)) return false;
    }
    return true;
}

/* ---- steps ------------------------------------------------------------------------- */
static bool step_split(const olm_pretok *p, olm_scratch *sc, olm_pieces *out) {
    for (size_t k = 0; k < sc->pa.n; k++) {
        olm_piece pc = sc->pa.v[k];
        const char *s = sc->pa.text.p + pc.off;
        size_t n = pc.len;
        if (p->kind == PRE_SPLIT && p->scanner != SCAN_NONE &&
            (p->behavior == SPLIT_ISOLATED || (p->behavior == SPLIT_REMOVED && p->invert))) {
            /* hot path: every regex match is one piece, the pattern covers all chars */
            for (size_t i = 0; i < n;) {
                size_t l = olm_scan_next(p->scanner, (const unsigned char *)s, n, i);
                if (!olm_pieces_push(out, pc.off + i, l, pc.first && i == 0)) return false;
                i += l;
            }
            continue;
        }
        sc->nspans = 0;
        bool ok = true;
        olm_split_behavior beh = p->behavior;
        bool inv = p->invert;
        switch (p->kind) {
        case PRE_SPLIT:
            if (p->scanner != SCAN_NONE) {
                for (size_t i = 0; i < n && ok;) {
                    size_t l = olm_scan_next(p->scanner, (const unsigned char *)s, n, i);
                    ok = span_push(sc, i, i + l, true);
                    i += l;
                }
            } else
                ok = pattern_matches(&p->pat, s, n, sc);
            break;
        case PRE_DIGITS:
            ok = pred_matches(pred_digit, p, s, n, sc);
            beh = p->individual_digits ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS;
            inv = false;
            break;
        case PRE_PUNCT: ok = pred_matches(pred_punct, p, s, n, sc); inv = false; break;
        case PRE_WHITESPACE_SPLIT:
            ok = pred_matches(pred_ws, p, s, n, sc);
            beh = SPLIT_REMOVED;
            inv = false;
            break;
        case PRE_WHITESPACE: /* \w+|[^\w\s]+ , Removed, inverted */
            ok = pattern_matches(&p->pat, s, n, sc);
            beh = SPLIT_REMOVED;
            inv = true;
            break;
        default: return false;
        }
        if (!ok || !apply_behavior(beh, inv, pc.off, pc.first, sc, out)) return false;
    }
    return true;
}

/* Metaspace: ' ' → replacement, optional prepend, optional split (MergedWithNext). */
static bool step_metaspace(const olm_pretok *p, olm_scratch *sc, olm_pieces *out) {
    olm_buf *t = &sc->pa.text;
    for (size_t k = 0; k < sc->pa.n; k++) {
        olm_piece pc = sc->pa.v[k];
        if (!olm_buf_reserve(t, (size_t)pc.len * 4 + 4)) return false;
        size_t start = t->len;
        const char *s = t->p + pc.off; /* valid: reserve done above */
        bool starts_repl = pc.len >= (size_t)p->repl_len && memcmp(s, p->repl_utf8, (size_t)p->repl_len) == 0;
        bool starts_space = pc.len > 0 && s[0] == ' ';
        bool pre = false;
        if (p->prepend == PREPEND_ALWAYS) pre = !(starts_repl || starts_space);
        else if (p->prepend == PREPEND_FIRST) pre = !(starts_repl || starts_space) && pc.first;
        char *d = t->p + t->len;
        if (pre) { memcpy(d, p->repl_utf8, (size_t)p->repl_len); d += p->repl_len; }
        for (size_t i = 0; i < pc.len; i++) {
            if (s[i] == ' ') { memcpy(d, p->repl_utf8, (size_t)p->repl_len); d += p->repl_len; }
            else *d++ = s[i];
        }
        size_t nlen = (size_t)(d - (t->p + start));
        t->len += nlen;
        t->p[t->len] = 0;
        if (!p->split) {
            if (nlen && !olm_pieces_push(out, start, nlen, pc.first)) return false;
            continue;
        }
        sc->nspans = 0;
        if (!pred_matches(pred_repl, p, t->p + start, nlen, sc) ||
            !apply_behavior(SPLIT_MERGED_NEXT, false, start, pc.first, sc, out))
            return false;
    }
    return true;
}

static bool step_bytelevel(const olm_pretok *p, olm_scratch *sc, olm_pieces *out) {
    olm_buf *t = &sc->pa.text;
    for (size_t k = 0; k < sc->pa.n; k++) {
        olm_piece pc = sc->pa.v[k];
        size_t off = pc.off, len = pc.len;
        if (p->add_prefix_space && !(len && t->p[off] == ' ')) {
            if (!olm_buf_reserve(t, len + 1)) return false;
            size_t start = t->len;
            t->p[t->len++] = ' ';
            memcpy(t->p + t->len, t->p + off, len);
            t->len += len;
            t->p[t->len] = 0;
            off = start;
            len++;
        }
        if (!p->use_regex) {
            if (len && !olm_pieces_push(out, off, len, pc.first)) return false;
            continue;
        }
        for (size_t i = 0; i < len;) {
            size_t l = olm_scan_next(SCAN_GPT2, (const unsigned char *)t->p + off, len, i);
            if (!olm_pieces_push(out, off + i, l, pc.first && i == 0)) return false;
            i += l;
        }
    }
    return true;
}

static bool run_step(const olm_pretok *p, olm_scratch *sc) {
    if (p->kind == PRE_SEQUENCE) {
        for (size_t i = 0; i < p->nkids; i++)
            if (!run_step(&p->kids[i], sc)) return false;
        return true;
    }
    sc->pb.n = 0;
    bool ok;
    switch (p->kind) {
    case PRE_METASPACE: ok = step_metaspace(p, sc, &sc->pb); break;
    case PRE_BYTELEVEL: ok = step_bytelevel(p, sc, &sc->pb); break;
    default: ok = step_split(p, sc, &sc->pb); break;
    }
    if (!ok) return false;
    olm_piece *v = sc->pa.v;
    size_t cap = sc->pa.cap;
    sc->pa.v = sc->pb.v;
    sc->pa.n = sc->pb.n;
    sc->pa.cap = sc->pb.cap;
    sc->pb.v = v;
    sc->pb.cap = cap;
    sc->pb.n = 0;
    return true;
}

bool olm_pretokenize(const onnxllm_tokenizer *t, const char *s, size_t n, bool first, olm_scratch *sc) {
    sc->pa.text.len = 0;
    sc->pa.n = 0;
    if (!olm_buf_put(&sc->pa.text, s, n)) return false;
    if (n && !olm_pieces_push(&sc->pa, 0, n, first)) return false;
    if (!t->pretok || !n) return true;
    return run_step(t->pretok, sc);
}

/* ---- parsing ------------------------------------------------------------------------ */
static onnxllm_status parse_behavior(const cJSON *j, const char *file, olm_split_behavior *b, onnxllm_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "behavior");
    if (!cJSON_IsString(v))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: pre_tokenizer: 'behavior' must be a string", file);
    const char *s = v->valuestring;
    if (!strcmp(s, "Removed")) *b = SPLIT_REMOVED;
    else if (!strcmp(s, "Isolated")) *b = SPLIT_ISOLATED;
    else if (!strcmp(s, "MergedWithPrevious")) *b = SPLIT_MERGED_PREV;
    else if (!strcmp(s, "MergedWithNext")) *b = SPLIT_MERGED_NEXT;
    else if (!strcmp(s, "Contiguous")) *b = SPLIT_CONTIGUOUS;
    else return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: pre_tokenizer: unknown split behavior '%s'", file, s);
    return ONNXLLM_OK;
}

static bool jbool(const cJSON *j, const char *k, bool dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static onnxllm_status parse_any(const cJSON *j, const char *file, void *p, onnxllm_error *err);
static void free_any(void *p);

onnxllm_status olm_pretok_parse(const cJSON *j, const char *file, olm_pretok *p, onnxllm_error *err) {
    memset(p, 0, sizeof *p);
    if (!cJSON_IsObject(j)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: pre_tokenizer: expected an object, got %s", file, olm_json_type(j));
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: pre_tokenizer: missing string 'type'", file);
    const char *type = ty->valuestring;
    onnxllm_status st;
    if (!strcmp(type, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers");
        if (!cJSON_IsArray(arr)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: pre_tokenizer Sequence: 'pretokenizers' must be an array", file);
        p->kind = PRE_SEQUENCE;
        return olm_parse_sequence(arr, sizeof *p->kids, (void **)&p->kids, &p->nkids, file, parse_any, free_any, err);
    }
    if (!strcmp(type, "Split")) {
        p->kind = PRE_SPLIT;
        if ((st = olm_pattern_parse(cJSON_GetObjectItemCaseSensitive(j, "pattern"), "pre_tokenizer Split", file, &p->pat, err))) return st;
        if (p->pat.re) {
            p->scanner = olm_scanner_for(p->pat.str);
            if (p->scanner != SCAN_NONE) { /* the scanner replaces PCRE2 */
                pcre2_code_free(p->pat.re);
                p->pat.re = NULL;
            }
        }
        p->invert = jbool(j, "invert", false);
        return parse_behavior(j, file, &p->behavior, err);
    }
    if (!strcmp(type, "ByteLevel")) {
        p->kind = PRE_BYTELEVEL;
        p->add_prefix_space = jbool(j, "add_prefix_space", true);
        p->use_regex = jbool(j, "use_regex", true);
        return ONNXLLM_OK;
    }
    if (!strcmp(type, "Metaspace")) {
        p->kind = PRE_METASPACE;
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "replacement");
        if (!cJSON_IsString(r) || !r->valuestring[0])
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: pre_tokenizer Metaspace: 'replacement' must be a one-character string", file);
        size_t rl = strlen(r->valuestring);
        int l = olm_utf8_decode((const unsigned char *)r->valuestring, rl, &p->replacement);
        if ((size_t)l != rl)
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: pre_tokenizer Metaspace: 'replacement' must be one character", file);
        memcpy(p->repl_utf8, r->valuestring, rl);
        p->repl_len = l;
        p->split = jbool(j, "split", true);
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "prepend_scheme");
        if (cJSON_IsString(ps)) {
            if (!strcmp(ps->valuestring, "always")) p->prepend = PREPEND_ALWAYS;
            else if (!strcmp(ps->valuestring, "first")) p->prepend = PREPEND_FIRST;
            else if (!strcmp(ps->valuestring, "never")) p->prepend = PREPEND_NEVER;
            else return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: pre_tokenizer Metaspace: unknown prepend_scheme '%s'", file, ps->valuestring);
        } else /* legacy files: add_prefix_space */
            p->prepend = jbool(j, "add_prefix_space", true) ? PREPEND_ALWAYS : PREPEND_NEVER;
        return ONNXLLM_OK;
    }
    if (!strcmp(type, "Digits")) {
        p->kind = PRE_DIGITS;
        p->individual_digits = jbool(j, "individual_digits", false);
        return ONNXLLM_OK;
    }
    if (!strcmp(type, "Punctuation")) {
        p->kind = PRE_PUNCT;
        if (cJSON_GetObjectItemCaseSensitive(j, "behavior")) return parse_behavior(j, file, &p->behavior, err);
        p->behavior = SPLIT_ISOLATED;
        return ONNXLLM_OK;
    }
    if (!strcmp(type, "Whitespace")) {
        p->kind = PRE_WHITESPACE;
        return olm_pattern_regex(&p->pat, "\\w+|[^\\w\\s]+", "pre_tokenizer Whitespace", file, err);
    }
    if (!strcmp(type, "WhitespaceSplit")) {
        p->kind = PRE_WHITESPACE_SPLIT;
        return ONNXLLM_OK;
    }
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: unsupported pre_tokenizer type '%s'", file, type);
}

static onnxllm_status parse_any(const cJSON *j, const char *file, void *p, onnxllm_error *err) {
    return olm_pretok_parse(j, file, p, err);
}
static void free_any(void *p) { olm_pretok_free(p); }

void olm_pretok_free(olm_pretok *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nkids; i++) olm_pretok_free(&p->kids[i]);
    free(p->kids);
    olm_pattern_free(&p->pat);
}
