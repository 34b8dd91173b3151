/* output.c — token ids → text pieces and tool calls (see output.h).
 *
 * The tool-call payload Phi-4-mini writes between <|tool_call|> and <|/tool_call|>
 * is `[{"name": "f", "arguments": {...}}, ...]`, with the variants
 * onnxllm_toolcalls_parse accepts (no brackets, several comma-separated objects,
 * arguments as a JSON string or named "parameters", OpenAI's {"function": {...}},
 * closing tag missing). The scanner below walks that structure byte by byte as it
 * arrives; it keeps the whole segment so that a payload that turns out not to be a
 * call can still be shown as the text it was. */
#include "server/output.h"
#include "common/error.h"
#include "common/strbuf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum { /* scanner states */
    J_START, J_EXPECT_OBJ, J_KEY_OR_END, J_KEY, J_COLON, J_VALUE_START, J_VALUE, J_COMMA_OR_END,
    J_NEXT_KEY, J_AFTER_OBJ, J_AFTER, J_TEXT_TAIL, J_FAIL
};
enum { V_OTHER, V_NAME, V_ARGS, V_FUNC };

struct out_parser {
    out_params p;
    onnxllm_detok *detok;
    onnxllm_stop *stop;
    int32_t open_id, close_id;
    bool stopped;
    onnxllm_error err;
    int n_calls;
    int seg_calls;      /* calls finished in the current segment */
    /* the current tool-call segment */
    bool in_seg;
    olm_sb seg;         /* payload bytes so far */
    size_t scan;        /* bytes of seg scanned */
    size_t done_upto;   /* seg bytes that belong to finished calls */
    int js;
    bool bracket;
    int depth;          /* nesting inside the current value */
    bool in_str, esc;
    olm_sb key;         /* the current key, raw */
    int vkind;
    size_t vstart;
    char vfirst;
    /* the current call object */
    bool started;       /* OUT_CALL_START sent */
    char *name;
    bool args_stream;   /* arguments object being streamed */
    bool args_sent;     /* all of the arguments sent */
    char *args;         /* arguments known before the name (compact JSON) */
    char id[48];
    olm_sb piece;       /* argument bytes to send at the end of this feed */
};

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void set_err(out_parser *p, onnxllm_status st, const char *msg) {
    if (!p->err.status) {
        p->err.status = st;
        snprintf(p->err.message, sizeof p->err.message, "%s", msg);
    }
    p->stopped = true;
}

/* ---- text ------------------------------------------------------------------------- */

static void text_out(out_parser *p, const char *s, size_t n) {
    if (p->stopped || !n) return;
    const char *e;
    size_t el;
    bool matched = false;
    onnxllm_error err = {0};
    if (onnxllm_stop_feed(p->stop, s, n, &e, &el, &matched, &err)) {
        set_err(p, err.status, err.message);
        return;
    }
    if (el) p->p.sink(p->p.user, OUT_TEXT, 0, e, el, NULL, 0);
    if (matched) p->stopped = true;
}

static void text_flush(out_parser *p) {
    if (p->stopped) return;
    const char *e;
    size_t el;
    onnxllm_stop_flush(p->stop, &e, &el);
    if (el) p->p.sink(p->p.user, OUT_TEXT, 0, e, el, NULL, 0);
}

/* ---- calls -------------------------------------------------------------------------- */

static void make_id(out_parser *p) {
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[24];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) /* never in practice; still unique per parser */
        for (size_t i = 0; i < sizeof r; i++) r[i] = (unsigned char)(i * 7 + (unsigned)p->n_calls * 13);
    size_t k = (size_t)snprintf(p->id, sizeof p->id - 25, "%s", p->p.id_prefix ? p->p.id_prefix : "call_");
    if (k > sizeof p->id - 26) k = sizeof p->id - 26;
    for (size_t i = 0; i < sizeof r; i++) p->id[k + i] = alnum[r[i] % 62];
    p->id[k + sizeof r] = 0;
}

static void call_start(out_parser *p) {
    make_id(p);
    p->started = true;
    p->p.sink(p->p.user, OUT_CALL_START, p->n_calls, p->id, strlen(p->id), p->name, strlen(p->name));
    if (p->args && !p->args_sent) {
        p->p.sink(p->p.user, OUT_CALL_ARGS, p->n_calls, p->args, strlen(p->args), NULL, 0);
        p->args_sent = true;
    }
}

static void call_reset(out_parser *p) {
    free(p->name);
    free(p->args);
    p->name = p->args = NULL;
    p->started = p->args_stream = p->args_sent = false;
    p->piece.len = 0;
}

static void piece_flush(out_parser *p) {
    if (p->piece.len) p->p.sink(p->p.user, OUT_CALL_ARGS, p->n_calls, p->piece.p, p->piece.len, NULL, 0);
    p->piece.len = 0;
}

static void call_end(out_parser *p) {
    if (!p->started) call_start(p);
    piece_flush(p);
    if (!p->args_sent && !p->args_stream) p->p.sink(p->p.user, OUT_CALL_ARGS, p->n_calls, "{}", 2, NULL, 0);
    p->p.sink(p->p.user, OUT_CALL_END, p->n_calls, NULL, 0, NULL, 0);
    p->n_calls++;
    p->seg_calls++;
    call_reset(p);
}

/* The payload is not (or no longer) calls: from byte `from` on it is text. */
static void seg_fail(out_parser *p, size_t from) {
    if (p->started) call_end(p);
    else call_reset(p);
    if (from < p->done_upto) from = p->done_upto;
    p->js = J_FAIL;
    if (from < p->seg.len) text_out(p, p->seg.p + from, p->seg.len - from);
    p->scan = p->done_upto = p->seg.len;
}

/* Compact JSON text of a cJSON value (caller frees). */
static char *compact(const cJSON *v) { return cJSON_PrintUnformatted(v); }

/* A value of the call object ended at seg[end). false: not a call after all. */
static bool value_end(out_parser *p, size_t end) {
    const char *v = p->seg.p + p->vstart;
    size_t n = end - p->vstart;
    switch (p->vkind) {
    case V_NAME: {
        if (p->vfirst != '"' || p->name) return false;
        cJSON *s = cJSON_ParseWithLength(v, n);
        if (!cJSON_IsString(s) || !s->valuestring[0]) {
            cJSON_Delete(s);
            return false;
        }
        p->name = strdup(s->valuestring);
        cJSON_Delete(s);
        if (!p->name) return false;
        if (p->args) call_start(p); /* arguments came first: the call is complete */
        return true;
    }
    case V_ARGS: {
        if (p->args_stream) {
            piece_flush(p);
            p->args_stream = false;
            p->args_sent = true;
            return true;
        }
        if (p->args || p->args_sent) return true; /* "parameters" after "arguments": first wins */
        cJSON *a = cJSON_ParseWithLength(v, n);
        if (cJSON_IsString(a)) { /* arguments given as a JSON string */
            cJSON *inner = cJSON_Parse(a->valuestring);
            cJSON_Delete(a);
            a = inner;
        }
        char *text = NULL;
        if (cJSON_IsNull(a)) text = strdup("{}");
        else if (cJSON_IsObject(a)) text = compact(a);
        cJSON_Delete(a);
        if (!text) return false;
        p->args = text;
        if (p->started) {
            p->p.sink(p->p.user, OUT_CALL_ARGS, p->n_calls, p->args, strlen(p->args), NULL, 0);
            p->args_sent = true;
        } else if (p->name) call_start(p); /* sends the arguments too */
        return true;
    }
    case V_FUNC: { /* OpenAI style {"function": {"name": …, "arguments": …}} */
        if (p->vfirst != '{') return true;
        cJSON *f = cJSON_ParseWithLength(v, n);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");
        const cJSON *ar = cJSON_GetObjectItemCaseSensitive(f, "arguments");
        if (!ar) ar = cJSON_GetObjectItemCaseSensitive(f, "parameters");
        cJSON *parsed = cJSON_IsString(ar) ? cJSON_Parse(ar->valuestring) : NULL;
        if (parsed) ar = parsed;
        bool ok = cJSON_IsString(nm) && nm->valuestring[0] && !p->name && (!ar || cJSON_IsNull(ar) || cJSON_IsObject(ar));
        if (ok) {
            p->name = strdup(nm->valuestring);
            p->args = ar && cJSON_IsObject(ar) ? compact(ar) : strdup("{}");
            ok = p->name && p->args;
        }
        cJSON_Delete(parsed);
        cJSON_Delete(f);
        if (ok) call_start(p);
        return ok;
    }
    default: return true;
    }
}

static int key_kind(const olm_sb *k) {
    if (k->len == 4 && !memcmp(k->p, "name", 4)) return V_NAME;
    if ((k->len == 9 && !memcmp(k->p, "arguments", 9)) || (k->len == 10 && !memcmp(k->p, "parameters", 10)))
        return V_ARGS;
    if (k->len == 8 && !memcmp(k->p, "function", 8)) return V_FUNC;
    return V_OTHER;
}

static void obj_begin(out_parser *p) {
    call_reset(p);
    p->js = J_KEY_OR_END;
}

/* The call object closed at seg[at]. */
static bool obj_end(out_parser *p, size_t at) {
    if (!p->name) return false;
    call_end(p);
    p->done_upto = at + 1;
    p->js = J_AFTER_OBJ;
    return true;
}

/* Scans the new payload bytes. */
static void seg_scan(out_parser *p) {
    for (size_t i = p->scan; i < p->seg.len && p->js != J_FAIL; i++) {
        char c = p->seg.p[i];
        switch (p->js) {
        case J_START:
            if (is_ws(c)) break;
            if (c == '[') p->bracket = true, p->js = J_EXPECT_OBJ;
            else if (c == '{') obj_begin(p);
            else { seg_fail(p, 0); return; }
            break;
        case J_EXPECT_OBJ:
            if (is_ws(c)) break;
            if (c == '{') obj_begin(p);
            else if (c == ']' && p->bracket && p->seg_calls) p->js = J_AFTER;
            else { seg_fail(p, p->done_upto); return; }
            break;
        case J_KEY_OR_END:
        case J_NEXT_KEY:
            if (is_ws(c)) break;
            if (c == '"') {
                p->key.len = 0;
                p->esc = false;
                p->js = J_KEY;
            } else if (c == '}' && p->js == J_KEY_OR_END) {
                if (!obj_end(p, i)) { seg_fail(p, p->done_upto); return; }
            } else { seg_fail(p, p->started ? i : p->done_upto); return; }
            break;
        case J_KEY:
            if (p->esc) p->esc = false;
            else if (c == '\\') p->esc = true;
            else if (c == '"') {
                p->js = J_COLON;
                break;
            }
            olm_sb_putc(&p->key, c);
            break;
        case J_COLON:
            if (is_ws(c)) break;
            if (c != ':') { seg_fail(p, p->started ? i : p->done_upto); return; }
            p->js = J_VALUE_START;
            break;
        case J_VALUE_START:
            if (is_ws(c)) break;
            p->vkind = key_kind(&p->key);
            p->vstart = i;
            p->vfirst = c;
            p->depth = 0;
            p->in_str = p->esc = false;
            p->js = J_VALUE;
            if (c == '{' || c == '[') p->depth = 1;
            else if (c == '"') p->in_str = true;
            else if (!c || !strchr("-0123456789tfn", c)) { seg_fail(p, p->started ? i : p->done_upto); return; }
            /* A call is announced when its arguments object opens (name known), so
             * that arguments of the wrong type (a list, a number) never announce one. */
            if (p->vkind == V_ARGS && !p->args_sent && !p->args) {
                if (c == '[' || (c != '{' && c != '"' && c != 'n')) { seg_fail(p, p->done_upto); return; }
                if (c == '{' && p->name) {
                    if (!p->started) call_start(p);
                    p->args_stream = true;
                }
            }
            if (p->args_stream) olm_sb_putc(&p->piece, c);
            break;
        case J_VALUE: {
            bool ended = false;
            size_t end = i + 1;
            bool reprocess = false; /* the byte ends a literal and belongs to the object level */
            if (p->in_str) {
                if (p->esc) p->esc = false;
                else if (c == '\\') p->esc = true;
                else if (c == '"') {
                    p->in_str = false;
                    if (p->depth == 0) ended = true;
                }
            } else if (p->depth == 0) { /* number / true / false / null */
                if (!c || !strchr("-+.0123456789eEtruefalsn", c)) {
                    ended = true;
                    end = i;
                    reprocess = true;
                }
            } else if (c == '"') p->in_str = true;
            else if (c == '{' || c == '[') p->depth++;
            else if (c == '}' || c == ']') {
                if (--p->depth == 0) ended = true;
            }
            /* streamed arguments: whitespace outside strings dropped (compact JSON) */
            if (p->args_stream && !reprocess && (p->in_str || c == '"' || !is_ws(c))) olm_sb_putc(&p->piece, c);
            if (ended) {
                if (!value_end(p, end)) { seg_fail(p, p->started ? end : p->done_upto); return; }
                p->js = J_COMMA_OR_END;
                if (reprocess) i--;
            }
            break;
        }
        case J_COMMA_OR_END:
            if (is_ws(c)) break;
            if (c == ',') p->js = J_NEXT_KEY;
            else if (c == '}') {
                if (!obj_end(p, i)) { seg_fail(p, p->done_upto); return; }
            } else { seg_fail(p, p->started ? i : p->done_upto); return; }
            break;
        case J_AFTER_OBJ:
            if (is_ws(c)) break;
            if (c == ',') p->js = J_EXPECT_OBJ;
            else if (c == ']' && p->bracket) p->js = J_AFTER;
            else {
                p->js = J_TEXT_TAIL;
                i--;
            }
            break;
        case J_AFTER:
            if (is_ws(c)) break;
            p->js = J_TEXT_TAIL;
            i--;
            break;
        case J_TEXT_TAIL:
            text_out(p, p->seg.p + i, p->seg.len - i);
            i = p->seg.len - 1;
            break;
        }
    }
    if (p->js != J_FAIL) p->scan = p->seg.len;
    piece_flush(p);
}

static void seg_add(out_parser *p, const char *s, size_t n) {
    if (!n) return;
    if (p->js == J_FAIL) {
        text_out(p, s, n);
        return;
    }
    olm_sb_put(&p->seg, s, n);
    if (p->seg.oom) {
        set_err(p, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        return;
    }
    seg_scan(p);
}

/* The segment ends (closing tag, end of generation). */
static void seg_close(out_parser *p) {
    switch (p->js) {
    case J_START: case J_AFTER_OBJ: case J_AFTER: case J_TEXT_TAIL: case J_FAIL: break;
    case J_EXPECT_OBJ:
        if (!p->seg_calls) seg_fail(p, p->done_upto); /* "[" and nothing more */
        break;
    default:
        /* inside an object: a call whose name is known is closed as it is (cut by
         * max tokens or a missing brace); anything else is text */
        if (p->started || p->name) call_end(p);
        else seg_fail(p, p->done_upto);
    }
    call_reset(p);
    p->in_seg = false;
}

static void seg_open(out_parser *p) {
    p->in_seg = true;
    p->seg.len = 0;
    p->scan = p->done_upto = 0;
    p->seg_calls = 0;
    p->js = J_START;
    p->bracket = false;
    call_reset(p);
}

/* ---- public -------------------------------------------------------------------------- */

onnxllm_status out_create(const out_params *prm, out_parser **out, onnxllm_error *err) {
    *out = NULL;
    out_parser *p = calloc(1, sizeof *p);
    if (!p) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    p->p = *prm;
    p->open_id = p->close_id = -1;
    if (prm->parse_tools) {
        p->open_id = onnxllm_tokenizer_token_to_id(prm->tok, "<|tool_call|>");
        p->close_id = onnxllm_tokenizer_token_to_id(prm->tok, "<|/tool_call|>");
    }
    onnxllm_status st = onnxllm_detok_create(prm->tok, true, &p->detok, err);
    if (!st) st = onnxllm_stop_create(prm->stops, prm->n_stops, &p->stop, err);
    if (!st && (!olm_sb_reserve(&p->seg, 256) || !olm_sb_reserve(&p->key, 32) || !olm_sb_reserve(&p->piece, 64)))
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (st) {
        out_free(p);
        return st;
    }
    *out = p;
    return ONNXLLM_OK;
}

void out_free(out_parser *p) {
    if (!p) return;
    onnxllm_detok_free(p->detok);
    onnxllm_stop_free(p->stop);
    call_reset(p);
    olm_sb_free(&p->seg);
    olm_sb_free(&p->key);
    olm_sb_free(&p->piece);
    free(p);
}

static void detok_flush_to(out_parser *p, bool seg) {
    const char *t;
    size_t n;
    onnxllm_error e = {0};
    if (onnxllm_detok_flush(p->detok, &t, &n, &e)) {
        set_err(p, e.status, e.message);
        return;
    }
    if (seg) seg_add(p, t, n);
    else text_out(p, t, n);
}

bool out_token(out_parser *p, int32_t token) {
    if (p->stopped) return false;
    if (token == p->open_id && token >= 0) {
        if (p->in_seg) { /* a new call segment before the last one closed */
            detok_flush_to(p, true);
            seg_close(p);
        } else {
            detok_flush_to(p, false);
            text_flush(p);
        }
        seg_open(p);
        return !p->stopped;
    }
    if (token == p->close_id && token >= 0) {
        if (p->in_seg) {
            detok_flush_to(p, true);
            seg_close(p);
        }
        return !p->stopped;
    }
    const char *t;
    size_t n;
    onnxllm_error e = {0};
    if (onnxllm_detok_push(p->detok, token, &t, &n, &e)) {
        set_err(p, e.status, e.message);
        return false;
    }
    if (p->in_seg) seg_add(p, t, n);
    else text_out(p, t, n);
    return !p->stopped;
}

void out_finish(out_parser *p) {
    if (p->stopped) return;
    detok_flush_to(p, p->in_seg);
    if (p->in_seg) seg_close(p);
    text_flush(p);
}

int out_stop_matched(const out_parser *p) { return onnxllm_stop_matched(p->stop); }
int out_calls(const out_parser *p) { return p->n_calls; }

onnxllm_status out_status(const out_parser *p, onnxllm_error *err) {
    if (!p->err.status) return ONNXLLM_OK;
    if (err) *err = p->err;
    return p->err.status;
}
