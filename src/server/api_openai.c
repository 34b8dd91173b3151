/* api_openai.c — OpenAI Chat Completions (POST /v1/chat/completions), Completions
 * (POST /v1/completions) and the model list (GET /v1/models[/{id}]). */
#include "server/job.h"
#include "server/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* content: a string, null, or parts ({type:"text"|"input_text"|"output_text"|"refusal"}). */
static bool content_text(const cJSON *content, const char *path, bool null_ok, olm_sb *out, req_err *e) {
    if (!content || cJSON_IsNull(content)) return null_ok ? true : rerr(e, 400, path, "%s: required field missing", path);
    if (cJSON_IsString(content)) {
        olm_sb_puts(out, content->valuestring);
        return true;
    }
    if (!cJSON_IsArray(content))
        return rerr(e, 400, path, "%s: expected a string or an array of content parts, got %s", path, jtype(content));
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, content) {
        char pp[160], tp[180];
        snprintf(pp, sizeof pp, "%s[%d]", path, i);
        snprintf(tp, sizeof tp, "%s[%d].text", path, i++);
        const char *type = NULL, *text = NULL;
        if (!cJSON_IsObject(p)) return rerr(e, 400, pp, "%s: expected a content part object, got %s", pp, jtype(p));
        if (!jstr(p, "type", pp, true, &type, e)) return false;
        if (!strcmp(type, "text") || !strcmp(type, "input_text") || !strcmp(type, "output_text")) {
            if (!jstr(p, "text", tp, true, &text, e)) return false;
        } else if (!strcmp(type, "refusal")) {
            snprintf(tp, sizeof tp, "%s[%d].refusal", path, i - 1);
            if (!jstr(p, "refusal", tp, true, &text, e)) return false;
        } else if (!strcmp(type, "image_url") || !strcmp(type, "input_image") || !strcmp(type, "input_audio") ||
                   !strcmp(type, "file") || !strcmp(type, "input_file")) {
            return rerr(e, 400, pp, "%s: '%s' content is not supported: this model reads text only", pp, type);
        } else return rerr(e, 400, pp, "%s: unsupported content part type '%s'", pp, type);
        if (out->len && *text) olm_sb_puts(out, "\n");
        olm_sb_puts(out, text);
    }
    return true;
}

static bool parse_messages(chat_req *r, const cJSON *msgs, req_err *e) {
    if (!msgs) return rerr(e, 400, "messages", "messages: required field missing");
    if (!cJSON_IsArray(msgs)) return rerr(e, 400, "messages", "messages: expected an array, got %s", jtype(msgs));
    if (!cJSON_GetArraySize(msgs)) return rerr(e, 400, "messages", "messages: at least one message is required");
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        char p[48], rp[64], cp[64];
        snprintf(p, sizeof p, "messages[%d]", i);
        snprintf(rp, sizeof rp, "messages[%d].role", i);
        snprintf(cp, sizeof cp, "messages[%d].content", i++);
        if (!cJSON_IsObject(m)) return rerr(e, 400, p, "%s: expected an object, got %s", p, jtype(m));
        const char *role = NULL;
        if (!jstr(m, "role", rp, true, &role, e)) return false;
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!strcmp(role, "system") || !strcmp(role, "developer")) {
            olm_sb t = {0};
            bool ok = content_text(content, cp, false, &t, e);
            if (ok && t.len) {
                if (r->system.len) olm_sb_puts(&r->system, "\n\n");
                olm_sb_put(&r->system, t.p, t.len);
            }
            olm_sb_free(&t);
            if (!ok) return false;
        } else if (!strcmp(role, "user")) {
            chat_msg *cm = creq_add(r, R_USER);
            if (!cm) return rerr(e, 500, NULL, "out of memory");
            if (!content_text(content, cp, false, &cm->text, e)) return false;
        } else if (!strcmp(role, "assistant")) {
            chat_msg *cm = creq_add(r, R_ASSISTANT);
            if (!cm) return rerr(e, 500, NULL, "out of memory");
            const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
            if (!content_text(content, cp, true, &cm->text, e)) return false; /* null with tool calls */
            if (calls && !cJSON_IsNull(calls) && !cJSON_IsArray(calls)) {
                char tp[64];
                snprintf(tp, sizeof tp, "messages[%d].tool_calls", i - 1);
                return rerr(e, 400, tp, "%s: expected an array, got %s", tp, jtype(calls));
            }
            int k = 0;
            const cJSON *tc;
            cJSON_ArrayForEach(tc, calls) {
                char tp[96], fp[128];
                snprintf(tp, sizeof tp, "messages[%d].tool_calls[%d]", i - 1, k++);
                if (!cJSON_IsObject(tc)) return rerr(e, 400, tp, "%s: expected an object, got %s", tp, jtype(tc));
                const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
                snprintf(fp, sizeof fp, "%s.function", tp);
                if (!cJSON_IsObject(fn)) return rerr(e, 400, fp, "%s: expected an object, got %s", fp, jtype(fn));
                const char *id = NULL, *name = NULL, *args = NULL;
                snprintf(fp, sizeof fp, "%s.id", tp);
                if (!jstr(tc, "id", fp, false, &id, e)) return false;
                snprintf(fp, sizeof fp, "%s.function.name", tp);
                if (!jstr(fn, "name", fp, true, &name, e)) return false;
                snprintf(fp, sizeof fp, "%s.function.arguments", tp);
                if (!jstr(fn, "arguments", fp, false, &args, e)) return false;
                if (!creq_add_call(cm, id, name, args)) return rerr(e, 500, NULL, "out of memory");
            }
        } else if (!strcmp(role, "tool") || !strcmp(role, "function")) {
            chat_msg *cm = creq_add(r, R_TOOL);
            if (!cm) return rerr(e, 500, NULL, "out of memory");
            if (!content_text(content, cp, false, &cm->text, e)) return false;
        } else {
            return rerr(e, 400, rp, "%s: unknown role '%s' (expected system, developer, user, assistant or tool)", rp,
                        role);
        }
    }
    return true;
}

/* tools [{type:"function", function:{name, description, parameters}}] and tool_choice. */
static bool parse_tools(chat_req *r, const cJSON *b, req_err *e) {
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(b, "tools");
    if (tools && !cJSON_IsNull(tools)) {
        if (!cJSON_IsArray(tools)) return rerr(e, 400, "tools", "tools: expected an array, got %s", jtype(tools));
        if (!(r->tools = cJSON_CreateArray())) return rerr(e, 500, NULL, "out of memory");
        int i = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, tools) {
            char p[48], fp[64];
            snprintf(p, sizeof p, "tools[%d]", i);
            snprintf(fp, sizeof fp, "tools[%d].function", i++);
            if (!cJSON_IsObject(t)) return rerr(e, 400, p, "%s: expected an object, got %s", p, jtype(t));
            const char *type = "function", *name = NULL;
            if (!jstr(t, "type", p, false, &type, e)) return false;
            if (strcmp(type, "function"))
                return rerr(e, 400, p, "%s: tool type '%s' is not supported (only function tools)", p, type);
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
            if (!cJSON_IsObject(fn)) return rerr(e, 400, fp, "%s: expected an object, got %s", fp, jtype(fn));
            char np[80];
            snprintf(np, sizeof np, "%s.name", fp);
            if (!jstr(fn, "name", np, true, &name, e)) return false;
            const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
            if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params)) {
                snprintf(np, sizeof np, "%s.parameters", fp);
                return rerr(e, 400, np, "%s: expected an object (JSON schema), got %s", np, jtype(params));
            }
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fn, "strict"))) r->tools_strict = true;
            cJSON_AddItemToArray(r->tools, cJSON_Duplicate(t, true));
        }
    }
    r->parse_tools = r->tools && cJSON_GetArraySize(r->tools) > 0;
    return creq_openai_tool_choice(r, b, e);
}

/* response_format {type: text | json_object | json_schema{json_schema:{schema, strict}}}. */
static bool parse_format(chat_req *r, const cJSON *rf, const char *field, req_err *e) {
    if (!rf || cJSON_IsNull(rf)) return true;
    if (!cJSON_IsObject(rf)) return rerr(e, 400, field, "%s: expected an object, got %s", field, jtype(rf));
    const char *type = NULL;
    char tp[64];
    snprintf(tp, sizeof tp, "%s.type", field);
    if (!jstr(rf, "type", tp, true, &type, e)) return false;
    if (!strcmp(type, "text")) return true;
    r->con.field = field;
    if (!strcmp(type, "json_object")) {
        r->con.kind = GEN_CONSTRAINT_JSON_OBJECT;
        return true;
    }
    if (!strcmp(type, "json_schema")) {
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
        if (!js) js = rf; /* Responses: the schema fields sit in the format object */
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
        r->con.kind = GEN_CONSTRAINT_JSON_SCHEMA;
        r->con.strict = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(js, "strict"));
        if (schema && !(r->con.schema = r->con_schema = jw_print(schema)))
            return rerr(e, 500, NULL, "out of memory");
        return true;
    }
    return rerr(e, 400, tp, "%s: unknown value '%s' (text, json_object, json_schema)", tp, type);
}

/* Shared by chat and completions: model, n, stream options, logprobs. */
static bool parse_common(srv_call *c, const cJSON *b, chat_req *r, req_err *e) {
    srv_session_from_body(c, b); /* x-session-id (docs/deploy.md) */
    const char *model = NULL;
    if (!jstr(b, "model", "model", false, &model, e)) return false;
    if (!(r->model = strdup(model ? model : c->s->model_name))) return rerr(e, 500, NULL, "out of memory");
    long long n = 1, mt = 0;
    bool has = false;
    if (!jint(b, "n", "n", 1, 1000000, &n, NULL, e)) return false;
    if (n != 1) return rerr(e, 400, "n", "n: only n=1 is supported");
    if (!jint(b, "max_completion_tokens", "max_completion_tokens", 1, 1000000000, &mt, &has, e)) return false;
    if (has) r->max_tokens_field = "max_completion_tokens";
    else if (!jint(b, "max_tokens", "max_tokens", 1, 1000000000, &mt, &has, e)) return false;
    if (has) r->max_tokens = (int)mt;
    if (!creq_sampling(r, b, e) || !creq_stops(r, b, "stop", e)) return false;
    if (!jbool(b, "stream", "stream", &r->stream, e)) return false;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(b, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) return rerr(e, 400, "stream_options", "stream_options: expected an object, got %s", jtype(so));
        if (!jbool(so, "include_usage", "stream_options.include_usage", &r->include_usage, e)) return false;
    }
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(b, "logprobs");
    if (lp && !cJSON_IsNull(lp) && !cJSON_IsFalse(lp) && !(cJSON_IsNumber(lp) && lp->valuedouble == 0))
        return rerr(e, 400, "logprobs", "logprobs: not supported by this server");
    return true;
}

/* ---- chat answer ------------------------------------------------------------------------ */

typedef struct {
    bool completions; /* /v1/completions */
} oa_state;

static void chunk_head(job *j, olm_sb *o) {
    oa_state *a = j->api;
    olm_sb_puts(o, "data: {\"id\":");
    jw_cstr(o, j->rid);
    olm_sb_puts(o, a->completions ? ",\"object\":\"text_completion\",\"created\":" : ",\"object\":\"chat.completion.chunk\",\"created\":");
    jw_int(o, j->created);
    olm_sb_puts(o, ",\"model\":");
    jw_cstr(o, j->r->model);
    olm_sb_puts(o, ",\"system_fingerprint\":null,\"choices\":[");
}

static void usage_obj(const job *j, olm_sb *o) {
    olm_sb_puts(o, "{\"prompt_tokens\":");
    jw_int(o, j->res.n_prompt);
    olm_sb_puts(o, ",\"completion_tokens\":");
    jw_int(o, j->res.n_generated);
    olm_sb_puts(o, ",\"total_tokens\":");
    jw_int(o, j->res.n_prompt + j->res.n_generated);
    olm_sb_puts(o, ",\"prompt_tokens_details\":{\"cached_tokens\":");
    jw_int(o, j->res.n_cached);
    olm_sb_puts(o, "}}");
}

static void s_start(job *j, olm_sb *o) {
    oa_state *a = j->api;
    if (a->completions) return;
    chunk_head(j, o);
    olm_sb_puts(o, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

static void s_text(job *j, const char *s, size_t n, olm_sb *o) {
    oa_state *a = j->api;
    chunk_head(j, o);
    if (a->completions) {
        olm_sb_puts(o, "{\"index\":0,\"text\":");
        jw_str(o, s, n);
        olm_sb_puts(o, ",\"logprobs\":null,\"finish_reason\":null}]}\n\n");
        return;
    }
    olm_sb_puts(o, "{\"index\":0,\"delta\":{\"content\":");
    jw_str(o, s, n);
    olm_sb_puts(o, "},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

static void s_call_start(job *j, int index, olm_sb *o) {
    chunk_head(j, o);
    olm_sb_puts(o, "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":");
    jw_int(o, index);
    olm_sb_puts(o, ",\"id\":");
    jw_cstr(o, j->calls[index].id);
    olm_sb_puts(o, ",\"type\":\"function\",\"function\":{\"name\":");
    jw_str(o, j->calls[index].name.p, j->calls[index].name.len);
    olm_sb_puts(o, ",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

static void s_call_args(job *j, int index, const char *s, size_t n, olm_sb *o) {
    chunk_head(j, o);
    olm_sb_puts(o, "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":");
    jw_int(o, index);
    olm_sb_puts(o, ",\"function\":{\"arguments\":");
    jw_str(o, s, n);
    olm_sb_puts(o, "}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

static void s_call_end(job *j, int index, olm_sb *o) { (void)j, (void)index, (void)o; }

static void s_ping(job *j, olm_sb *o) {
    (void)j;
    olm_sb_puts(o, ": ping\n\n"); /* an SSE comment: clients skip it, proxies see traffic */
}

static void s_finish(job *j, olm_sb *o) {
    oa_state *a = j->api;
    chunk_head(j, o);
    if (a->completions) olm_sb_puts(o, "{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":");
    else olm_sb_puts(o, "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":");
    jw_cstr(o, job_openai_finish(j));
    /* usage on the finishing chunk as well: some clients (agentic-flow's
     * OpenAI-compatible provider) read it only there */
    olm_sb_puts(o, "}],\"usage\":");
    usage_obj(j, o);
    olm_sb_puts(o, "}\n\n");
    if (j->r->include_usage) {
        chunk_head(j, o);
        olm_sb_puts(o, "],\"usage\":");
        usage_obj(j, o);
        olm_sb_puts(o, "}\n\n");
    }
    olm_sb_puts(o, "data: [DONE]\n\n");
}

static void s_fail(job *j, olm_sb *o) {
    olm_sb_puts(o, "data: {\"error\":{\"message\":");
    jw_cstr(o, j->res.message);
    olm_sb_puts(o, ",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\ndata: [DONE]\n\n");
}

static void reply(job *j) {
    oa_state *a = j->api;
    olm_sb o = {0};
    olm_sb_puts(&o, "{\"id\":");
    jw_cstr(&o, j->rid);
    olm_sb_puts(&o, a->completions ? ",\"object\":\"text_completion\",\"created\":" : ",\"object\":\"chat.completion\",\"created\":");
    jw_int(&o, j->created);
    olm_sb_puts(&o, ",\"model\":");
    jw_cstr(&o, j->r->model);
    olm_sb_puts(&o, ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,");
    if (a->completions) {
        olm_sb_puts(&o, "\"text\":");
        jw_str(&o, j->text.p ? j->text.p : "", j->text.len);
    } else {
        olm_sb_puts(&o, "\"message\":{\"role\":\"assistant\",\"content\":");
        if (j->text.len || !j->n_calls) jw_str(&o, j->text.p ? j->text.p : "", j->text.len);
        else olm_sb_puts(&o, "null");
        if (j->n_calls) {
            olm_sb_puts(&o, ",\"tool_calls\":[");
            for (int i = 0; i < j->n_calls; i++) {
                if (i) olm_sb_putc(&o, ',');
                olm_sb_puts(&o, "{\"id\":");
                jw_cstr(&o, j->calls[i].id);
                olm_sb_puts(&o, ",\"type\":\"function\",\"function\":{\"name\":");
                jw_str(&o, j->calls[i].name.p, j->calls[i].name.len);
                olm_sb_puts(&o, ",\"arguments\":");
                jw_str(&o, j->calls[i].args.p ? j->calls[i].args.p : "{}", j->calls[i].args.len);
                olm_sb_puts(&o, "}}");
            }
            olm_sb_puts(&o, "]");
        }
        olm_sb_puts(&o, ",\"refusal\":null}");
    }
    olm_sb_puts(&o, ",\"logprobs\":null,\"finish_reason\":");
    jw_cstr(&o, job_openai_finish(j));
    olm_sb_puts(&o, "}],\"usage\":");
    usage_obj(j, &o);
    olm_sb_puts(&o, "}");
    if (o.oom) srv_error(j->c, 500, NULL, "out of memory");
    else srv_reply_json(j->c, 200, o.p, o.len);
    olm_sb_free(&o);
}

static const job_writer WRITER = {s_start, s_text, s_call_start, s_call_args, s_call_end, s_ping, s_finish, s_fail, reply};

static void run(srv_call *c, chat_req *r, bool completions) {
    oa_state *a = calloc(1, sizeof *a);
    if (!a) {
        creq_free(r);
        srv_error(c, 500, NULL, "out of memory");
        return;
    }
    a->completions = completions;
    job_run(c, r, &WRITER, a, free, completions ? "cmpl-" : "chatcmpl-", "call_");
}

bool api_openai_parse_chat(srv_call *c, const cJSON *b, chat_req *r, req_err *e) {
    return parse_common(c, b, r, e) && parse_messages(r, cJSON_GetObjectItemCaseSensitive(b, "messages"), e) &&
           parse_tools(r, b, e) && parse_format(r, cJSON_GetObjectItemCaseSensitive(b, "response_format"), "response_format", e);
}

void api_openai_chat(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    chat_req r;
    creq_init(&r, API_OPENAI, c->s);
    cJSON *b = jparse_body(body, len, &e);
    if (b && api_openai_parse_chat(c, b, &r, &e) && creq_prepare(c->s, &r, &e)) {
        cJSON_Delete(b);
        run(c, &r, false);
        return;
    }
    cJSON_Delete(b);
    creq_free(&r);
    srv_error(c, e.status ? e.status : 500, e.param, "%s", e.msg);
}

/* Completions' prompt: a string, [string], [ids] or [[ids]] — one prompt. */
static bool parse_prompt(srv *s, chat_req *r, const cJSON *p, req_err *e) {
    if (!p) return rerr(e, 400, "prompt", "prompt: required field missing");
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && !cJSON_IsNumber(cJSON_GetArrayItem(p, 0)))
        p = cJSON_GetArrayItem(p, 0);
    if (cJSON_IsString(p)) {
        olm_sb_puts(&r->raw_text, p->valuestring);
        onnxllm_error err = {0};
        if (onnxllm_tokenizer_encode(s->tok, p->valuestring, strlen(p->valuestring), ONNXLLM_TOKENIZE_PARSE_SPECIAL,
                                     &r->raw_ids, &err))
            return rerr(e, 500, NULL, "tokenizer: %s", err.message);
        r->raw = true;
        return true;
    }
    if (!cJSON_IsArray(p)) return rerr(e, 400, "prompt", "prompt: expected a string or an array of token ids, got %s", jtype(p));
    if (cJSON_GetArraySize(p) > 1 && !cJSON_IsNumber(cJSON_GetArrayItem(p, 0)))
        return rerr(e, 400, "prompt", "prompt: only one prompt per request is supported");
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, p) {
        if (!cJSON_IsNumber(t) || t->valuedouble != (double)(int32_t)t->valuedouble)
            return rerr(e, 400, "prompt", "prompt[%d]: expected a token id (integer), got %s", i, jtype(t));
        int32_t id = (int32_t)t->valuedouble;
        if (r->raw_ids.len == r->raw_ids.cap) {
            size_t cap = r->raw_ids.cap ? r->raw_ids.cap * 2 : 64;
            int32_t *g = realloc(r->raw_ids.ids, cap * sizeof *g);
            if (!g) return rerr(e, 500, NULL, "out of memory");
            r->raw_ids.ids = g;
            r->raw_ids.cap = cap;
        }
        r->raw_ids.ids[r->raw_ids.len++] = id;
        i++;
    }
    r->raw = true;
    return true;
}

void api_openai_completions(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    chat_req r;
    creq_init(&r, API_OPENAI, c->s);
    cJSON *b = jparse_body(body, len, &e);
    bool ok = b && parse_common(c, b, &r, &e) && parse_prompt(c->s, &r, cJSON_GetObjectItemCaseSensitive(b, "prompt"), &e);
    if (ok) {
        const cJSON *x;
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "echo")) && cJSON_IsTrue(x))
            ok = rerr(&e, 400, "echo", "echo: not supported by this server");
        else if ((x = cJSON_GetObjectItemCaseSensitive(b, "suffix")) && !cJSON_IsNull(x))
            ok = rerr(&e, 400, "suffix", "suffix: not supported by this server");
        else if ((x = cJSON_GetObjectItemCaseSensitive(b, "best_of")) && cJSON_IsNumber(x) && x->valuedouble != 1)
            ok = rerr(&e, 400, "best_of", "best_of: only 1 is supported");
    }
    if (ok && r.max_tokens < 0) r.max_tokens = 16; /* the Completions API's default */
    if (ok && creq_prepare(c->s, &r, &e)) {
        cJSON_Delete(b);
        run(c, &r, true);
        return;
    }
    cJSON_Delete(b);
    creq_free(&r);
    srv_error(c, e.status ? e.status : 500, e.param, "%s", e.msg);
}

/* ---- models ----------------------------------------------------------------------------- */

static void model_obj(srv *s, const char *id, olm_sb *o) {
    olm_sb_puts(o, "{\"id\":");
    jw_cstr(o, id);
    olm_sb_puts(o, ",\"object\":\"model\",\"created\":");
    jw_int(o, s->created);
    olm_sb_puts(o, ",\"owned_by\":\"onnxllm\",\"type\":\"model\",\"display_name\":");
    jw_cstr(o, id);
    olm_sb_puts(o, ",\"created_at\":\"1970-01-01T00:00:00Z\"");
    if (s->ctx) {
        olm_sb_puts(o, ",\"max_model_len\":");
        jw_int(o, s->ctx);
    }
    olm_sb_puts(o, "}");
}

void api_openai_models(srv_call *c) {
    srv *s = c->s;
    const char *path = http_path(c->rq);
    const char *id = !strncmp(path, "/v1/models/", 11) ? path + 11 : !strncmp(path, "/models/", 8) ? path + 8 : NULL;
    olm_sb o = {0};
    if (id) {
        bool known = !strcmp(id, s->model_name);
        for (size_t i = 0; i < s->n_aliases; i++) known |= !strcmp(id, s->aliases[i]);
        if (!known) {
            srv_error(c, 404, "model", "model '%s' not found (GET /v1/models lists the names)", id);
            return;
        }
        model_obj(s, id, &o);
    } else {
        olm_sb_puts(&o, "{\"object\":\"list\",\"data\":[");
        model_obj(s, s->model_name, &o);
        for (size_t i = 0; i < s->n_aliases; i++) {
            olm_sb_putc(&o, ',');
            model_obj(s, s->aliases[i], &o);
        }
        olm_sb_puts(&o, "],\"has_more\":false,\"first_id\":");
        jw_cstr(&o, s->model_name);
        olm_sb_puts(&o, ",\"last_id\":");
        jw_cstr(&o, s->n_aliases ? s->aliases[s->n_aliases - 1] : s->model_name);
        olm_sb_puts(&o, "}");
    }
    if (o.oom) srv_error(c, 500, NULL, "out of memory");
    else srv_reply_json(c, 200, o.p, o.len);
    olm_sb_free(&o);
}

/* Exposed for the Responses API (same text.format shapes). */
bool oa_parse_format(chat_req *r, const cJSON *rf, const char *field, req_err *e) { return parse_format(r, rf, field, e); }

/* Exposed for /apply-template and /tokenize (chat messages + tools, OpenAI shapes). */
bool oa_parse_chat(chat_req *r, const cJSON *b, req_err *e) {
    return parse_messages(r, cJSON_GetObjectItemCaseSensitive(b, "messages"), e) && parse_tools(r, b, e);
}
