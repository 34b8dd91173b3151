/* postprocess.c — post-processors, applied by encode with ADD_SPECIAL: the ids
 * they add around a single sequence. TemplateProcessing (array or string form),
 * BertProcessing, RobertaProcessing, ByteLevel (offsets only: adds nothing) and
 * Sequence (each wraps the previous result). Pair templates are not used. */
#include "tokenizer/tok_internal.h"
#include "common/error.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

static bool ids_append(int32_t **v, size_t *n, const int32_t *src, size_t k, bool front) {
    if (!k) return true;
    int32_t *p = realloc(*v, (*n + k + 1) * sizeof *p);
    if (!p) return false;
    if (front) {
        memmove(p + k, p, *n * sizeof *p);
        memcpy(p, src, k * sizeof *p);
    } else
        memcpy(p + *n, src, k * sizeof *p);
    *v = p;
    *n += k;
    return true;
}

/* ids of a special token named in a template, from the "special_tokens" map */
static onnxllm_status special_ids(const cJSON *specials, const char *name, const char *file, const cJSON **ids,
                                  onnxllm_error *err) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(specials, name);
    const cJSON *arr = e ? cJSON_GetObjectItemCaseSensitive(e, "ids") : NULL;
    if (!cJSON_IsArray(arr))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor TemplateProcessing: special token '%s' missing from 'special_tokens'", file, name);
    const cJSON *it;
    int64_t id;
    cJSON_ArrayForEach(it, arr) if (!olm_json_as_int(it, 0, INT32_MAX, &id))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor: ids of '%s' must be integers in [0, 2^31-1]",
                        file, name);
    *ids = arr;
    return ONNXLLM_OK;
}

static onnxllm_status add_named(int32_t **v, size_t *n, const cJSON *specials, const char *name, const char *file,
                                onnxllm_error *err) {
    const cJSON *arr, *it;
    onnxllm_status st = special_ids(specials, name, file, &arr, err);
    if (st) return st;
    cJSON_ArrayForEach(it, arr) {
        int64_t id64 = 0;
        olm_json_as_int(it, 0, INT32_MAX, &id64); /* checked by special_ids */
        int32_t id = (int32_t)id64;
        if (!ids_append(v, n, &id, 1, false)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    }
    return ONNXLLM_OK;
}

static onnxllm_status template_single(const cJSON *j, const char *file, olm_postproc *out, onnxllm_error *err) {
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(j, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(j, "special_tokens");
    int32_t *b = NULL, *a = NULL;
    size_t nb = 0, na = 0;
    bool seen_a = false;
    onnxllm_status st = ONNXLLM_OK;
    if (cJSON_IsArray(single)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, single) {
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
            const cJSON *sq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
            if (sq) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(sq, "id");
                if (!cJSON_IsString(id) || strcmp(id->valuestring, "A")) {
                    st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor TemplateProcessing: 'single' may only use sequence A", file);
                    break;
                }
                seen_a = true;
            } else if (sp) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(sp, "id");
                if (!cJSON_IsString(id)) { st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor TemplateProcessing: SpecialToken needs a string 'id'", file); break; }
                if ((st = add_named(seen_a ? &a : &b, seen_a ? &na : &nb, specials, id->valuestring, file, err))) break;
            } else {
                st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor TemplateProcessing: unknown template piece", file);
                break;
            }
        }
    } else if (cJSON_IsString(single)) { /* "[CLS] $A [SEP]" form */
        char *s = strdup(single->valuestring), *save = NULL;
        if (!s) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
        for (char *w = strtok_r(s, " ", &save); w && !st; w = strtok_r(NULL, " ", &save)) {
            if (w[0] == '$') {
                if (w[1] && w[1] != 'A' && w[1] != '0' && w[1] != ':') st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor TemplateProcessing: 'single' may only use sequence A", file);
                seen_a = true;
                continue;
            }
            char *colon = strrchr(w, ':');
            if (colon && colon != w) *colon = 0;
            st = add_named(seen_a ? &a : &b, seen_a ? &na : &nb, specials, w, file, err);
        }
        free(s);
    } else
        st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor TemplateProcessing: 'single' must be an array or a string", file);
    if (!st) {
        /* wrap whatever an earlier processor of a Sequence added */
        if (!ids_append(&out->before, &out->nbefore, b, nb, true) || !ids_append(&out->after, &out->nafter, a, na, false))
            st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
        out->present = true;
    }
    free(a);
    free(b);
    return st;
}

/* BertProcessing/RobertaProcessing: {"cls": ["[CLS]", 101], "sep": ["[SEP]", 102]} */
static onnxllm_status cls_sep(const cJSON *j, const char *file, const char *type, olm_postproc *out, onnxllm_error *err) {
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(j, "cls"), *sep = cJSON_GetObjectItemCaseSensitive(j, "sep");
    int64_t c64, s64;
    if (!cJSON_IsArray(cls) || !cJSON_IsArray(sep) || !olm_json_as_int(cJSON_GetArrayItem(cls, 1), 0, INT32_MAX, &c64) ||
        !olm_json_as_int(cJSON_GetArrayItem(sep, 1), 0, INT32_MAX, &s64))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor %s: 'cls' and 'sep' must be [token, id] with an id in [0, 2^31-1]", file, type);
    int32_t c = (int32_t)c64, s = (int32_t)s64;
    if (!ids_append(&out->before, &out->nbefore, &c, 1, true) || !ids_append(&out->after, &out->nafter, &s, 1, false))
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    out->present = true;
    return ONNXLLM_OK;
}

static onnxllm_status parse(const cJSON *j, const char *file, olm_postproc *out, onnxllm_error *err) {
    if (!cJSON_IsObject(j)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor: expected an object, got %s", file, olm_json_type(j));
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor: missing string 'type'", file);
    const char *type = ty->valuestring;
    if (!strcmp(type, "ByteLevel")) return ONNXLLM_OK;
    if (!strcmp(type, "TemplateProcessing")) return template_single(j, file, out, err);
    if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing")) return cls_sep(j, file, type, out, err);
    if (!strcmp(type, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "processors"), *it;
        if (!cJSON_IsArray(arr)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: post_processor Sequence: 'processors' must be an array", file);
        cJSON_ArrayForEach(it, arr) {
            onnxllm_status st = parse(it, file, out, err);
            if (st) return st;
        }
        return ONNXLLM_OK;
    }
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: unsupported post_processor type '%s'", file, type);
}

onnxllm_status olm_postproc_parse(onnxllm_tokenizer *t, const cJSON *j, const char *file, onnxllm_error *err) {
    if (!j || cJSON_IsNull(j)) return ONNXLLM_OK;
    return parse(j, file, &t->post, err);
}

void olm_postproc_free(olm_postproc *p) {
    free(p->before);
    free(p->after);
    memset(p, 0, sizeof *p);
}
