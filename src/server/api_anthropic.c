/* api_anthropic.c — Anthropic Messages: POST /v1/messages and /v1/messages/count_tokens.
 *
 * Shapes as Claude Code, the Claude Agent SDK (agentic-flow) and the Anthropic SDKs
 * send them: system as a string or text blocks (Claude Code's per-request
 * "x-anthropic-billing-header" block is dropped: it would change the prompt's
 * first tokens on every turn and defeat prefix reuse); system-like roles inside
 * messages[] merged into the system prompt; text / tool_use / tool_result blocks;
 * unknown top-level fields (thinking, metadata, context_management, output_config,
 * cache_control on blocks) accepted and ignored. */
#include "server/job.h"
#include "server/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_systemish(const char *role) {
    return !strcmp(role, "system") || !strcmp(role, "developer") || !strcmp(role, "ctx") || !strcmp(role, "msg");
}

static void join(olm_sb *b, const char *s, const char *sep) {
    if (b->len && *s) olm_sb_puts(b, sep);
    olm_sb_puts(b, s);
}

/* Text of a tool_result's content: a string, or blocks (text joined; images
 * become a note: the model reads text only; other blocks as their JSON). */
static bool tool_result_text(const cJSON *content, const char *path, olm_sb *out, req_err *e) {
    if (!content) return true;
    if (cJSON_IsString(content)) {
        olm_sb_puts(out, content->valuestring);
        return true;
    }
    if (!cJSON_IsArray(content))
        return rerr(e, 400, path, "%s: expected a string or an array of content blocks, got %s", path, jtype(content));
    int i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, content) {
        char p[200];
        snprintf(p, sizeof p, "%s[%d]", path, i++);
        const char *type = NULL, *text = NULL;
        if (!cJSON_IsObject(b)) return rerr(e, 400, p, "%s: expected a content block object, got %s", p, jtype(b));
        if (!jstr(b, "type", p, true, &type, e)) return false;
        if (!strcmp(type, "text")) {
            char tp[220];
            snprintf(tp, sizeof tp, "%s.text", p);
            if (!jstr(b, "text", tp, true, &text, e)) return false;
            join(out, text, "\n");
        } else if (!strcmp(type, "image") || !strcmp(type, "document")) {
            join(out, "[image omitted: this model reads text only]", "\n");
        } else {
            char *j = jw_print(b);
            if (!j) return rerr(e, 500, NULL, "out of memory");
            join(out, j, "\n");
            free(j);
        }
    }
    return true;
}

/* system: a string or an array of text blocks. */
static bool parse_system(chat_req *r, const cJSON *sys, req_err *e) {
    if (!sys || cJSON_IsNull(sys)) return true;
    if (cJSON_IsString(sys)) {
        join(&r->system, sys->valuestring, "\n\n");
        return true;
    }
    if (!cJSON_IsArray(sys)) return rerr(e, 400, "system", "system: expected a string or an array of text blocks, got %s", jtype(sys));
    int i = 0;
    const cJSON *b;
    bool first = true;
    cJSON_ArrayForEach(b, sys) {
        char p[64], tp[80];
        snprintf(p, sizeof p, "system[%d]", i);
        snprintf(tp, sizeof tp, "system[%d].text", i++);
        const char *type = NULL, *text = NULL;
        if (!cJSON_IsObject(b)) return rerr(e, 400, p, "%s: expected a text block, got %s", p, jtype(b));
        if (!jstr(b, "type", p, true, &type, e)) return false;
        if (strcmp(type, "text")) return rerr(e, 400, p, "%s: system blocks must be text blocks, got type '%s'", p, type);
        if (!jstr(b, "text", tp, true, &text, e)) return false;
        /* Claude Code's attribution line changes on every request: keep it out */
        if (first && !strncmp(text, "x-anthropic-billing-header:", 27)) {
            first = false;
            continue;
        }
        first = false;
        join(&r->system, text, "\n");
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
        char p[64], rp[80], cp[80];
        snprintf(p, sizeof p, "messages[%d]", i);
        snprintf(rp, sizeof rp, "messages[%d].role", i);
        snprintf(cp, sizeof cp, "messages[%d].content", i++);
        if (!cJSON_IsObject(m)) return rerr(e, 400, p, "%s: expected an object, got %s", p, jtype(m));
        const char *role = NULL;
        if (!jstr(m, "role", rp, true, &role, e)) return false;
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!content || cJSON_IsNull(content)) return rerr(e, 400, cp, "%s: required field missing", cp);
        if (!cJSON_IsString(content) && !cJSON_IsArray(content))
            return rerr(e, 400, cp, "%s: expected a string or an array of content blocks, got %s", cp, jtype(content));
        if (is_systemish(role)) {
            olm_sb t = {0};
            bool ok = tool_result_text(content, cp, &t, e);
            if (ok && t.len) join(&r->system, t.p, "\n\n");
            olm_sb_free(&t);
            if (!ok) return false;
            continue;
        }
        bool user = !strcmp(role, "user"), asst = !strcmp(role, "assistant");
        if (!user && !asst)
            return rerr(e, 400, rp, "%s: unknown role '%s' (expected user or assistant)", rp, role);
        if (cJSON_IsString(content)) {
            chat_msg *cm = creq_add(r, user ? R_USER : R_ASSISTANT);
            if (!cm) return rerr(e, 500, NULL, "out of memory");
            olm_sb_puts(&cm->text, content->valuestring);
            continue;
        }
        /* blocks: tool results become tool turns (in order), the rest one turn */
        chat_msg *cur = NULL;
        int k = 0;
        const cJSON *b;
        cJSON_ArrayForEach(b, content) {
            char bp[120], fp[160];
            snprintf(bp, sizeof bp, "%s[%d]", cp, k++);
            const char *type = NULL;
            if (!cJSON_IsObject(b)) return rerr(e, 400, bp, "%s: expected a content block object, got %s", bp, jtype(b));
            if (!jstr(b, "type", bp, true, &type, e)) return false;
            if (!strcmp(type, "text")) {
                const char *text = NULL;
                snprintf(fp, sizeof fp, "%s.text", bp);
                if (!jstr(b, "text", fp, true, &text, e)) return false;
                if (!cur && !(cur = creq_add(r, user ? R_USER : R_ASSISTANT))) return rerr(e, 500, NULL, "out of memory");
                join(&cur->text, text, "\n");
            } else if (!strcmp(type, "tool_use")) {
                if (!asst) return rerr(e, 400, bp, "%s: tool_use blocks belong to assistant messages", bp);
                const char *id = NULL, *name = NULL;
                snprintf(fp, sizeof fp, "%s.name", bp);
                if (!jstr(b, "name", fp, true, &name, e)) return false;
                snprintf(fp, sizeof fp, "%s.id", bp);
                if (!jstr(b, "id", fp, false, &id, e)) return false;
                const cJSON *input = cJSON_GetObjectItemCaseSensitive(b, "input");
                snprintf(fp, sizeof fp, "%s.input", bp);
                if (input && !cJSON_IsNull(input) && !cJSON_IsObject(input))
                    return rerr(e, 400, fp, "%s: expected an object, got %s", fp, jtype(input));
                char *args = input && cJSON_IsObject(input) ? jw_print(input) : strdup("{}");
                if (!cur && !(cur = creq_add(r, R_ASSISTANT))) {
                    free(args);
                    return rerr(e, 500, NULL, "out of memory");
                }
                bool ok = args && creq_add_call(cur, id, name, args);
                free(args);
                if (!ok) return rerr(e, 500, NULL, "out of memory");
            } else if (!strcmp(type, "tool_result")) {
                if (!user) return rerr(e, 400, bp, "%s: tool_result blocks belong to user messages", bp);
                const char *id = NULL;
                bool is_error = false;
                snprintf(fp, sizeof fp, "%s.tool_use_id", bp);
                if (!jstr(b, "tool_use_id", fp, false, &id, e)) return false;
                snprintf(fp, sizeof fp, "%s.is_error", bp);
                if (!jbool(b, "is_error", fp, &is_error, e)) return false;
                chat_msg *tm = creq_add(r, R_TOOL);
                if (!tm) return rerr(e, 500, NULL, "out of memory");
                if (is_error) olm_sb_puts(&tm->text, "Error: ");
                snprintf(fp, sizeof fp, "%s.content", bp);
                olm_sb t = {0};
                bool ok = tool_result_text(cJSON_GetObjectItemCaseSensitive(b, "content"), fp, &t, e);
                if (ok && t.len) olm_sb_put(&tm->text, t.p, t.len);
                olm_sb_free(&t);
                if (!ok) return false;
                cur = NULL; /* text after results: a new user turn */
            } else if (!strcmp(type, "thinking") || !strcmp(type, "redacted_thinking")) {
                /* never produced by this model; not part of its prompt */
            } else if (!strcmp(type, "image") || !strcmp(type, "document")) {
                return rerr(e, 400, bp, "%s: %s blocks are not supported: this model reads text only", bp, type);
            } else {
                return rerr(e, 400, bp, "%s: unsupported content block type '%s'", bp, type);
            }
        }
        if (!cur && !k) { /* content: [] */
            if (!creq_add(r, user ? R_USER : R_ASSISTANT)) return rerr(e, 500, NULL, "out of memory");
        }
    }
    return true;
}

static bool parse_tools(chat_req *r, const cJSON *b, req_err *e) {
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(b, "tools");
    if (tools && !cJSON_IsNull(tools)) {
        if (!cJSON_IsArray(tools)) return rerr(e, 400, "tools", "tools: expected an array, got %s", jtype(tools));
        if (!(r->tools = cJSON_CreateArray())) return rerr(e, 500, NULL, "out of memory");
        int i = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, tools) {
            char p[48], np[64];
            snprintf(p, sizeof p, "tools[%d]", i);
            snprintf(np, sizeof np, "tools[%d].name", i++);
            if (!cJSON_IsObject(t)) return rerr(e, 400, p, "%s: expected an object, got %s", p, jtype(t));
            const char *name = NULL, *type = NULL;
            if (!jstr(t, "name", np, true, &name, e)) return false;
            if (!jstr(t, "type", p, false, &type, e)) return false;
            const cJSON *schema = cJSON_GetObjectItemCaseSensitive(t, "input_schema");
            const cJSON *defer = cJSON_GetObjectItemCaseSensitive(t, "defer_loading");
            /* Server tools (web_search_…, bash_…: a type and no schema) run at Anthropic,
             * and deferred tools are loaded on demand: neither goes into the prompt. */
            if ((type && strcmp(type, "custom") && !schema) || cJSON_IsTrue(defer)) continue;
            if (!cJSON_IsObject(schema)) {
                char sp[64];
                snprintf(sp, sizeof sp, "tools[%d].input_schema", i - 1);
                return rerr(e, 400, sp, "%s: expected an object (JSON schema), got %s", sp, jtype(schema));
            }
            cJSON *d = cJSON_CreateObject();
            cJSON_AddItemToArray(r->tools, d);
            cJSON_AddStringToObject(d, "name", name);
            const cJSON *desc = cJSON_GetObjectItemCaseSensitive(t, "description");
            if (cJSON_IsString(desc)) cJSON_AddStringToObject(d, "description", desc->valuestring);
            cJSON_AddItemToObject(d, "input_schema", cJSON_Duplicate(schema, true));
        }
    }
    r->parse_tools = r->tools && cJSON_GetArraySize(r->tools) > 0;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(b, "tool_choice");
    if (!tc || cJSON_IsNull(tc)) return true;
    if (!cJSON_IsObject(tc)) return rerr(e, 400, "tool_choice", "tool_choice: expected an object, got %s", jtype(tc));
    bool single = false;
    if (!jbool(tc, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use", &single, e)) return false;
    r->single_call = single;
    const char *type = NULL, *name = NULL;
    if (!jstr(tc, "type", "tool_choice.type", true, &type, e)) return false;
    if (!strcmp(type, "auto")) return true;
    if (!strcmp(type, "none")) { /* no tools offered, none parsed */
        creq_no_tools(r);
        return true;
    }
    if (!strcmp(type, "any") || !strcmp(type, "tool")) {
        if (!strcmp(type, "tool") && !jstr(tc, "name", "tool_choice.name", true, &name, e)) return false;
        return creq_force_tool(r, name, e);
    }
    return rerr(e, 400, "tool_choice.type", "tool_choice.type: unknown value '%s' (auto, any, tool, none)", type);
}

/* The whole request; for_count: count_tokens (no max_tokens, no sampling). */
bool api_anthropic_parse(srv_call *c, const cJSON *b, chat_req *r, bool for_count, req_err *e) {
    srv_session_from_body(c, b); /* x-session-id (docs/deploy.md) */
    const char *model = NULL;
    if (!jstr(b, "model", "model", false, &model, e)) return false;
    if (!(r->model = strdup(model ? model : c->s->model_name))) return rerr(e, 500, NULL, "out of memory");
    if (!parse_system(r, cJSON_GetObjectItemCaseSensitive(b, "system"), e)) return false;
    if (!parse_messages(r, cJSON_GetObjectItemCaseSensitive(b, "messages"), e)) return false;
    if (!parse_tools(r, b, e)) return false;
    if (r->n && r->m[r->n - 1].role == R_ASSISTANT && !r->m[r->n - 1].n_calls) r->prefill = true;
    if (for_count) return true;
    long long mt = 0;
    bool has = false;
    if (!jint(b, "max_tokens", "max_tokens", 1, 1000000000, &mt, &has, e)) return false;
    if (!has) return rerr(e, 400, "max_tokens", "max_tokens: required field missing");
    r->max_tokens = (int)mt;
    r->clamp_max_tokens = true; /* clients ask for their own model's limit (Claude Code: 32000) */
    if (!creq_sampling(r, b, e)) return false;
    if (!creq_stops(r, b, "stop_sequences", e)) return false;
    return jbool(b, "stream", "stream", &r->stream, e);
}

/* ---- the answer ------------------------------------------------------------------------ */

typedef struct {
    int block;       /* index of the next content block */
    bool text_open;
    int text_block;
    bool any;        /* a block was sent */
} an_state;

static void event(olm_sb *o, const char *name) {
    olm_sb_puts(o, "event: ");
    olm_sb_puts(o, name);
    olm_sb_puts(o, "\ndata: ");
}

static const char *stop_reason(const job *j) {
    if (!strcmp(j->finish_reason, "stop_sequence")) return "stop_sequence";
    if (!strcmp(j->finish_reason, "length")) return "max_tokens";
    if (!strcmp(j->finish_reason, "tool_calls")) return "tool_use";
    return "end_turn";
}

static void usage(const job *j, olm_sb *o, bool final) {
    int cached = final ? j->res.n_cached : 0, prompt = final ? j->res.n_prompt : (int)j->r->ids.len;
    olm_sb_puts(o, "{\"input_tokens\":");
    jw_int(o, prompt - cached);
    olm_sb_puts(o, ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":");
    jw_int(o, cached);
    olm_sb_puts(o, ",\"output_tokens\":");
    jw_int(o, final ? j->res.n_generated : 0);
    olm_sb_puts(o, "}");
}

static void s_start(job *j, olm_sb *o) {
    event(o, "message_start");
    olm_sb_puts(o, "{\"type\":\"message_start\",\"message\":{\"id\":");
    jw_cstr(o, j->rid);
    olm_sb_puts(o, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    jw_cstr(o, j->r->model);
    olm_sb_puts(o, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
    usage(j, o, false);
    olm_sb_puts(o, "}}\n\n");
}

static void close_text(job *j, olm_sb *o) {
    an_state *a = j->api;
    if (!a->text_open) return;
    event(o, "content_block_stop");
    olm_sb_puts(o, "{\"type\":\"content_block_stop\",\"index\":");
    jw_int(o, a->text_block);
    olm_sb_puts(o, "}\n\n");
    a->text_open = false;
}

static void s_text(job *j, const char *s, size_t n, olm_sb *o) {
    an_state *a = j->api;
    if (!a->text_open) {
        a->text_open = a->any = true;
        a->text_block = a->block++;
        event(o, "content_block_start");
        olm_sb_puts(o, "{\"type\":\"content_block_start\",\"index\":");
        jw_int(o, a->text_block);
        olm_sb_puts(o, ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    }
    event(o, "content_block_delta");
    olm_sb_puts(o, "{\"type\":\"content_block_delta\",\"index\":");
    jw_int(o, a->text_block);
    olm_sb_puts(o, ",\"delta\":{\"type\":\"text_delta\",\"text\":");
    jw_str(o, s, n);
    olm_sb_puts(o, "}}\n\n");
}

/* Tool-use blocks take the indexes after the text blocks sent before them. */
static int call_block(job *j, int index) {
    an_state *a = j->api;
    return a->block - 1 - (j->n_calls - 1 - index);
}

static void s_call_start(job *j, int index, olm_sb *o) {
    an_state *a = j->api;
    close_text(j, o);
    a->block++;
    a->any = true;
    event(o, "content_block_start");
    olm_sb_puts(o, "{\"type\":\"content_block_start\",\"index\":");
    jw_int(o, call_block(j, index));
    olm_sb_puts(o, ",\"content_block\":{\"type\":\"tool_use\",\"id\":");
    jw_cstr(o, j->calls[index].id);
    olm_sb_puts(o, ",\"name\":");
    jw_str(o, j->calls[index].name.p, j->calls[index].name.len);
    olm_sb_puts(o, ",\"input\":{}}}\n\n");
}

static void s_call_args(job *j, int index, const char *s, size_t n, olm_sb *o) {
    event(o, "content_block_delta");
    olm_sb_puts(o, "{\"type\":\"content_block_delta\",\"index\":");
    jw_int(o, call_block(j, index));
    olm_sb_puts(o, ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":");
    jw_str(o, s, n);
    olm_sb_puts(o, "}}\n\n");
}

static void s_call_end(job *j, int index, olm_sb *o) {
    event(o, "content_block_stop");
    olm_sb_puts(o, "{\"type\":\"content_block_stop\",\"index\":");
    jw_int(o, call_block(j, index));
    olm_sb_puts(o, "}\n\n");
}

static void s_ping(job *j, olm_sb *o) {
    (void)j;
    olm_sb_puts(o, "event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

static void s_finish(job *j, olm_sb *o) {
    an_state *a = j->api;
    if (!a->any) s_text(j, "", 0, o); /* an answer always has a block */
    close_text(j, o);
    event(o, "message_delta");
    olm_sb_puts(o, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
    jw_cstr(o, stop_reason(j));
    olm_sb_puts(o, ",\"stop_sequence\":");
    jw_cstr(o, j->stop_index >= 0 ? j->r->stops[j->stop_index] : NULL);
    olm_sb_puts(o, "},\"usage\":");
    usage(j, o, true);
    olm_sb_puts(o, "}\n\n");
    event(o, "message_stop");
    olm_sb_puts(o, "{\"type\":\"message_stop\"}\n\n");
}

static void s_fail(job *j, olm_sb *o) {
    event(o, "error");
    olm_sb_puts(o, "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":");
    jw_cstr(o, j->res.message);
    olm_sb_puts(o, "}}\n\n");
}

static void reply(job *j) {
    olm_sb o = {0};
    olm_sb_puts(&o, "{\"id\":");
    jw_cstr(&o, j->rid);
    olm_sb_puts(&o, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    jw_cstr(&o, j->r->model);
    olm_sb_puts(&o, ",\"content\":[");
    bool first = true;
    if (j->text.len || !j->n_calls) {
        olm_sb_puts(&o, "{\"type\":\"text\",\"text\":");
        jw_str(&o, j->text.p ? j->text.p : "", j->text.len);
        olm_sb_puts(&o, "}");
        first = false;
    }
    for (int i = 0; i < j->n_calls; i++) {
        if (!first) olm_sb_putc(&o, ',');
        first = false;
        olm_sb_puts(&o, "{\"type\":\"tool_use\",\"id\":");
        jw_cstr(&o, j->calls[i].id);
        olm_sb_puts(&o, ",\"name\":");
        jw_str(&o, j->calls[i].name.p, j->calls[i].name.len);
        olm_sb_puts(&o, ",\"input\":");
        /* input must be an object: arguments the model left unfinished (max tokens) give {} */
        cJSON *in = cJSON_ParseWithLength(j->calls[i].args.p ? j->calls[i].args.p : "{}", j->calls[i].args.len);
        if (cJSON_IsObject(in)) olm_sb_put(&o, j->calls[i].args.p, j->calls[i].args.len);
        else olm_sb_puts(&o, "{}");
        cJSON_Delete(in);
        olm_sb_puts(&o, "}");
    }
    olm_sb_puts(&o, "],\"stop_reason\":");
    jw_cstr(&o, stop_reason(j));
    olm_sb_puts(&o, ",\"stop_sequence\":");
    jw_cstr(&o, j->stop_index >= 0 ? j->r->stops[j->stop_index] : NULL);
    olm_sb_puts(&o, ",\"usage\":");
    usage(j, &o, true);
    olm_sb_puts(&o, "}");
    if (o.oom) srv_error(j->c, 500, NULL, "out of memory");
    else srv_reply_json(j->c, 200, o.p, o.len);
    olm_sb_free(&o);
}

static const job_writer WRITER = {s_start, s_text, s_call_start, s_call_args, s_call_end, s_ping, s_finish, s_fail, reply};

void api_anthropic_messages(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    chat_req r;
    creq_init(&r, API_ANTHROPIC, c->s);
    cJSON *b = jparse_body(body, len, &e);
    if (b && api_anthropic_parse(c, b, &r, false, &e) && creq_prepare(c->s, &r, &e)) {
        cJSON_Delete(b);
        an_state *a = calloc(1, sizeof *a);
        if (!a) {
            creq_free(&r);
            srv_error(c, 500, NULL, "out of memory");
            return;
        }
        job_run(c, &r, &WRITER, a, free, "msg_", "toolu_");
        return;
    }
    cJSON_Delete(b);
    creq_free(&r);
    srv_error(c, e.status ? e.status : 500, e.param, "%s", e.msg);
}

void api_anthropic_count_tokens(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    chat_req r;
    creq_init(&r, API_ANTHROPIC, c->s);
    cJSON *b = jparse_body(body, len, &e);
    char *text = NULL;
    if (b && api_anthropic_parse(c, b, &r, true, &e) && (text = creq_render_text(c->s, &r, &e))) {
        onnxllm_tokens ids = {0};
        onnxllm_error err = {0};
        if (onnxllm_tokenizer_encode(c->s->tok, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &err)) {
            rerr(&e, 500, NULL, "tokenizer: %s", err.message);
        } else {
            char out[96];
            int n = snprintf(out, sizeof out, "{\"input_tokens\":%zu}", ids.len);
            srv_reply_json(c, 200, out, (size_t)n);
        }
        onnxllm_tokens_free(&ids);
    }
    free(text);
    cJSON_Delete(b);
    creq_free(&r);
    if (e.status) srv_error(c, e.status, e.param, "%s", e.msg);
}
