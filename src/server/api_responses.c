/* api_responses.c — OpenAI Responses (POST /v1/responses), stateless.
 *
 * What Codex CLI and the OpenAI Agents SDK send: `input` as a string or items
 * (message, function_call, function_call_output, reasoning), `instructions`,
 * function tools (hosted tool types — namespace, web_search, … — are accepted and
 * left out of the prompt), text.format; streamed as typed events with a
 * sequence_number. No state is kept: previous_response_id / conversation get a
 * 400 that says so. */
#include "server/job.h"
#include "server/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>


static bool parts_text(const cJSON *content, const char *path, olm_sb *out, req_err *e) {
    if (!content || cJSON_IsNull(content)) return true;
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
        if (!strcmp(type, "input_text") || !strcmp(type, "output_text") || !strcmp(type, "text") ||
            !strcmp(type, "summary_text") || !strcmp(type, "reasoning_text")) {
            if (!jstr(p, "text", tp, true, &text, e)) return false;
        } else if (!strcmp(type, "refusal")) {
            snprintf(tp, sizeof tp, "%s[%d].refusal", path, i - 1);
            if (!jstr(p, "refusal", tp, true, &text, e)) return false;
        } else if (!strcmp(type, "input_image") || !strcmp(type, "input_file") || !strcmp(type, "input_audio")) {
            return rerr(e, 400, pp, "%s: '%s' content is not supported: this model reads text only", pp, type);
        } else return rerr(e, 400, pp, "%s: unsupported content part type '%s'", pp, type);
        if (out->len && *text) olm_sb_puts(out, "\n");
        olm_sb_puts(out, text);
    }
    return true;
}

static bool parse_input(chat_req *r, const cJSON *in, req_err *e) {
    if (!in || cJSON_IsNull(in)) return true;
    if (cJSON_IsString(in)) {
        chat_msg *m = creq_add(r, R_USER);
        if (!m) return rerr(e, 500, NULL, "out of memory");
        olm_sb_puts(&m->text, in->valuestring);
        return true;
    }
    if (!cJSON_IsArray(in)) return rerr(e, 400, "input", "input: expected a string or an array of items, got %s", jtype(in));
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, in) {
        char p[48], fp[96];
        snprintf(p, sizeof p, "input[%d]", i++);
        if (!cJSON_IsObject(it)) return rerr(e, 400, p, "%s: expected an object, got %s", p, jtype(it));
        const char *type = NULL;
        if (!jstr(it, "type", p, false, &type, e)) return false;
        if (!type) type = "message"; /* EasyInputMessage: {role, content} */
        if (!strcmp(type, "message")) {
            const char *role = NULL;
            snprintf(fp, sizeof fp, "%s.role", p);
            if (!jstr(it, "role", fp, true, &role, e)) return false;
            snprintf(fp, sizeof fp, "%s.content", p);
            if (!strcmp(role, "system") || !strcmp(role, "developer")) {
                olm_sb t = {0};
                bool ok = parts_text(cJSON_GetObjectItemCaseSensitive(it, "content"), fp, &t, e);
                if (ok && t.len) {
                    if (r->system.len) olm_sb_puts(&r->system, "\n\n");
                    olm_sb_put(&r->system, t.p, t.len);
                }
                olm_sb_free(&t);
                if (!ok) return false;
                continue;
            }
            int role_id = !strcmp(role, "user") ? R_USER : !strcmp(role, "assistant") ? R_ASSISTANT : -1;
            if (role_id < 0) {
                snprintf(fp, sizeof fp, "%s.role", p);
                return rerr(e, 400, fp, "%s: unknown role '%s' (expected user, assistant, system or developer)", fp, role);
            }
            chat_msg *m = creq_add(r, role_id);
            if (!m) return rerr(e, 500, NULL, "out of memory");
            if (!parts_text(cJSON_GetObjectItemCaseSensitive(it, "content"), fp, &m->text, e)) return false;
        } else if (!strcmp(type, "function_call")) {
            const char *name = NULL, *args = NULL, *call_id = NULL;
            snprintf(fp, sizeof fp, "%s.name", p);
            if (!jstr(it, "name", fp, true, &name, e)) return false;
            snprintf(fp, sizeof fp, "%s.arguments", p);
            if (!jstr(it, "arguments", fp, false, &args, e)) return false;
            snprintf(fp, sizeof fp, "%s.call_id", p);
            if (!jstr(it, "call_id", fp, false, &call_id, e)) return false;
            /* calls right after an assistant turn (or after each other) belong to it */
            chat_msg *m = r->n && r->m[r->n - 1].role == R_ASSISTANT ? &r->m[r->n - 1] : creq_add(r, R_ASSISTANT);
            if (!m || !creq_add_call(m, call_id, name, args)) return rerr(e, 500, NULL, "out of memory");
        } else if (!strcmp(type, "function_call_output")) {
            chat_msg *m = creq_add(r, R_TOOL);
            if (!m) return rerr(e, 500, NULL, "out of memory");
            snprintf(fp, sizeof fp, "%s.output", p);
            const cJSON *out = cJSON_GetObjectItemCaseSensitive(it, "output");
            if (!out || cJSON_IsNull(out)) return rerr(e, 400, fp, "%s: required field missing", fp);
            if (!parts_text(out, fp, &m->text, e)) return false;
        } else if (!strcmp(type, "reasoning") || !strcmp(type, "item_reference")) {
            /* no reasoning in this model; references need state we do not keep */
        } else {
            snprintf(fp, sizeof fp, "%s.type", p);
            return rerr(e, 400, fp, "%s: unsupported input item type '%s'", fp, type);
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
            const char *type = NULL, *name = NULL;
            if (!jstr(t, "type", p, true, &type, e)) return false;
            if (strcmp(type, "function")) continue; /* hosted / namespace / custom tools: not in the prompt */
            if (!jstr(t, "name", np, true, &name, e)) return false;
            /* Responses function tools are strict unless they say otherwise */
            const cJSON *strict = cJSON_GetObjectItemCaseSensitive(t, "strict");
            if (!strict || cJSON_IsNull(strict) || cJSON_IsTrue(strict)) r->tools_strict = true;
            cJSON *d = cJSON_CreateObject();
            cJSON_AddItemToArray(r->tools, d);
            cJSON_AddStringToObject(d, "name", name);
            const cJSON *desc = cJSON_GetObjectItemCaseSensitive(t, "description");
            if (cJSON_IsString(desc)) cJSON_AddStringToObject(d, "description", desc->valuestring);
            const cJSON *params = cJSON_GetObjectItemCaseSensitive(t, "parameters");
            if (cJSON_IsObject(params)) cJSON_AddItemToObject(d, "parameters", cJSON_Duplicate(params, true));
        }
    }
    r->parse_tools = r->tools && cJSON_GetArraySize(r->tools) > 0;
    return creq_openai_tool_choice(r, b, e);
}

bool api_responses_parse(srv_call *c, const cJSON *b, chat_req *r, req_err *e) {
    srv_session_from_body(c, b); /* x-session-id (docs/deploy.md) */
    const char *model = NULL, *instr = NULL;
    if (!jstr(b, "model", "model", false, &model, e)) return false;
    if (!(r->model = strdup(model ? model : c->s->model_name))) return rerr(e, 500, NULL, "out of memory");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(b, "previous_response_id");
    if (prev && !cJSON_IsNull(prev))
        return rerr(e, 400, "previous_response_id",
                    "previous_response_id: not supported: this server keeps no responses; send the whole "
                    "conversation in `input`");
    const cJSON *conv = cJSON_GetObjectItemCaseSensitive(b, "conversation");
    if (conv && !cJSON_IsNull(conv))
        return rerr(e, 400, "conversation",
                    "conversation: not supported: this server keeps no conversations; send the whole conversation "
                    "in `input`");
    if (!jstr(b, "instructions", "instructions", false, &instr, e)) return false;
    if (instr && *instr) olm_sb_puts(&r->system, instr);
    if (!parse_input(r, cJSON_GetObjectItemCaseSensitive(b, "input"), e)) return false;
    if (!parse_tools(r, b, e)) return false;
    long long mt = 0;
    bool has = false;
    if (!jint(b, "max_output_tokens", "max_output_tokens", 1, 1000000000, &mt, &has, e)) return false;
    if (has) r->max_tokens = (int)mt;
    r->max_tokens_field = "max_output_tokens";
    if (!creq_sampling(r, b, e)) return false;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(b, "text");
    if (text && !cJSON_IsNull(text)) {
        if (!cJSON_IsObject(text)) return rerr(e, 400, "text", "text: expected an object, got %s", jtype(text));
        if (!oa_parse_format(r, cJSON_GetObjectItemCaseSensitive(text, "format"), "text.format", e)) return false;
    }
    return jbool(b, "stream", "stream", &r->stream, e);
}

/* ---- the answer --------------------------------------------------------------------------- */

typedef struct {
    long long seq;          /* sequence_number */
    int output_index;       /* next output item */
    bool msg_open;
    int msg_index;
    char msg_id[48];
    olm_sb msg_text;        /* text of the open message item */
    char (*fc_ids)[48];     /* item ids of the calls */
    int n_fc;
    int *call_index;        /* output index of each call */
    struct rs_item {        /* the output items in order (streaming) */
        int call;           /* -1: a message */
        char id[48];
        olm_sb text;
    } *items;
    int n_items;
    /* request echo */
    cJSON *tools;           /* as sent */
    cJSON *tool_choice;
    char *instructions;
    int max_output_tokens;
} rs_state;

static void rs_free(void *p) {
    rs_state *a = p;
    for (int i = 0; i < a->n_items; i++) olm_sb_free(&a->items[i].text);
    free(a->items);
    olm_sb_free(&a->msg_text);
    free(a->fc_ids);
    free(a->call_index);
    cJSON_Delete(a->tools);
    cJSON_Delete(a->tool_choice);
    free(a->instructions);
    free(a);
}

static void rand_id(char *out, size_t cap, const char *prefix) {
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) memset(r, 5, sizeof r);
    size_t k = (size_t)snprintf(out, cap - 33, "%s", prefix);
    for (size_t i = 0; i < sizeof r; i++) out[k + 2 * i] = hex[r[i] >> 4], out[k + 2 * i + 1] = hex[r[i] & 15];
    out[k + 32] = 0;
}

static void ev(job *j, olm_sb *o, const char *type) {
    rs_state *a = j->api;
    olm_sb_puts(o, "event: ");
    olm_sb_puts(o, type);
    olm_sb_puts(o, "\ndata: {\"type\":");
    jw_cstr(o, type);
    olm_sb_puts(o, ",\"sequence_number\":");
    jw_int(o, a->seq++);
}

static void msg_item(const char *id, olm_sb *o, const char *status, const char *text, size_t n, bool with_content) {
    olm_sb_puts(o, "{\"type\":\"message\",\"id\":");
    jw_cstr(o, id);
    olm_sb_puts(o, ",\"status\":");
    jw_cstr(o, status);
    olm_sb_puts(o, ",\"role\":\"assistant\",\"content\":[");
    if (with_content) {
        olm_sb_puts(o, "{\"type\":\"output_text\",\"text\":");
        jw_str(o, text, n);
        olm_sb_puts(o, ",\"annotations\":[],\"logprobs\":[]}");
    }
    olm_sb_puts(o, "]}");
}

static void call_item(job *j, int i, olm_sb *o, const char *status, bool with_args) {
    rs_state *a = j->api;
    olm_sb_puts(o, "{\"type\":\"function_call\",\"id\":");
    jw_cstr(o, a->fc_ids[i]);
    olm_sb_puts(o, ",\"call_id\":");
    jw_cstr(o, j->calls[i].id);
    olm_sb_puts(o, ",\"name\":");
    jw_str(o, j->calls[i].name.p, j->calls[i].name.len);
    olm_sb_puts(o, ",\"arguments\":");
    if (with_args) jw_str(o, j->calls[i].args.p ? j->calls[i].args.p : "", j->calls[i].args.len);
    else olm_sb_puts(o, "\"\"");
    olm_sb_puts(o, ",\"status\":");
    jw_cstr(o, status);
    olm_sb_puts(o, "}");
}

static bool ensure_calls(rs_state *a, int n);

static const char *final_status(const job *j) {
    return !strcmp(j->finish_reason, "length") ? "incomplete" : "completed";
}

/* The response object. final: with output and usage; else in progress. */
static void response_obj(job *j, olm_sb *o, const char *status, bool final) {
    rs_state *a = j->api;
    olm_sb_puts(o, "{\"id\":");
    jw_cstr(o, j->rid);
    olm_sb_puts(o, ",\"object\":\"response\",\"created_at\":");
    jw_int(o, j->created);
    olm_sb_puts(o, ",\"status\":");
    jw_cstr(o, status);
    olm_sb_puts(o, ",\"error\":null,\"incomplete_details\":");
    if (final && !strcmp(status, "incomplete")) olm_sb_puts(o, "{\"reason\":\"max_output_tokens\"}");
    else olm_sb_puts(o, "null");
    olm_sb_puts(o, ",\"instructions\":");
    jw_cstr(o, a->instructions);
    olm_sb_puts(o, ",\"max_output_tokens\":");
    if (a->max_output_tokens > 0) jw_int(o, a->max_output_tokens);
    else olm_sb_puts(o, "null");
    olm_sb_puts(o, ",\"model\":");
    jw_cstr(o, j->r->model);
    olm_sb_puts(o, ",\"output\":[");
    if (final) {
        if (j->r->stream) { /* as streamed */
            for (int i = 0; i < a->n_items; i++) {
                if (i) olm_sb_putc(o, ',');
                if (a->items[i].call >= 0) call_item(j, a->items[i].call, o, "completed", true);
                else msg_item(a->items[i].id, o, "completed", a->items[i].text.p ? a->items[i].text.p : "", a->items[i].text.len, true);
            }
        } else {
            char id[48];
            rand_id(id, sizeof id, "msg_");
            bool first = true;
            if (j->text.len || !j->n_calls) {
                msg_item(id, o, "completed", j->text.p ? j->text.p : "", j->text.len, true);
                first = false;
            }
            for (int i = 0; i < j->n_calls; i++) {
                if (!first) olm_sb_putc(o, ',');
                first = false;
                if (ensure_calls(a, i + 1)) rand_id(a->fc_ids[i], sizeof a->fc_ids[i], "fc_");
                call_item(j, i, o, "completed", true);
            }
        }
    }
    olm_sb_puts(o, j->r->single_call ? "],\"parallel_tool_calls\":false" : "],\"parallel_tool_calls\":true");
    olm_sb_puts(o, ",\"previous_response_id\":null,\"reasoning\":{\"effort\":null,"
                   "\"summary\":null},\"store\":false,\"temperature\":");
    jw_num(o, j->r->sp.temperature);
    olm_sb_puts(o, ",\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":");
    if (a->tool_choice) {
        char *tc = jw_print(a->tool_choice);
        olm_sb_puts(o, tc ? tc : "\"auto\"");
        free(tc);
    } else olm_sb_puts(o, "\"auto\"");
    olm_sb_puts(o, ",\"tools\":");
    char *tools = a->tools ? jw_print(a->tools) : NULL;
    olm_sb_puts(o, tools ? tools : "[]");
    free(tools);
    olm_sb_puts(o, ",\"top_p\":");
    jw_num(o, j->r->sp.top_p);
    olm_sb_puts(o, ",\"truncation\":\"disabled\",\"metadata\":{},\"usage\":");
    if (final) {
        olm_sb_puts(o, "{\"input_tokens\":");
        jw_int(o, j->res.n_prompt);
        olm_sb_puts(o, ",\"input_tokens_details\":{\"cached_tokens\":");
        jw_int(o, j->res.n_cached);
        olm_sb_puts(o, "},\"output_tokens\":");
        jw_int(o, j->res.n_generated);
        olm_sb_puts(o, ",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":");
        jw_int(o, j->res.n_prompt + j->res.n_generated);
        olm_sb_puts(o, "}");
    } else olm_sb_puts(o, "null");
    olm_sb_puts(o, "}");
}

static void s_start(job *j, olm_sb *o) {
    ev(j, o, "response.created");
    olm_sb_puts(o, ",\"response\":");
    response_obj(j, o, "in_progress", false);
    olm_sb_puts(o, "}\n\n");
    ev(j, o, "response.in_progress");
    olm_sb_puts(o, ",\"response\":");
    response_obj(j, o, "in_progress", false);
    olm_sb_puts(o, "}\n\n");
}

static void item_ref(job *j, olm_sb *o, const char *item_id, int index) {
    (void)j;
    olm_sb_puts(o, ",\"item_id\":");
    jw_cstr(o, item_id);
    olm_sb_puts(o, ",\"output_index\":");
    jw_int(o, index);
}

static void close_msg(job *j, olm_sb *o) {
    rs_state *a = j->api;
    if (!a->msg_open) return;
    a->msg_open = false;
    const char *t = a->msg_text.p ? a->msg_text.p : "";
    ev(j, o, "response.output_text.done");
    item_ref(j, o, a->msg_id, a->msg_index);
    olm_sb_puts(o, ",\"content_index\":0,\"text\":");
    jw_str(o, t, a->msg_text.len);
    olm_sb_puts(o, ",\"logprobs\":[]}\n\n");
    ev(j, o, "response.content_part.done");
    item_ref(j, o, a->msg_id, a->msg_index);
    olm_sb_puts(o, ",\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":");
    jw_str(o, t, a->msg_text.len);
    olm_sb_puts(o, ",\"annotations\":[],\"logprobs\":[]}}\n\n");
    ev(j, o, "response.output_item.done");
    olm_sb_puts(o, ",\"output_index\":");
    jw_int(o, a->msg_index);
    olm_sb_puts(o, ",\"item\":");
    msg_item(a->msg_id, o, "completed", t, a->msg_text.len, true);
    olm_sb_puts(o, "}\n\n");
}

static void add_item(rs_state *a, int call, const char *id) {
    struct rs_item *g = realloc(a->items, (size_t)(a->n_items + 1) * sizeof *g);
    if (!g) return;
    a->items = g;
    memset(&g[a->n_items], 0, sizeof *g);
    g[a->n_items].call = call;
    snprintf(g[a->n_items].id, sizeof g[a->n_items].id, "%s", id);
    a->n_items++;
}

static void s_text(job *j, const char *s, size_t n, olm_sb *o) {
    rs_state *a = j->api;
    if (!a->msg_open) {
        a->msg_open = true;
        a->msg_index = a->output_index++;
        a->msg_text.len = 0;
        rand_id(a->msg_id, sizeof a->msg_id, "msg_");
        add_item(a, -1, a->msg_id);
        ev(j, o, "response.output_item.added");
        olm_sb_puts(o, ",\"output_index\":");
        jw_int(o, a->msg_index);
        olm_sb_puts(o, ",\"item\":");
        msg_item(a->msg_id, o, "in_progress", "", 0, false);
        olm_sb_puts(o, "}\n\n");
        ev(j, o, "response.content_part.added");
        item_ref(j, o, a->msg_id, a->msg_index);
        olm_sb_puts(o, ",\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[],\"logprobs\":[]}}\n\n");
    }
    olm_sb_put(&a->msg_text, s, n);
    if (a->n_items) olm_sb_put(&a->items[a->n_items - 1].text, s, n);
    ev(j, o, "response.output_text.delta");
    item_ref(j, o, a->msg_id, a->msg_index);
    olm_sb_puts(o, ",\"content_index\":0,\"delta\":");
    jw_str(o, s, n);
    olm_sb_puts(o, ",\"logprobs\":[]}\n\n");
}

static bool ensure_calls(rs_state *a, int n) {
    if (n <= a->n_fc) return true;
    char(*g)[48] = realloc(a->fc_ids, (size_t)n * sizeof *g);
    if (!g) return false;
    a->fc_ids = g;
    int *h = realloc(a->call_index, (size_t)n * sizeof *h);
    if (!h) return false;
    a->call_index = h;
    a->n_fc = n;
    return true;
}

static void s_call_start(job *j, int index, olm_sb *o) {
    rs_state *a = j->api;
    close_msg(j, o);
    if (!ensure_calls(a, index + 1)) return;
    rand_id(a->fc_ids[index], sizeof a->fc_ids[index], "fc_");
    a->call_index[index] = a->output_index++;
    add_item(a, index, a->fc_ids[index]);
    ev(j, o, "response.output_item.added");
    olm_sb_puts(o, ",\"output_index\":");
    jw_int(o, a->call_index[index]);
    olm_sb_puts(o, ",\"item\":");
    call_item(j, index, o, "in_progress", false);
    olm_sb_puts(o, "}\n\n");
}

static void s_call_args(job *j, int index, const char *s, size_t n, olm_sb *o) {
    rs_state *a = j->api;
    if (index >= a->n_fc) return;
    ev(j, o, "response.function_call_arguments.delta");
    item_ref(j, o, a->fc_ids[index], a->call_index[index]);
    olm_sb_puts(o, ",\"delta\":");
    jw_str(o, s, n);
    olm_sb_puts(o, "}\n\n");
}

static void s_call_end(job *j, int index, olm_sb *o) {
    rs_state *a = j->api;
    if (index >= a->n_fc) return;
    ev(j, o, "response.function_call_arguments.done");
    item_ref(j, o, a->fc_ids[index], a->call_index[index]);
    olm_sb_puts(o, ",\"name\":");
    jw_str(o, j->calls[index].name.p, j->calls[index].name.len);
    olm_sb_puts(o, ",\"arguments\":");
    jw_str(o, j->calls[index].args.p ? j->calls[index].args.p : "", j->calls[index].args.len);
    olm_sb_puts(o, "}\n\n");
    ev(j, o, "response.output_item.done");
    olm_sb_puts(o, ",\"output_index\":");
    jw_int(o, a->call_index[index]);
    olm_sb_puts(o, ",\"item\":");
    call_item(j, index, o, "completed", true);
    olm_sb_puts(o, "}\n\n");
}

static void s_ping(job *j, olm_sb *o) {
    (void)j;
    olm_sb_puts(o, ": ping\n\n");
}

static void s_finish(job *j, olm_sb *o) {
    rs_state *a = j->api;
    if (!a->n_items) s_text(j, "", 0, o); /* an answer always has an item */
    close_msg(j, o);
    const char *status = final_status(j);
    ev(j, o, !strcmp(status, "incomplete") ? "response.incomplete" : "response.completed");
    olm_sb_puts(o, ",\"response\":");
    response_obj(j, o, status, true);
    olm_sb_puts(o, "}\n\n");
}

static void s_fail(job *j, olm_sb *o) {
    close_msg(j, o);
    ev(j, o, "response.failed");
    olm_sb_puts(o, ",\"response\":{\"id\":");
    jw_cstr(o, j->rid);
    olm_sb_puts(o, ",\"object\":\"response\",\"status\":\"failed\",\"model\":");
    jw_cstr(o, j->r->model);
    olm_sb_puts(o, ",\"output\":[],\"error\":{\"code\":\"server_error\",\"message\":");
    jw_cstr(o, j->res.message);
    olm_sb_puts(o, "}}}\n\n");
}

static void reply(job *j) {
    olm_sb o = {0};
    response_obj(j, &o, final_status(j), true);
    if (o.oom) srv_error(j->c, 500, NULL, "out of memory");
    else srv_reply_json(j->c, 200, o.p, o.len);
    olm_sb_free(&o);
}

static const job_writer WRITER = {s_start, s_text, s_call_start, s_call_args, s_call_end, s_ping, s_finish, s_fail, reply};

void api_responses(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    chat_req r;
    creq_init(&r, API_RESPONSES, c->s);
    cJSON *b = jparse_body(body, len, &e);
    if (b && api_responses_parse(c, b, &r, &e) && creq_prepare(c->s, &r, &e)) {
        rs_state *a = calloc(1, sizeof *a);
        if (a) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(b, "tools");
            a->tools = cJSON_IsArray(x) ? cJSON_Duplicate(x, true) : NULL;
            x = cJSON_GetObjectItemCaseSensitive(b, "tool_choice");
            a->tool_choice = x && !cJSON_IsNull(x) ? cJSON_Duplicate(x, true) : NULL;
            x = cJSON_GetObjectItemCaseSensitive(b, "instructions");
            a->instructions = cJSON_IsString(x) ? strdup(x->valuestring) : NULL;
            a->max_output_tokens = r.max_tokens;
        }
        cJSON_Delete(b);
        if (!a) {
            creq_free(&r);
            srv_error(c, 500, NULL, "out of memory");
            return;
        }
        job_run(c, &r, &WRITER, a, rs_free, "resp_", "call_");
        return;
    }
    cJSON_Delete(b);
    creq_free(&r);
    srv_error(c, e.status ? e.status : 500, e.param, "%s", e.msg);
}
