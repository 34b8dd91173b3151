/* toolcall.c — tool calls in generated text → structured calls; OpenAI / Anthropic shapes.
 *
 * Phi-4-mini answers a tool request with
 *     <|tool_call|>[{"name": "f", "arguments": {"x": 1}}]<|/tool_call|>
 * but in practice (BFCL's phi handler, Ollama and ORT-GenAI issues) it often
 * forgets the closing tag, stops with <|end|>, drops the brackets, writes
 * several objects separated by commas, or gives "arguments" as a JSON string
 * (sometimes under "parameters"). The parser accepts all of these. What it
 * cannot read as calls stays in the text: a model that talks about tool calls
 * must not lose words. */
#include "common/strbuf.h"
#include "common/error.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static const char OPEN_TAG[] = "<|tool_call|>";
static const char CLOSE_TAG[] = "<|/tool_call|>";

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static bool starts(const char *p, const char *lit) { return !strncmp(p, lit, strlen(lit)); }

/* End of the JSON object/array starting at p (balanced brackets, strings with
 * escapes skipped); NULL when the text ends first. Validity is cJSON's job. */
static const char *scan_balanced(const char *p) {
    int depth = 0;
    for (; *p; p++) {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1]) p++;
            if (!*p) return NULL;
        } else if (*p == '{' || *p == '[') depth++;
        else if (*p == '}' || *p == ']') {
            if (--depth == 0) return p + 1;
        }
    }
    return NULL;
}

static bool random_id(char *out, size_t n) {
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char bytes[64];
    if (n > sizeof bytes) return false;
    if (getrandom(bytes, n, 0) != (ssize_t)n) return false;
    for (size_t i = 0; i < n; i++) out[i] = alnum[bytes[i] % 62];
    out[n] = 0;
    return true;
}

/* One parsed object → a call: 1 done, 0 not a call we can use, -1 out of memory. */
static int call_from_object(const cJSON *obj, onnxllm_tool_call *call) {
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(obj, "function");
    if (cJSON_IsObject(fn)) obj = fn; /* OpenAI {"type":"function","function":{…}} */
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0]) return 0;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(obj, "arguments");
    if (!args) args = cJSON_GetObjectItemCaseSensitive(obj, "parameters");
    cJSON *parsed = NULL;
    if (cJSON_IsString(args)) { /* arguments given as a JSON string */
        args = parsed = cJSON_Parse(args->valuestring);
        if (!parsed) return 0;
    }
    char *text = NULL;
    if (!args || cJSON_IsNull(args)) text = strdup("{}");
    else if (cJSON_IsObject(args)) text = cJSON_PrintUnformatted(args);
    else {
        cJSON_Delete(parsed);
        return 0; /* arguments that are not an object */
    }
    cJSON_Delete(parsed);
    char id[32] = "call_";
    call->arguments = text;
    call->name = strdup(name->valuestring);
    call->id = random_id(id + 5, 24) ? strdup(id) : NULL;
    return call->arguments && call->name && call->id ? 1 : -1;
}

static void call_free(onnxllm_tool_call *c) {
    free(c->id);
    free(c->name);
    free(c->arguments);
}

/* Parses the payload after an opening tag. On success appends to *calls and
 * returns the position after the payload and its terminator; NULL when the
 * payload is not a list of calls. */
static const char *parse_payload(const char *p, onnxllm_tool_call **calls, size_t *n, size_t *cap, bool *oom) {
    size_t n0 = *n;
    p = skip_ws(p);
    bool bracket = *p == '[';
    if (bracket) p = skip_ws(p + 1);
    for (;;) {
        if (*p != '{') goto fail;
        const char *end = scan_balanced(p);
        if (!end) goto fail;
        cJSON *obj = cJSON_ParseWithLength(p, (size_t)(end - p));
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 4;
            onnxllm_tool_call *g = realloc(*calls, nc * sizeof *g);
            if (!g) {
                *oom = true;
                cJSON_Delete(obj);
                goto fail;
            }
            *calls = g;
            *cap = nc;
        }
        onnxllm_tool_call c = {0};
        int r = obj ? call_from_object(obj, &c) : 0;
        cJSON_Delete(obj);
        if (r != 1) {
            *oom |= r < 0;
            call_free(&c);
            goto fail;
        }
        (*calls)[(*n)++] = c;
        p = skip_ws(end);
        if (*p == ',') {
            p = skip_ws(p + 1);
            continue;
        }
        break;
    }
    if (bracket && *p == ']') p = skip_ws(p + 1);
    /* Terminators: the closing tag, or the turn/text end tokens that replace it. */
    if (starts(p, CLOSE_TAG)) p += strlen(CLOSE_TAG);
    else if (starts(p, "<|end|>")) p += strlen("<|end|>");
    else if (starts(p, "<|endoftext|>")) p += strlen("<|endoftext|>");
    return p;
fail:
    while (*n > n0) call_free(&(*calls)[--*n]);
    return NULL;
}

void onnxllm_toolcalls_clear(onnxllm_tool_calls *tc) {
    if (!tc) return;
    for (size_t i = 0; i < tc->n; i++) call_free(&tc->calls[i]);
    free(tc->calls);
    free(tc->content);
    memset(tc, 0, sizeof *tc);
}

onnxllm_status onnxllm_toolcalls_parse(const char *text, onnxllm_tool_calls *out, onnxllm_error *err) {
    if (!text || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_toolcalls_parse: NULL argument");
    memset(out, 0, sizeof *out);
    olm_sb content = {0};
    size_t cap = 0;
    bool oom = false;
    const char *p = text;
    for (;;) {
        const char *tag = strstr(p, OPEN_TAG);
        if (!tag) {
            olm_sb_puts(&content, p);
            break;
        }
        olm_sb_put(&content, p, (size_t)(tag - p));
        const char *after = parse_payload(tag + strlen(OPEN_TAG), &out->calls, &out->n, &cap, &oom);
        if (oom) break;
        if (after) {
            p = after;
            continue;
        }
        /* Not calls: keep the segment (up to the next opening tag) as text. */
        const char *next = strstr(tag + strlen(OPEN_TAG), OPEN_TAG);
        size_t len = next ? (size_t)(next - tag) : strlen(tag);
        olm_sb_put(&content, tag, len);
        p = tag + len;
    }
    if (!oom) out->content = olm_sb_finish(&content);
    if (oom || !out->content) {
        olm_sb_free(&content);
        onnxllm_toolcalls_clear(out);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tool calls: out of memory");
    }
    return ONNXLLM_OK;
}

static onnxllm_status print_out(cJSON *arr, char **out, onnxllm_error *err) {
    *out = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return *out ? ONNXLLM_OK : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tool calls: out of memory");
}

onnxllm_status onnxllm_toolcalls_openai_json(const onnxllm_tool_calls *tc, char **out, onnxllm_error *err) {
    if (!tc || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_toolcalls_openai_json: NULL argument");
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < tc->n; i++) {
        cJSON *c = cJSON_CreateObject(), *fn = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, c);
        cJSON_AddStringToObject(c, "id", tc->calls[i].id);
        cJSON_AddStringToObject(c, "type", "function");
        cJSON_AddItemToObject(c, "function", fn);
        cJSON_AddStringToObject(fn, "name", tc->calls[i].name);
        cJSON_AddStringToObject(fn, "arguments", tc->calls[i].arguments);
    }
    return print_out(arr, out, err);
}

onnxllm_status onnxllm_toolcalls_anthropic_json(const onnxllm_tool_calls *tc, char **out, onnxllm_error *err) {
    if (!tc || !out)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_toolcalls_anthropic_json: NULL argument");
    cJSON *arr = cJSON_CreateArray();
    bool blank = true;
    for (const char *p = tc->content ? tc->content : ""; *p; p++) blank &= isspace((unsigned char)*p) != 0;
    if (arr && !blank) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, t);
        cJSON_AddStringToObject(t, "type", "text");
        cJSON_AddStringToObject(t, "text", tc->content);
    }
    for (size_t i = 0; arr && i < tc->n; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, c);
        cJSON_AddStringToObject(c, "type", "tool_use");
        const char *id = tc->calls[i].id;
        char tid[64];
        snprintf(tid, sizeof tid, "toolu_%s", starts(id, "call_") ? id + 5 : id);
        cJSON_AddStringToObject(c, "id", tid);
        cJSON_AddStringToObject(c, "name", tc->calls[i].name);
        cJSON *input = cJSON_Parse(tc->calls[i].arguments);
        cJSON_AddItemToObject(c, "input", input ? input : cJSON_CreateObject());
    }
    return print_out(arr, out, err);
}
