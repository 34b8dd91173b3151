/* hub.c — what we know about the Hugging Face Hub HTTP API:
 *   listing  GET {endpoint}/api/models/{repo}/tree/{revision}/{folder}?recursive=true
 *            → JSON array of {"type":"file"|"directory","path","size","oid",
 *              "lfs":{"oid":<sha256 hex>,"size","pointerSize"}}, paginated with a
 *              Link: <...>; rel="next" header;
 *   file     GET {endpoint}/{repo}/resolve/{revision}/{path} (LFS files redirect to a CDN).
 * and the variants of microsoft/Phi-4-mini-instruct-onnx that `onnxllm pull` knows. */
#include "pull/pull.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "common/error.h"
#include "common/fileio.h"
#include "common/fsutil.h"
#include "common/strbuf.h"

static const onnxllm_pull_variant variants[] = {
    {"cpu", "cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4", "models/phi-4-mini-cpu-int4",
     "CPU int4 (RTN, block 32, accuracy level 4), about 4.9 GB"},
    {"gpu", "gpu/gpu-int4-rtn-block-32", "models/phi-4-mini-gpu-int4",
     "CUDA int4 (RTN, block 32, fp16 activations and KV cache), about 3.4 GB; made for GPUs"},
};

const onnxllm_pull_variant *onnxllm_pull_variants(size_t *count) {
    if (count) *count = sizeof variants / sizeof *variants;
    return variants;
}

const onnxllm_pull_variant *onnxllm_pull_find_variant(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++)
        if (!strcmp(variants[i].name, name)) return &variants[i];
    return NULL;
}

/* ---- URLs ----------------------------------------------------------------- */

/* Percent-encodes like Python's urllib.parse.quote: unreserved characters and the
 * `keep` characters stay. */
static void sb_quote(olm_sb *b, const char *s, const char *keep) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || (keep && strchr(keep, (int)c))) {
            char ch = (char)c;
            olm_sb_put(b, &ch, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            olm_sb_put(b, e, 3);
        }
    }
}

static void sb_endpoint(olm_sb *b, const onnxllm_pull_params *p) {
    const char *e = p->endpoint && p->endpoint[0] ? p->endpoint : ONNXLLM_PULL_DEFAULT_ENDPOINT;
    size_t n = strlen(e);
    while (n && e[n - 1] == '/') n--;
    olm_sb_put(b, e, n);
}

static const char *rev_of(const onnxllm_pull_params *p) { return p->revision && p->revision[0] ? p->revision : "main"; }

char *olm_hub_tree_url(const onnxllm_pull_params *p, const char *folder) {
    olm_sb b = {0};
    sb_endpoint(&b, p);
    olm_sb_puts(&b, "/api/models/");
    olm_sb_puts(&b, p->repo);
    olm_sb_puts(&b, "/tree/");
    sb_quote(&b, rev_of(p), NULL); /* "refs/pr/1" → refs%2Fpr%2F1, as huggingface_hub */
    while (*folder == '/') folder++;
    if (*folder) {
        olm_sb_puts(&b, "/");
        sb_quote(&b, folder, "/");
        while (b.len && b.p[b.len - 1] == '/') b.p[--b.len] = 0;
    }
    olm_sb_puts(&b, "?recursive=true"); /* as huggingface.js sends it; expand defaults to false */
    return olm_sb_finish(&b);
}

char *olm_hub_file_url(const onnxllm_pull_params *p, const char *path) {
    olm_sb b = {0};
    sb_endpoint(&b, p);
    olm_sb_puts(&b, "/");
    olm_sb_puts(&b, p->repo);
    olm_sb_puts(&b, "/resolve/");
    sb_quote(&b, rev_of(p), NULL);
    olm_sb_puts(&b, "/");
    sb_quote(&b, path, "/");
    return olm_sb_finish(&b);
}

/* ---- listing ---------------------------------------------------------------- */

static bool is_hex(const char *s, size_t n) {
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* A digest from the listing: n hex digits in either case, stored lowercase (what we
 * compute). false for anything else: such a file could not be verified. */
static bool take_hex(const cJSON *v, size_t n, char *out) {
    if (!cJSON_IsString(v) || strlen(v->valuestring) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = v->valuestring[i];
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        out[i] = c;
    }
    out[n] = 0;
    return true;
}

/* Largest file size a listing may state: 2^50 bytes (1 PiB), far above any model and
 * far below where sums of sizes could overflow. */
#define OLM_HUB_MAX_FILE ((int64_t)1 << 50)

/* The listing of a folder of a few dozen files is a few KB; 64 MB is a sanity bound. */
static size_t mem_write(char *d, size_t size, size_t n, void *user) {
    olm_sb *m = user;
    size_t len = size * n;
    if (m->len + len > (64u << 20)) return 0;
    olm_sb_put(m, d, len);
    return m->oom ? 0 : len;
}

void olm_hub_listing_free(olm_hub_listing *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->files[i].path);
        free(l->files[i].rel);
    }
    free(l->files);
    memset(l, 0, sizeof *l);
}

/* Adds the "file" entries of one page; `prefix` is "folder/" ("" for the repository). */
static onnxllm_status add_page(olm_hub_listing *l, const cJSON *arr, const char *prefix, const char *url,
                               onnxllm_error *err);

onnxllm_status olm_hub_parse_page(olm_hub_listing *l, const char *json, size_t len, const char *prefix,
                                  const char *url, onnxllm_error *err) {
    cJSON *j = NULL;
    onnxllm_status st = olm_json_parse(json, len, url, &j, err);
    if (!st) st = add_page(l, j, prefix, url, err);
    cJSON_Delete(j);
    return st;
}

static onnxllm_status add_page(olm_hub_listing *l, const cJSON *arr, const char *prefix, const char *url,
                               onnxllm_error *err) {
    if (!cJSON_IsArray(arr)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: listing is not a JSON array", url);
    size_t plen = strlen(prefix);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
        if (!cJSON_IsString(type) || !cJSON_IsString(path))
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: listing entry without \"type\"/\"path\" strings", url);
        if (strcmp(type->valuestring, "file")) continue; /* "directory": its files are listed too */
        const char *ps = path->valuestring;
        if (strncmp(ps, prefix, plen))
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: listed file \"%s\" is outside folder \"%.*s\"", url, ps,
                            (int)(plen ? plen - 1 : 0), prefix);
        const char *rel = ps + plen;
        if (!olm_path_is_inside(rel))
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: unsafe file path \"%s\" in listing", url, ps);
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "size");
        const cJSON *oid = cJSON_GetObjectItemCaseSensitive(e, "oid");
        const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(e, "lfs");
        int64_t sz;
        if (!olm_json_as_int(size, 0, OLM_HUB_MAX_FILE, &sz))
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: file \"%s\" has no valid \"size\"", url, ps);
        olm_hub_file f = {0};
        f.size = (uint64_t)sz;
        if (lfs && !cJSON_IsNull(lfs)) {
            const cJSON *loid = cJSON_GetObjectItemCaseSensitive(lfs, "oid");
            const cJSON *lsize = cJSON_GetObjectItemCaseSensitive(lfs, "size");
            if (!take_hex(loid, 64, f.sha256))
                return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: LFS file \"%s\" has no sha256 \"lfs.oid\"", url, ps);
            if (lsize && !cJSON_IsNull(lsize)) { /* the real size, not the pointer's */
                if (!olm_json_as_int(lsize, 0, OLM_HUB_MAX_FILE, &sz))
                    return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: LFS file \"%s\" has no valid \"lfs.size\"", url, ps);
                f.size = (uint64_t)sz;
            }
        } else if (!take_hex(oid, 40, f.git_oid)) {
            /* every file is verified: one without a usable hash is not downloaded */
            return olm_fail(err, ONNXLLM_ERR_FORMAT,
                            "%s: file \"%s\" has no valid \"oid\" (40 hex digits): it could not be verified", url,
                            ps);
        }
        for (size_t i = 0; i < l->n; i++)
            if (!strcmp(l->files[i].rel, rel))
                return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: file \"%s\" listed twice", url, ps);
        olm_hub_file *nf = realloc(l->files, (l->n + 1) * sizeof *nf);
        if (!nf) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        l->files = nf;
        f.path = strdup(ps);
        f.rel = strdup(rel);
        if (!f.path || !f.rel) {
            free(f.path);
            free(f.rel);
            return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
        l->files[l->n++] = f;
        l->total_size += f.size;
    }
    return ONNXLLM_OK;
}

/* GET url into a parsed JSON value, retrying transient failures. An unreachable host
 * is reported at once, not retried: that is offline or a wrong HF_ENDPOINT, and the
 * caller (`make run`) wants to know fast. The response headers stay in h->resp. */
static onnxllm_status get_json(olm_http *h, const char *url, const char *what, cJSON **out, onnxllm_error *err) {
    const onnxllm_pull_params *p = h->p;
    olm_sb m = {0};
    char msg[ONNXLLM_ERROR_MESSAGE_MAX];
    olm_http_class cls;
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        olm_sb_free(&m);
        /* Metadata is small: a server that accepts but never answers (a hung proxy)
         * must not hold `make run` for long. */
        long timeout = 2L * (p->connect_timeout_s > 0 ? p->connect_timeout_s : 10);
        CURLcode rc = olm_http_get(h, url, 0, timeout, mem_write, &m);
        if (m.oom) {
            olm_sb_free(&m);
            return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
        cls = olm_http_classify(h, rc, url, what, msg, sizeof msg);
        if (cls != OLM_HTTP_TRANSIENT || attempt >= p->max_retries) break;
        int wait_ms = olm_http_retry_delay_ms(h, attempt + 1);
        char rmsg[ONNXLLM_ERROR_MESSAGE_MAX + 64];
        snprintf(rmsg, sizeof rmsg, "%s; retrying in %.1f s (try %d of %d)", msg, wait_ms / 1000.0, attempt + 2,
                 p->max_retries + 1);
        if (p->progress) {
            onnxllm_pull_progress ev = {.event = ONNXLLM_PULL_RETRY, .message = rmsg};
            p->progress(&ev, p->progress_user);
        }
        if (!olm_http_sleep(h, wait_ms)) {
            cls = OLM_HTTP_CANCELLED;
            snprintf(msg, sizeof msg, "interrupted");
            break;
        }
    }
    if (cls != OLM_HTTP_OK) {
        olm_sb_free(&m);
        if (cls == OLM_HTTP_TRANSIENT && p->max_retries > 0)
            return olm_fail(err, ONNXLLM_ERR_NETWORK, "%s (gave up after %d tries)", msg, p->max_retries + 1);
        return olm_fail(err, cls == OLM_HTTP_CANCELLED ? ONNXLLM_ERR_CANCELLED : ONNXLLM_ERR_NETWORK, "%s", msg);
    }
    onnxllm_status st = olm_json_parse(m.p ? m.p : "", m.len, url, out, err);
    olm_sb_free(&m);
    return st;
}

static bool is_commit_id(const char *s) { return is_hex(s, 40); }

onnxllm_status olm_hub_resolve_commit(olm_http *h, char commit[41], onnxllm_error *err) {
    const onnxllm_pull_params *p = h->p;
    const char *rev = rev_of(p);
    if (is_commit_id(rev)) {
        memcpy(commit, rev, 41);
        return ONNXLLM_OK;
    }
    olm_sb b = {0};
    sb_endpoint(&b, p);
    olm_sb_puts(&b, "/api/models/");
    olm_sb_puts(&b, p->repo);
    olm_sb_puts(&b, "/revision/");
    sb_quote(&b, rev, NULL);
    char *url = olm_sb_finish(&b);
    if (!url) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    char what[300];
    snprintf(what, sizeof what, "revision %s of %s", rev, p->repo);
    cJSON *j = NULL;
    onnxllm_status st = get_json(h, url, what, &j, err);
    if (st == ONNXLLM_OK) {
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(j, "sha");
        if (cJSON_IsString(sha) && is_commit_id(sha->valuestring))
            memcpy(commit, sha->valuestring, 41);
        else
            st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no commit id (\"sha\") in the answer", url);
    }
    cJSON_Delete(j);
    free(url);
    return st;
}

onnxllm_status olm_hub_list(olm_http *h, const char *folder, olm_hub_listing *out, onnxllm_error *err) {
    memset(out, 0, sizeof *out);
    const onnxllm_pull_params *p = h->p;
    while (*folder == '/') folder++;
    size_t fl = strlen(folder);
    while (fl && folder[fl - 1] == '/') fl--;
    char *prefix = malloc(fl + 2);
    char *url = olm_hub_tree_url(p, folder);
    if (!prefix || !url) {
        free(prefix);
        free(url);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    memcpy(prefix, folder, fl);
    if (fl) prefix[fl++] = '/';
    prefix[fl] = 0;
    onnxllm_status st = ONNXLLM_OK;
    char what[300];
    snprintf(what, sizeof what, "listing of %s/%s", p->repo, prefix);
    if (what[strlen(what) - 1] == '/') what[strlen(what) - 1] = 0;
    for (int page = 0; url && st == ONNXLLM_OK; page++) {
        if (page >= 1000) {
            st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: more than 1000 pages", what);
            break;
        }
        cJSON *j = NULL;
        st = get_json(h, url, what, &j, err);
        if (st == ONNXLLM_OK && page == 0 && h->resp.repo_commit[0])
            snprintf(out->commit, sizeof out->commit, "%s", h->resp.repo_commit);
        if (st == ONNXLLM_OK) st = add_page(out, j, prefix, url, err);
        cJSON_Delete(j);
        free(url);
        url = NULL;
        if (st == ONNXLLM_OK && h->resp.link_next) {
            /* the token goes to the endpoint's host only: a next page elsewhere is refused */
            char a[256], b[256];
            olm_http_origin(h->resp.link_next, a, sizeof a);
            olm_http_origin(p->endpoint && p->endpoint[0] ? p->endpoint : ONNXLLM_PULL_DEFAULT_ENDPOINT, b, sizeof b);
            if (strcmp(a, b)) {
                st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: the next page of the listing is on another host (%s, not %s)",
                              what, a, b);
                break;
            }
            url = h->resp.link_next;
            h->resp.link_next = NULL;
        }
    }
    free(url);
    if (st == ONNXLLM_OK && out->n == 0)
        st = olm_fail(err, ONNXLLM_ERR_NETWORK, "%s@%s: no files under \"%s\"", p->repo, rev_of(p), folder);
    free(prefix);
    if (st != ONNXLLM_OK) olm_hub_listing_free(out);
    return st;
}
