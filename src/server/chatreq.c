/* chatreq.c — the common chat request: JSON getters, rendering, limits (see chatreq.h). */
#include "server/chatreq.h"
#include "server/jsonw.h"
#include "common/error.h"
#include "common/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

bool rerr(req_err *e, int status, const char *param, const char *fmt, ...) {
    if (e->status) return false;
    e->status = status;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    /* messages quote the request (a block type, a tool name): one line for the log */
    olm_one_line(e->msg, sizeof e->msg);
    olm_one_line(e->param, sizeof e->param);
    return false;
}

const char *jtype(const cJSON *v) { return v ? olm_json_type_name(v) : "nothing"; }

static const cJSON *get(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNull(v) ? NULL : v;
}

bool jstr(const cJSON *o, const char *key, const char *path, bool required, const char **out, req_err *e) {
    const cJSON *v = get(o, key);
    if (!v) return required ? rerr(e, 400, path, "%s: required field missing", path) : true;
    if (!cJSON_IsString(v)) return rerr(e, 400, path, "%s: expected a string, got %s", path, jtype(v));
    *out = v->valuestring;
    return true;
}

bool jnum(const cJSON *o, const char *key, const char *path, double lo, double hi, double *out, bool *present,
          req_err *e) {
    const cJSON *v = get(o, key);
    if (present) *present = v != NULL;
    if (!v) return true;
    if (!cJSON_IsNumber(v)) return rerr(e, 400, path, "%s: expected a number, got %s", path, jtype(v));
    if (!olm_json_as_double(v, lo, hi, out))
        return rerr(e, 400, path, "%s: %g is out of range [%g, %g]", path, v->valuedouble, lo, hi);
    return true;
}

bool jint(const cJSON *o, const char *key, const char *path, long long lo, long long hi, long long *out,
          bool *present, req_err *e) {
    const cJSON *v = get(o, key);
    if (present) *present = v != NULL;
    if (!v) return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return rerr(e, 400, path, "%s: expected an integer, got %s", path, cJSON_IsNumber(v) ? "a fraction" : jtype(v));
    int64_t x;
    if (!olm_json_as_int(v, lo, hi, &x))
        return rerr(e, 400, path, "%s: %.0f is out of range [%lld, %lld]", path, v->valuedouble, lo, hi);
    *out = x;
    return true;
}

bool jbool(const cJSON *o, const char *key, const char *path, bool *out, req_err *e) {
    const cJSON *v = get(o, key);
    if (!v) return true;
    if (!cJSON_IsBool(v)) return rerr(e, 400, path, "%s: expected a boolean, got %s", path, jtype(v));
    *out = cJSON_IsTrue(v);
    return true;
}

cJSON *jparse_body(const char *body, size_t len, req_err *e) {
    if (!len) {
        rerr(e, 400, NULL, "the request body is empty; expected a JSON object");
        return NULL;
    }
    /* src/common's strict parser: valid UTF-8, no NUL, bounded depth, nothing after
     * the document, duplicate keys as Python (the last wins) */
    cJSON *j = NULL;
    onnxllm_error err = {0};
    if (olm_json_parse(body, len, "request body", &j, &err)) {
        rerr(e, err.status == ONNXLLM_ERR_OUT_OF_MEMORY ? 500 : 400, NULL, "%s", err.message);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        rerr(e, 400, NULL, "the request body must be a JSON object, got %s", jtype(j));
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* ---- the request ------------------------------------------------------------------ */

void creq_init(chat_req *r, srv_api api, const srv *s) {
    memset(r, 0, sizeof *r);
    r->api = api;
    /* the model's own defaults (genai_config "search"), as the CLI and onnxruntime-genai
     * use them; the request's fields override */
    r->sp = s && s->model ? onnxllm_model_sampler_params(s->model) : onnxllm_sampler_default_params();
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = (uint64_t)srv_now_ms();
    r->sp.seed = seed;
    r->max_tokens = -1;
    r->max_tokens_field = "max_tokens";
}

static void call_free(chat_tcall *c) {
    free(c->id);
    free(c->name);
    free(c->args);
}

void creq_free(chat_req *r) {
    free(r->model);
    olm_sb_free(&r->system);
    for (size_t i = 0; i < r->n; i++) {
        olm_sb_free(&r->m[i].text);
        for (size_t k = 0; k < r->m[i].n_calls; k++) call_free(&r->m[i].calls[k]);
        free(r->m[i].calls);
    }
    free(r->m);
    cJSON_Delete(r->tools);
    gen_grammar_release(r->grammar);
    free(r->con_schema);
    free(r->con_tool);
    free(r->con_tools);
    for (size_t i = 0; i < r->n_stops; i++) free(r->stops[i]);
    free(r->stops);
    olm_sb_free(&r->raw_text);
    onnxllm_tokens_free(&r->raw_ids);
    onnxllm_tokens_free(&r->ids);
    memset(r, 0, sizeof *r);
}

bool creq_force_tool(chat_req *r, const char *name, req_err *e) {
    r->con.kind = name ? GEN_CONSTRAINT_TOOL_NAMED : GEN_CONSTRAINT_TOOL_CALL;
    r->con.field = "tool_choice"; /* the tools themselves are printed when the constraint compiles */
    if (name && !(r->con.tool_name = r->con_tool = strdup(name))) return rerr(e, 500, NULL, "out of memory");
    return true;
}

void creq_no_tools(chat_req *r) {
    cJSON_Delete(r->tools);
    r->tools = NULL;
    r->parse_tools = false;
}

bool creq_openai_tool_choice(chat_req *r, const cJSON *b, req_err *e) {
    bool parallel = true;
    if (!jbool(b, "parallel_tool_calls", "parallel_tool_calls", &parallel, e)) return false;
    r->single_call = !parallel;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(b, "tool_choice");
    if (!tc || cJSON_IsNull(tc)) return true;
    const char *name = NULL;
    if (cJSON_IsString(tc)) {
        if (!strcmp(tc->valuestring, "auto")) return true;
        if (!strcmp(tc->valuestring, "none")) {
            creq_no_tools(r);
            return true;
        }
        if (strcmp(tc->valuestring, "required"))
            return rerr(e, 400, "tool_choice", "tool_choice: unknown value '%s' (none, auto, required, or a named function)",
                        tc->valuestring);
    } else if (cJSON_IsObject(tc)) {
        const char *type = "function";
        if (!jstr(tc, "type", "tool_choice.type", false, &type, e)) return false;
        if (strcmp(type, "function"))
            return rerr(e, 400, "tool_choice.type", "tool_choice.type: '%s' is not supported (function tools only)", type);
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        bool chat = cJSON_IsObject(fn);
        if (!jstr(chat ? fn : tc, "name", chat ? "tool_choice.function.name" : "tool_choice.name", true, &name, e))
            return false;
    } else return rerr(e, 400, "tool_choice", "tool_choice: expected a string or an object, got %s", jtype(tc));
    return creq_force_tool(r, name, e);
}

chat_msg *creq_add(chat_req *r, int role) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        chat_msg *g = realloc(r->m, cap * sizeof *g);
        if (!g) return NULL;
        r->m = g;
        r->cap = cap;
    }
    chat_msg *m = &r->m[r->n++];
    memset(m, 0, sizeof *m);
    m->role = role;
    return m;
}

bool creq_add_call(chat_msg *m, const char *id, const char *name, const char *args_json) {
    chat_tcall *g = realloc(m->calls, (m->n_calls + 1) * sizeof *g);
    if (!g) return false;
    m->calls = g;
    chat_tcall *c = &m->calls[m->n_calls];
    c->id = strdup(id ? id : "");
    c->name = strdup(name);
    c->args = strdup(args_json && *args_json ? args_json : "{}");
    if (!c->id || !c->name || !c->args) {
        call_free(c);
        return false;
    }
    m->n_calls++;
    return true;
}

bool creq_add_stop(chat_req *r, const char *s) {
    char **g = realloc(r->stops, (r->n_stops + 1) * sizeof *g);
    if (!g) return false;
    r->stops = g;
    if (!(r->stops[r->n_stops] = strdup(s))) return false;
    r->n_stops++;
    return true;
}

bool creq_sampling(chat_req *r, const cJSON *b, req_err *e) {
    double d = 0;
    long long k = 0;
    bool has;
    if (!jnum(b, "temperature", "temperature", 0, 2, &d, &has, e)) return false;
    if (has) r->sp.temperature = (float)d;
    if (!jnum(b, "top_p", "top_p", 0, 1, &d, &has, e)) return false;
    if (has) r->sp.top_p = d > 0 ? (float)d : 1e-6f;
    if (!jint(b, "top_k", "top_k", -1, 1000000000, &k, &has, e)) return false;
    if (has) r->sp.top_k = k < 0 ? 0 : (int)k; /* -1: off (vLLM, llama.cpp) */
    if (!jnum(b, "min_p", "min_p", 0, 1, &d, &has, e)) return false;
    if (has) r->sp.min_p = (float)d;
    if (!jnum(b, "presence_penalty", "presence_penalty", -2, 2, &d, &has, e)) return false;
    if (has) r->sp.presence_penalty = (float)d;
    if (!jnum(b, "frequency_penalty", "frequency_penalty", -2, 2, &d, &has, e)) return false;
    if (has) r->sp.frequency_penalty = (float)d;
    if (!jnum(b, "repetition_penalty", "repetition_penalty", 1e-3, 100, &d, &has, e)) return false;
    if (has) r->sp.repetition_penalty = (float)d;
    if (!jint(b, "seed", "seed", -9223372036854775807LL, 9223372036854775807LL, &k, &has, e)) return false;
    if (has) r->sp.seed = (uint64_t)k;
    return true;
}

bool creq_stops(chat_req *r, const cJSON *b, const char *key, req_err *e) {
    const cJSON *v = get(b, key);
    if (!v) return true;
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0]) return rerr(e, 400, key, "%s: a stop string must not be empty", key);
        return creq_add_stop(r, v->valuestring) || rerr(e, 500, NULL, "out of memory");
    }
    if (!cJSON_IsArray(v)) return rerr(e, 400, key, "%s: expected a string or an array of strings, got %s", key, jtype(v));
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, v) {
        char path[64];
        snprintf(path, sizeof path, "%s[%d]", key, i++);
        if (!cJSON_IsString(s)) return rerr(e, 400, path, "%s: expected a string, got %s", path, jtype(s));
        if (!s->valuestring[0]) return rerr(e, 400, path, "%s: a stop string must not be empty", path);
        if (i > 16) return rerr(e, 400, key, "%s: at most 16 stop strings", key);
        if (!creq_add_stop(r, s->valuestring)) return rerr(e, 500, NULL, "out of memory");
    }
    return true;
}

/* ---- rendering ------------------------------------------------------------------------ */

/* Python json.dumps text of a JSON value (the way Phi-4-mini writes its calls), made
 * with the chat layer's tool formatter: [{"name": "x", "parameters": V}] → V. */
static char *py_json(const char *json) {
    static const char pre[] = "[{\"name\": \"x\", \"parameters\": ";
    olm_sb t = {0};
    olm_sb_puts(&t, "[{\"name\":\"x\",\"parameters\":");
    olm_sb_puts(&t, json);
    olm_sb_puts(&t, "}]");
    char *src = olm_sb_finish(&t), *out = NULL;
    if (!src || onnxllm_chat_format_tools(src, &out, NULL)) {
        free(src);
        return NULL;
    }
    free(src);
    size_t n = strlen(out);
    if (n < sizeof pre + 1 || strncmp(out, pre, sizeof pre - 1) || strcmp(out + n - 2, "}]")) {
        free(out);
        return NULL;
    }
    memmove(out, out + sizeof pre - 1, n - (sizeof pre - 1) - 2);
    out[n - (sizeof pre - 1) - 2] = 0;
    return out;
}

/* Python json.dumps of a string. */
static char *py_str(const char *s) {
    cJSON *v = cJSON_CreateString(s);
    char *j = v ? jw_print(v) : NULL;
    cJSON_Delete(v);
    if (!j) return NULL;
    char *p = py_json(j);
    free(j);
    return p;
}

/* An assistant turn with calls: its text, then the calls as the model writes them. */
static char *assistant_content(const chat_msg *m) {
    olm_sb b = {0};
    olm_sb_put(&b, m->text.p ? m->text.p : "", m->text.len);
    if (m->n_calls) {
        olm_sb_puts(&b, "<|tool_call|>[");
        for (size_t i = 0; i < m->n_calls; i++) {
            char *name = py_str(m->calls[i].name), *args = py_json(m->calls[i].args);
            if (!args) args = strdup(m->calls[i].args); /* not an object we can re-dump: as sent */
            if (i) olm_sb_puts(&b, ", ");
            olm_sb_puts(&b, "{\"name\": ");
            olm_sb_puts(&b, name ? name : "\"\"");
            olm_sb_puts(&b, ", \"arguments\": ");
            olm_sb_puts(&b, args ? args : "{}");
            olm_sb_puts(&b, "}");
            free(name);
            free(args);
        }
        olm_sb_puts(&b, "]<|/tool_call|>");
    }
    return olm_sb_finish(&b);
}

static const char *role_name(int role) {
    return role == R_SYSTEM ? "system" : role == R_USER ? "user" : role == R_ASSISTANT ? "assistant" : "tool";
}

char *creq_render_text(srv *s, chat_req *r, req_err *e) {
    if (r->raw) return strdup(r->raw_text.p ? r->raw_text.p : "");
    size_t n_msgs = r->n - (r->prefill ? 1 : 0);
    onnxllm_chat_message *msgs = calloc(n_msgs + 1, sizeof *msgs);
    char **owned = calloc(n_msgs + 1, sizeof *owned);
    char *prompt = NULL, *tools = NULL;
    if (!msgs || !owned) goto oom;
    size_t k = 0;
    if (r->system.len) msgs[k++] = (onnxllm_chat_message){"system", r->system.p, NULL};
    for (size_t i = 0; i < n_msgs; i++) {
        const chat_msg *m = &r->m[i];
        const char *content = m->text.p ? m->text.p : "";
        if (m->role == R_ASSISTANT && m->n_calls) {
            if (!(owned[i] = assistant_content(m))) goto oom;
            content = owned[i];
        }
        msgs[k++] = (onnxllm_chat_message){role_name(m->role), content, NULL};
    }
    if (r->tools && cJSON_GetArraySize(r->tools) > 0 && !(tools = jw_print(r->tools))) goto oom;
    onnxllm_error err = {0};
    if (onnxllm_chat_render(s->tmpl, msgs, k, tools, true, &prompt, &err)) {
        rerr(e, err.status == ONNXLLM_ERR_OUT_OF_MEMORY ? 500 : 400, "messages", "%s", err.message);
        prompt = NULL;
        goto done;
    }
    if (r->prefill) { /* continue the assistant's text */
        const chat_msg *m = &r->m[r->n - 1];
        olm_sb b = {0};
        olm_sb_puts(&b, prompt);
        olm_sb_put(&b, m->text.p ? m->text.p : "", m->text.len);
        free(prompt);
        if (!(prompt = olm_sb_finish(&b))) goto oom;
    }
    goto done;
oom:
    rerr(e, 500, NULL, "out of memory");
    free(prompt);
    prompt = NULL;
done:
    for (size_t i = 0; owned && i < n_msgs; i++) free(owned[i]);
    free(owned);
    free(msgs);
    free(tools);
    return prompt;
}

/* The output constraint: what the request forces (a tool call, a response format), or
 * with tools and nothing forced the lazy tool grammar — free text, and calls that
 * validate once the model starts one. A response format with tools left to "auto"
 * keeps the format (what the client asked for explicitly; no call can then be made). */
static bool compile_constraint(srv *s, chat_req *r, req_err *e) {
    if (r->con.kind == GEN_CONSTRAINT_NONE && r->parse_tools && !r->raw) {
        r->con.kind = GEN_CONSTRAINT_TOOL_AUTO;
        if (!r->con.field) r->con.field = "tools";
    }
    if (r->con.kind >= GEN_CONSTRAINT_TOOL_CALL) {
        r->con.single_call = r->single_call;
        if (r->con.kind == GEN_CONSTRAINT_TOOL_AUTO) r->con.strict = r->tools_strict;
    }
    if (r->con.kind >= GEN_CONSTRAINT_TOOL_CALL && !r->con.tools) {
        if (!r->tools || !cJSON_GetArraySize(r->tools))
            return rerr(e, 400, r->con.field, "%s: a tool call is required but no tools are given", r->con.field);
        if (!(r->con.tools = r->con_tools = jw_print(r->tools))) return rerr(e, 500, NULL, "out of memory");
    }
    char why[700];
    bool fallback = false;
    gen_grammar_release(r->grammar);
    r->grammar = NULL;
    if (!gen_compile(s->gen, &r->con, &r->grammar, why, sizeof why, &fallback))
        return rerr(e, 400, r->con.field, "%s", why);
    return true;
}

bool creq_prepare(srv *s, chat_req *r, req_err *e) {
    if (!compile_constraint(s, r, e)) return false;
    r->ids.len = 0;
    if (r->raw && r->raw_ids.len) {
        for (size_t i = 0; i < r->raw_ids.len; i++)
            if (r->raw_ids.ids[i] < 0 || r->raw_ids.ids[i] >= onnxllm_model_vocab_size(s->model))
                return rerr(e, 400, "prompt", "prompt[%zu]: token id %d is outside [0, %d)", i, r->raw_ids.ids[i],
                            onnxllm_model_vocab_size(s->model));
        onnxllm_tokens t = r->raw_ids;
        r->ids = t;
        memset(&r->raw_ids, 0, sizeof r->raw_ids);
    } else {
        char *text = creq_render_text(s, r, e);
        if (!text) return false;
        onnxllm_error err = {0};
        /* Special tokens in the rendered text become their ids, as transformers'
         * apply_chat_template(tokenize=True) does. */
        onnxllm_status st = onnxllm_tokenizer_encode(s->tok, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &r->ids, &err);
        free(text);
        if (st) return rerr(e, 500, NULL, "tokenizer: %s", err.message);
    }
    if (!r->ids.len) return rerr(e, 400, r->raw ? "prompt" : "messages", "the prompt is empty");
    int n = (int)r->ids.len;
    if (n >= s->ctx)
        return rerr(e, 400, r->raw ? "prompt" : "messages",
                    "prompt is too long: %d tokens, the context holds %d (prompt + answer; serve --ctx sets it)", n,
                    s->ctx);
    int room = s->ctx - n;
    if (r->max_tokens < 0) r->gen_max = room;
    else if (r->max_tokens > room) {
        if (!r->clamp_max_tokens)
            return rerr(e, 400, r->max_tokens_field,
                        "%s: %d tokens requested but the context holds %d: the prompt has %d tokens, so at most %d "
                        "can be generated",
                        r->max_tokens_field, r->max_tokens, s->ctx, n, room);
        r->gen_max = room;
    } else r->gen_max = r->max_tokens;
    if (r->gen_max < 1) r->gen_max = 1;
    return true;
}
