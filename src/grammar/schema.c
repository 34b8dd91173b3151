/* schema.c — JSON Schema → grammar nodes.
 *
 * A schema to compile is a set of conjuncts (schema objects that must all hold):
 * $ref and allOf are expanded into the set, then the first anyOf/oneOf found
 * is distributed (each branch becomes a set of its own, compiled in the context
 * of the other conjuncts), and a set without them is merged keyword by keyword
 * into one description (types intersected, bounds tightened, patterns
 * collected, property schemas of every conjunct combined per name) that becomes
 * a node per allowed type. Sets are memoised, so recursive schemas become
 * cycles in the node graph.
 *
 * Then, over the whole graph: which nodes can produce any value at all (least
 * fixpoint), removal of the ones that cannot (alternatives, optional
 * properties, array positions), object key automata built from what remains,
 * first-byte sets, and proofs that oneOf alternatives are exclusive (different
 * first bytes, disjoint automata, or objects with a required property whose
 * values cannot meet) — oneOf is compiled as anyOf only when that holds.
 *
 * Keywords that constrain values and are not implemented are errors naming the
 * keyword and where it is; annotations (title, description, default, examples,
 * ...) and non-keywords are ignored. Property order is the schema's
 * `properties` order (then names only listed in `required`); keys matched by
 * additionalProperties / patternProperties may come anywhere. */
#include "grammar/grammar.h"
#include "common/error.h"
#include "common/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 50000
#define MAX_DEPTH 256
#define MAX_ALTS 1024
#define DFA_MAX_STATES 20000
#define KEY_MAX_STATES 50000

enum { D_REF = 1, D_ALLOF = 2, D_ANYOF = 4, D_ONEOF = 8, D_NOENUM = 16 /* enum/const checked separately */, D_NOT = 32 };

typedef struct conj {
    const cJSON *s;
    uint8_t done;
} conj;
typedef OLM_VEC(conj) cset;

/* type atoms */
enum { A_NULL = 1, A_BOOL = 2, A_OBJ = 4, A_ARR = 8, A_STR = 16, A_FRAC = 32, A_INT = 64, A_ALL = 127 };

typedef struct objinfo {
    uint32_t node;
    OLM_VEC(char *) names;
    OLM_VEC(size_t) lens;
    OLM_VEC(uint32_t) pnode;
    OLM_VEC(uint8_t) req;
    uint32_t add;             /* node of additional keys, NO_NODE none */
    OLM_VEC(char *) pats;
    OLM_VEC(uint32_t) patnode;
    int32_t pn_dfa;           /* content DFA (grammar dfa index) of propertyNames, -1 none */
    int32_t key_min, key_max;
    int32_t min_props, max_props;
    bool no_keys;             /* propertyNames allows no string */
    OLM_VEC(uint64_t) dep;    /* per name: the names it requires (dependencies) */
    bool has_deps;
} objinfo;

typedef struct memo_ent {
    uint64_t h;
    uint32_t off, len; /* into keys (conj array) */
    uint32_t node;
} memo_ent;

typedef struct dfa_cache_ent {
    char *key;
    uint32_t dfa;
} dfa_cache_ent;

typedef struct comp {
    onnxllm_grammar *g;
    const cJSON *root;
    onnxllm_error *err;
    OLM_VEC(memo_ent) memo;
    OLM_VEC(conj) memo_keys;
    OLM_VEC(objinfo) objs;
    OLM_VEC(uint32_t) oneofs;
    OLM_VEC(dfa_cache_ent) dcache;
    OLM_VEC(uint8_t) prod; /* per node: productive */
    OLM_VEC(uint8_t) done; /* per node: construction finished */
    cJSON *owned;          /* synthetic schemas made while compiling (oneOf separation) */
    OLM_VEC(uint32_t) oneof_orig; /* per oneofs entry: pool index of the unrestricted alternatives */
    OLM_VEC(uint32_t) oneof_alts; /* per oneofs entry: index into restricted of its restricted alternatives */
    OLM_VEC(uint32_t) restricted; /* restricted oneOf alternatives as compiled (the node lists get compacted) */
    OLM_VEC(uint32_t) oneof_n;    /* per oneofs entry: number of alternatives */
    OLM_VEC(const cJSON *) alias_from, alias_to; /* synthetic empty objects standing for schemas (not) */
    OLM_VEC(const cJSON *) neg_from, neg_to;     /* not: schema → its positive rewrite */
    int depth;
} comp;

/* ---- errors with a JSON pointer to the place -------------------------------------------- */

static bool find_path(const cJSON *at, const cJSON *target, char *buf, size_t cap, size_t len, int depth) {
    if (at == target) {
        buf[len] = 0;
        return true;
    }
    if (depth > 64 || !(cJSON_IsObject(at) || cJSON_IsArray(at))) return false;
    int i = 0;
    for (const cJSON *k = at->child; k; k = k->next, i++) {
        char seg[64];
        if (cJSON_IsArray(at)) snprintf(seg, sizeof seg, "/%d", i);
        else snprintf(seg, sizeof seg, "/%.60s", k->string ? k->string : "");
        size_t l = strlen(seg);
        if (len + l + 1 >= cap) continue;
        memcpy(buf + len, seg, l);
        if (find_path(k, target, buf, cap, len + l, depth + 1)) return true;
    }
    return false;
}

static onnxllm_status cfail(comp *c, onnxllm_status st, const cJSON *where, const char *fmt, ...) OLM_PRINTF(4, 5);
static onnxllm_status cfail(comp *c, onnxllm_status st, const cJSON *where, const char *fmt, ...) {
    char msg[384], path[256] = "#";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (where && c->root && !find_path(c->root, where, path + 1, sizeof path - 1, 0, 0)) path[1] = 0;
    if (where) return olm_fail(c->err, st, "%s (at %s)", msg, path);
    return olm_fail(c->err, st, "%s", msg);
}
#define OOM(c) cfail((c), ONNXLLM_ERR_OUT_OF_MEMORY, NULL, "schema: out of memory")

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL; }

/* ---- $ref ------------------------------------------------------------------------------- */

static onnxllm_status resolve_ref(comp *c, const cJSON *at, const cJSON *ref, const cJSON **out) {
    if (!cJSON_IsString(ref)) return cfail(c, ONNXLLM_ERR_UNSUPPORTED, at, "$ref must be a string");
    const char *r = ref->valuestring;
    if (r[0] != '#')
        return cfail(c, ONNXLLM_ERR_UNSUPPORTED, at, "$ref \"%.100s\": only references inside the schema (#...) are supported", r);
    const cJSON *cur = c->root;
    const char *p = r + 1;
    if (*p && *p != '/')
        return cfail(c, ONNXLLM_ERR_UNSUPPORTED, at, "$ref \"%.100s\": anchors are not supported, only JSON pointers", r);
    while (*p == '/') {
        p++;
        char seg[256];
        size_t n = 0;
        while (*p && *p != '/' && n + 1 < sizeof seg) {
            if (*p == '~' && p[1] == '0') seg[n++] = '~', p += 2;
            else if (*p == '~' && p[1] == '1') seg[n++] = '/', p += 2;
            else if (*p == '%' && p[1] && p[2]) {
                int hi = p[1] >= 'a' ? p[1] - 'a' + 10 : p[1] >= 'A' ? p[1] - 'A' + 10 : p[1] - '0';
                int lo = p[2] >= 'a' ? p[2] - 'a' + 10 : p[2] >= 'A' ? p[2] - 'A' + 10 : p[2] - '0';
                seg[n++] = (char)(hi * 16 + lo);
                p += 3;
            } else
                seg[n++] = *p++;
        }
        seg[n] = 0;
        if (cJSON_IsArray(cur)) {
            char *end;
            long i = strtol(seg, &end, 10);
            cur = (*end || i < 0) ? NULL : cJSON_GetArrayItem(cur, (int)i);
        } else
            cur = get(cur, seg);
        if (!cur) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, at, "$ref \"%.100s\" does not resolve", r);
    }
    *out = cur;
    return ONNXLLM_OK;
}

/* ---- not: rewritten into positive schemas ------------------------------------------------
 * `not S` becomes a synthetic schema P with the same instances (owned by c,
 * cached per S). A schema is the conjunction of its keywords, each of which
 * constrains one JSON type only, so not S = anyOf of the keywords' negations,
 * each "of that type and violating it": not {minimum: 5} = {type: number,
 * exclusiveMaximum: 5}, not {required: [a]} = {type: object, properties: {a:
 * false}}, not {pattern: p} = a string whose content matches no p (a DFA
 * complement), not {enum: [...]} = the other types, the other boolean, a
 * string outside the set, a number in an open interval between the values,
 * not {properties: {a: S}} = an object with a whose value is not S, allOf and
 * anyOf by De Morgan, not not S = S. Negations of sub-schemas are taken lazily
 * through {"not": alias} wrappers (an alias is an empty object standing for
 * another schema), so recursive schemas terminate through the memo as usual.
 * Keywords whose negation is existential or not regular here (items,
 * additionalProperties, propertyNames, format, multipleOf, uniqueItems, oneOf,
 * ...) make `not` a compile error naming them. */
#define KW_NOTPATTERN "\x01notpattern"
#define KW_NOTIN "\x01notin"

static onnxllm_status type_atoms(comp *c, const cJSON *t, unsigned *out);
static onnxllm_status get_count(comp *c, const cJSON *v, const char *kw, int64_t *out);
static bool in_list(const char *const *l, const char *k);
static const char *const annotations[];

static const cJSON *alias_target(const comp *c, const cJSON *x) {
    if (!x || x->child || !cJSON_IsObject(x)) return NULL;
    for (size_t i = 0; i < c->alias_from.n; i++)
        if (c->alias_from.v[i] == x) return c->alias_to.v[i];
    return NULL;
}

static bool own(comp *c, cJSON *x) {
    if (!x) return false;
    if (!c->owned && !(c->owned = cJSON_CreateArray())) {
        cJSON_Delete(x);
        return false;
    }
    cJSON_AddItemToArray(c->owned, x);
    return true;
}

/* A new item standing for schema s (a copy of a boolean, else an alias). */
static cJSON *alias_of(comp *c, const cJSON *s) {
    if (cJSON_IsBool(s)) return cJSON_CreateBool(cJSON_IsTrue(s));
    const cJSON *t = alias_target(c, s);
    if (t) s = t;
    cJSON *a = cJSON_CreateObject();
    if (!a) return NULL;
    if (!VEC_PUSH(c->alias_from, a) || !VEC_PUSH(c->alias_to, s)) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* {"not": s} */
static cJSON *not_of(comp *c, const cJSON *s) {
    if (cJSON_IsBool(s)) return cJSON_CreateBool(!cJSON_IsTrue(s));
    cJSON *w = cJSON_CreateObject(), *a = alias_of(c, s);
    if (!w || !a) {
        cJSON_Delete(w);
        cJSON_Delete(a);
        return NULL;
    }
    cJSON_AddItemToObject(w, "not", a);
    return w;
}

static bool add_types(cJSON *o, unsigned t) {
    cJSON *a = cJSON_AddArrayToObject(o, "type");
    if (!a) return false;
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{A_NULL, "null"}, {A_BOOL, "boolean"}, {A_OBJ, "object"}, {A_ARR, "array"}, {A_STR, "string"}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if ((t & names[i].bit) && !cJSON_AddItemToArray(a, cJSON_CreateString(names[i].name))) return false;
    if ((t & (A_INT | A_FRAC)) && !cJSON_AddItemToArray(a, cJSON_CreateString((t & A_FRAC) ? "number" : "integer")))
        return false;
    return true;
}

/* {"type": t, k1: v1, k2: v2} with number values (k2 may be NULL) */
static cJSON *typed(unsigned t, const char *k1, double v1, const char *k2, double v2) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_types(o, t) || (k1 && !cJSON_AddNumberToObject(o, k1, v1)) || (k2 && !cJSON_AddNumberToObject(o, k2, v2))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define PIECE(e)                                                                                                       \
    do {                                                                                                               \
        cJSON *e_ = (e);                                                                                               \
        if (!e_ || !cJSON_AddItemToArray(pieces, e_)) return OOM(c);                                                   \
    } while (0)

static onnxllm_status not_unsupported(comp *c, const cJSON *k) {
    return cfail(c, ONNXLLM_ERR_UNSUPPORTED, k,
                 "unsupported JSON Schema keyword \"not\" of a schema with \"%s\" (its negation cannot be enforced exactly)",
                 k->string);
}

/* not {enum: vals}: the instances equal to none of vals */
static onnxllm_status negate_enum(comp *c, const cJSON *k, const cJSON *vals, cJSON *pieces) {
    unsigned gone = 0;
    bool no_true = false, no_false = false;
    OLM_VEC(double) nums = {0};
    cJSON *strs = cJSON_CreateArray();
    if (!strs) return OOM(c);
    onnxllm_status st = ONNXLLM_OK;
    for (const cJSON *v = vals; v && !st; v = v->next) {
        if (cJSON_IsNull(v)) gone |= A_NULL;
        else if (cJSON_IsBool(v)) {
            gone |= A_BOOL;
            if (cJSON_IsTrue(v)) no_true = true;
            else no_false = true;
        } else if (cJSON_IsString(v)) {
            gone |= A_STR;
            if (!cJSON_AddItemToArray(strs, cJSON_CreateString(v->valuestring))) st = OOM(c);
        } else if (cJSON_IsNumber(v)) {
            gone |= A_INT | A_FRAC;
            if (!isfinite(v->valuedouble)) st = not_unsupported(c, k);
            else if (!VEC_PUSH(nums, v->valuedouble)) st = OOM(c);
        } else
            st = cfail(c, ONNXLLM_ERR_UNSUPPORTED, k,
                       "unsupported JSON Schema keyword \"not\" of \"%s\" with an object or array value", k->string);
    }
    if (st) goto done;
    if ((A_ALL & ~gone) && !cJSON_AddItemToArray(pieces, typed(A_ALL & ~gone, NULL, 0, NULL, 0))) goto oom;
    if (no_true != no_false) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddBoolToObject(o, "const", no_false) || !cJSON_AddItemToArray(pieces, o)) {
            cJSON_Delete(o);
            goto oom;
        }
    }
    if (cJSON_GetArraySize(strs)) {
        cJSON *o = typed(A_STR, NULL, 0, NULL, 0);
        if (!o || !cJSON_AddItemToArray(pieces, o)) {
            cJSON_Delete(o);
            goto oom;
        }
        cJSON_AddItemToObject(o, KW_NOTIN, strs);
        strs = NULL;
    }
    if (nums.n) {
        qsort(nums.v, nums.n, sizeof *nums.v, cmp_double);
        const unsigned num = A_INT | A_FRAC;
        if (!cJSON_AddItemToArray(pieces, typed(num, "exclusiveMaximum", nums.v[0], NULL, 0))) goto oom;
        for (size_t i = 0; i + 1 < nums.n; i++)
            if (nums.v[i] != nums.v[i + 1] &&
                !cJSON_AddItemToArray(pieces, typed(num, "exclusiveMinimum", nums.v[i], "exclusiveMaximum", nums.v[i + 1])))
                goto oom;
        if (!cJSON_AddItemToArray(pieces, typed(num, "exclusiveMinimum", nums.v[nums.n - 1], NULL, 0))) goto oom;
    }
    goto done;
oom:
    st = OOM(c);
done:
    cJSON_Delete(strs);
    VEC_FREE(nums);
    return st;
}

static onnxllm_status negate_pieces(comp *c, const cJSON *s, cJSON *pieces) {
    onnxllm_status st;
    const cJSON *emin_b = get(s, "exclusiveMinimum"), *emax_b = get(s, "exclusiveMaximum");
    for (const cJSON *k = s->child; k; k = k->next) {
        const char *kw = k->string;
        if (!kw || in_list(annotations, kw)) continue;
        const unsigned num = A_INT | A_FRAC;
        if (!strcmp(kw, "type")) {
            unsigned a;
            if ((st = type_atoms(c, k, &a))) return st;
            if (get(s, "nullable")) return not_unsupported(c, get(s, "nullable"));
            unsigned rest = A_ALL & ~a;
            if ((rest & num) == A_FRAC)
                return cfail(c, ONNXLLM_ERR_UNSUPPORTED, k,
                             "unsupported JSON Schema keyword \"not\" of type \"integer\" (non-integer numbers)");
            if (rest) PIECE(typed(rest, NULL, 0, NULL, 0));
        } else if (!strcmp(kw, "enum")) {
            if (!cJSON_IsArray(k)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "enum must be an array");
            if (!k->child) PIECE(cJSON_CreateTrue());
            else if ((st = negate_enum(c, k, k->child, pieces))) return st;
        } else if (!strcmp(kw, "const")) {
            cJSON one = *k;
            one.next = one.prev = NULL;
            if ((st = negate_enum(c, k, &one, pieces))) return st;
        } else if (!strcmp(kw, "minimum") || !strcmp(kw, "maximum")) {
            if (!cJSON_IsNumber(k)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "%s must be a number", kw);
            bool lo = kw[1] == 'i', ex = cJSON_IsTrue(lo ? emin_b : emax_b);
            PIECE(typed(num, lo ? (ex ? "maximum" : "exclusiveMaximum") : (ex ? "minimum" : "exclusiveMinimum"), k->valuedouble, NULL, 0));
        } else if (!strcmp(kw, "exclusiveMinimum") || !strcmp(kw, "exclusiveMaximum")) {
            if (cJSON_IsBool(k)) continue; /* draft 4: with minimum / maximum */
            if (!cJSON_IsNumber(k)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "%s must be a number", kw);
            PIECE(typed(num, kw[9] == 'i' ? "maximum" : "minimum", k->valuedouble, NULL, 0));
        } else if (!strcmp(kw, "minLength") || !strcmp(kw, "minItems") || !strcmp(kw, "minProperties")) {
            int64_t n = 0;
            if ((st = get_count(c, k, kw, &n))) return st;
            unsigned t = kw[3] == 'L' ? A_STR : kw[3] == 'I' ? A_ARR : A_OBJ;
            if (n > 0) PIECE(typed(t, t == A_STR ? "maxLength" : t == A_ARR ? "maxItems" : "maxProperties", (double)(n - 1), NULL, 0));
        } else if (!strcmp(kw, "maxLength") || !strcmp(kw, "maxItems") || !strcmp(kw, "maxProperties")) {
            int64_t n = 0;
            if ((st = get_count(c, k, kw, &n))) return st;
            unsigned t = kw[3] == 'L' ? A_STR : kw[3] == 'I' ? A_ARR : A_OBJ;
            PIECE(typed(t, t == A_STR ? "minLength" : t == A_ARR ? "minItems" : "minProperties", (double)(n + 1), NULL, 0));
        } else if (!strcmp(kw, "pattern")) {
            if (!cJSON_IsString(k)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "pattern must be a string");
            cJSON *o = typed(A_STR, NULL, 0, NULL, 0);
            PIECE(o);
            if (!cJSON_AddStringToObject(o, KW_NOTPATTERN, k->valuestring)) return OOM(c);
        } else if (!strcmp(kw, "required")) {
            if (!cJSON_IsArray(k)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "required must be an array");
            for (const cJSON *r = k->child; r; r = r->next) {
                if (!cJSON_IsString(r)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "required must list strings");
                cJSON *o = typed(A_OBJ, NULL, 0, NULL, 0), *p;
                PIECE(o);
                if (!(p = cJSON_AddObjectToObject(o, "properties")) || !cJSON_AddFalseToObject(p, r->valuestring)) return OOM(c);
            }
        } else if (!strcmp(kw, "properties")) {
            if (!cJSON_IsObject(k)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "properties must be an object");
            if (get(s, "additionalProperties")) return not_unsupported(c, get(s, "additionalProperties"));
            if (get(s, "patternProperties")) return not_unsupported(c, get(s, "patternProperties"));
            for (const cJSON *p = k->child; p; p = p->next) {
                if (cJSON_IsTrue(p)) continue;
                cJSON *o = typed(A_OBJ, NULL, 0, NULL, 0), *r, *pp, *w;
                PIECE(o);
                if (!(r = cJSON_AddArrayToObject(o, "required")) || !cJSON_AddItemToArray(r, cJSON_CreateString(p->string)))
                    return OOM(c);
                if (cJSON_IsFalse(p)) continue;
                if (!(pp = cJSON_AddObjectToObject(o, "properties")) || !(w = not_of(c, p))) return OOM(c);
                cJSON_AddItemToObject(pp, p->string, w);
            }
        } else if (!strcmp(kw, "allOf") || !strcmp(kw, "anyOf")) {
            if (!cJSON_IsArray(k) || !k->child) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "%s must be a non-empty array", kw);
            cJSON *dst = pieces;
            if (kw[1] == 'n') { /* not anyOf = allOf of the negations */
                cJSON *o = cJSON_CreateObject();
                PIECE(o);
                if (!(dst = cJSON_AddArrayToObject(o, "allOf"))) return OOM(c);
            }
            for (const cJSON *e = k->child; e; e = e->next)
                if (!cJSON_AddItemToArray(dst, not_of(c, e))) return OOM(c);
        } else if (!strcmp(kw, "not")) {
            PIECE(alias_of(c, k));
        } else if (!strcmp(kw, "$ref")) {
            const cJSON *t;
            if ((st = resolve_ref(c, s, k, &t))) return st;
            PIECE(not_of(c, t));
        } else if (!strcmp(kw, "uniqueItems") && cJSON_IsFalse(k)) {
            continue;
        } else if (!strcmp(kw, "nullable")) {
            if (cJSON_IsTrue(k) && get(s, "type")) continue; /* with type */
            if (cJSON_IsTrue(k)) return not_unsupported(c, k);
        } else if (!strcmp(kw, "definitions") || !strcmp(kw, "$defs")) {
            continue;
        } else {
            static const char *const known[] = {"format", "multipleOf", "uniqueItems", "items", "prefixItems", "additionalItems",
                                                "contains", "minContains", "maxContains", "additionalProperties",
                                                "patternProperties", "propertyNames", "dependencies", "dependentRequired",
                                                "dependentSchemas", "oneOf", "if", "then", "else", "unevaluatedProperties",
                                                "unevaluatedItems", "$dynamicRef", "$recursiveRef", KW_NOTPATTERN, KW_NOTIN, NULL};
            if (in_list(known, kw)) return not_unsupported(c, k);
            /* unknown keywords constrain nothing */
        }
    }
    return ONNXLLM_OK;
}
#undef PIECE

static onnxllm_status negate(comp *c, const cJSON *s, const cJSON **out) {
    const cJSON *t = alias_target(c, s);
    if (t) s = t;
    for (size_t i = 0; i < c->neg_from.n; i++)
        if (c->neg_from.v[i] == s) {
            *out = c->neg_to.v[i];
            return ONNXLLM_OK;
        }
    cJSON *p;
    if (cJSON_IsBool(s)) p = cJSON_CreateBool(!cJSON_IsTrue(s));
    else if (!cJSON_IsObject(s)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, s, "not: a schema must be an object or a boolean");
    else {
        cJSON *pieces = cJSON_CreateArray();
        if (!pieces) return OOM(c);
        onnxllm_status st = negate_pieces(c, s, pieces);
        if (st) {
            cJSON_Delete(pieces);
            return st;
        }
        int n = cJSON_GetArraySize(pieces);
        if (n == 0) {
            p = cJSON_CreateFalse();
            cJSON_Delete(pieces);
        } else if (n == 1) {
            p = cJSON_DetachItemFromArray(pieces, 0);
            cJSON_Delete(pieces);
        } else if ((p = cJSON_CreateObject()))
            cJSON_AddItemToObject(p, "anyOf", pieces);
        else
            cJSON_Delete(pieces);
    }
    if (!own(c, p) || !VEC_PUSH(c->neg_from, s) || !VEC_PUSH(c->neg_to, p)) return OOM(c);
    *out = p;
    return ONNXLLM_OK;
}

/* ---- conjunct sets ---------------------------------------------------------------------- */

static int conj_cmp(const void *a, const void *b) {
    const conj *x = a, *y = b;
    if (x->s != y->s) return (uintptr_t)x->s < (uintptr_t)y->s ? -1 : 1;
    return (int)x->done - (int)y->done;
}

/* Expands $ref and allOf depth-first in the order the keywords appear (so
 * properties merge in schema order, as llguidance orders them); true / `false`
 * handled; duplicates merged. */
static onnxllm_status expand_one(comp *c, const cJSON *x, uint8_t done, cset *out, bool *is_false, int depth) {
    if (cJSON_IsBool(x)) {
        if (cJSON_IsFalse(x)) *is_false = true;
        return ONNXLLM_OK;
    }
    const cJSON *al = alias_target(c, x);
    if (al) return expand_one(c, al, done, out, is_false, depth + 1);
    if (!cJSON_IsObject(x)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, x, "a schema must be an object or a boolean");
    if (depth > 200 || out->n > 4096) return cfail(c, ONNXLLM_ERR_UNSUPPORTED, x, "schema too complex (allOf/$ref expansion)");
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i].s == x) {
            uint8_t had = out->v[i].done;
            out->v[i].done |= done;
            (void)had;
            return ONNXLLM_OK; /* already expanded where it first appeared */
        }
    size_t me = out->n;
    conj q = {x, done};
    if (!VEC_PUSH(*out, q)) return OOM(c);
    for (const cJSON *k = x->child; k; k = k->next) {
        if (!k->string) continue;
        if (!strcmp(k->string, "$ref") && !(done & D_REF)) {
            const cJSON *t;
            onnxllm_status st = resolve_ref(c, x, k, &t);
            if (st) return st;
            out->v[me].done |= D_REF;
            if ((st = expand_one(c, t, 0, out, is_false, depth + 1))) return st;
        } else if (!strcmp(k->string, "not") && !(done & D_NOT)) {
            const cJSON *p;
            onnxllm_status st = negate(c, k, &p);
            if (st) return st;
            out->v[me].done |= D_NOT;
            if ((st = expand_one(c, p, 0, out, is_false, depth + 1))) return st;
        } else if (!strcmp(k->string, "allOf") && !(done & D_ALLOF)) {
            if (!cJSON_IsArray(k) || !cJSON_GetArraySize(k))
                return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, k, "allOf must be a non-empty array");
            out->v[me].done |= D_ALLOF;
            for (const cJSON *e = k->child; e; e = e->next) {
                onnxllm_status st = expand_one(c, e, 0, out, is_false, depth + 1);
                if (st) return st;
            }
        }
    }
    return ONNXLLM_OK;
}

static onnxllm_status expand(comp *c, cset *s, bool *is_false) {
    *is_false = false;
    cset out = {0};
    onnxllm_status st = ONNXLLM_OK;
    for (size_t i = 0; i < s->n && !st; i++) st = expand_one(c, s->v[i].s, s->v[i].done, &out, is_false, 0);
    VEC_FREE(*s);
    *s = out;
    return st;
}

/* The memo key of a set: its conjuncts sorted (order does not change the language). */
static bool sorted_key(const cset *s, cset *key) {
    key->n = 0;
    if (!VEC_RESERVE(*key, s->n + 1)) return false;
    if (s->n) memcpy(key->v, s->v, s->n * sizeof *s->v);
    key->n = s->n;
    qsort(key->v, key->n, sizeof *key->v, conj_cmp);
    return true;
}

static uint64_t cset_hash(const cset *s) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s->n; i++) {
        h = (h ^ (uint64_t)(uintptr_t)s->v[i].s) * 1099511628211ull;
        h = (h ^ s->v[i].done) * 1099511628211ull;
    }
    return h;
}

/* Field by field: memcmp would compare conj's padding bytes, which initialisers leave
 * unspecified, so equal sets could miss each other (run-dependent compiles: duplicate
 * nodes, "schema nested too deeply" on a recursive schema that compiled the run before). */
static bool cset_equal(const conj *a, const conj *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i].s != b[i].s || a[i].done != b[i].done) return false;
    return true;
}

static uint32_t memo_find(comp *c, const cset *s, uint64_t h) {
    for (size_t i = 0; i < c->memo.n; i++) {
        memo_ent *m = &c->memo.v[i];
        if (m->h == h && m->len == s->n && cset_equal(c->memo_keys.v + m->off, s->v, s->n)) return m->node;
    }
    return NO_NODE;
}

static bool memo_put(comp *c, const cset *s, uint64_t h, uint32_t node) {
    memo_ent m = {h, (uint32_t)c->memo_keys.n, (uint32_t)s->n, node};
    if (!VEC_RESERVE(c->memo_keys, c->memo_keys.n + s->n + 1)) return false;
    if (s->n) memcpy(c->memo_keys.v + c->memo_keys.n, s->v, s->n * sizeof *s->v);
    c->memo_keys.n += s->n;
    return VEC_PUSH(c->memo, m);
}

/* ---- grammar storage ---------------------------------------------------------------------- */

uint32_t olm_grammar_add_dfa(onnxllm_grammar *g, olm_dfa *d) {
    if (!VEC_PUSH(g->dfas, *d)) {
        olm_dfa_free(d);
        return NO_NODE;
    }
    memset(d, 0, sizeof *d);
    return (uint32_t)g->dfas.n - 1;
}

uint32_t olm_grammar_add_node(onnxllm_grammar *g, const olm_node *n) {
    if (g->nodes.n >= MAX_NODES || !VEC_PUSH(g->nodes, *n)) return NO_NODE;
    return (uint32_t)g->nodes.n - 1;
}

static uint32_t new_node(comp *c, int kind) {
    olm_node n;
    memset(&n, 0, sizeof n);
    n.kind = (uint8_t)kind;
    n.extra = NO_NODE;
    n.min = 0;
    n.max = NO_LIMIT;
    uint32_t id = olm_grammar_add_node(c->g, &n);
    if (id != NO_NODE && (!VEC_PUSH(c->prod, 0) || !VEC_PUSH(c->done, 0))) return NO_NODE;
    return id;
}

/* ---- DFA cache (formats, patterns, numbers repeat a lot) ------------------------------------ */

static int32_t cache_get(comp *c, const char *key) {
    for (size_t i = 0; i < c->dcache.n; i++)
        if (!strcmp(c->dcache.v[i].key, key)) return (int32_t)c->dcache.v[i].dfa;
    return -1;
}
static void cache_put(comp *c, const char *key, uint32_t dfa) {
    dfa_cache_ent e = {strdup(key), dfa};
    if (e.key && !VEC_PUSH(c->dcache, e)) free(e.key);
}

/* Content DFA of a regular expression (cached); where: for error messages. */
static onnxllm_status content_regex(comp *c, const char *re, bool icase, const cJSON *where, const char *kw,
                                    uint32_t *out) {
    size_t n = strlen(re);
    char *key = malloc(n + 8);
    if (!key) return OOM(c);
    snprintf(key, n + 8, "r%d:%s", icase, re);
    int32_t hit = cache_get(c, key);
    if (hit >= 0) {
        free(key);
        *out = (uint32_t)hit;
        return ONNXLLM_OK;
    }
    olm_dfa d;
    char why[200];
    onnxllm_status st = olm_content_regex(re, n, icase, DFA_MAX_STATES, &d, why, sizeof why);
    if (st) {
        free(key);
        if (st == ONNXLLM_ERR_OUT_OF_MEMORY) return OOM(c);
        return cfail(c, ONNXLLM_ERR_UNSUPPORTED, where, "%s \"%.80s\": %s", kw, re, why);
    }
    uint32_t id = olm_grammar_add_dfa(c->g, &d);
    if (id == NO_NODE) {
        free(key);
        return OOM(c);
    }
    cache_put(c, key, id);
    free(key);
    *out = id;
    return ONNXLLM_OK;
}

static bool content_match(const olm_dfa *d, const char *s, size_t n) {
    uint32_t st = olm_dfa_run(d, (const uint8_t *)s, n);
    return st && (d->flags[st] & DF_ACCEPT);
}

/* ---- canonical JSON text (JSON.stringify-like) ------------------------------------------------ */

static void put_number(olm_sb *b, double v) {
    char buf[64];
    if (v == 0) {
        olm_sb_putc(b, '0');
        return;
    }
    if (fabs(v) < 1e21 && v == floor(v)) {
        snprintf(buf, sizeof buf, "%.0f", v);
        olm_sb_puts(b, buf);
        return;
    }
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* digits and exponent */
    char dig[32];
    size_t nd = 0;
    bool neg = buf[0] == '-';
    const char *p = buf + neg;
    while (*p && *p != 'e') {
        if (*p != '.') dig[nd++] = *p;
        p++;
    }
    dig[nd] = 0;
    int e = atoi(p + 1), n = e + 1; /* value = 0.dig * 10^n */
    if (neg) olm_sb_putc(b, '-');
    if (n >= (int)nd && n <= 21) {
        olm_sb_put(b, dig, nd);
        for (int k = (int)nd; k < n; k++) olm_sb_putc(b, '0');
    } else if (n > 0 && n <= 21) {
        olm_sb_put(b, dig, (size_t)n);
        olm_sb_putc(b, '.');
        olm_sb_put(b, dig + n, nd - (size_t)n);
    } else if (n > -6 && n <= 0) {
        olm_sb_puts(b, "0.");
        for (int k = 0; k < -n; k++) olm_sb_putc(b, '0');
        olm_sb_put(b, dig, nd);
    } else {
        olm_sb_putc(b, dig[0]);
        if (nd > 1) {
            olm_sb_putc(b, '.');
            olm_sb_put(b, dig + 1, nd - 1);
        }
        snprintf(buf, sizeof buf, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
        olm_sb_puts(b, buf);
    }
}

static void put_string(olm_sb *b, const char *s) {
    olm_sb_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        switch (ch) {
        case '"': olm_sb_puts(b, "\\\""); break;
        case '\\': olm_sb_puts(b, "\\\\"); break;
        case '\b': olm_sb_puts(b, "\\b"); break;
        case '\f': olm_sb_puts(b, "\\f"); break;
        case '\n': olm_sb_puts(b, "\\n"); break;
        case '\r': olm_sb_puts(b, "\\r"); break;
        case '\t': olm_sb_puts(b, "\\t"); break;
        default:
            if (ch < 0x20) {
                char e[8];
                snprintf(e, sizeof e, "\\u%04x", ch);
                olm_sb_puts(b, e);
            } else
                olm_sb_putc(b, (char)ch);
        }
    }
    olm_sb_putc(b, '"');
}

static bool put_value(olm_sb *b, const cJSON *v, int depth) {
    if (depth > 64) return false;
    if (cJSON_IsNull(v)) olm_sb_puts(b, "null");
    else if (cJSON_IsTrue(v)) olm_sb_puts(b, "true");
    else if (cJSON_IsFalse(v)) olm_sb_puts(b, "false");
    else if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble)) return false;
        put_number(b, v->valuedouble);
    } else if (cJSON_IsString(v))
        put_string(b, v->valuestring);
    else if (cJSON_IsArray(v)) {
        olm_sb_putc(b, '[');
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child) olm_sb_putc(b, ',');
            if (!put_value(b, e, depth + 1)) return false;
        }
        olm_sb_putc(b, ']');
    } else if (cJSON_IsObject(v)) {
        olm_sb_putc(b, '{');
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child) olm_sb_putc(b, ',');
            put_string(b, e->string ? e->string : "");
            olm_sb_putc(b, ':');
            if (!put_value(b, e, depth + 1)) return false;
        }
        olm_sb_putc(b, '}');
    } else
        return false;
    return true;
}

bool olm_json_canonical(const cJSON *v, char **out, size_t *len) {
    olm_sb b = {0};
    if (!put_value(&b, v, 0) || b.oom) {
        olm_sb_free(&b);
        return false;
    }
    *len = b.len;
    *out = olm_sb_finish(&b);
    return *out != NULL;
}

/* ---- merged description of a conjunct set ----------------------------------------------------- */

typedef struct msch {
    unsigned types;
    bool has_enum;
    OLM_VEC(const cJSON *) enumv;
    const cJSON *enum_at;
    /* string */
    int64_t min_len, max_len;
    OLM_VEC(const cJSON *) patterns; /* string nodes */
    OLM_VEC(const char *) fmts;      /* string formats (regex kind) */
    const cJSON *fmt_at;
    OLM_VEC(const cJSON *) notpats;  /* not pattern: strings matching none */
    OLM_VEC(const cJSON *) notins;   /* not enum: arrays of strings the value is none of */
    /* number */
    double lo, hi, mult;
    bool lo_excl, hi_excl;
    bool int32;
    /* array */
    int64_t min_items, max_items;
    OLM_VEC(cset) prefix;
    cset items;
    bool items_none;  /* no items beyond the prefix */
    size_t items_limit; /* with items_none: positions allowed */
    /* object */
    OLM_VEC(const char *) pnames;
    OLM_VEC(const char *) reqnames;
    const cJSON *pat_owner; /* conjunct with patternProperties */
    cset pn;                /* propertyNames */
    int64_t min_props, max_props;
    bool has_obj_kw;
    OLM_VEC(const char *) dep_a, dep_b; /* dependencies: dep_a[i] present → dep_b[i] present */
} msch;

static void msch_free(msch *m) {
    VEC_FREE(m->enumv);
    VEC_FREE(m->patterns);
    VEC_FREE(m->fmts);
    VEC_FREE(m->notpats);
    VEC_FREE(m->notins);
    for (size_t i = 0; i < m->prefix.n; i++) VEC_FREE(m->prefix.v[i]);
    VEC_FREE(m->prefix);
    VEC_FREE(m->items);
    VEC_FREE(m->pnames);
    VEC_FREE(m->reqnames);
    VEC_FREE(m->pn);
    VEC_FREE(m->dep_a);
    VEC_FREE(m->dep_b);
}

static const char *const annotations[] = {
    "title", "description", "$schema", "$id", "id", "$comment", "examples", "example", "default", "deprecated",
    "readOnly", "writeOnly", "definitions", "$defs", "contentEncoding", "contentMediaType", "contentSchema",
    "$anchor", "$dynamicAnchor", "$vocabulary", "$recursiveAnchor", "discriminator", "xml", "externalDocs",
    "markdownDescription", "enumDescriptions", "markdownEnumDescriptions", "deprecationMessage", "errorMessage",
    "then", "else", /* without "if" they do nothing */
    NULL};
static const char *const unsupported[] = {"not", "if", "dependentSchemas",
                                          "contains", "minContains", "maxContains", "unevaluatedProperties",
                                          "unevaluatedItems", "$dynamicRef", "$recursiveRef", NULL};

static bool in_list(const char *const *l, const char *k) {
    for (; *l; l++)
        if (!strcmp(*l, k)) return true;
    return false;
}

static onnxllm_status type_atoms(comp *c, const cJSON *t, unsigned *out) {
    unsigned a = 0;
    const cJSON *one = t;
    if (cJSON_IsArray(t)) {
        if (!cJSON_GetArraySize(t)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, t, "type: empty array");
        one = t->child;
    }
    for (; one; one = cJSON_IsArray(t) ? one->next : NULL) {
        if (!cJSON_IsString(one)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, t, "type must be a string or an array of strings");
        const char *n = one->valuestring;
        if (!strcmp(n, "null")) a |= A_NULL;
        else if (!strcmp(n, "boolean")) a |= A_BOOL;
        else if (!strcmp(n, "object")) a |= A_OBJ;
        else if (!strcmp(n, "array")) a |= A_ARR;
        else if (!strcmp(n, "string")) a |= A_STR;
        else if (!strcmp(n, "number")) a |= A_FRAC | A_INT;
        else if (!strcmp(n, "integer")) a |= A_INT;
        else return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, t, "type: unknown type \"%.40s\"", n);
        if (!cJSON_IsArray(t)) break;
    }
    *out = a;
    return ONNXLLM_OK;
}

static onnxllm_status get_count(comp *c, const cJSON *v, const char *kw, int64_t *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble))
        return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, v, "%s must be a non-negative integer", kw);
    *out = v->valuedouble > 1e9 ? (int64_t)1e9 : (int64_t)v->valuedouble;
    return ONNXLLM_OK;
}

static bool value_in(const cJSON *v, const cJSON *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (cJSON_Compare(v, list[i], true)) return true;
    return false;
}

static bool has_name(const char *const *l, size_t n, const char *k) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], k)) return true;
    return false;
}

static void tighten_lo(msch *m, double v, bool excl) {
    if (isnan(m->lo) || v > m->lo || (v == m->lo && excl)) {
        m->lo = v;
        m->lo_excl = excl;
    }
}
static void tighten_hi(msch *m, double v, bool excl) {
    if (isnan(m->hi) || v < m->hi || (v == m->hi && excl)) {
        m->hi = v;
        m->hi_excl = excl;
    }
}

static uint64_t gcd64(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Merges the conjuncts of s (expanded, no anyOf/oneOf left). */
static onnxllm_status merge(comp *c, const cset *s, msch *m) {
    memset(m, 0, sizeof *m);
    m->types = A_ALL;
    m->max_len = -1;
    m->lo = m->hi = m->mult = NAN;
    m->max_items = -1;
    m->max_props = -1;
    onnxllm_status st;
    size_t tuple_owner_count = 0;
    for (size_t i = 0; i < s->n; i++) {
        const cJSON *x = s->v[i].s;
        for (const cJSON *k = x->child; k; k = k->next) {
            const char *kw = k->string;
            if (!kw) continue;
            if (in_list(unsupported, kw)) {
                if (!strcmp(kw, "not") && (s->v[i].done & D_NOT)) continue; /* rewritten (negate) */
                return cfail(c, ONNXLLM_ERR_UNSUPPORTED, k, "unsupported JSON Schema keyword \"%s\"", kw);
            }
        }
        const cJSON *v;
        if ((v = get(x, "type"))) {
            unsigned a;
            if ((st = type_atoms(c, v, &a))) return st;
            m->types &= a;
        }
        if ((v = get(x, "nullable")) && cJSON_IsTrue(v) && get(x, "type")) {
            unsigned a;
            if ((st = type_atoms(c, get(x, "type"), &a))) return st;
            /* OpenAPI: type plus null; undo the intersection above for null */
            (void)a;
            bool others_allow_null = true;
            for (size_t j = 0; j < s->n; j++) {
                const cJSON *t = get(s->v[j].s, "type");
                unsigned b = A_ALL;
                if (t && j != i && !type_atoms(c, t, &b) && !(b & A_NULL)) others_allow_null = false;
            }
            if (others_allow_null) m->types |= A_NULL;
        }
        const cJSON *en = get(x, "enum"), *cn = get(x, "const");
        if (s->v[i].done & D_NOENUM) en = cn = NULL;
        if (en && !cJSON_IsArray(en)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, en, "enum must be an array");
        for (int pass = 0; pass < 2; pass++) {
            const cJSON *lst = pass == 0 ? en : cn;
            if (!lst) continue;
            OLM_VEC(const cJSON *) vals = {0};
            if (pass == 0) {
                for (const cJSON *e = en->child; e; e = e->next)
                    if (!VEC_PUSH(vals, e)) return OOM(c);
            } else if (!VEC_PUSH(vals, cn))
                return OOM(c);
            if (!m->has_enum) {
                m->has_enum = true;
                m->enum_at = lst;
                for (size_t k = 0; k < vals.n; k++)
                    if (!value_in(vals.v[k], m->enumv.v, m->enumv.n) && !VEC_PUSH(m->enumv, vals.v[k])) {
                        VEC_FREE(vals);
                        return OOM(c);
                    }
            } else {
                size_t w = 0;
                for (size_t k = 0; k < m->enumv.n; k++)
                    if (value_in(m->enumv.v[k], vals.v, vals.n)) m->enumv.v[w++] = m->enumv.v[k];
                m->enumv.n = w;
            }
            VEC_FREE(vals);
        }
        /* strings */
        if ((v = get(x, "minLength"))) {
            int64_t n = 0;
            if ((st = get_count(c, v, "minLength", &n))) return st;
            if (n > m->min_len) m->min_len = n;
        }
        if ((v = get(x, "maxLength"))) {
            int64_t n = 0;
            if ((st = get_count(c, v, "maxLength", &n))) return st;
            if (m->max_len < 0 || n < m->max_len) m->max_len = n;
        }
        if ((v = get(x, "pattern"))) {
            if (!cJSON_IsString(v)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, v, "pattern must be a string");
            if (!VEC_PUSH(m->patterns, v)) return OOM(c);
        }
        if ((v = get(x, KW_NOTPATTERN)) && cJSON_IsString(v) && !VEC_PUSH(m->notpats, v)) return OOM(c);
        if ((v = get(x, KW_NOTIN)) && cJSON_IsArray(v) && !VEC_PUSH(m->notins, v)) return OOM(c);
        if ((v = get(x, "format"))) {
            if (!cJSON_IsString(v)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, v, "format must be a string");
            int kind, ml;
            const char *re;
            bool ic;
            if (!olm_format_lookup(v->valuestring, &kind, &re, &ic, &ml))
                return cfail(c, ONNXLLM_ERR_UNSUPPORTED, v, "unsupported format \"%.60s\"", v->valuestring);
            if (kind == 0) {
                if (!has_name(m->fmts.v, m->fmts.n, v->valuestring) && !VEC_PUSH(m->fmts, v->valuestring)) return OOM(c);
                m->fmt_at = v;
                if (ml > 0 && (m->max_len < 0 || ml < m->max_len)) m->max_len = ml;
            } else if (kind == 1) {
                m->int32 = true;
            }
        }
        /* numbers */
        const cJSON *emin = get(x, "exclusiveMinimum"), *emax = get(x, "exclusiveMaximum");
        if ((v = get(x, "minimum"))) {
            if (!cJSON_IsNumber(v)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, v, "minimum must be a number");
            tighten_lo(m, v->valuedouble, cJSON_IsTrue(emin));
        }
        if ((v = get(x, "maximum"))) {
            if (!cJSON_IsNumber(v)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, v, "maximum must be a number");
            tighten_hi(m, v->valuedouble, cJSON_IsTrue(emax));
        }
        if (emin && cJSON_IsNumber(emin)) tighten_lo(m, emin->valuedouble, true);
        else if (emin && !cJSON_IsBool(emin))
            return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, emin, "exclusiveMinimum must be a number");
        if (emax && cJSON_IsNumber(emax)) tighten_hi(m, emax->valuedouble, true);
        else if (emax && !cJSON_IsBool(emax))
            return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, emax, "exclusiveMaximum must be a number");
        if ((v = get(x, "multipleOf"))) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
                return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, v, "multipleOf must be a positive number");
            double d = v->valuedouble;
            if (d != floor(d) || d > 1e9)
                return cfail(c, ONNXLLM_ERR_UNSUPPORTED, v,
                             "unsupported JSON Schema keyword \"multipleOf\" with a non-integer value (%g): validators "
                             "disagree on it (floating-point division)",
                             d);
            if (isnan(m->mult)) m->mult = d;
            else {
                uint64_t a = (uint64_t)m->mult, b = (uint64_t)d, l = a / gcd64(a, b) * b;
                if (l > 1000000000u) return cfail(c, ONNXLLM_ERR_UNSUPPORTED, v, "multipleOf: combined value too large");
                m->mult = (double)l;
            }
        }
        /* arrays */
        if ((v = get(x, "minItems"))) {
            int64_t n = 0;
            if ((st = get_count(c, v, "minItems", &n))) return st;
            if (n > m->min_items) m->min_items = n;
        }
        if ((v = get(x, "maxItems"))) {
            int64_t n = 0;
            if ((st = get_count(c, v, "maxItems", &n))) return st;
            if (m->max_items < 0 || n < m->max_items) m->max_items = n;
        }
        if ((v = get(x, "uniqueItems")) && cJSON_IsTrue(v)) {
            /* enforced only where it cannot fail: at most one item */
            const cJSON *mx = NULL;
            for (size_t j = 0; j < s->n && !mx; j++) {
                const cJSON *t = get(s->v[j].s, "maxItems");
                if (cJSON_IsNumber(t) && t->valuedouble <= 1) mx = t;
            }
            if (!mx) return cfail(c, ONNXLLM_ERR_UNSUPPORTED, v, "unsupported JSON Schema keyword \"uniqueItems\"");
        }
        const cJSON *pre = get(x, "prefixItems"), *it = get(x, "items");
        if (pre && cJSON_IsArray(it)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, it, "items: an array next to prefixItems");
        if (pre && !cJSON_IsArray(pre)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, pre, "prefixItems must be an array");
        /* objects */
        const cJSON *props = get(x, "properties"), *req = get(x, "required"), *pp = get(x, "patternProperties");
        if (props) {
            if (!cJSON_IsObject(props)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, props, "properties must be an object");
            for (const cJSON *p = props->child; p; p = p->next)
                if (!has_name(m->pnames.v, m->pnames.n, p->string) && !VEC_PUSH(m->pnames, p->string)) return OOM(c);
        }
        if (req) {
            if (cJSON_IsBool(req))
                return cfail(c, ONNXLLM_ERR_UNSUPPORTED, req, "unsupported JSON Schema keyword \"required\" as a boolean (draft 3)");
            if (!cJSON_IsArray(req)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, req, "required must be an array");
            for (const cJSON *r = req->child; r; r = r->next) {
                if (!cJSON_IsString(r)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, req, "required must list strings");
                if (!has_name(m->reqnames.v, m->reqnames.n, r->valuestring) && !VEC_PUSH(m->reqnames, r->valuestring))
                    return OOM(c);
            }
        }
        if (pp) {
            if (!cJSON_IsObject(pp)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, pp, "patternProperties must be an object");
            if (pp->child) {
                if (m->pat_owner)
                    return cfail(c, ONNXLLM_ERR_UNSUPPORTED, pp,
                                 "unsupported JSON Schema keyword \"patternProperties\" in more than one allOf branch");
                m->pat_owner = x;
            }
        }
        /* dependencies: name → [names] (also dependentRequired, and the schema form
         * {"required": [...]}) become "present → present" pairs on defined names */
        for (int pass = 0; pass < 2; pass++) {
            const cJSON *deps = get(x, pass ? "dependentRequired" : "dependencies");
            if (!deps) continue;
            if (!cJSON_IsObject(deps)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, deps, "%s must be an object", deps->string);
            for (const cJSON *d = deps->child; d; d = d->next) {
                const cJSON *list = d;
                if (cJSON_IsObject(d)) {
                    const cJSON *rq = get(d, "required");
                    bool only_req = rq != NULL;
                    for (const cJSON *k = d->child; k && only_req; k = k->next)
                        only_req = !strcmp(k->string, "required") || in_list(annotations, k->string);
                    if (!only_req)
                        return cfail(c, ONNXLLM_ERR_UNSUPPORTED, d,
                                     "unsupported JSON Schema keyword \"%s\" with a schema (only lists of names)", deps->string);
                    list = rq;
                } else if (cJSON_IsBool(d)) {
                    if (cJSON_IsTrue(d)) continue;
                    return cfail(c, ONNXLLM_ERR_UNSUPPORTED, d, "unsupported JSON Schema keyword \"%s\" with false", deps->string);
                }
                if (!cJSON_IsArray(list)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, d, "%s: expected a list of names", deps->string);
                if (!has_name(m->pnames.v, m->pnames.n, d->string) && !VEC_PUSH(m->pnames, d->string)) return OOM(c);
                for (const cJSON *e = list->child; e; e = e->next) {
                    if (!cJSON_IsString(e)) return cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, d, "%s: expected names", deps->string);
                    if (!has_name(m->pnames.v, m->pnames.n, e->valuestring) && !VEC_PUSH(m->pnames, e->valuestring)) return OOM(c);
                    if (!VEC_PUSH(m->dep_a, d->string) || !VEC_PUSH(m->dep_b, e->valuestring)) return OOM(c);
                }
            }
        }
        if ((v = get(x, "propertyNames"))) {
            conj q = {v, 0};
            if (!VEC_PUSH(m->pn, q)) return OOM(c);
        }
        if ((v = get(x, "minProperties"))) {
            int64_t n = 0;
            if ((st = get_count(c, v, "minProperties", &n))) return st;
            if (n > m->min_props) m->min_props = n;
        }
        if ((v = get(x, "maxProperties"))) {
            int64_t n = 0;
            if ((st = get_count(c, v, "maxProperties", &n))) return st;
            if (m->max_props < 0 || n < m->max_props) m->max_props = n;
        }
    }
    (void)tuple_owner_count;
    /* arrays: position i gets, from every conjunct, its tuple entry i or (past its
     * tuple) its items schema; positions past every tuple get every items schema */
    size_t maxlen = 0;
    for (size_t i = 0; i < s->n; i++) {
        const cJSON *x = s->v[i].s, *pre = get(x, "prefixItems"), *it = get(x, "items");
        const cJSON *tuple = pre ? pre : cJSON_IsArray(it) ? it : NULL;
        if (tuple && (size_t)cJSON_GetArraySize(tuple) > maxlen) maxlen = (size_t)cJSON_GetArraySize(tuple);
    }
    if (maxlen > 4096) return cfail(c, ONNXLLM_ERR_UNSUPPORTED, NULL, "prefixItems: too many positions");
    for (size_t k = 0; k < maxlen; k++) {
        cset e = {0};
        if (!VEC_PUSH(m->prefix, e)) return OOM(c);
    }
    for (size_t i = 0; i < s->n; i++) {
        const cJSON *x = s->v[i].s, *pre = get(x, "prefixItems"), *it = get(x, "items"), *ai = get(x, "additionalItems");
        const cJSON *tuple = pre ? pre : cJSON_IsArray(it) ? it : NULL;
        const cJSON *rest = pre ? it : cJSON_IsArray(it) ? ai : it;
        size_t tl = tuple ? (size_t)cJSON_GetArraySize(tuple) : 0, k = 0;
        if (tuple)
            for (const cJSON *e = tuple->child; e; e = e->next, k++) {
                conj q = {e, 0};
                if (!VEC_PUSH(m->prefix.v[k], q)) return OOM(c);
            }
        for (k = tl; rest && k < maxlen; k++) {
            conj q = {rest, 0};
            if (!VEC_PUSH(m->prefix.v[k], q)) return OOM(c);
        }
        if (rest) {
            conj q = {rest, 0};
            if (!VEC_PUSH(m->items, q)) return OOM(c);
        }
    }
    /* required names not in properties follow them (in order of appearance) */
    for (size_t i = 0; i < m->reqnames.n; i++)
        if (!has_name(m->pnames.v, m->pnames.n, m->reqnames.v[i]) && !VEC_PUSH(m->pnames, m->reqnames.v[i])) return OOM(c);
    if (m->int32) {
        tighten_lo(m, -2147483648.0, false);
        tighten_hi(m, 2147483647.0, false);
        m->types &= ~(unsigned)A_FRAC;
    }
    for (size_t i = 0; i < s->n; i++) {
        const cJSON *f = get(s->v[i].s, "format");
        if (cJSON_IsString(f) && !strcmp(f->valuestring, "int64")) m->types &= ~(unsigned)A_FRAC;
    }
    return ONNXLLM_OK;
}

/* ---- node construction -------------------------------------------------------------------------- */

static onnxllm_status compile_set(comp *c, cset *s, uint32_t *out);

static onnxllm_status compile_copy(comp *c, const cset *in, uint32_t *out) {
    cset s = {0};
    if (!VEC_RESERVE(s, in->n + 1)) return OOM(c);
    if (in->n) memcpy(s.v, in->v, in->n * sizeof *in->v);
    s.n = in->n;
    onnxllm_status st = compile_set(c, &s, out);
    VEC_FREE(s);
    return st;
}

static onnxllm_status leaf_from_dfa(comp *c, uint32_t node, uint32_t dfa, int64_t min, int64_t max) {
    olm_node *n = &c->g->nodes.v[node];
    n->kind = N_LEAF;
    n->dfa = dfa;
    n->min = (int32_t)(min > NO_LIMIT ? NO_LIMIT : min);
    n->max = max < 0 || max > NO_LIMIT ? NO_LIMIT : (int32_t)max;
    n->counted = n->min > 0 || n->max != NO_LIMIT;
    return ONNXLLM_OK;
}

static onnxllm_status literal_node(comp *c, uint32_t node, const char *const *texts, const size_t *lens, size_t n) {
    olm_dfa d;
    onnxllm_status st = olm_literal_texts_dfa(texts, lens, n, &d);
    if (st) return OOM(c);
    uint32_t id = olm_grammar_add_dfa(c->g, &d);
    if (id == NO_NODE) return OOM(c);
    return leaf_from_dfa(c, node, id, 0, -1);
}

/* A content DFA added to the grammar (cached under key). */
static onnxllm_status add_content(comp *c, const char *key, olm_dfa *d, uint32_t *out) {
    uint32_t id = olm_grammar_add_dfa(c->g, d);
    if (id == NO_NODE) return OOM(c);
    cache_put(c, key, id);
    *out = id;
    return ONNXLLM_OK;
}

/* The content DFA (grammar dfa index) of the string constraints of m (pattern,
 * format, not pattern, not enum) and `extra` (a positive part, or NO_NODE);
 * -1 when they constrain nothing. */
static onnxllm_status string_content(comp *c, const msch *m, uint32_t extra, const char *what, int32_t *out) {
    enum { MAXP = 16 };
    uint32_t parts[MAXP];
    bool neg[MAXP];
    size_t np = 0;
    onnxllm_status st;
    *out = -1;
    size_t want = m->patterns.n + m->fmts.n + (extra != NO_NODE) + m->notpats.n + m->notins.n;
    if (want + 1 > MAXP) return cfail(c, ONNXLLM_ERR_UNSUPPORTED, NULL, "%s: too many patterns on one string", what);
    if (!want) return ONNXLLM_OK;
    char key[64];
    if (m->notpats.n + m->notins.n) { /* part 0: any valid UTF-8 (negative parts accept invalid bytes) */
        int32_t hit = cache_get(c, "any");
        if (hit < 0) {
            olm_dfa d;
            if (olm_content_any(&d)) return OOM(c);
            uint32_t id = 0;
            if ((st = add_content(c, "any", &d, &id))) return st;
            hit = (int32_t)id;
        }
        parts[np] = (uint32_t)hit, neg[np++] = false;
    }
    for (size_t i = 0; i < m->patterns.n; i++) {
        if ((st = content_regex(c, m->patterns.v[i]->valuestring, false, m->patterns.v[i], "pattern", &parts[np]))) return st;
        neg[np++] = false;
    }
    for (size_t i = 0; i < m->fmts.n; i++) {
        int kind, ml;
        const char *re;
        bool ic;
        olm_format_lookup(m->fmts.v[i], &kind, &re, &ic, &ml);
        if ((st = content_regex(c, re, ic, m->fmt_at, "format", &parts[np]))) return st;
        neg[np++] = false;
    }
    if (extra != NO_NODE) parts[np] = extra, neg[np++] = false;
    for (size_t i = 0; i < m->notpats.n; i++) {
        if ((st = content_regex(c, m->notpats.v[i]->valuestring, false, m->notpats.v[i], "not pattern", &parts[np]))) return st;
        neg[np++] = true;
    }
    for (size_t i = 0; i < m->notins.n; i++) {
        snprintf(key, sizeof key, "ni:%p", (const void *)m->notins.v[i]);
        int32_t hit = cache_get(c, key);
        if (hit < 0) {
            OLM_VEC(const char *) t = {0};
            OLM_VEC(size_t) l = {0};
            for (const cJSON *e = m->notins.v[i]->child; e; e = e->next)
                if (cJSON_IsString(e) && (!VEC_PUSH(t, e->valuestring) || !VEC_PUSH(l, strlen(e->valuestring)))) {
                    VEC_FREE(t);
                    VEC_FREE(l);
                    return OOM(c);
                }
            olm_dfa d;
            st = olm_literal_texts_dfa(t.v, l.v, t.n, &d);
            VEC_FREE(t);
            VEC_FREE(l);
            if (st) return OOM(c);
            uint32_t id = 0;
            if ((st = add_content(c, key, &d, &id))) return st;
            hit = (int32_t)id;
        }
        parts[np] = (uint32_t)hit, neg[np++] = true;
    }
    if (np == 1 && !neg[0]) {
        *out = (int32_t)parts[0];
        return ONNXLLM_OK;
    }
    char pkey[16 + MAXP * 12];
    size_t kl = (size_t)snprintf(pkey, sizeof pkey, "p:");
    for (size_t i = 0; i < np; i++) kl += (size_t)snprintf(pkey + kl, sizeof pkey - kl, "%c%u", neg[i] ? '-' : '+', parts[i]);
    int32_t hit = cache_get(c, pkey);
    if (hit >= 0) {
        *out = hit;
        return ONNXLLM_OK;
    }
    const olm_dfa *ds[MAXP];
    for (size_t i = 0; i < np; i++) ds[i] = &c->g->dfas.v[parts[i]];
    olm_dfa d;
    char why[200];
    st = olm_content_product(ds, neg, np, DFA_MAX_STATES, &d, why, sizeof why);
    if (st == ONNXLLM_ERR_OUT_OF_MEMORY) return OOM(c);
    if (st) return cfail(c, st, m->patterns.n ? m->patterns.v[0] : m->fmt_at, "%s: pattern/format combination: %s", what, why);
    uint32_t id = 0;
    if ((st = add_content(c, pkey, &d, &id))) return st;
    *out = (int32_t)id;
    return ONNXLLM_OK;
}

static onnxllm_status string_node(comp *c, uint32_t node, const msch *m) {
    int32_t content;
    onnxllm_status st = string_content(c, m, NO_NODE, "string", &content);
    if (st) return st;
    /* the wrapped string DFA, cached by its content */
    char key[32];
    snprintf(key, sizeof key, "s:%d", (int)content);
    int32_t hit = cache_get(c, key);
    if (hit < 0) {
        olm_dfa any, wrapped;
        char why[200];
        if (content < 0 && olm_content_any(&any)) return OOM(c);
        st = olm_wrap_string(content < 0 ? &any : &c->g->dfas.v[content], content < 0, false, DFA_MAX_STATES * 4, &wrapped, why,
                             sizeof why);
        if (content < 0) olm_dfa_free(&any);
        if (st == ONNXLLM_ERR_OUT_OF_MEMORY) return OOM(c);
        if (st) return cfail(c, st, m->patterns.n ? m->patterns.v[0] : m->fmt_at, "string: %s", why);
        uint32_t id = olm_grammar_add_dfa(c->g, &wrapped);
        if (id == NO_NODE) return OOM(c);
        cache_put(c, key, id);
        hit = (int32_t)id;
    }
    return leaf_from_dfa(c, node, (uint32_t)hit, m->min_len, m->max_len);
}

static onnxllm_status number_node(comp *c, uint32_t node, const msch *m, bool integer) {
    char key[160];
    snprintf(key, sizeof key, "n:%d:%.17g:%d:%.17g:%d:%.17g", integer, m->lo, m->lo_excl, m->hi, m->hi_excl, m->mult);
    int32_t hit = cache_get(c, key);
    if (hit < 0) {
        olm_dfa d;
        char why[200];
        onnxllm_status st = olm_number_dfa(integer, m->lo, m->lo_excl, m->hi, m->hi_excl, m->mult, &d, why, sizeof why);
        if (st == ONNXLLM_ERR_OUT_OF_MEMORY) return OOM(c);
        if (st) return cfail(c, st, NULL, "number: %s", why);
        uint32_t id = olm_grammar_add_dfa(c->g, &d);
        if (id == NO_NODE) return OOM(c);
        cache_put(c, key, id);
        hit = (int32_t)id;
    }
    return leaf_from_dfa(c, node, (uint32_t)hit, 0, -1);
}

/* Schemas of property `name` in every conjunct (properties, else matching
 * patternProperties, else additionalProperties). */
static onnxllm_status prop_set(comp *c, const cset *s, const char *name, cset *out) {
    for (size_t i = 0; i < s->n; i++) {
        const cJSON *x = s->v[i].s, *props = get(x, "properties"), *pp = get(x, "patternProperties");
        const cJSON *p = get(props, name);
        if (p) {
            conj q = {p, 0};
            if (!VEC_PUSH(*out, q)) return OOM(c);
            continue;
        }
        bool matched = false;
        if (cJSON_IsObject(pp))
            for (const cJSON *e = pp->child; e; e = e->next) {
                uint32_t d;
                onnxllm_status st = content_regex(c, e->string, false, e, "patternProperties", &d);
                if (st) return st;
                if (content_match(&c->g->dfas.v[d], name, strlen(name))) {
                    matched = true;
                    conj q = {e, 0};
                    if (!VEC_PUSH(*out, q)) return OOM(c);
                }
            }
        const cJSON *ad = get(x, "additionalProperties");
        if (!matched && ad) {
            conj q = {ad, 0};
            if (!VEC_PUSH(*out, q)) return OOM(c);
        }
    }
    return ONNXLLM_OK;
}

/* propertyNames: keys are strings, so anyOf alternatives that allow no string
 * drop out (not {const: "x"} = {anyOf: [{type: [the other types]}, {type: string,
 * ...}]}); a single one left replaces the anyOf, none left allows no key. */
static onnxllm_status pn_simplify(comp *c, cset *pn, bool *no_keys, bool *changed) {
    for (size_t i = 0; i < pn->n; i++) {
        const cJSON *x = pn->v[i].s, *any = get(x, "anyOf");
        if (!cJSON_IsArray(any) || (pn->v[i].done & D_ANYOF)) continue;
        bool only = true;
        for (const cJSON *k = x->child; k && only; k = k->next)
            only = k == any || (k->string && in_list(annotations, k->string));
        if (!only) continue;
        const cJSON *keep = NULL;
        int nkeep = 0;
        for (const cJSON *b = any->child; b; b = b->next) {
            if (cJSON_IsFalse(b)) continue;
            const cJSON *t = get(b, "type");
            unsigned a = A_ALL;
            if (t) {
                onnxllm_status st = type_atoms(c, t, &a);
                if (st) return st;
            }
            if (!(a & A_STR)) continue;
            keep = b;
            nkeep++;
        }
        if (nkeep > 1) continue;
        if (!nkeep) {
            *no_keys = true;
            return ONNXLLM_OK;
        }
        pn->v[i].s = keep;
        pn->v[i].done = 0;
        *changed = true;
    }
    return ONNXLLM_OK;
}

static onnxllm_status object_node(comp *c, uint32_t node, const cset *s, const msch *m) {
    objinfo oi;
    memset(&oi, 0, sizeof oi);
    oi.node = node;
    oi.add = NO_NODE;
    oi.pn_dfa = -1;
    oi.key_max = NO_LIMIT;
    oi.min_props = (int32_t)m->min_props;
    oi.max_props = m->max_props < 0 ? NO_LIMIT : (int32_t)m->max_props;
    c->g->nodes.v[node].kind = N_OBJECT;
    onnxllm_status st = ONNXLLM_OK;
    /* propertyNames: string constraints on every key */
    if (m->pn.n) {
        cset pn = {0};
        if (!VEC_RESERVE(pn, m->pn.n)) return OOM(c);
        memcpy(pn.v, m->pn.v, m->pn.n * sizeof *pn.v);
        pn.n = m->pn.n;
        bool f;
        st = expand(c, &pn, &f);
        for (int round = 0; round < 8 && !st && !f; round++) {
            bool changed = false;
            if ((st = pn_simplify(c, &pn, &f, &changed)) || !changed) break;
            st = expand(c, &pn, &f);
        }
        msch pm;
        memset(&pm, 0, sizeof pm);
        if (!st && !f) {
            for (size_t i = 0; i < pn.n && !st; i++)
                if (get(pn.v[i].s, "anyOf") || get(pn.v[i].s, "oneOf"))
                    st = cfail(c, ONNXLLM_ERR_UNSUPPORTED, pn.v[i].s, "unsupported JSON Schema keyword \"propertyNames\" with anyOf/oneOf");
            if (!st) st = merge(c, &pn, &pm);
        }
        if (!st) {
            if (f || !(pm.types & A_STR) || (pm.has_enum && !pm.enumv.n)) oi.no_keys = true;
            else {
                uint32_t extra = NO_NODE;
                if (pm.has_enum) { /* names must be one of these strings */
                    olm_sb rb = {0};
                    olm_sb_puts(&rb, "^(?:");
                    size_t k = 0;
                    for (size_t i = 0; i < pm.enumv.n; i++) {
                        if (!cJSON_IsString(pm.enumv.v[i])) continue;
                        if (k++) olm_sb_putc(&rb, '|');
                        for (const char *p = pm.enumv.v[i]->valuestring; *p; p++) {
                            if (strchr("\\^$.|?*+()[]{}/-", *p)) olm_sb_putc(&rb, '\\');
                            olm_sb_putc(&rb, *p);
                        }
                    }
                    olm_sb_puts(&rb, ")$");
                    char *re = olm_sb_finish(&rb);
                    if (!re) st = OOM(c);
                    else {
                        if (!k) oi.no_keys = true;
                        else st = content_regex(c, re, false, pm.enum_at, "propertyNames enum", &extra);
                        free(re);
                    }
                }
                if (!st) st = string_content(c, &pm, extra, "propertyNames", &oi.pn_dfa);
                oi.key_min = (int32_t)pm.min_len;
                oi.key_max = pm.max_len < 0 ? NO_LIMIT : (int32_t)pm.max_len;
                if (oi.key_max != NO_LIMIT && oi.key_min > oi.key_max) oi.no_keys = true; /* no name fits */
            }
        }
        msch_free(&pm);
        VEC_FREE(pn);
        if (st) return st;
    }
    /* defined properties */
    for (size_t i = 0; i < m->pnames.n && !st; i++) {
        const char *name = m->pnames.v[i];
        bool required = has_name(m->reqnames.v, m->reqnames.n, name);
        cset ps = {0};
        uint32_t pnode = NO_NODE;
        st = prop_set(c, s, name, &ps);
        if (!st) st = compile_set(c, &ps, &pnode);
        VEC_FREE(ps);
        if (st) break;
        /* a name the key constraints rule out cannot appear */
        size_t nl = strlen(name);
        bool key_ok = !oi.no_keys;
        if (key_ok && oi.pn_dfa >= 0) key_ok = content_match(&c->g->dfas.v[oi.pn_dfa], name, nl);
        if (key_ok && (oi.key_min > 0 || oi.key_max != NO_LIMIT)) {
            int64_t chars = 0;
            for (size_t k = 0; k < nl; k++) chars += ((unsigned char)name[k] & 0xC0) != 0x80;
            key_ok = chars >= oi.key_min && chars <= oi.key_max;
        }
        if (!key_ok) pnode = NO_NODE;
        /* a name whose schema is false stays a (disabled) label: it must not come in
         * as an additional key either */
        char *dup = strdup(name);
        if (!dup || !VEC_PUSH(oi.names, dup) || !VEC_PUSH(oi.lens, nl) || !VEC_PUSH(oi.pnode, pnode) ||
            !VEC_PUSH(oi.req, (uint8_t)required)) {
            free(dup);
            st = OOM(c);
        }
    }
    /* dependencies between defined names (at most 64 names then) */
    if (!st && m->dep_a.n) {
        if (oi.names.n > 64) st = cfail(c, ONNXLLM_ERR_UNSUPPORTED, NULL, "unsupported JSON Schema keyword \"dependencies\" on an object with more than 64 properties");
        for (size_t i = 0; !st && i < oi.names.n; i++)
            if (!VEC_PUSH(oi.dep, 0)) st = OOM(c);
        for (size_t k = 0; !st && k < m->dep_a.n; k++) {
            int ia = -1, ib = -1;
            for (size_t i = 0; i < oi.names.n; i++) {
                if (!strcmp(oi.names.v[i], m->dep_a.v[k])) ia = (int)i;
                if (!strcmp(oi.names.v[i], m->dep_b.v[k])) ib = (int)i;
            }
            if (ia < 0) continue; /* the name cannot appear at all */
            if (ib < 0) { /* a name that cannot appear is needed: the first one cannot appear either */
                oi.pnode.v[ia] = NO_NODE;
                if (oi.req.v[ia]) oi.pnode.v[ia] = NO_NODE;
                continue;
            }
            if (ia != ib) oi.dep.v[ia] |= 1ull << ib;
        }
        oi.has_deps = true;
    }
    /* pattern properties (one conjunct owns them); their keys also meet the
     * other conjuncts' additionalProperties */
    if (!st && m->pat_owner && !oi.no_keys) {
        const cJSON *pp = get(m->pat_owner, "patternProperties");
        for (const cJSON *e = pp->child; e && !st; e = e->next) {
            cset ps = {0};
            conj q = {e, 0};
            if (!VEC_PUSH(ps, q)) st = OOM(c);
            for (size_t i = 0; i < s->n && !st; i++) {
                if (s->v[i].s == m->pat_owner) continue;
                const cJSON *ad = get(s->v[i].s, "additionalProperties");
                conj r = {ad, 0};
                if (ad && !VEC_PUSH(ps, r)) st = OOM(c);
            }
            uint32_t pnode = NO_NODE;
            if (!st) st = compile_set(c, &ps, &pnode);
            VEC_FREE(ps);
            if (st) break;
            char *dup = e->string ? strdup(e->string) : NULL;
            if (!dup || !VEC_PUSH(oi.pats, dup)) {
                free(dup);
                st = OOM(c);
            } else if (!VEC_PUSH(oi.patnode, pnode))
                st = OOM(c);
        }
    }
    /* additional keys: every conjunct's additionalProperties */
    if (!st && !oi.no_keys) {
        cset as = {0};
        for (size_t i = 0; i < s->n && !st; i++) {
            const cJSON *ad = get(s->v[i].s, "additionalProperties");
            conj q = {ad, 0};
            if (ad && !VEC_PUSH(as, q)) st = OOM(c);
        }
        if (!st) st = compile_set(c, &as, &oi.add);
        VEC_FREE(as);
    }
    if (!st && !VEC_PUSH(c->objs, oi)) st = OOM(c);
    if (st) {
        for (size_t i = 0; i < oi.names.n; i++) free(oi.names.v[i]);
        for (size_t i = 0; i < oi.pats.n; i++) free(oi.pats.v[i]);
        VEC_FREE(oi.names);
        VEC_FREE(oi.lens);
        VEC_FREE(oi.pnode);
        VEC_FREE(oi.req);
        VEC_FREE(oi.pats);
        VEC_FREE(oi.patnode);
        VEC_FREE(oi.dep);
    }
    return st;
}

static onnxllm_status array_node(comp *c, uint32_t node, const msch *m) {
    onnxllm_status st = ONNXLLM_OK;
    size_t np = m->prefix.n;
    uint32_t *pre = np ? malloc(np * sizeof *pre) : NULL;
    if (np && !pre) return OOM(c);
    for (size_t i = 0; i < np && !st; i++) st = compile_copy(c, &m->prefix.v[i], &pre[i]);
    uint32_t items = NO_NODE;
    if (!st) st = compile_copy(c, &m->items, &items);
    if (st) {
        free(pre);
        return st;
    }
    olm_node *n = &c->g->nodes.v[node];
    n->kind = N_ARRAY;
    n->n = (uint32_t)np;
    n->list = (uint32_t)c->g->pool.n;
    for (size_t i = 0; i < np; i++)
        if (!VEC_PUSH(c->g->pool, pre[i])) {
            free(pre);
            return OOM(c);
        }
    free(pre);
    n = &c->g->nodes.v[node];
    n->extra = items;
    n->min = (int32_t)m->min_items;
    n->max = m->max_items < 0 ? NO_LIMIT : (int32_t)m->max_items;
    return ONNXLLM_OK;
}

/* Does a JSON value satisfy node `id`? Structural check over the nodes built so
 * far (leaves run their automaton on the value's canonical text). A node still
 * under construction (recursion) answers false, which only drops an enum value. */
static bool validate_value(comp *c, uint32_t id, const cJSON *v, int depth) {
    onnxllm_grammar *g = c->g;
    if (id == NO_NODE || depth > 32 || !c->done.v[id]) return false;
    const olm_node *n = &g->nodes.v[id];
    switch (n->kind) {
    case N_ANYOF:
        for (uint32_t k = 0; k < n->n; k++)
            if (validate_value(c, g->pool.v[n->list + k], v, depth + 1)) return true;
        return false;
    case N_LEAF: {
        char *t;
        size_t l;
        if (!olm_json_canonical(v, &t, &l)) return false;
        const olm_dfa *d = &g->dfas.v[n->dfa];
        uint32_t st = olm_dfa_run(d, (const uint8_t *)t, l);
        bool ok = st && (d->flags[st] & DF_ACCEPT);
        if (ok && n->counted && cJSON_IsString(v)) {
            int64_t chars = 0;
            for (const char *p = v->valuestring; *p; p++) chars += ((unsigned char)*p & 0xC0) != 0x80;
            ok = chars >= n->min && chars <= n->max;
        }
        free(t);
        return ok;
    }
    case N_ARRAY: {
        if (!cJSON_IsArray(v)) return false;
        int32_t k = 0;
        for (const cJSON *e = v->child; e; e = e->next, k++) {
            uint32_t it = (uint32_t)k < n->n ? g->pool.v[n->list + (uint32_t)k] : n->extra;
            if (!validate_value(c, it, e, depth + 1)) return false;
        }
        return k >= n->min && k <= n->max;
    }
    case N_OBJECT: {
        if (!cJSON_IsObject(v)) return false;
        objinfo *o = NULL;
        for (size_t i = 0; i < c->objs.n && !o; i++)
            if (c->objs.v[i].node == id) o = &c->objs.v[i];
        if (!o) return false;
        int32_t count = 0;
        for (const cJSON *e = v->child; e; e = e->next, count++) {
            const char *k = e->string ? e->string : "";
            size_t kl = strlen(k);
            uint32_t target = NO_NODE;
            bool found = false;
            for (size_t i = 0; i < o->names.n && !found; i++)
                if (o->lens.v[i] == kl && !memcmp(o->names.v[i], k, kl)) target = o->pnode.v[i], found = true;
            if (!found) {
                if (o->no_keys) return false;
                if (o->pn_dfa >= 0 && !content_match(&g->dfas.v[o->pn_dfa], k, kl)) return false;
                for (size_t i = 0; i < o->pats.n && !found; i++) {
                    uint32_t d;
                    if (content_regex(c, o->pats.v[i], false, NULL, "patternProperties", &d)) return false;
                    if (content_match(&g->dfas.v[d], k, kl)) target = o->patnode.v[i], found = true;
                }
                if (!found) target = o->add;
            }
            if (!validate_value(c, target, e, depth + 1)) return false;
        }
        for (size_t i = 0; i < o->names.n; i++)
            if (o->req.v[i]) {
                bool present = false;
                for (const cJSON *e = v->child; e && !present; e = e->next)
                    present = e->string && strlen(e->string) == o->lens.v[i] && !memcmp(e->string, o->names.v[i], o->lens.v[i]);
                if (!present) return false;
            }
        return count >= o->min_props && count <= o->max_props;
    }
    }
    return false;
}

/* enum / const: the literal texts of the values that satisfy everything else in
 * the set (checked against the set compiled without enum/const). */
static onnxllm_status enum_node(comp *c, uint32_t node, const cset *s, const msch *m) {
    onnxllm_status st = ONNXLLM_OK;
    static const char *const ignore[] = {"enum", "const", "type", "$ref", "allOf", "nullable", NULL};
    bool others = false;
    for (size_t i = 0; i < s->n && !others; i++)
        for (const cJSON *k = s->v[i].s->child; k && !others; k = k->next)
            others = k->string && !in_list(ignore, k->string) && !in_list(annotations, k->string);
    uint32_t rest = NO_NODE;
    if (others) {
        cset rs = {0};
        if (!VEC_RESERVE(rs, s->n + 1)) return OOM(c);
        for (size_t i = 0; i < s->n; i++) {
            rs.v[i] = s->v[i];
            rs.v[i].done |= D_NOENUM;
        }
        rs.n = s->n;
        st = compile_set(c, &rs, &rest);
        VEC_FREE(rs);
        if (st) return st;
    }
    OLM_VEC(char *) texts = {0};
    OLM_VEC(size_t) lens = {0};
    for (size_t i = 0; i < m->enumv.n && !st; i++) {
        const cJSON *v = m->enumv.v[i];
        unsigned a = cJSON_IsNull(v) ? A_NULL : cJSON_IsBool(v) ? A_BOOL : cJSON_IsObject(v) ? A_OBJ
                   : cJSON_IsArray(v) ? A_ARR : cJSON_IsString(v) ? A_STR
                   : (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.007199254740992e15) ? A_INT : A_FRAC;
        if (!(m->types & a)) continue;
        if (others && !validate_value(c, rest, v, 0)) continue;
        char *t;
        size_t l;
        if (!olm_json_canonical(v, &t, &l)) continue; /* e.g. nested too deeply: leave it out */
        if (!VEC_PUSH(texts, t) || !VEC_PUSH(lens, l)) {
            free(t);
            st = OOM(c);
        }
    }
    if (!st) {
        if (!texts.n) c->g->nodes.v[node].kind = N_ANYOF; /* no value left: an empty alternative list */
        else st = literal_node(c, node, (const char *const *)texts.v, lens.v, texts.n);
    }
    for (size_t i = 0; i < texts.n; i++) free(texts.v[i]);
    VEC_FREE(texts);
    VEC_FREE(lens);
    return st;
}

static onnxllm_status build_merged(comp *c, uint32_t node, const cset *s, msch *m) {
    if (m->has_enum) return enum_node(c, node, s, m);
    unsigned t = m->types;
    /* one node per JSON type; literal types share one */
    uint32_t alts[8];
    size_t na = 0;
    onnxllm_status st = ONNXLLM_OK;
    int ntypes = !!(t & (A_NULL | A_BOOL)) + !!(t & A_OBJ) + !!(t & A_ARR) + !!(t & A_STR) + !!(t & (A_INT | A_FRAC));
    if (ntypes == 0) {
        c->g->nodes.v[node].kind = N_ANYOF; /* empty */
        return ONNXLLM_OK;
    }
    for (int k = 0; k < 5 && !st; k++) {
        unsigned bit = k == 0 ? (A_NULL | A_BOOL) : k == 1 ? A_OBJ : k == 2 ? A_ARR : k == 3 ? A_STR : (A_INT | A_FRAC);
        if (!(t & bit)) continue;
        uint32_t id = ntypes == 1 ? node : new_node(c, N_LEAF);
        if (id == NO_NODE) return cfail(c, ONNXLLM_ERR_UNSUPPORTED, NULL, "schema too complex (over %d nodes)", MAX_NODES);
        if (k == 0) {
            const char *lt[3];
            size_t ll[3], nl = 0;
            if (t & A_NULL) lt[nl] = "null", ll[nl++] = 4;
            if (t & A_BOOL) lt[nl] = "true", ll[nl++] = 4, lt[nl] = "false", ll[nl++] = 5;
            st = literal_node(c, id, lt, ll, nl);
        } else if (k == 1)
            st = object_node(c, id, s, m);
        else if (k == 2)
            st = array_node(c, id, m);
        else if (k == 3)
            st = string_node(c, id, m);
        else
            st = number_node(c, id, m, !(t & A_FRAC));
        if (!st) c->done.v[id] = 1;
        alts[na++] = id;
    }
    if (st || ntypes == 1) return st;
    olm_node *n = &c->g->nodes.v[node];
    n->kind = N_ANYOF;
    n->n = (uint32_t)na;
    n->list = (uint32_t)c->g->pool.n;
    for (size_t i = 0; i < na; i++)
        if (!VEC_PUSH(c->g->pool, alts[i])) return OOM(c);
    return ONNXLLM_OK;
}

typedef OLM_VEC(const char *) namelist;

/* Names a branch requires by itself (its conjuncts after $ref/allOf). */
static onnxllm_status branch_required(comp *c, const cJSON *b, namelist *out) {
    cset bs = {0};
    conj q = {b, 0};
    bool f;
    if (!VEC_PUSH(bs, q)) return OOM(c);
    onnxllm_status st = expand(c, &bs, &f);
    for (size_t i = 0; !st && i < bs.n; i++) {
        const cJSON *rq = get(bs.v[i].s, "required");
        if (!cJSON_IsArray(rq)) continue;
        for (const cJSON *e = rq->child; e; e = e->next)
            if (cJSON_IsString(e) && !has_name(out->v, out->n, e->valuestring) && !VEC_PUSH(*out, e->valuestring)) st = OOM(c);
    }
    VEC_FREE(bs);
    return st;
}

/* oneOf: alternative i may forbid a name that alternative j requires (and i
 * does not): then no object of i can satisfy j. Returns a synthetic
 * {"properties": {name: false, ...}} (owned by c) or NULL when there is none. */
static onnxllm_status separation(comp *c, const cJSON *alt, int i, const cset *base, const cJSON **out) {
    *out = NULL;
    namelist ri = {0}, rbase = {0};
    onnxllm_status st = branch_required(c, cJSON_GetArrayItem(alt, i), &ri);
    for (size_t k = 0; !st && k < base->n; k++) st = branch_required(c, base->v[k].s, &rbase);
    cJSON *props = NULL;
    int j = 0;
    for (const cJSON *b = alt->child; !st && b; b = b->next, j++) {
        if (j == i) continue;
        namelist rj = {0};
        st = branch_required(c, b, &rj);
        for (size_t k = 0; !st && k < rj.n; k++) {
            if (has_name(ri.v, ri.n, rj.v[k]) || has_name(rbase.v, rbase.n, rj.v[k])) continue;
            if (!props && !(props = cJSON_CreateObject())) st = OOM(c);
            else if (!cJSON_GetObjectItemCaseSensitive(props, rj.v[k]) && !cJSON_AddFalseToObject(props, rj.v[k])) st = OOM(c);
            break; /* one name per other alternative is enough */
        }
        VEC_FREE(rj);
    }
    VEC_FREE(ri);
    VEC_FREE(rbase);
    if (st || !props) {
        cJSON_Delete(props);
        return st;
    }
    cJSON *wrap = cJSON_CreateObject();
    if (!wrap) {
        cJSON_Delete(props);
        return OOM(c);
    }
    cJSON_AddItemToObject(wrap, "properties", props);
    if (!c->owned && !(c->owned = cJSON_CreateArray())) {
        cJSON_Delete(wrap);
        return OOM(c);
    }
    cJSON_AddItemToArray(c->owned, wrap);
    *out = wrap;
    return ONNXLLM_OK;
}

static onnxllm_status compile_set(comp *c, cset *s, uint32_t *out) {
    *out = NO_NODE;
    if (++c->depth > MAX_DEPTH) {
        c->depth--;
        return cfail(c, ONNXLLM_ERR_UNSUPPORTED, s->n ? s->v[0].s : NULL, "schema nested too deeply");
    }
    bool is_false;
    cset key = {0};
    onnxllm_status st = expand(c, s, &is_false);
    if (st || is_false) goto done;
    if (!sorted_key(s, &key)) {
        st = OOM(c);
        goto done;
    }
    uint64_t h = cset_hash(&key);
    uint32_t hit = memo_find(c, &key, h);
    if (hit != NO_NODE) {
        *out = hit;
        goto done;
    }
    /* anyOf / oneOf: distribute the first one */
    for (size_t i = 0; i < s->n; i++) {
        const cJSON *x = s->v[i].s, *any = get(x, "anyOf"), *one = get(x, "oneOf");
        const cJSON *alt = NULL;
        uint8_t flag = 0;
        if (any && !(s->v[i].done & D_ANYOF)) alt = any, flag = D_ANYOF;
        else if (one && !(s->v[i].done & D_ONEOF)) alt = one, flag = D_ONEOF;
        if (!alt) continue;
        if (!cJSON_IsArray(alt) || !cJSON_GetArraySize(alt)) {
            st = cfail(c, ONNXLLM_ERR_INVALID_ARGUMENT, alt, "%s must be a non-empty array", flag == D_ANYOF ? "anyOf" : "oneOf");
            goto done;
        }
        uint32_t node = new_node(c, N_ANYOF);
        if (node == NO_NODE || !memo_put(c, &key, h, node)) {
            st = node == NO_NODE ? cfail(c, ONNXLLM_ERR_UNSUPPORTED, x, "schema too complex (over %d nodes)", MAX_NODES) : OOM(c);
            goto done;
        }
        OLM_VEC(uint32_t) alts = {0}, orig = {0};
        int idx = 0;
        for (const cJSON *b = alt->child; b && !st; b = b->next, idx++) {
            if (alts.n >= MAX_ALTS) {
                st = cfail(c, ONNXLLM_ERR_UNSUPPORTED, alt, "schema too complex (anyOf/oneOf combinations)");
                break;
            }
            for (int pass = 0; pass < (flag == D_ONEOF ? 2 : 1) && !st; pass++) {
                /* oneOf: pass 0 compiles the alternative restricted so that it cannot meet
                 * the others (see separation); pass 1 the alternative as written, which
                 * the exclusivity proof is checked against */
                const cJSON *sep = NULL;
                if (flag == D_ONEOF && pass == 0 && (st = separation(c, alt, idx, s, &sep))) break;
                cset bs = {0};
                if (!VEC_RESERVE(bs, s->n + 2)) {
                    st = OOM(c);
                    break;
                }
                if (s->n) memcpy(bs.v, s->v, s->n * sizeof *s->v);
                bs.n = s->n;
                bs.v[i].done |= flag;
                conj q = {b, 0};
                bs.v[bs.n++] = q;
                if (sep) {
                    conj q2 = {sep, 0};
                    bs.v[bs.n++] = q2;
                }
                uint32_t an = NO_NODE;
                st = compile_set(c, &bs, &an);
                VEC_FREE(bs);
                if (!st && !(pass == 0 ? VEC_PUSH(alts, an) : VEC_PUSH(orig, an))) st = OOM(c);
            }
        }
        if (!st) {
            olm_node *n = &c->g->nodes.v[node];
            n->n = (uint32_t)alts.n;
            n->list = (uint32_t)c->g->pool.n;
            for (size_t k = 0; k < alts.n && !st; k++)
                if (!VEC_PUSH(c->g->pool, alts.v[k])) st = OOM(c);
            if (flag == D_ONEOF) {
                uint32_t ol = (uint32_t)c->g->pool.n;
                for (size_t k = 0; k < orig.n && !st; k++)
                    if (!VEC_PUSH(c->g->pool, orig.v[k])) st = OOM(c);
                if (!st && (!VEC_PUSH(c->oneofs, node) || !VEC_PUSH(c->oneof_orig, ol) ||
                            !VEC_PUSH(c->oneof_alts, (uint32_t)c->restricted.n) || !VEC_PUSH(c->oneof_n, (uint32_t)alts.n)))
                    st = OOM(c);
                for (size_t k = 0; k < alts.n && !st; k++)
                    if (!VEC_PUSH(c->restricted, alts.v[k])) st = OOM(c);
            }
            c->done.v[node] = 1;
        }
        VEC_FREE(orig);
        VEC_FREE(alts);
        *out = node;
        goto done;
    }
    {
        msch m;
        st = merge(c, s, &m);
        if (!st) {
            uint32_t node = new_node(c, N_LEAF);
            if (node == NO_NODE || !memo_put(c, &key, h, node))
                st = node == NO_NODE ? cfail(c, ONNXLLM_ERR_UNSUPPORTED, NULL, "schema too complex (over %d nodes)", MAX_NODES) : OOM(c);
            else {
                st = build_merged(c, node, s, &m);
                c->done.v[node] = 1;
                *out = node;
            }
        }
        msch_free(&m);
    }
done:
    VEC_FREE(key);
    c->depth--;
    return st;
}

/* ---- whole-graph passes ------------------------------------------------------------------------- */

static objinfo *obj_of(comp *c, uint32_t node) {
    for (size_t i = 0; i < c->objs.n; i++)
        if (c->objs.v[i].node == node) return &c->objs.v[i];
    return NULL;
}

static bool leaf_productive(const onnxllm_grammar *g, const olm_node *n) {
    const olm_dfa *d = &g->dfas.v[n->dfa];
    if (!d->start) return false;
    if (!n->counted) return true;
    if (n->max != NO_LIMIT && n->min > n->max) return false; /* minLength > maxLength */
    /* count starts at -1 before the opening quote */
    int64_t lo = (int64_t)n->min + 1, hi = (int64_t)n->max + 1;
    if (n->max == NO_LIMIT) hi = INT64_MAX / 4;
    uint32_t dm = d->dmin[d->start], em = d->emin[d->start];
    return (dm != DFA_INF && lo <= dm && dm <= hi) || (em != DFA_INF && em <= hi);
}

static void productivity(comp *c) {
    onnxllm_grammar *g = c->g;
    size_t N = g->nodes.n;
    for (bool ch = true; ch;) {
        ch = false;
        for (uint32_t id = 0; id < N; id++) {
            if (c->prod.v[id]) continue;
            const olm_node *n = &g->nodes.v[id];
            bool p = false;
            switch (n->kind) {
            case N_LEAF: p = leaf_productive(g, n); break;
            case N_ANYOF:
                for (uint32_t k = 0; k < n->n && !p; k++) {
                    uint32_t a = g->pool.v[n->list + k];
                    p = a != NO_NODE && c->prod.v[a];
                }
                break;
            case N_ARRAY: {
                p = n->min <= n->max;
                /* the required items: the prefix ones, then (once) the rest's schema —
                 * never a loop over minItems, which can be 1e9 */
                int64_t req = (int64_t)n->min, pre = req < (int64_t)n->n ? req : (int64_t)n->n;
                for (int64_t k = 0; k < pre && p; k++) {
                    uint32_t a = g->pool.v[n->list + (uint32_t)k];
                    p = a != NO_NODE && c->prod.v[a];
                }
                if (p && req > (int64_t)n->n) p = n->extra != NO_NODE && c->prod.v[n->extra];
                break;
            }
            case N_OBJECT: {
                objinfo *o = obj_of(c, id);
                if (!o) break;
                p = true;
                int32_t nreq = 0, nopt = 0;
                for (size_t k = 0; k < o->names.n && p; k++) {
                    uint32_t a = o->pnode.v[k];
                    bool ok = a != NO_NODE && c->prod.v[a];
                    if (o->req.v[k]) {
                        p = ok;
                        nreq++;
                    } else if (ok)
                        nopt++;
                }
                bool addp = o->add != NO_NODE && c->prod.v[o->add];
                for (size_t k = 0; k < o->patnode.n && !addp; k++) addp = o->patnode.v[k] != NO_NODE && c->prod.v[o->patnode.v[k]];
                /* needs of required names must be usable too */
                for (size_t k = 0; p && o->has_deps && k < o->names.n; k++)
                    if (o->req.v[k])
                        for (size_t j = 0; j < o->names.n; j++)
                            if ((o->dep.v[k] >> j & 1) && (o->pnode.v[j] == NO_NODE || !c->prod.v[o->pnode.v[j]])) p = false;
                if (p) p = nreq <= o->max_props && nreq + nopt + (addp ? 1 : 0) >= o->min_props && o->min_props <= o->max_props;
                break;
            }
            }
            if (p) {
                c->prod.v[id] = 1;
                ch = true;
            }
        }
    }
}

void olm_grammar_first_bytes(onnxllm_grammar *g) {
    for (size_t id = 0; id < g->nodes.n; id++) {
        olm_node *n = &g->nodes.v[id];
        memset(n->first, 0, sizeof n->first);
        if (n->kind == N_OBJECT) bit_set(n->first, '{');
        else if (n->kind == N_ARRAY) bit_set(n->first, '[');
        else if (n->kind == N_LEAF && n->dfa < g->dfas.n) {
            const olm_dfa *d = &g->dfas.v[n->dfa];
            for (int b = 0; b < 256; b++)
                if (d->start && dfa_step(d, d->start, (uint8_t)b)) bit_set(n->first, (uint32_t)b);
        }
    }
    for (bool ch = true; ch;) {
        ch = false;
        for (size_t id = 0; id < g->nodes.n; id++) {
            olm_node *n = &g->nodes.v[id];
            if (n->kind != N_ANYOF) continue;
            for (uint32_t k = 0; k < n->n; k++) {
                uint32_t a = g->pool.v[n->list + k];
                if (a == NO_NODE) continue;
                for (int w = 0; w < 8; w++) {
                    uint32_t add = g->nodes.v[a].first[w] & ~n->first[w];
                    if (add) n->first[w] |= add, ch = true;
                }
            }
        }
    }
}

/* Non-empty intersection of two leaf DFAs? (breadth-first over state pairs) */
static bool dfa_meet(const olm_dfa *a, const olm_dfa *b) {
    if (!a->start || !b->start) return false;
    size_t cap = (size_t)a->n * b->n;
    if (cap > 4000000) return true; /* too big to decide: assume they meet */
    uint8_t *seen = calloc(cap, 1);
    uint32_t *q = malloc(cap * 2 * sizeof *q);
    bool meet = true;
    if (seen && q) {
        meet = false;
        size_t h = 0, t = 0;
        q[t++] = a->start, q[t++] = b->start;
        seen[(size_t)a->start * b->n + b->start] = 1;
        while (h < t && !meet) {
            uint32_t x = q[h++], y = q[h++];
            if ((a->flags[x] & DF_ACCEPT) && (b->flags[y] & DF_ACCEPT)) meet = true;
            for (int by = 0; by < 256 && !meet; by++) {
                uint32_t x2 = dfa_step(a, x, (uint8_t)by), y2 = dfa_step(b, y, (uint8_t)by);
                if (x2 && y2 && !seen[(size_t)x2 * b->n + y2]) {
                    seen[(size_t)x2 * b->n + y2] = 1;
                    q[t++] = x2, q[t++] = y2;
                }
            }
        }
    }
    free(seen);
    free(q);
    return meet;
}

static bool disjoint(comp *c, uint32_t x, uint32_t y, int depth);

/* Objects: a property required in one whose values cannot meet the other's. */
static bool obj_disjoint(comp *c, uint32_t x, uint32_t y, int depth) {
    objinfo *a = obj_of(c, x), *b = obj_of(c, y);
    if (!a || !b) return false;
    for (int pass = 0; pass < 2; pass++) {
        objinfo *p = pass ? b : a, *q = pass ? a : b;
        for (size_t i = 0; i < p->names.n; i++) {
            if (!p->req.v[i]) continue;
            /* where does q put this name? */
            size_t j;
            for (j = 0; j < q->names.n; j++)
                if (q->lens.v[j] == p->lens.v[i] && !memcmp(q->names.v[j], p->names.v[i], p->lens.v[i])) break;
            uint32_t qn;
            if (j < q->names.n) qn = q->pnode.v[j];
            else {
                if (q->no_keys || q->pats.n) continue; /* patterns: not analysed */
                qn = q->add;
                if (q->pn_dfa >= 0 && !content_match(&c->g->dfas.v[q->pn_dfa], p->names.v[i], p->lens.v[i])) return true;
            }
            if (qn == NO_NODE || !c->prod.v[qn]) return true; /* q cannot have it */
            uint32_t pn = p->pnode.v[i];
            if (pn != NO_NODE && disjoint(c, pn, qn, depth + 1)) return true;
        }
    }
    return false;
}

static bool disjoint(comp *c, uint32_t x, uint32_t y, int depth) {
    onnxllm_grammar *g = c->g;
    if (x == y) return false;
    if (depth > 8) return false;
    const olm_node *a = &g->nodes.v[x], *b = &g->nodes.v[y];
    bool overlap = false;
    for (int w = 0; w < 8 && !overlap; w++) overlap = (a->first[w] & b->first[w]) != 0;
    if (!overlap) return true;
    if (a->kind == N_ANYOF || b->kind == N_ANYOF) {
        const olm_node *m = a->kind == N_ANYOF ? a : b;
        uint32_t other = a->kind == N_ANYOF ? y : x;
        for (uint32_t k = 0; k < m->n; k++) {
            uint32_t alt = g->pool.v[m->list + k];
            if (c->prod.v[alt] && !disjoint(c, alt, other, depth + 1)) return false;
        }
        return true;
    }
    if (a->kind != b->kind) return true; /* first bytes overlap but kinds differ: '{' vs '[' cannot */
    if (a->kind == N_LEAF) return !dfa_meet(&g->dfas.v[a->dfa], &g->dfas.v[b->dfa]);
    if (a->kind == N_OBJECT) return obj_disjoint(c, x, y, depth);
    if (a->kind == N_ARRAY) {
        if (a->max < b->min || b->max < a->min) return true;
        int32_t m = a->min < b->min ? a->min : b->min;
        for (int32_t k = 0; k < m && k < 64; k++) {
            uint32_t ia = (uint32_t)k < a->n ? g->pool.v[a->list + (uint32_t)k] : a->extra;
            uint32_t ib = (uint32_t)k < b->n ? g->pool.v[b->list + (uint32_t)k] : b->extra;
            if (ia != NO_NODE && ib != NO_NODE && disjoint(c, ia, ib, depth + 1)) return true;
        }
    }
    return false;
}

/* Turns objinfo into the node's final form: key DFA, pool lists. */
static onnxllm_status finish_object(comp *c, objinfo *o) {
    onnxllm_grammar *g = c->g;
    uint32_t n = (uint32_t)o->names.n;
    /* names whose schema produces nothing cannot appear (required ones made the
     * object unproductive already) */
    OLM_VEC(uint8_t) usable = {0};
    for (uint32_t i = 0; i < n; i++)
        if (!VEC_PUSH(usable, (uint8_t)(o->pnode.v[i] != NO_NODE && c->prod.v[o->pnode.v[i]]))) return OOM(c);
    const olm_dfa *pats[64];
    size_t npat = o->pats.n;
    if (npat > 64) {
        VEC_FREE(usable);
        return cfail(c, ONNXLLM_ERR_UNSUPPORTED, NULL, "patternProperties: too many patterns");
    }
    onnxllm_status st = ONNXLLM_OK;
    for (size_t k = 0; k < npat && !st; k++) {
        uint32_t d;
        st = content_regex(c, o->pats.v[k], false, NULL, "patternProperties", &d);
        if (!st) pats[k] = &g->dfas.v[d];
    }
    /* overlapping patterns would need both schemas at once: refuse */
    for (size_t i = 0; i < npat && !st; i++)
        for (size_t j = i + 1; j < npat && !st; j++)
            if (dfa_meet(pats[i], pats[j]))
                st = cfail(c, ONNXLLM_ERR_UNSUPPORTED, NULL,
                           "unsupported JSON Schema keyword \"patternProperties\" with overlapping patterns (\"%.40s\", \"%.40s\")",
                           o->pats.v[i], o->pats.v[j]);
    /* a defined name matching a pattern must also meet the pattern's schema: the
     * property set already includes it (prop_set), nothing to do here */
    if (st) {
        VEC_FREE(usable);
        return st;
    }
    /* names that cannot be used are given an impossible label by leaving them out of
     * the trie but still excluding them from additional keys: put them in with label
     * n + npat + 1 (never allowed) */
    OLM_VEC(const char *) kn = {0};
    OLM_VEC(size_t) kl = {0};
    for (uint32_t i = 0; i < n; i++)
        if (!VEC_PUSH(kn, o->names.v[i]) || !VEC_PUSH(kl, o->lens.v[i])) st = OOM(c);
    bool add = o->add != NO_NODE && c->prod.v[o->add];
    /* pattern labels of unproductive schemas: keys matching them cannot appear */
    olm_dfa content, wrapped;
    char why[200];
    if (!st) {
        st = olm_content_keys(kn.v, kl.v, n, o->pn_dfa >= 0 ? &g->dfas.v[o->pn_dfa] : NULL, pats, npat, add,
                              KEY_MAX_STATES, &content, why, sizeof why);
        if (st && st != ONNXLLM_ERR_OUT_OF_MEMORY) st = cfail(c, st, NULL, "object keys: %s", why);
    }
    VEC_FREE(kn);
    VEC_FREE(kl);
    if (!st) {
        /* drop labels of unusable names / patterns from acceptance */
        for (uint32_t s = 1; s < content.n; s++) {
            int32_t l = content.label[s];
            bool off = (l >= 0 && (uint32_t)l < n && !usable.v[l]) ||
                       (l > (int32_t)n && (o->patnode.v[(uint32_t)l - n - 1] == NO_NODE || !c->prod.v[o->patnode.v[(uint32_t)l - n - 1]]));
            if (off) {
                content.label[s] = -1;
                content.flags[s] &= (uint8_t)~DF_ACCEPT;
            }
        }
        olm_dfa_prune(&content);
        st = olm_wrap_string(&content, false, true, KEY_MAX_STATES * 2, &wrapped, why, sizeof why);
        olm_dfa_free(&content);
        if (st && st != ONNXLLM_ERR_OUT_OF_MEMORY) st = cfail(c, st, NULL, "object keys: %s", why);
    }
    VEC_FREE(usable);
    if (st) return st == ONNXLLM_ERR_OUT_OF_MEMORY ? OOM(c) : st;
    if (!olm_dfa_plainx(&wrapped, n)) {
        olm_dfa_free(&wrapped);
        return OOM(c);
    }
    uint32_t kd = olm_grammar_add_dfa(g, &wrapped);
    if (kd == NO_NODE) return OOM(c);
    olm_node *nd = &g->nodes.v[o->node];
    nd->dfa = kd;
    nd->n = n;
    nd->npat = (uint32_t)npat;
    nd->list = (uint32_t)g->pool.n;
    for (uint32_t i = 0; i < n; i++)
        if (!VEC_PUSH(g->pool, o->pnode.v[i])) return OOM(c);
    for (size_t k = 0; k < npat; k++)
        if (!VEC_PUSH(g->pool, o->patnode.v[k])) return OOM(c);
    nd = &g->nodes.v[o->node];
    nd->req = (uint32_t)g->pool.n;
    /* required flags, then next_req[i] = first required index >= i (n if none) */
    for (uint32_t i = 0; i < n; i++)
        if (!VEC_PUSH(g->pool, o->req.v[i])) return OOM(c);
    uint32_t nxt = n;
    size_t base = g->pool.n;
    if (!VEC_RESERVE(g->pool, g->pool.n + n + 1)) return OOM(c);
    g->pool.n += n + 1;
    g->pool.v[base + n] = n;
    for (uint32_t i = n; i-- > 0;) {
        if (o->req.v[i]) nxt = i;
        g->pool.v[base + i] = nxt;
    }
    nd = &g->nodes.v[o->node];
    nd->usable = (uint32_t)g->pool.n;
    {
        uint32_t cnt = 0;
        size_t ub = g->pool.n;
        if (!VEC_RESERVE(g->pool, g->pool.n + n + 1)) return OOM(c);
        g->pool.n += n + 1;
        g->pool.v[ub + n] = 0;
        for (uint32_t i = n; i-- > 0;) {
            if (o->pnode.v[i] != NO_NODE && c->prod.v[o->pnode.v[i]]) cnt++;
            g->pool.v[ub + i] = cnt;
        }
    }
    if (o->has_deps) {
        nd = &g->nodes.v[o->node];
        nd->deps = (uint32_t)g->pool.n;
        for (uint32_t i = 0; i < n; i++)
            if (!VEC_PUSH(g->pool, (uint32_t)o->dep.v[i]) || !VEC_PUSH(g->pool, (uint32_t)(o->dep.v[i] >> 32))) return OOM(c);
    }
    nd = &g->nodes.v[o->node];
    {
        const olm_dfa *kdfa = &g->dfas.v[kd];
        bool ex = false;
        for (uint32_t l = n; kdfa->start && l < kdfa->nlabels && !ex; l++)
            ex = (kdfa->reach[(size_t)kdfa->start * kdfa->nlw + l / 64] >> (l % 64)) & 1;
        nd->has_extra = ex;
    }
    nd->extra = add ? o->add : NO_NODE;
    nd->min = o->min_props;
    nd->max = o->max_props;
    nd->key_min = (uint32_t)o->key_min;
    nd->key_max = (uint32_t)o->key_max;
    nd->key_counted = o->key_min > 0 || o->key_max != NO_LIMIT;
    return ONNXLLM_OK;
}

static void objinfo_free(objinfo *o) {
    for (size_t i = 0; i < o->names.n; i++) free(o->names.v[i]);
    for (size_t i = 0; i < o->pats.n; i++) free(o->pats.v[i]);
    VEC_FREE(o->names);
    VEC_FREE(o->lens);
    VEC_FREE(o->pnode);
    VEC_FREE(o->req);
    VEC_FREE(o->pats);
    VEC_FREE(o->patnode);
    VEC_FREE(o->dep);
}

onnxllm_status olm_schema_compile(onnxllm_grammar *g, const cJSON *schema, const cJSON *doc_root, const cJSON *extra,
                                  uint32_t *root, onnxllm_error *err) {
    comp c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.root = doc_root ? doc_root : schema;
    c.err = err;
    /* nodes that exist before this compilation count as productive (tool wrappers) */
    for (size_t i = 0; i < g->nodes.n; i++)
        if (!VEC_PUSH(c.prod, 1) || !VEC_PUSH(c.done, 1)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "schema: out of memory");
    size_t first_new = g->nodes.n;
    uint32_t r = NO_NODE;
    onnxllm_status st;
    {
        cset s0 = {0};
        conj q = {schema, 0}, e = {extra, 0};
        if (!VEC_PUSH(s0, q) || (extra && !VEC_PUSH(s0, e))) st = OOM(&c);
        else st = compile_set(&c, &s0, &r);
        VEC_FREE(s0);
    }
    if (!st) {
        /* reset productivity of the new nodes and compute it */
        for (size_t i = first_new; i < g->nodes.n; i++) c.prod.v[i] = 0;
        productivity(&c);
        if (r == NO_NODE || !c.prod.v[r]) st = cfail(&c, ONNXLLM_ERR_INVALID_ARGUMENT, NULL, "the schema accepts no value (unsatisfiable)");
    }
    /* remove unproductive alternatives, cap arrays at their first unproductive position */
    for (size_t id = first_new; !st && id < g->nodes.n; id++) {
        olm_node *n = &g->nodes.v[id];
        if (!c.prod.v[id]) continue;
        if (n->kind == N_ANYOF) {
            uint32_t w = 0;
            for (uint32_t k = 0; k < n->n; k++) {
                uint32_t a = g->pool.v[n->list + k];
                if (a != NO_NODE && c.prod.v[a]) g->pool.v[n->list + w++] = a;
            }
            n->n = w;
        } else if (n->kind == N_ARRAY) {
            for (uint32_t k = 0; k < n->n; k++) {
                uint32_t a = g->pool.v[n->list + k];
                if (a == NO_NODE || !c.prod.v[a]) {
                    if ((int32_t)k < n->max) n->max = (int32_t)k;
                    break;
                }
            }
            if (n->extra != NO_NODE && !c.prod.v[n->extra]) n->extra = NO_NODE;
            if (n->extra == NO_NODE && (int64_t)n->max > (int64_t)n->n) n->max = (int32_t)n->n;
        }
    }
    for (size_t i = 0; !st && i < c.objs.n; i++)
        if (c.prod.v[c.objs.v[i].node]) st = finish_object(&c, &c.objs.v[i]);
    if (!st) {
        olm_grammar_first_bytes(g);
        for (size_t i = 0; !st && i < c.oneofs.n; i++) {
            uint32_t id = c.oneofs.v[i];
            if (!c.prod.v[id]) continue;
            /* every restricted alternative (still producing something) against every
             * other alternative as written */
            uint32_t na = c.oneof_n.v[i];
            for (uint32_t a = 0; a < na && !st; a++) {
                uint32_t ra = c.restricted.v[c.oneof_alts.v[i] + a];
                if (ra == NO_NODE || !c.prod.v[ra]) continue;
                for (uint32_t b = 0; b < na && !st; b++) {
                    uint32_t ob = g->pool.v[c.oneof_orig.v[i] + b];
                    if (b == a || ob == NO_NODE || !c.prod.v[ob]) continue;
                    if (!disjoint(&c, ra, ob, 0))
                        st = cfail(&c, ONNXLLM_ERR_UNSUPPORTED, NULL,
                                   "unsupported JSON Schema keyword \"oneOf\": alternatives %u and %u may both match, so "
                                   "\"exactly one\" cannot be enforced",
                                   a < b ? a : b, a < b ? b : a);
                }
            }
            /* The restriction (see separation) is only needed where an alternative as
             * written may meet another one. One that cannot meet any other alternative as
             * written is exclusive by itself: use it unrestricted, so that it keeps the
             * documents the restriction would lose (an optional property another
             * alternative requires, when the two differ elsewhere: {"rule": "custom",
             * "match": ...} next to a "shell" rule that requires "match"). */
            bool widened = false;
            for (uint32_t a = 0; a < na && !st; a++) {
                uint32_t ra = c.restricted.v[c.oneof_alts.v[i] + a], oa = g->pool.v[c.oneof_orig.v[i] + a];
                if (ra == oa || ra == NO_NODE || oa == NO_NODE || !c.prod.v[ra] || !c.prod.v[oa]) continue;
                bool alone = true;
                for (uint32_t b = 0; b < na && alone; b++) {
                    uint32_t ob = g->pool.v[c.oneof_orig.v[i] + b];
                    if (b != a && ob != NO_NODE && c.prod.v[ob] && !disjoint(&c, oa, ob, 0)) alone = false;
                }
                if (!alone) continue;
                olm_node *n = &g->nodes.v[id];
                for (uint32_t k = 0; k < n->n; k++)
                    if (g->pool.v[n->list + k] == ra) g->pool.v[n->list + k] = oa, widened = true;
            }
            if (widened) olm_grammar_first_bytes(g);
        }
    }
    if (!st) *root = r;
    for (size_t i = 0; i < c.objs.n; i++) objinfo_free(&c.objs.v[i]);
    VEC_FREE(c.objs);
    VEC_FREE(c.memo);
    VEC_FREE(c.memo_keys);
    VEC_FREE(c.oneofs);
    VEC_FREE(c.oneof_orig);
    VEC_FREE(c.oneof_alts);
    VEC_FREE(c.restricted);
    VEC_FREE(c.oneof_n);
    cJSON_Delete(c.owned);
    VEC_FREE(c.alias_from);
    VEC_FREE(c.alias_to);
    VEC_FREE(c.neg_from);
    VEC_FREE(c.neg_to);
    for (size_t i = 0; i < c.dcache.n; i++) free(c.dcache.v[i].key);
    VEC_FREE(c.dcache);
    VEC_FREE(c.prod);
    VEC_FREE(c.done);
    return st;
}

/* ---- direct builders (the tool-call wrapper) ---------------------------------------------------- */

onnxllm_status olm_build_literal(onnxllm_grammar *g, const char *const *texts, const size_t *lens, size_t n, uint32_t *out,
                                 onnxllm_error *err) {
    olm_dfa d;
    if (olm_literal_texts_dfa(texts, lens, n, &d)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    uint32_t id = olm_grammar_add_dfa(g, &d);
    olm_node nd;
    memset(&nd, 0, sizeof nd);
    nd.kind = N_LEAF;
    nd.dfa = id;
    nd.extra = NO_NODE;
    nd.max = NO_LIMIT;
    if (id == NO_NODE || (*out = olm_grammar_add_node(g, &nd)) == NO_NODE)
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    return ONNXLLM_OK;
}

onnxllm_status olm_build_object(onnxllm_grammar *g, const char *const *names, const uint32_t *nodes, const uint8_t *req,
                                uint32_t n, uint32_t *out, onnxllm_error *err) {
    size_t lens[64];
    if (n > 64) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar: too many properties");
    for (uint32_t i = 0; i < n; i++) lens[i] = strlen(names[i]);
    olm_dfa content, wrapped;
    char why[200];
    onnxllm_status st = olm_content_keys(names, lens, n, NULL, NULL, 0, false, KEY_MAX_STATES, &content, why, sizeof why);
    if (st) return olm_fail(err, st, "grammar: object keys: %s", why);
    st = olm_wrap_string(&content, false, true, KEY_MAX_STATES * 2, &wrapped, why, sizeof why);
    olm_dfa_free(&content);
    if (st) return olm_fail(err, st, "grammar: object keys: %s", why);
    uint32_t kd = olm_grammar_add_dfa(g, &wrapped);
    if (kd == NO_NODE) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    olm_node nd;
    memset(&nd, 0, sizeof nd);
    nd.kind = N_OBJECT;
    nd.dfa = kd;
    nd.n = n;
    nd.extra = NO_NODE;
    nd.min = 0;
    nd.max = NO_LIMIT;
    nd.key_max = NO_LIMIT;
    nd.list = (uint32_t)g->pool.n;
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) ok = VEC_PUSH(g->pool, nodes[i]);
    nd.req = (uint32_t)g->pool.n;
    for (uint32_t i = 0; i < n && ok; i++) ok = VEC_PUSH(g->pool, (uint32_t)req[i]);
    size_t base = g->pool.n;
    ok = ok && VEC_RESERVE(g->pool, g->pool.n + n + 1);
    if (ok) {
        g->pool.n += n + 1;
        uint32_t nxt = n;
        g->pool.v[base + n] = n;
        for (uint32_t i = n; i-- > 0;) {
            if (req[i]) nxt = i;
            g->pool.v[base + i] = nxt;
        }
    }
    nd.usable = (uint32_t)g->pool.n; /* every name usable */
    for (uint32_t i = 0; i <= n && ok; i++) ok = VEC_PUSH(g->pool, n - i);
    if (!ok || (*out = olm_grammar_add_node(g, &nd)) == NO_NODE) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    return ONNXLLM_OK;
}

onnxllm_status olm_build_array(onnxllm_grammar *g, uint32_t items, int32_t min, int32_t max, uint32_t *out,
                               onnxllm_error *err) {
    olm_node nd;
    memset(&nd, 0, sizeof nd);
    nd.kind = N_ARRAY;
    nd.extra = items;
    nd.min = min;
    nd.max = max;
    nd.list = (uint32_t)g->pool.n;
    if ((*out = olm_grammar_add_node(g, &nd)) == NO_NODE) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    return ONNXLLM_OK;
}

onnxllm_status olm_build_anyof(onnxllm_grammar *g, const uint32_t *alts, uint32_t n, uint32_t *out, onnxllm_error *err) {
    olm_node nd;
    memset(&nd, 0, sizeof nd);
    nd.kind = N_ANYOF;
    nd.n = n;
    nd.extra = NO_NODE;
    nd.list = (uint32_t)g->pool.n;
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) ok = VEC_PUSH(g->pool, alts[i]);
    if (!ok || (*out = olm_grammar_add_node(g, &nd)) == NO_NODE) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar: out of memory");
    return ONNXLLM_OK;
}
