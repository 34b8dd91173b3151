/* tokenizer.c — loading tokenizer.json and the public encode/decode/lookup API.
 *
 * Loading follows the order of HF's TokenizerImpl deserialization: model, then
 * the pipeline components, then added tokens (whose ids depend on the vocab).
 * Anything we do not implement is rejected with ONNXLLM_ERR_UNSUPPORTED and the
 * component's name — a tokenizer that silently skips a step gives wrong ids. */
#include "tokenizer/tok_internal.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/checked.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


/* HF compiles patterns with Oniguruma, where \s is White_Space and \w is
 * Alphabetic|Mark|Decimal_Number|Connector_Punctuation|Join_Control. PCRE2 (even with UCP)
 * differs: its \s also matches U+180E, its \w (10.42) lacks marks. So the
 * shorthand classes are spelled out before compiling. */
#define WS_SET "\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
#define W_SET "\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}\\x{200c}\\x{200d}"
bool olm_regex_translate(const char *re, olm_buf *out) {
    bool in_class = false;
    size_t class_start = 0;
    out->len = 0;
    for (size_t i = 0; re[i]; i++) {
        char c = re[i];
        const char *rep = NULL;
        if (c == '\\' && re[i + 1]) {
            char e = re[++i];
            if (in_class) {
                if (e == 's') rep = WS_SET;
                else if (e == 'w') rep = W_SET;
                else if (e == 'd') rep = "\\p{Nd}";
            } else {
                if (e == 's') rep = "[" WS_SET "]";
                else if (e == 'S') rep = "[^" WS_SET "]";
                else if (e == 'w') rep = "[" W_SET "]";
                else if (e == 'W') rep = "[^" W_SET "]";
                else if (e == 'd') rep = "\\p{Nd}";
                else if (e == 'D') rep = "\\P{Nd}";
            }
            if (rep) {
                if (!olm_buf_put(out, rep, strlen(rep))) return false;
            } else if (!olm_buf_putc(out, '\\') || !olm_buf_putc(out, e))
                return false;
            continue;
        }
        if (!in_class && c == '[') {
            in_class = true;
            class_start = i + 1;
            if (re[class_start] == '^') class_start++;
        } else if (in_class && c == ']' && i != class_start)
            in_class = false;
        if (!olm_buf_putc(out, c)) return false;
    }
    return olm_buf_reserve(out, 0);
}

onnxllm_status olm_pattern_parse(const cJSON *pat, const char *where, const char *file, olm_pattern *out,
                                 onnxllm_error *err) {
    memset(out, 0, sizeof *out);
    const cJSON *s = cJSON_IsObject(pat) ? cJSON_GetObjectItemCaseSensitive(pat, "String") : NULL;
    const cJSON *r = cJSON_IsObject(pat) ? cJSON_GetObjectItemCaseSensitive(pat, "Regex") : NULL;
    if (cJSON_IsString(s)) {
        out->len = strlen(s->valuestring);
        out->str = strdup(s->valuestring);
        return out->str ? ONNXLLM_OK : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    }
    if (!cJSON_IsString(r))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: %s: 'pattern' must be {\"String\": ...} or {\"Regex\": ...}", file, where);
    return olm_pattern_regex(out, r->valuestring, where, file, err);
}

onnxllm_status olm_pattern_regex(olm_pattern *out, const char *re, const char *where, const char *file,
                                 onnxllm_error *err) {
    out->len = strlen(re);
    if (!(out->str = strdup(re))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    int ec;
    PCRE2_SIZE eo;
    olm_buf tr = {0};
    if (!olm_regex_translate(re, &tr)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    out->re = pcre2_compile((PCRE2_SPTR)tr.p, tr.len, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    olm_buf_free(&tr);
    if (!out->re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: %s: cannot compile regex at offset %zu: %s", file, where, (size_t)eo, (char *)msg);
    }
    pcre2_jit_compile(out->re, PCRE2_JIT_COMPLETE); /* optional speed-up; interpreter otherwise */
    if (!(out->mctx = pcre2_match_context_create(NULL))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    pcre2_set_match_limit(out->mctx, OLM_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(out->mctx, OLM_REGEX_MATCH_LIMIT);
    pcre2_set_heap_limit(out->mctx, OLM_REGEX_HEAP_LIMIT_KIB);
    return ONNXLLM_OK;
}

void olm_pattern_free(olm_pattern *p) {
    free(p->str);
    if (p->re) pcre2_code_free(p->re);
    if (p->mctx) pcre2_match_context_free(p->mctx);
    memset(p, 0, sizeof *p);
}

bool olm_pattern_foreach(const olm_pattern *p, const char *s, size_t n, pcre2_match_data **md,
                         bool (*fn)(void *user, size_t start, size_t end), void *user) {
    if (!p->re) {
        if (!p->len) return true;
        for (size_t i = 0; i + p->len <= n;) {
            const char *f = memmem(s + i, n - i, p->str, p->len);
            if (!f) break;
            size_t ms = (size_t)(f - s);
            if (!fn(user, ms, ms + p->len)) return false;
            i = ms + p->len;
        }
        return true;
    }
    if (!*md && !(*md = pcre2_match_data_create(32, NULL))) return false;
    for (size_t at = 0; at <= n;) {
        int rc = pcre2_match(p->re, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, *md, p->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) { /* a limit (or another PCRE2 error): never a silently different result */
            errno = OLM_REGEX_ERRNO;
            return false;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(*md);
        if (!fn(user, ov[0], ov[1])) return false;
        if (ov[1] == ov[0]) { /* empty match: step one character */
            if (ov[1] >= n) break;
            at = ov[1] + (size_t)olm_utf8_len((unsigned char)s[ov[1]]);
        } else
            at = ov[1];
    }
    return true;
}

onnxllm_status olm_parse_sequence(const cJSON *arr, size_t elem, void **kids, size_t *nkids, const char *file,
                                  onnxllm_status (*parse)(const cJSON *, const char *, void *, onnxllm_error *),
                                  void (*fr)(void *), onnxllm_error *err) {
    size_t n = (size_t)cJSON_GetArraySize(arr);
    char *k = calloc(n ? n : 1, elem);
    *kids = k;
    *nkids = 0;
    if (!k) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        onnxllm_status st = parse(it, file, k + *nkids * elem, err);
        if (st) {
            fr(k + *nkids * elem); /* what the failing one had built */
            return st;
        }
        (*nkids)++;
    }
    return ONNXLLM_OK;
}

void onnxllm_tokens_free(onnxllm_tokens *t) {
    if (!t) return;
    free(t->ids);
    memset(t, 0, sizeof *t);
}

void onnxllm_string_free(onnxllm_string *s) {
    if (!s) return;
    free(s->data);
    memset(s, 0, sizeof *s);
}

void onnxllm_tokenizer_free(onnxllm_tokenizer *t) {
    if (!t) return;
    olm_strmap_free(&t->vocab);
    olm_pairmap_free(&t->merges);
    free(t->id_str);
    free(t->id_len);
    free(t->is_special);
    free(t->cont_prefix);
    free(t->eow_suffix);
    if (t->normalizer) olm_normalizer_free(t->normalizer);
    free(t->normalizer);
    if (t->pretok) olm_pretok_free(t->pretok);
    free(t->pretok);
    if (t->decoder) olm_decoder_free(t->decoder);
    free(t->decoder);
    olm_postproc_free(&t->post);
    for (size_t i = 0; i < t->n_added; i++) {
        free(t->added[i].content);
        free(t->added[i].norm);
    }
    free(t->added);
    free(t->trie_raw.nodes);
    free(t->trie_norm.nodes);
    free(t->name);
    free(t);
}

/* ByteLevel must be the last pre-tokenizer step (then BPE reads raw bytes). */
static onnxllm_status check_bytelevel(onnxllm_tokenizer *t, const olm_pretok *p, bool last, onnxllm_error *err) {
    if (p->kind == PRE_SEQUENCE) {
        for (size_t i = 0; i < p->nkids; i++) {
            onnxllm_status st = check_bytelevel(t, &p->kids[i], last && i + 1 == p->nkids, err);
            if (st) return st;
        }
        return ONNXLLM_OK;
    }
    if (p->kind == PRE_BYTELEVEL) {
        if (!last) return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: pre_tokenizer: ByteLevel followed by other pre-tokenizers is not supported", t->name);
        t->byte_level = true;
    }
    return ONNXLLM_OK;
}

static onnxllm_status build_tables(onnxllm_tokenizer *t, onnxllm_error *err) {
    int64_t maxid = (int64_t)t->n_ids - 1;
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].id > maxid) maxid = t->added[i].id;
    /* ids the post-processor adds are ids encode returns: the tables cover them */
    for (size_t i = 0; i < t->post.nbefore; i++)
        if (t->post.before[i] > maxid) maxid = t->post.before[i];
    for (size_t i = 0; i < t->post.nafter; i++)
        if (t->post.after[i] > maxid) maxid = t->post.after[i];
    /* The id tables are indexed by id: their size must be justified by the tokens the
     * file defines (a 61-byte file with the id 2147483647 asked calloc for 26 GB). */
    size_t defined = t->vocab.n + t->n_added + t->post.nbefore + t->post.nafter;
    if (!olm_count_justified((uint64_t)maxid + 1, 4 * (uint64_t)defined, 1, OLM_TOK_ID_SLACK))
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED,
                        "%s: token ids go up to %lld for %zu tokens: ids this sparse are not supported", t->name,
                        (long long)maxid, defined);
    t->n_ids = (size_t)(maxid + 1);
    t->id_str = calloc(t->n_ids ? t->n_ids : 1, sizeof *t->id_str);
    t->id_len = calloc(t->n_ids ? t->n_ids : 1, sizeof *t->id_len);
    t->is_special = calloc(t->n_ids ? t->n_ids : 1, 1);
    if (!t->id_str || !t->id_len || !t->is_special) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", t->name);
    for (size_t e = 0; e <= t->vocab.mask; e++) {
        const olm_strslot *en = &t->vocab.slots[e];
        if (!en->tag) continue;
        t->id_str[en->id] = t->vocab.arena + en->off;
        t->id_len[en->id] = en->len;
    }
    for (size_t i = 0; i < t->n_added; i++) {
        olm_added *a = &t->added[i];
        t->id_str[a->id] = a->norm ? a->norm : a->content;
        t->id_len[a->id] = (uint32_t)(a->norm ? a->norm_len : a->len);
    }
    /* HF's is_special_token() compares contents: any id whose string is a special
     * added token's content counts as special */
    for (size_t i = 0; i < t->n_added; i++) {
        olm_added *a = &t->added[i];
        if (!a->special) continue;
        t->is_special[a->id] = 1;
        int32_t v = olm_strmap_get(&t->vocab, a->content, a->len);
        if (v >= 0 && t->id_str[v] && t->id_len[v] == a->len && !memcmp(t->id_str[v], a->content, a->len)) t->is_special[v] = 1;
    }
    if (t->byte_level)
        for (int b = 0; b < 256; b++) {
            char u[4];
            int l = olm_utf8_encode(olm_bytelevel_char((unsigned char)b), u);
            t->byte_id[b] = olm_strmap_get(&t->vocab, u, (size_t)l);
        }
    /* tries: normalized:false tokens match raw text, normalized:true ones match
     * normalized segments (with their content normalized the same way) */
    olm_buf nb = {0}, tmp = {0};
    errno = 0;
    bool ok = olm_trie_add(&t->trie_raw, "", 0, -1) && olm_trie_add(&t->trie_norm, "", 0, -1);
    for (size_t i = 0; i < t->n_added && ok; i++) {
        olm_added *a = &t->added[i];
        if (!a->normalized || !t->normalizer) ok = olm_trie_add(a->normalized ? &t->trie_norm : &t->trie_raw, a->content, a->len, (int32_t)i);
        else {
            ok = olm_normalize(t->normalizer, a->content, a->len, &nb, &tmp) && olm_trie_add(&t->trie_norm, nb.p, nb.len, (int32_t)i);
            /* HF keeps the normalized content as the token's string (id_to_token, decode) */
            if (ok && !(a->norm = malloc(nb.len + 1))) ok = false;
            if (ok) {
                memcpy(a->norm, nb.p ? nb.p : "", nb.len);
                a->norm[nb.len] = 0;
                a->norm_len = nb.len;
                t->id_str[a->id] = a->norm;
                t->id_len[a->id] = (uint32_t)nb.len;
            }
        }
        if (a->normalized) t->any_norm_added = true;
    }
    olm_buf_free(&nb);
    olm_buf_free(&tmp);
    return ok ? ONNXLLM_OK : olm_tok_failure(t, "normalizing the added tokens", err);
}

static onnxllm_status load_json(onnxllm_tokenizer *t, const cJSON *root, const olm_fast_model *fm, onnxllm_error *err) {
    const char *f = t->name;
    if (!cJSON_IsObject(root)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: expected a JSON object at top level, got %s", f, olm_json_type(root));
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "truncation");
    if (tr && !cJSON_IsNull(tr)) return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: 'truncation' is set: not supported (set it to null)", f);
    const cJSON *pd = cJSON_GetObjectItemCaseSensitive(root, "padding");
    if (pd && !cJSON_IsNull(pd)) return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: 'padding' is set: not supported (set it to null)", f);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!model) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: missing 'model'", f);
    onnxllm_status st = olm_bpe_load(t, model, fm, f, err);
    if (st) return st;
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (j && !cJSON_IsNull(j)) {
        if (!(t->normalizer = calloc(1, sizeof *t->normalizer))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", f);
        if ((st = olm_normalizer_parse(j, f, t->normalizer, err))) return st;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (j && !cJSON_IsNull(j)) {
        if (!(t->pretok = calloc(1, sizeof *t->pretok))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", f);
        if ((st = olm_pretok_parse(j, f, t->pretok, err))) return st;
        if ((st = check_bytelevel(t, t->pretok, true, err))) return st;
    }
    if ((st = olm_postproc_parse(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), f, err))) return st;
    j = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (j && !cJSON_IsNull(j)) {
        if (!(t->decoder = calloc(1, sizeof *t->decoder))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", f);
        if ((st = olm_decoder_parse(j, f, t->decoder, err))) return st;
    }
    if ((st = olm_added_load(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), f, err))) return st;
    return build_tables(t, err);
}

onnxllm_status onnxllm_tokenizer_load_from_memory(const char *json, size_t len, const char *name, onnxllm_tokenizer **out,
                                                  onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tokenizer: out is NULL");
    *out = NULL;
    if (!json) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tokenizer: json is NULL");
    onnxllm_tokenizer *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name ? name : "tokenizer.json"))) {
        free(t);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    t->unk_id = -1;
    /* fast path first; on anything unusual the full cJSON parse gives the errors */
    olm_fast_model fm;
    cJSON *root = olm_fast_read(t, json, len, &fm);
    onnxllm_status st = ONNXLLM_OK;
    if (root) st = load_json(t, root, &fm, err);
    else if (!(st = olm_json_parse(json, len, t->name, &root, err)))
        st = load_json(t, root, NULL, err);
    olm_fast_model_free(&fm);
    cJSON_Delete(root);
    if (st) {
        onnxllm_tokenizer_free(t);
        return st;
    }
    *out = t;
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_tokenizer_load(const char *path, onnxllm_tokenizer **out, onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tokenizer: out is NULL");
    *out = NULL;
    if (!path) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tokenizer: path is NULL");
    char *text;
    size_t len;
    onnxllm_status st = olm_read_file(path, &text, &len, err);
    if (st) return st;
    st = onnxllm_tokenizer_load_from_memory(text, len, path, out, err);
    free(text);
    return st;
}

/* ---- encode ------------------------------------------------------------------------- */
static bool model_pieces(const onnxllm_tokenizer *t, const char *s, size_t n, bool first, olm_scratch *sc,
                         onnxllm_tokens *out) {
    if (!olm_pretokenize(t, s, n, first, sc)) return false;
    for (size_t i = 0; i < sc->pa.n; i++)
        if (!olm_bpe_encode(t, sc->pa.text.p + sc->pa.v[i].off, sc->pa.v[i].len, sc, out)) return false;
    return true;
}

static bool encode_segment(const onnxllm_tokenizer *t, const char *s, size_t n, bool first, bool parse_special,
                           olm_scratch *sc, onnxllm_tokens *out) {
    if (t->normalizer) {
        if (!olm_normalize(t->normalizer, s, n, &sc->norm, &sc->tmp)) return false;
        s = sc->norm.p ? sc->norm.p : "";
        n = sc->norm.len;
    }
    if (!t->any_norm_added) return model_pieces(t, s, n, first, sc, out);
    /* normalized added tokens: match them in the normalized segment. The segment
     * lives in sc->norm (or the caller's text), which the model step leaves alone. */
    olm_match m;
    size_t from = 0, floor = 0, resume;
    while (olm_added_next(t, &t->trie_norm, s, n, from, floor, parse_special, &m, &resume)) {
        if (m.start > floor && !model_pieces(t, s + floor, m.start - floor, first && floor == 0, sc, out)) return false;
        if (!olm_tokens_push(out, m.id)) return false;
        floor = m.stop;
        from = resume;
    }
    if (floor < n) return model_pieces(t, s + floor, n - floor, first && floor == 0, sc, out);
    return true;
}

onnxllm_status onnxllm_tokenizer_encode(const onnxllm_tokenizer *t, const char *text, size_t len, unsigned flags,
                                        onnxllm_tokens *out, onnxllm_error *err) {
    return olm_tokenizer_encode_trusted(t, text, len, NULL, flags, out, err);
}

/* All of [a, b) trusted (NULL mask: everything is). */
static bool all_trusted(const uint8_t *trusted, size_t a, size_t b) {
    if (!trusted) return true;
    for (size_t i = a; i < b; i++)
        if (!trusted[i]) return false;
    return true;
}

onnxllm_status olm_tokenizer_encode_trusted(const onnxllm_tokenizer *t, const char *text, size_t len,
                                            const uint8_t *trusted, unsigned flags, onnxllm_tokens *out,
                                            onnxllm_error *err) {
    if (!t || !out || (!text && len)) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tokenizer encode: NULL argument");
    if (trusted && olm_utf8_valid_prefix(text ? text : "", len) != len)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tokenizer encode: invalid UTF-8 in a masked text");
    olm_scratch sc = {0};
    olm_buf fixed = {0};
    size_t start_len = out->len;
    errno = 0; /* a component that fails for another reason than memory says so in errno */
    const char *s = text ? text : "";
    if (olm_utf8_valid_prefix(s, len) != len) {
        if (!olm_utf8_lossy(&fixed, s, len)) goto oom;
        s = fixed.p;
        len = fixed.len;
    }
    bool add = (flags & ONNXLLM_TOKENIZE_ADD_SPECIAL) && t->post.present;
    bool parse = (flags & ONNXLLM_TOKENIZE_PARSE_SPECIAL) != 0;
    if (add)
        for (size_t i = 0; i < t->post.nbefore; i++)
            if (!olm_tokens_push(out, t->post.before[i])) goto oom;
    olm_match m;
    size_t from = 0, floor = 0, resume;
    while (olm_added_next(t, &t->trie_raw, s, len, from, floor, parse, &m, &resume)) {
        if (trusted && m.special && !all_trusted(trusted, m.match_start, resume)) {
            /* special-token text the caller did not write itself: plain text, skipped the
             * way encode without PARSE_SPECIAL skips it (the automaton resumes after it) */
            from = resume;
            continue;
        }
        if (m.start > floor && !encode_segment(t, s + floor, m.start - floor, floor == 0, parse && !trusted, &sc, out)) goto oom;
        if (!olm_tokens_push(out, m.id)) goto oom;
        floor = m.stop;
        from = resume;
    }
    if (floor < len && !encode_segment(t, s + floor, len - floor, floor == 0, parse && !trusted, &sc, out)) goto oom;
    if (add)
        for (size_t i = 0; i < t->post.nafter; i++)
            if (!olm_tokens_push(out, t->post.after[i])) goto oom;
    olm_scratch_free(&sc);
    olm_buf_free(&fixed);
    return ONNXLLM_OK;
oom:
    olm_scratch_free(&sc);
    olm_buf_free(&fixed);
    out->len = start_len;
    return olm_tok_failure(t, "encode", err);
}

onnxllm_status olm_tok_failure(const onnxllm_tokenizer *t, const char *what, onnxllm_error *err) {
    if (errno == OLM_REGEX_ERRNO)
        return olm_fail(err, ONNXLLM_ERR_RUNTIME,
                        "%s: %s: a regex pattern hit PCRE2's match limits on this input (%u steps, %u MiB); "
                        "refusing to return a tokenization Hugging Face would not give",
                        t->name, what, OLM_REGEX_MATCH_LIMIT, OLM_REGEX_HEAP_LIMIT_KIB / 1024);
    if (errno == OLM_NORM_ERRNO)
        return olm_fail(err, ONNXLLM_ERR_RUNTIME,
                        "%s: %s: the Replace normalizers grow this input more than %dx", t->name, what,
                        OLM_NORM_MAX_GROWTH);
    return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tokenizer %s: out of memory", what);
}

/* ---- decode & lookups ----------------------------------------------------------------- */
onnxllm_status onnxllm_tokenizer_decode(const onnxllm_tokenizer *t, const int32_t *ids, size_t n, bool skip_special,
                                        onnxllm_string *out, onnxllm_error *err) {
    if (!t || !out || (!ids && n)) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tokenizer decode: NULL argument");
    olm_scratch sc = {0};
    olm_buf b = {out->data, out->len, out->cap};
    errno = 0;
    bool ok = olm_decode_ids(t, ids, n, skip_special, &sc, &b);
    olm_scratch_free(&sc);
    out->data = b.p;
    out->cap = b.cap;
    if (!ok) {
        if (out->data) out->data[out->len] = 0;
        return olm_tok_failure(t, "decode", err);
    }
    out->len = b.len;
    return ONNXLLM_OK;
}

int32_t onnxllm_tokenizer_token_to_id(const onnxllm_tokenizer *t, const char *token) {
    if (!t || !token) return -1;
    size_t n = strlen(token);
    for (size_t i = 0; i < t->n_added; i++) /* added tokens first, like HF */
        if (t->added[i].len == n && !memcmp(t->added[i].content, token, n)) return t->added[i].id;
    return olm_strmap_get(&t->vocab, token, n);
}

const char *onnxllm_tokenizer_id_to_token(const onnxllm_tokenizer *t, int32_t id) {
    if (!t || id < 0 || (size_t)id >= t->n_ids) return NULL;
    return t->id_str[id];
}

bool onnxllm_tokenizer_is_special(const onnxllm_tokenizer *t, int32_t id) {
    return t && id >= 0 && (size_t)id < t->n_ids && t->is_special[id];
}

size_t onnxllm_tokenizer_vocab_size(const onnxllm_tokenizer *t) { return t ? t->n_ids : 0; }

onnxllm_status onnxllm_tokenizer_check_vocab(const onnxllm_tokenizer *t, size_t model_vocab_size,
                                             onnxllm_error *err) {
    if (!t) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no tokenizer given");
    if (t->n_ids <= model_vocab_size) return ONNXLLM_OK;
    return olm_fail(err, ONNXLLM_ERR_MISMATCH,
                    "%s does not belong to this model: its token ids go up to %zu, but the model's vocabulary "
                    "has %zu entries (genai_config.json model.vocab_size)",
                    t->name ? t->name : "the tokenizer", t->n_ids - 1, model_vocab_size);
}
