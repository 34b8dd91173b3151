/* api.c — public entry points: compile from a JSON Schema, a response format or
 * a tool list (the Phi-4 tool-call wrapper), and grammar lifetime. */
#include "grammar/grammar.h"
#include "common/error.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

onnxllm_grammar_params onnxllm_grammar_default_params(void) {
    onnxllm_grammar_params p;
    p.whitespace = ONNXLLM_WS_FLEXIBLE;
    p.max_whitespace = 12;
    p.max_depth = 64;
    p.max_configurations = 128;
    return p;
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Slots of the shared plain-token cache, one per state of every DFA. */
static bool cache_init(onnxllm_grammar *g) {
    size_t total = 0;
    g->cache_off = malloc((g->dfas.n ? g->dfas.n : 1) * sizeof *g->cache_off);
    if (!g->cache_off) return false;
    for (size_t i = 0; i < g->dfas.n; i++) {
        g->cache_off[i] = (uint32_t)total;
        total += g->dfas.v[i].n;
    }
    g->cache = calloc(total ? total : 1, sizeof *g->cache);
    atomic_init(&g->cache_bytes, 0);
    return g->cache != NULL;
}

void olm_grammar_free_parts(onnxllm_grammar *g) {
    if (g->cache) {
        size_t total = 0;
        for (size_t i = 0; i < g->dfas.n; i++) total += g->dfas.v[i].n;
        for (size_t i = 0; i < total; i++) free(atomic_load(&g->cache[i]));
    }
    free((void *)g->cache);
    free(g->cache_off);
    for (size_t i = 0; i < g->dfas.n; i++) olm_dfa_free(&g->dfas.v[i]);
    VEC_FREE(g->dfas);
    VEC_FREE(g->nodes);
    VEC_FREE(g->pool);
}

void onnxllm_grammar_free(onnxllm_grammar *g) {
    if (!g) return;
    olm_grammar_free_parts(g);
    free(g);
}

size_t onnxllm_grammar_mask_words(const onnxllm_grammar *g) { return g ? g->vocab->n_words : 0; }
const onnxllm_grammar_vocab *onnxllm_grammar_get_vocab(const onnxllm_grammar *g) { return g ? g->vocab : NULL; }

static onnxllm_status new_grammar(const onnxllm_grammar_vocab *v, const onnxllm_grammar_params *p, onnxllm_grammar **out,
                                  onnxllm_error *err) {
    *out = NULL;
    if (!v) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar: NULL vocabulary");
    onnxllm_grammar_params d = p ? *p : onnxllm_grammar_default_params();
    if (d.max_whitespace < 0 || d.max_whitespace > 200 || d.max_depth < 1 || d.max_depth > 1000 ||
        d.max_configurations < 1 || d.max_configurations > 4096)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "grammar: bad parameters (max_whitespace 0..200, max_depth 1..1000, max_configurations 1..4096)");
    onnxllm_grammar *g = calloc(1, sizeof *g);
    if (!g) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    g->vocab = v;
    g->ws_max = d.whitespace == ONNXLLM_WS_COMPACT ? 0 : (uint32_t)d.max_whitespace;
    g->max_depth = (uint32_t)d.max_depth + 2; /* + root and the key frame */
    g->max_cfg = (uint32_t)d.max_configurations;
    g->root = NO_NODE;
    g->free_dfa = NO_NODE;
    *out = g;
    return ONNXLLM_OK;
}

static onnxllm_status parse_json(const char *text, size_t len, const char *what, cJSON **out, onnxllm_error *err) {
    onnxllm_status st = olm_json_parse(text, len, what, out, err);
    if (st) {
        if (err) err->status = ONNXLLM_ERR_INVALID_ARGUMENT;
        return ONNXLLM_ERR_INVALID_ARGUMENT;
    }
    return ONNXLLM_OK;
}

static onnxllm_status compile_schema_obj(const onnxllm_grammar_vocab *v, const cJSON *schema, const onnxllm_grammar_params *p,
                                         onnxllm_grammar **out, onnxllm_error *err) {
    double t0 = now_us();
    onnxllm_grammar *g;
    onnxllm_status st = new_grammar(v, p, &g, err);
    if (st) return st;
    g->root_kind = ROOT_JSON;
    st = olm_schema_compile(g, schema, schema, NULL, &g->root, err);
    if (!st && !cache_init(g)) st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    if (st) {
        onnxllm_grammar_free(g);
        return st;
    }
    g->compile_us = now_us() - t0;
    *out = g;
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_grammar_compile_json_schema(const onnxllm_grammar_vocab *v, const char *schema, size_t len,
                                                   const onnxllm_grammar_params *p, onnxllm_grammar **out,
                                                   onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar: NULL argument");
    *out = NULL;
    if (!schema) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar: NULL schema");
    cJSON *j;
    onnxllm_status st = parse_json(schema, len, "schema", &j, err);
    if (st) return st;
    st = compile_schema_obj(v, j, p, out, err);
    cJSON_Delete(j);
    return st;
}

onnxllm_status onnxllm_grammar_compile_response_format(const onnxllm_grammar_vocab *v, const char *format_json,
                                                       const onnxllm_grammar_params *p, onnxllm_grammar **out,
                                                       onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar: NULL argument");
    *out = NULL;
    if (!format_json) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "response_format: NULL");
    cJSON *j;
    onnxllm_status st = parse_json(format_json, strlen(format_json), "response_format", &j, err);
    if (st) return st;
    const cJSON *schema = NULL;
    cJSON *obj_schema = NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (cJSON_IsString(j) && !strcmp(j->valuestring, "json")) { /* Ollama format: "json" */
        obj_schema = cJSON_Parse("{\"type\":\"object\"}");
        schema = obj_schema;
    } else if (cJSON_IsObject(j) && cJSON_IsString(type) && !strcmp(type->valuestring, "text")) {
        cJSON_Delete(j);
        return ONNXLLM_OK;
    } else if (cJSON_IsObject(j) && cJSON_IsString(type) && !strcmp(type->valuestring, "json_object")) {
        obj_schema = cJSON_Parse("{\"type\":\"object\"}");
        schema = obj_schema;
    } else if (cJSON_IsObject(j) && cJSON_IsString(type) && !strcmp(type->valuestring, "json_schema")) {
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "json_schema");
        schema = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(js) ? js : j, "schema");
        if (!schema) {
            cJSON_Delete(j);
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "response_format: json_schema without \"schema\"");
        }
    } else if (cJSON_IsObject(j) && !type) {
        schema = j; /* Ollama format: a schema object */
    } else if (cJSON_IsObject(j) && cJSON_IsString(type) &&
               (!strcmp(type->valuestring, "object") || !strcmp(type->valuestring, "array") ||
                !strcmp(type->valuestring, "string") || !strcmp(type->valuestring, "number") ||
                !strcmp(type->valuestring, "integer") || !strcmp(type->valuestring, "boolean") ||
                !strcmp(type->valuestring, "null"))) {
        schema = j; /* a bare schema */
    } else {
        cJSON_Delete(j);
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "response_format: type must be \"text\", \"json_object\" or \"json_schema\"");
    }
    if (!schema) st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "response_format: out of memory");
    else st = compile_schema_obj(v, schema, p, out, err);
    cJSON_Delete(obj_schema);
    cJSON_Delete(j);
    return st;
}

/* ---- tools --------------------------------------------------------------------------------------- */

typedef struct tool_ref {
    const char *name;
    const cJSON *params; /* NULL: no parameters */
} tool_ref;

static onnxllm_status read_tools(const cJSON *tools, tool_ref **out, size_t *n, onnxllm_error *err) {
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(tools)) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tools: expected a JSON array");
    size_t cap = (size_t)cJSON_GetArraySize(tools);
    tool_ref *t = calloc(cap ? cap : 1, sizeof *t);
    if (!t) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tools: out of memory");
    int i = 0;
    for (const cJSON *e = tools->child; e; e = e->next, i++) {
        const cJSON *fn = e, *f = cJSON_GetObjectItemCaseSensitive(e, "function");
        if (cJSON_IsObject(f)) fn = f;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        if (!cJSON_IsObject(fn) || !cJSON_IsString(name) || !name->valuestring[0]) {
            free(t);
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tools[%d]: a tool needs a string \"name\"", i);
        }
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        if (!params) params = cJSON_GetObjectItemCaseSensitive(fn, "input_schema");
        if (params && cJSON_IsNull(params)) params = NULL;
        bool dup = false;
        for (size_t k = 0; k < *n && !dup; k++) dup = !strcmp(t[k].name, name->valuestring);
        if (dup) continue; /* the first definition of a name wins */
        t[*n].name = name->valuestring;
        t[*n].params = params;
        (*n)++;
    }
    *out = t;
    return ONNXLLM_OK;
}

/* tool_choice → mode: 0 auto, 1 required, 2 named, 3 none; *name for 2. */
static onnxllm_status read_choice(const cJSON *tc, int *mode, const char **name, bool *parallel, onnxllm_error *err) {
    *mode = 0;
    *name = NULL;
    if (!tc || cJSON_IsNull(tc)) return ONNXLLM_OK;
    const char *s = cJSON_IsString(tc) ? tc->valuestring : NULL;
    if (cJSON_IsObject(tc)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(tc, "type");
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(fn) ? fn : tc, "name");
        const cJSON *dp = cJSON_GetObjectItemCaseSensitive(tc, "disable_parallel_tool_use");
        if (cJSON_IsTrue(dp)) *parallel = false;
        if (cJSON_IsString(nm)) {
            *mode = 2;
            *name = nm->valuestring;
            return ONNXLLM_OK;
        }
        s = cJSON_IsString(type) ? type->valuestring : NULL;
        if (!s) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tool_choice: an object needs \"type\" or a tool \"name\"");
    }
    if (!s) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tool_choice: expected a string or an object");
    if (!strcmp(s, "auto")) *mode = 0;
    else if (!strcmp(s, "required") || !strcmp(s, "any")) *mode = 1;
    else if (!strcmp(s, "none")) *mode = 3;
    else return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tool_choice: unknown value \"%.60s\" (auto, required, any, none or a tool)", s);
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_grammar_compile_tools(const onnxllm_grammar_vocab *v, const char *tools_json,
                                             const char *tool_choice_json, bool parallel,
                                             const onnxllm_grammar_params *p, onnxllm_grammar **out,
                                             onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar: NULL argument");
    *out = NULL;
    if (!v) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar: NULL vocabulary");
    double t0 = now_us();
    cJSON *tools = NULL, *tc = NULL, *objtype = NULL;
    tool_ref *tr = NULL;
    size_t nt = 0;
    onnxllm_grammar *g = NULL;
    uint32_t *calls = NULL;
    onnxllm_status st;
    if (!tools_json) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tools: NULL");
    if ((st = parse_json(tools_json, strlen(tools_json), "tools", &tools, err))) return st;
    if (tool_choice_json) {
        /* JSON text, or a bare word (auto / required / any / none / a tool name) */
        const char *t = tool_choice_json;
        while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r') t++;
        if (*t == '{' || *t == '"' || !strcmp(t, "null")) {
            if ((st = parse_json(tool_choice_json, strlen(tool_choice_json), "tool_choice", &tc, err))) goto done;
        } else if (!strcmp(t, "auto") || !strcmp(t, "required") || !strcmp(t, "any") || !strcmp(t, "none")) {
            tc = cJSON_CreateString(t);
        } else {
            tc = cJSON_CreateObject();
            if (tc && !cJSON_AddStringToObject(tc, "name", t)) {
                cJSON_Delete(tc);
                tc = NULL;
            }
        }
        if (!tc) {
            st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tool_choice: out of memory");
            goto done;
        }
    }
    int mode;
    const char *want;
    if ((st = read_choice(tc, &mode, &want, &parallel, err))) goto done;
    if ((st = read_tools(tools, &tr, &nt, err))) goto done;
    if ((st = new_grammar(v, p, &g, err))) goto done;
    if (mode == 3) { /* none: free text, the tool-call tag is not allowed */
        g->root_kind = ROOT_FREE;
        g->allow_tool_open = false;
        goto finish;
    }
    if (v->tool_open < 0 || v->tool_close < 0) {
        st = olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "tools: the vocabulary has no <|tool_call|> / <|/tool_call|> tokens");
        goto done;
    }
    if (!nt) {
        if (mode == 0) { /* no tools: plain text */
            g->root_kind = ROOT_FREE;
            goto finish;
        }
        st = olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tool_choice requires a tool call but no tools are given");
        goto done;
    }
    objtype = cJSON_Parse("{\"type\":\"object\"}");
    calls = calloc(nt, sizeof *calls);
    if (!objtype || !calls) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tools: out of memory");
        goto done;
    }
    size_t nc = 0;
    for (size_t i = 0; i < nt; i++) {
        if (mode == 2 && strcmp(tr[i].name, want)) continue;
        uint32_t args;
        if (tr[i].params) st = olm_schema_compile(g, tr[i].params, tr[i].params, objtype, &args, err);
        else {
            cJSON *empty = cJSON_Parse("{\"type\":\"object\",\"additionalProperties\":false}");
            st = empty ? olm_schema_compile(g, empty, empty, NULL, &args, err)
                       : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tools: out of memory");
            cJSON_Delete(empty);
        }
        if (st) {
            olm_wrap(err, st, "tool \"%.60s\" parameters", tr[i].name);
            goto done;
        }
        cJSON *nm = cJSON_CreateString(tr[i].name);
        char *lit = NULL;
        size_t litlen = 0;
        bool ok = nm && olm_json_canonical(nm, &lit, &litlen);
        cJSON_Delete(nm);
        uint32_t name_node;
        if (!ok) {
            st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tools: out of memory");
            goto done;
        }
        st = olm_build_literal(g, (const char *const *)&lit, &litlen, 1, &name_node, err);
        free(lit);
        if (st) goto done;
        const char *names[2] = {"name", "arguments"};
        uint32_t nodes[2] = {name_node, args};
        uint8_t req[2] = {1, 1};
        if ((st = olm_build_object(g, names, nodes, req, 2, &calls[nc++], err))) goto done;
    }
    if (!nc) {
        st = olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tool_choice: no tool named \"%.60s\"", want ? want : "");
        goto done;
    }
    uint32_t items = calls[0], arr;
    if (nc > 1 && (st = olm_build_anyof(g, calls, (uint32_t)nc, &items, err))) goto done;
    if ((st = olm_build_array(g, items, 1, parallel ? NO_LIMIT : 1, &arr, err))) goto done;
    g->root = arr;
    g->root_kind = ROOT_TOOLS;
    g->tools_auto = mode == 0;
    g->allow_tool_open = true;
finish:
    if (g->root_kind == ROOT_FREE || g->tools_auto) {
        /* free text must not spell the tags with ordinary tokens: such a "call" would
         * be parsed without ever having been constrained */
        static const char *const tags[] = {"<|tool_call|>", "<|/tool_call|>"};
        olm_dfa fd;
        if (olm_avoid_dfa(tags, 2, &fd) || (g->free_dfa = olm_grammar_add_dfa(g, &fd)) == NO_NODE) {
            st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tools: out of memory");
            goto done;
        }
    }
    olm_grammar_first_bytes(g);
    if (!cache_init(g)) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
        goto done;
    }
    g->compile_us = now_us() - t0;
    *out = g;
    g = NULL;
    st = ONNXLLM_OK;
done:
    onnxllm_grammar_free(g);
    free(calls);
    free(tr);
    cJSON_Delete(objtype);
    cJSON_Delete(tools);
    cJSON_Delete(tc);
    return st;
}
