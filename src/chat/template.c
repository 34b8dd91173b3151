/* template.c — chat templates: recognise the model's Jinja template, render it natively.
 *
 * We do not interpret Jinja. Each supported template is one short loop whose
 * output is fixed by its text, so we recognise the text (whitespace inside tags
 * does not count) and run a C renderer that reproduces what Python's Jinja2
 * (Hugging Face transformers' apply_chat_template) outputs — including the cases
 * where Jinja2 raises: `'<|' + message['role']` needs a string, a missing key is
 * an UndefinedError, None or a list is a TypeError. Messages are kept as JSON
 * values so that "missing", null and "not a string" stay distinguishable. */
#include "chat/pyjson.h"
#include "tokenizer/tok_internal.h" /* olm_tokenizer_encode_trusted, UTF-8 helpers */
#include "common/strbuf.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct onnxllm_template {
    onnxllm_template_kind kind;
    char *eos;
};

/* ---- the known template texts (as published in tokenizer_config.json) -------- */

/* microsoft/Phi-4-mini-instruct tokenizer_config.json chat_template. */
static const char PHI4_TEXT[] =
    "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and "
    "message['tools'] is not none %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + "
    "message['tools'] + '<|/tool|>' + '<|end|>' }}{% else %}{{ '<|' + message['role'] + '|>' + "
    "message['content'] + '<|end|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}";
/* The variant without the eos_token branch. */
static const char PHI4_NO_EOS_TEXT[] =
    "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and "
    "message['tools'] is not none %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + "
    "message['tools'] + '<|/tool|>' + '<|end|>' }}{% else %}{{ '<|' + message['role'] + '|>' + "
    "message['content'] + '<|end|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|assistant|>' }}{% endif %}";
/* microsoft/Phi-3-mini-4k-instruct (and -128k) tokenizer_config.json chat_template. */
static const char PHI3_TEXT[] =
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' + message['content'] + "
    "'<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% "
    "elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif "
    "%}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";
/* microsoft/Phi-3.5-mini-instruct: the system turn only when its content is truthy. */
static const char PHI35_TEXT[] =
    "{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\\n' + "
    "message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + "
    "message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + "
    "message['content'] + '<|end|>\\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";

static const struct {
    onnxllm_template_kind kind;
    const char *name;
    const char *text;
} KNOWN[] = {
    {ONNXLLM_TEMPLATE_PHI4, "phi4", PHI4_TEXT},
    {ONNXLLM_TEMPLATE_PHI4_NO_EOS, "phi4-no-eos", PHI4_NO_EOS_TEXT},
    {ONNXLLM_TEMPLATE_PHI3, "phi3", PHI3_TEXT},
    {ONNXLLM_TEMPLATE_PHI35, "phi3.5", PHI35_TEXT},
};
#define N_KNOWN (sizeof KNOWN / sizeof *KNOWN)

/* Template text with the whitespace inside {% %} / {{ }} tags removed (outside
 * string literals). Text between tags is output verbatim by Jinja, so it is kept. */
static char *normalize(const char *t) {
    olm_sb b = {0};
    int depth = 0; /* inside a tag */
    char quote = 0;
    for (const char *p = t; *p; p++) {
        if (!depth) {
            if (p[0] == '{' && (p[1] == '%' || p[1] == '{')) {
                depth = 1;
                olm_sb_put(&b, p, 2);
                p++;
                continue;
            }
            olm_sb_putc(&b, *p);
            continue;
        }
        if (quote) {
            olm_sb_putc(&b, *p);
            if (*p == '\\' && p[1]) olm_sb_putc(&b, *++p);
            else if (*p == quote) quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"') quote = *p;
        if ((p[0] == '%' || p[0] == '}') && p[1] == '}') {
            depth = 0;
            olm_sb_put(&b, p, 2);
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') continue;
        olm_sb_putc(&b, *p);
    }
    return olm_sb_finish(&b);
}

static onnxllm_status template_new(onnxllm_template_kind kind, const char *eos, onnxllm_template **out,
                                   onnxllm_error *err) {
    onnxllm_template *t = calloc(1, sizeof *t);
    if (!t || !(t->eos = strdup(eos))) {
        free(t);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    }
    t->kind = kind;
    *out = t;
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_template_builtin(onnxllm_template_kind kind, const char *eos_token, onnxllm_template **out,
                                        onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_template_builtin: out is NULL");
    *out = NULL;
    bool known = false;
    for (size_t i = 0; i < N_KNOWN; i++) known |= KNOWN[i].kind == kind;
    if (!known) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown chat template kind %d", (int)kind);
    return template_new(kind, eos_token ? eos_token : "<|endoftext|>", out, err);
}

/* Which known template `text` is; 0 when none. */
static onnxllm_template_kind recognise(const char *text) {
    char *n = normalize(text);
    onnxllm_template_kind kind = 0;
    for (size_t i = 0; n && i < N_KNOWN && !kind; i++) {
        char *k = normalize(KNOWN[i].text);
        if (k && !strcmp(n, k)) kind = KNOWN[i].kind;
        free(k);
    }
    free(n);
    return kind;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* genai_config.json fallback for folders that carry no template at all. */
static onnxllm_status fallback_kind(const char *dir, onnxllm_template_kind *kind, onnxllm_error *err) {
    char *path = olm_path_join(dir, "genai_config.json");
    if (!path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!file_exists(path)) {
        onnxllm_status st = olm_fail(err, ONNXLLM_ERR_UNSUPPORTED,
                                     "%s: no chat template (no chat_template.jinja, no chat_template in "
                                     "tokenizer_config.json, no genai_config.json)", dir);
        free(path);
        return st;
    }
    cJSON *cfg = NULL;
    onnxllm_status st = olm_load_json_file(path, &cfg, err);
    if (st == ONNXLLM_OK) {
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(cfg, "model");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
        const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab_size");
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "phi3"))
            *kind = cJSON_IsNumber(vocab) && vocab->valuedouble >= 200000 ? ONNXLLM_TEMPLATE_PHI4
                                                                          : ONNXLLM_TEMPLATE_PHI3;
        else
            st = olm_fail(err, ONNXLLM_ERR_UNSUPPORTED,
                          "%s: no chat template in the folder and model.type %s has no built-in one", path,
                          cJSON_IsString(type) ? type->valuestring : "(missing)");
    }
    cJSON_Delete(cfg);
    free(path);
    return st;
}

onnxllm_status onnxllm_template_load(const char *model_dir, onnxllm_template **out, onnxllm_error *err) {
    if (!model_dir || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_template_load: NULL argument");
    *out = NULL;
    struct stat st_dir;
    if (stat(model_dir, &st_dir) != 0)
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open model folder: %s", model_dir, strerror(errno));
    if (!S_ISDIR(st_dir.st_mode)) return olm_fail(err, ONNXLLM_ERR_IO, "%s: not a folder", model_dir);

    onnxllm_status st = ONNXLLM_OK;
    char *jinja_path = olm_path_join(model_dir, "chat_template.jinja");
    char *cfg_path = olm_path_join(model_dir, "tokenizer_config.json");
    char *text = NULL, *where = NULL;
    cJSON *cfg = NULL;
    const char *eos = NULL;
    if (!jinja_path || !cfg_path) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    if (file_exists(cfg_path)) {
        if ((st = olm_load_json_file(cfg_path, &cfg, err)) != ONNXLLM_OK) goto done;
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(cfg, "eos_token");
        if (cJSON_IsObject(e)) e = cJSON_GetObjectItemCaseSensitive(e, "content"); /* AddedToken form */
        eos = cJSON_IsString(e) ? e->valuestring : "";  /* Jinja prints an undefined eos_token as "" */
    }
    if (file_exists(jinja_path)) {
        size_t len;
        if ((st = olm_read_file(jinja_path, &text, &len, err)) != ONNXLLM_OK) goto done;
        where = jinja_path;
    } else if (cfg) {
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
        if (cJSON_IsArray(ct)) { /* [{"name": "default", "template": "..."}, {"name": "tool_use", ...}] */
            const cJSON *pick = NULL, *item;
            cJSON_ArrayForEach(item, ct) {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
                if (cJSON_IsString(name) && !strcmp(name->valuestring, "default")) pick = item;
            }
            if (!pick && cJSON_GetArraySize(ct) == 1) pick = ct->child;
            ct = cJSON_GetObjectItemCaseSensitive(pick, "template");
            if (!cJSON_IsString(ct)) {
                st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: chat_template is a list without a \"default\" template",
                              cfg_path);
                goto done;
            }
        }
        if (ct && !cJSON_IsNull(ct)) {
            if (!cJSON_IsString(ct)) {
                st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: chat_template is neither a string nor a list", cfg_path);
                goto done;
            }
            if (!(text = strdup(ct->valuestring))) {
                st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
                goto done;
            }
            where = cfg_path;
        }
    }

    onnxllm_template_kind kind = 0;
    if (text) {
        kind = recognise(text);
        if (!kind) {
            st = olm_fail(err, ONNXLLM_ERR_UNSUPPORTED,
                          "%s: unsupported chat template (known: Phi-4-mini, Phi-3, Phi-3.5)", where);
            goto done;
        }
    } else {
        if ((st = fallback_kind(model_dir, &kind, err)) != ONNXLLM_OK) goto done;
        if (!eos) eos = "<|endoftext|>";
    }
    st = template_new(kind, eos ? eos : "", out, err);
done:
    cJSON_Delete(cfg);
    free(text);
    free(jinja_path);
    free(cfg_path);
    return st;
}

onnxllm_template_kind onnxllm_template_kind_of(const onnxllm_template *t) { return t ? t->kind : 0; }

const char *onnxllm_template_name(const onnxllm_template *t) {
    for (size_t i = 0; t && i < N_KNOWN; i++)
        if (KNOWN[i].kind == t->kind) return KNOWN[i].name;
    return "?";
}

const char *onnxllm_template_eos(const onnxllm_template *t) { return t ? t->eos : ""; }

void onnxllm_template_free(onnxllm_template *t) {
    if (!t) return;
    free(t->eos);
    free(t);
}

/* ---- tools ------------------------------------------------------------------ */

onnxllm_status onnxllm_chat_format_tools(const char *tools_json, char **out, onnxllm_error *err) {
    if (!tools_json || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tools: NULL argument");
    *out = NULL;
    cJSON *tools = NULL;
    onnxllm_status st = olm_json_parse(tools_json, strlen(tools_json), "tools", &tools, err);
    if (st != ONNXLLM_OK) {
        if (err) err->status = ONNXLLM_ERR_INVALID_ARGUMENT; /* "tools: malformed JSON at …" */
        return ONNXLLM_ERR_INVALID_ARGUMENT;
    }
    if (!cJSON_IsArray(tools)) {
        cJSON_Delete(tools);
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tools: expected a JSON array of tool definitions");
    }
    olm_sb b = {0};
    olm_sb_putc(&b, '[');
    int i = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools) {
        const cJSON *fn = tool;
        if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(tool, "function")))
            fn = cJSON_GetObjectItemCaseSensitive(tool, "function"); /* OpenAI {"type":"function","function":{…}} */
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        if (!cJSON_IsObject(fn) || !cJSON_IsString(name)) {
            olm_sb_free(&b);
            cJSON_Delete(tools);
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tools[%d]: a tool needs a string \"name\"", i);
        }
        const cJSON *desc = cJSON_GetObjectItemCaseSensitive(fn, "description");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        if (!params) params = cJSON_GetObjectItemCaseSensitive(fn, "input_schema"); /* Anthropic */
        if (i++) olm_sb_puts(&b, ", ");
        olm_sb_puts(&b, "{\"name\": ");
        olm_pyjson_dump(&b, name);
        if (desc) {
            olm_sb_puts(&b, ", \"description\": ");
            olm_pyjson_dump(&b, desc);
        }
        if (params) {
            olm_sb_puts(&b, ", \"parameters\": ");
            olm_pyjson_dump(&b, params);
        }
        olm_sb_putc(&b, '}');
    }
    olm_sb_putc(&b, ']');
    cJSON_Delete(tools);
    if (!(*out = olm_sb_finish(&b))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "tools: out of memory");
    return ONNXLLM_OK;
}

/* ---- rendering ---------------------------------------------------------------- */

/* A message field the way Jinja sees it. */
typedef struct {
    enum { V_MISSING, V_NULL, V_STRING, V_OTHER } type;
    const char *s;        /* V_STRING */
    const char *typename; /* Python type name for V_OTHER: list, dict, int, float, bool */
    bool truthy;
} jval;

typedef struct {
    jval role, content, tools;
} jmsg;

static jval jval_of(const cJSON *obj, const char *key) {
    jval v = {0};
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!x) v.type = V_MISSING;
    else if (cJSON_IsNull(x)) v.type = V_NULL;
    else if (cJSON_IsString(x)) {
        v.type = V_STRING;
        v.s = x->valuestring;
        v.truthy = x->valuestring[0] != 0;
    } else {
        v.type = V_OTHER;
        if (cJSON_IsArray(x)) v.typename = "list", v.truthy = x->child != NULL;
        else if (cJSON_IsObject(x)) v.typename = "dict", v.truthy = x->child != NULL;
        else if (cJSON_IsBool(x)) v.typename = "bool", v.truthy = cJSON_IsTrue(x);
        else if (cJSON_IsNumber(x)) {
            v.typename = olm_json_number_is_int(x) ? "int" : "float";
            v.truthy = x->valuedouble != 0;
        } else v.typename = "object";
    }
    return v;
}

static jval jval_str(const char *s, bool null_when_null) {
    jval v = {0};
    if (!s) v.type = null_when_null ? V_NULL : V_MISSING;
    else {
        v.type = V_STRING;
        v.s = s;
        v.truthy = s[0] != 0;
    }
    return v;
}

static bool is_str(jval v, const char *s) { return v.type == V_STRING && !strcmp(v.s, s); }

/* The rendered prompt and, byte for byte, who wrote it: 1 = the template (its markers,
 * eos_token, a role name made of letters, digits, '_' and '-'), 0 = a message's content,
 * tools or other role. Encoding parses special tokens only in template bytes, so text a
 * user typed or a tool returned cannot forge a turn or a tool call. */
typedef struct {
    olm_sb text, mask;
} rendered;

static void put(rendered *r, const char *s, bool trusted) {
    size_t n = strlen(s);
    olm_sb_put(&r->text, s, n);
    if (!olm_sb_reserve(&r->mask, n)) return;
    memset(r->mask.p + r->mask.len, trusted, n);
    r->mask.len += n;
}
static void tpl(rendered *r, const char *s) { put(r, s, true); }

static bool role_name(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-'))
            return false;
    return true;
}

/* `... + message[key]`: Jinja2 raises unless the value is a string. Content is
 * untrusted; a role is trusted when it is a plain name (the template's <|role|>). */
static onnxllm_status concat(rendered *b, jval v, size_t i, const char *key, onnxllm_error *err) {
    switch (v.type) {
    case V_STRING: put(b, v.s, !strcmp(key, "role") && role_name(v.s)); return ONNXLLM_OK;
    case V_MISSING:
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "messages[%zu]: \"%s\" is missing (the chat template needs a string)", i, key);
    case V_NULL:
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "messages[%zu]: \"%s\" is null (the chat template needs a string)", i, key);
    default:
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "messages[%zu]: \"%s\" is a %s (the chat template needs a string%s)", i, key, v.typename,
                        !strcmp(key, "tools") ? ": pass tools as a JSON string, or use the tools argument" : "");
    }
}

static onnxllm_status render_phi4(const onnxllm_template *t, const jmsg *m, size_t n, bool agp, rendered *b,
                                  onnxllm_error *err) {
    onnxllm_status st;
    for (size_t i = 0; i < n; i++) {
        bool with_tools = is_str(m[i].role, "system") && m[i].tools.type != V_MISSING && m[i].tools.type != V_NULL;
        tpl(b, "<|");
        if ((st = concat(b, m[i].role, i, "role", err))) return st;
        tpl(b, "|>");
        if ((st = concat(b, m[i].content, i, "content", err))) return st;
        if (with_tools) {
            tpl(b, "<|tool|>");
            if ((st = concat(b, m[i].tools, i, "tools", err))) return st;
            tpl(b, "<|/tool|>");
        }
        tpl(b, "<|end|>");
    }
    if (agp) tpl(b, "<|assistant|>");
    else if (t->kind == ONNXLLM_TEMPLATE_PHI4) tpl(b, t->eos);
    return ONNXLLM_OK;
}

static onnxllm_status render_phi3(const onnxllm_template *t, const jmsg *m, size_t n, bool agp, rendered *b,
                                  onnxllm_error *err) {
    static const char *const roles[] = {"system", "user", "assistant"};
    onnxllm_status st;
    for (size_t i = 0; i < n; i++) {
        /* Other roles (tool, developer, …) render nothing in these templates. */
        for (size_t r = 0; r < 3; r++) {
            if (!is_str(m[i].role, roles[r])) continue;
            if (r == 0 && t->kind == ONNXLLM_TEMPLATE_PHI35 && !m[i].content.truthy) break;
            tpl(b, "<|");
            tpl(b, roles[r]);
            tpl(b, "|>\n");
            if ((st = concat(b, m[i].content, i, "content", err))) return st;
            tpl(b, "<|end|>\n");
        }
    }
    tpl(b, agp ? "<|assistant|>\n" : t->eos);
    return ONNXLLM_OK;
}

/* Renders m[0..n) after attaching the API-level tools (which may add a system message)
 * into *b (text + trust mask; the caller frees both). */
static onnxllm_status render(const onnxllm_template *t, jmsg *m, size_t n, const char *tools_json, bool agp,
                             rendered *b, onnxllm_error *err) {
    onnxllm_status st = ONNXLLM_OK;
    char *tools_str = NULL;
    jmsg *all = NULL;
    if (tools_json) {
        cJSON *probe = cJSON_Parse(tools_json);
        bool empty = cJSON_IsArray(probe) && !probe->child;
        cJSON_Delete(probe);
        if (!empty) {
            if (t->kind != ONNXLLM_TEMPLATE_PHI4 && t->kind != ONNXLLM_TEMPLATE_PHI4_NO_EOS)
                return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "the %s chat template has no tool support",
                                onnxllm_template_name(t));
            if ((st = onnxllm_chat_format_tools(tools_json, &tools_str, err))) return st;
        }
    }
    if (tools_str) {
        size_t sys = n;
        for (size_t i = 0; i < n && sys == n; i++)
            if (is_str(m[i].role, "system")) sys = i;
        if (sys < n) {
            if (m[sys].tools.type != V_MISSING && m[sys].tools.type != V_NULL) {
                free(tools_str);
                return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                                "messages[%zu]: the system message has its own \"tools\" and tools were also "
                                "given separately: give them once", sys);
            }
            m[sys].tools = jval_str(tools_str, false);
        } else {
            if (!(all = malloc((n + 1) * sizeof *all))) {
                free(tools_str);
                return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
            }
            all[0].role = jval_str("system", false);
            all[0].content = jval_str("", false);
            all[0].tools = jval_str(tools_str, false);
            if (n) memcpy(all + 1, m, n * sizeof *m);
            m = all;
            n++;
        }
    }
    if (t->kind == ONNXLLM_TEMPLATE_PHI4 || t->kind == ONNXLLM_TEMPLATE_PHI4_NO_EOS)
        st = render_phi4(t, m, n, agp, b, err);
    else st = render_phi3(t, m, n, agp, b, err);
    free(all);
    free(tools_str);
    if (!st && (b->text.oom || b->mask.oom)) st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    return st;
}

/* The prompt text (what the string API returns). */
static onnxllm_status finish_text(onnxllm_status st, rendered *b, char **out, onnxllm_error *err) {
    olm_sb_free(&b->mask);
    if (st) {
        olm_sb_free(&b->text);
        return st;
    }
    if (!(*out = olm_sb_finish(&b->text))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    return ONNXLLM_OK;
}

/* The prompt's ids: special tokens only where the template wrote them (unless flags
 * ask for the old behaviour), appended to *out. */
static onnxllm_status finish_ids(onnxllm_status st, rendered *b, const onnxllm_tokenizer *tok, unsigned flags,
                                 onnxllm_tokens *out, onnxllm_error *err) {
    olm_buf fixed = {0}, fmask = {0};
    const char *text = b->text.p ? b->text.p : "", *mask = b->mask.p;
    size_t len = b->text.len;
    if (!st && olm_utf8_valid_prefix(text, len) != len) {
        /* invalid UTF-8 becomes U+FFFD as encode would do it, run by run so that the
         * mask stays aligned (runs meet only at ASCII template text) */
        for (size_t i = 0; i < len && !st;) {
            size_t j = i;
            while (j < len && mask[j] == mask[i]) j++;
            size_t before = fixed.len;
            if (!olm_utf8_lossy(&fixed, text + i, j - i) || !olm_buf_reserve(&fmask, fixed.len - before))
                st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "chat template: out of memory");
            else {
                memset(fmask.p + fmask.len, mask[i], fixed.len - before);
                fmask.len += fixed.len - before;
            }
            i = j;
        }
        text = fixed.p ? fixed.p : "";
        mask = fmask.p;
        len = fixed.len;
    }
    if (!st)
        st = olm_tokenizer_encode_trusted(tok, text, len,
                                          (flags & ONNXLLM_CHAT_SPECIAL_IN_CONTENT) ? NULL : (const uint8_t *)mask,
                                          ONNXLLM_TOKENIZE_PARSE_SPECIAL, out, err);
    olm_buf_free(&fixed);
    olm_buf_free(&fmask);
    olm_sb_free(&b->text);
    olm_sb_free(&b->mask);
    return st;
}

/* Messages from the struct API / from JSON, as Jinja sees them; caller frees *m
 * (and *arr, which the values point into). */
static onnxllm_status msgs_of_structs(const onnxllm_chat_message *messages, size_t n, jmsg **m, onnxllm_error *err) {
    *m = calloc(n ? n : 1, sizeof **m);
    if (!*m) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        (*m)[i].role = jval_str(messages[i].role, false);
        (*m)[i].content = jval_str(messages[i].content, true);
        (*m)[i].tools = jval_str(messages[i].tools, false);
    }
    return ONNXLLM_OK;
}

static onnxllm_status msgs_of_json(const char *messages_json, jmsg **m, size_t *n, cJSON **arr,
                                   onnxllm_error *err) {
    *m = NULL;
    *arr = NULL;
    onnxllm_status st = olm_json_parse(messages_json, strlen(messages_json), "messages", arr, err);
    if (st) return olm_wrap(err, ONNXLLM_ERR_INVALID_ARGUMENT, "chat");
    if (!cJSON_IsArray(*arr))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "messages: expected a JSON array of message objects");
    *n = (size_t)cJSON_GetArraySize(*arr);
    if (!(*m = calloc(*n ? *n : 1, sizeof **m))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, *arr) {
        /* A non-object message has every key undefined in Jinja (jval_of gives V_MISSING):
         * Phi-4 then fails on its role, Phi-3 renders nothing for it. */
        (*m)[i].role = jval_of(item, "role");
        (*m)[i].content = jval_of(item, "content");
        (*m)[i].tools = jval_of(item, "tools");
        i++;
    }
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_chat_render(const onnxllm_template *t, const onnxllm_chat_message *messages, size_t n,
                                   const char *tools_json, bool add_generation_prompt, char **out,
                                   onnxllm_error *err) {
    if (!t || !out || (n && !messages))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_chat_render: NULL argument");
    *out = NULL;
    jmsg *m;
    rendered b = {0};
    onnxllm_status st = msgs_of_structs(messages, n, &m, err);
    if (!st) st = finish_text(render(t, m, n, tools_json, add_generation_prompt, &b, err), &b, out, err);
    free(m);
    return st;
}

onnxllm_status onnxllm_chat_render_json(const onnxllm_template *t, const char *messages_json,
                                        const char *tools_json, bool add_generation_prompt, char **out,
                                        onnxllm_error *err) {
    if (!t || !out || !messages_json)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_chat_render_json: NULL argument");
    *out = NULL;
    jmsg *m;
    size_t n = 0;
    cJSON *arr;
    rendered b = {0};
    onnxllm_status st = msgs_of_json(messages_json, &m, &n, &arr, err);
    if (!st) st = finish_text(render(t, m, n, tools_json, add_generation_prompt, &b, err), &b, out, err);
    free(m);
    cJSON_Delete(arr);
    return st;
}

onnxllm_status onnxllm_chat_render_ids(const onnxllm_template *t, const onnxllm_tokenizer *tok,
                                       const onnxllm_chat_message *messages, size_t n, const char *tools_json,
                                       bool add_generation_prompt, unsigned flags, onnxllm_tokens *out,
                                       onnxllm_error *err) {
    if (!t || !tok || !out || (n && !messages))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_chat_render_ids: NULL argument");
    jmsg *m;
    rendered b = {0};
    onnxllm_status st = msgs_of_structs(messages, n, &m, err);
    if (!st) st = finish_ids(render(t, m, n, tools_json, add_generation_prompt, &b, err), &b, tok, flags, out, err);
    free(m);
    return st;
}

onnxllm_status onnxllm_chat_render_json_ids(const onnxllm_template *t, const onnxllm_tokenizer *tok,
                                            const char *messages_json, const char *tools_json,
                                            bool add_generation_prompt, unsigned flags, onnxllm_tokens *out,
                                            onnxllm_error *err) {
    if (!t || !tok || !out || !messages_json)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_chat_render_json_ids: NULL argument");
    jmsg *m;
    size_t n = 0;
    cJSON *arr;
    rendered b = {0};
    onnxllm_status st = msgs_of_json(messages_json, &m, &n, &arr, err);
    if (!st) st = finish_ids(render(t, m, n, tools_json, add_generation_prompt, &b, err), &b, tok, flags, out, err);
    free(m);
    cJSON_Delete(arr);
    return st;
}
