/* fake_hub.c — see fake_hub.h. Hashes are computed with OpenSSL's one-shot SHA256/SHA1
 * here, independently of the library's incremental hashing. */
#include "fake_hub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <openssl/sha.h>

static void hexify(const unsigned char *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void hash_file(fake_file *f) {
    size_t size = f->size;
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(f->data, size, d);
    hexify(d, SHA256_DIGEST_LENGTH, f->sha256);
    /* git blob id: sha1 of "blob <size>\0" followed by the content */
    char head[32];
    int hl = snprintf(head, sizeof head, "blob %zu", size) + 1;
    unsigned char *buf = malloc((size_t)hl + size);
    memcpy(buf, head, (size_t)hl);
    memcpy(buf + hl, f->data, size);
    unsigned char s1[SHA_DIGEST_LENGTH];
    SHA1(buf, (size_t)hl + size, s1);
    free(buf);
    hexify(s1, SHA_DIGEST_LENGTH, f->git_oid);
}

static void add_file(fake_hub *h, const char *path, size_t size, bool lfs, uint32_t seed, bool text) {
    fake_file *f = &h->files[h->nfiles++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->data = malloc(size ? size : 1);
    f->size = size;
    f->lfs = lfs;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        f->data[i] = text ? (unsigned char)("abcdefghij {}\":,\n"[x % 17]) : (unsigned char)x;
    }
    hash_file(f);
}

const fake_file *fake_hub_file(const fake_hub *h, const char *path) {
    for (int i = 0; i < h->nfiles; i++)
        if (!strcmp(h->files[i].path, path)) return &h->files[i];
    return NULL;
}

void fake_hub_reset(fake_hub *h) {
    pthread_mutex_lock(&h->mu);
    h->cut_path[0] = 0;
    h->cut_after = 0;
    h->cut_times = 0;
    h->ignore_range = false;
    h->fail500_times = 0;
    h->redirect = 0;
    h->wrong_sha = h->wrong_git_oid = false;
    h->page_size = 0;
    h->unsafe_path = false;
    h->slow_ms = 0;
    snprintf(h->commit, sizeof h->commit, "%s", FAKE_COMMIT);
    h->oid_mode = 0;
    h->next_other_host = false;
    h->n_tree = h->n_file = h->n_cdn = h->n_500 = h->n_ranges = h->n_revision = h->n_unpinned = h->n_requests = 0;
    h->auth_tree[0] = h->auth_file[0] = h->auth_cdn[0] = 0;
    pthread_mutex_unlock(&h->mu);
}

int fake_hub_add_file(fake_hub *h, const char *path, size_t size) {
    if (h->nfiles >= FAKE_MAX_FILES) return -1;
    pthread_mutex_lock(&h->mu);
    add_file(h, path, size, true, (uint32_t)h->nfiles + 100, false);
    pthread_mutex_unlock(&h->mu);
    return 0;
}

void fake_hub_change_file(fake_hub *h, const char *path) {
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < h->nfiles; i++)
        if (!strcmp(h->files[i].path, path)) {
            h->files[i].data[0] ^= 0x5a;
            hash_file(&h->files[i]);
        }
    pthread_mutex_unlock(&h->mu);
}

bool fake_hub_saw_range(fake_hub *h, long from) {
    char want[48];
    snprintf(want, sizeof want, "bytes=%ld-", from);
    pthread_mutex_lock(&h->mu);
    bool found = false;
    for (int i = 0; i < h->n_ranges; i++)
        if (!strcmp(h->ranges[i], want)) found = true;
    pthread_mutex_unlock(&h->mu);
    return found;
}

/* ---- responses ---------------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *body, const char *hname,
                                 const char *hval) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (hname) MHD_add_response_header(r, hname, hval);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

typedef struct body_ctx {
    const fake_file *f;
    size_t from;     /* first byte of the file in this response */
    long cut;        /* -1 or body bytes after which the connection is cut */
    int slow_ms;
} body_ctx;

static ssize_t body_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    body_ctx *b = cls;
    if (b->cut >= 0 && pos >= (uint64_t)b->cut) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t left = b->f->size - b->from - (size_t)pos;
    if (left == 0) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = left < max ? left : max;
    if (n > 16384) n = 16384;
    if (b->cut >= 0 && pos + n > (uint64_t)b->cut) n = (size_t)((uint64_t)b->cut - pos);
    if (b->slow_ms) {
        struct timespec ts = {b->slow_ms / 1000, (b->slow_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    memcpy(buf, b->f->data + b->from + pos, n);
    return (ssize_t)n;
}

static enum MHD_Result serve_file(fake_hub *h, struct MHD_Connection *c, const fake_file *f) {
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    pthread_mutex_lock(&h->mu);
    if (h->n_ranges < FAKE_MAX_LOG) snprintf(h->ranges[h->n_ranges++], sizeof h->ranges[0], "%s", range ? range : "");
    bool ignore = h->ignore_range;
    long cut = -1;
    if (h->cut_times > 0 && !strcmp(h->cut_path, f->path)) {
        h->cut_times--;
        cut = h->cut_after;
    }
    int slow = h->slow_ms;
    pthread_mutex_unlock(&h->mu);

    size_t from = 0;
    unsigned status = MHD_HTTP_OK;
    if (range && !ignore) {
        unsigned long long n;
        if (sscanf(range, "bytes=%llu-", &n) != 1) return send_text(c, 400, "bad range", NULL, NULL);
        if (n >= f->size) {
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%zu", f->size);
            return send_text(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, "", "Content-Range", cr);
        }
        from = (size_t)n;
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    body_ctx *b = malloc(sizeof *b);
    *b = (body_ctx){f, from, cut, slow};
    struct MHD_Response *r = MHD_create_response_from_callback(f->size - from, 16384, body_reader, b, free);
    if (status == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %zu-%zu/%zu", from, f->size - 1, f->size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The listing: files under folder/, one directory entry, optional pagination. */
static enum MHD_Result serve_tree(fake_hub *h, struct MHD_Connection *c, const char *folder) {
    pthread_mutex_lock(&h->mu);
    bool wrong_sha = h->wrong_sha, wrong_git = h->wrong_git_oid, unsafe = h->unsafe_path;
    int page = h->page_size, oid_mode = h->oid_mode;
    bool other_host = h->next_other_host;
    char commit[41];
    memcpy(commit, h->commit, sizeof commit);
    pthread_mutex_unlock(&h->mu);
    const char *cur = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cursor");
    const char *rec = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "recursive");
    if (!rec || strcmp(rec, "true")) return send_text(c, 400, "{\"error\":\"recursive=true expected\"}", NULL, NULL);
    int start = cur ? atoi(cur) : 0;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s%s", folder, folder[0] ? "/" : "");
    /* entries: the directory "<folder>/sub", then the files */
    char *entries[FAKE_MAX_FILES + 2];
    int n = 0;
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "{\"type\":\"directory\",\"oid\":\"%040d\",\"size\":0,\"path\":\"%ssub\"}", 0, prefix);
    entries[n++] = strdup(tmp);
    bool sha_done = false, git_done = false;
    for (int i = 0; i < h->nfiles; i++) {
        const fake_file *f = &h->files[i];
        if (strncmp(f->path, prefix, strlen(prefix))) continue;
        if (f->lfs) {
            char sha[65];
            memcpy(sha, f->sha256, 65);
            if (wrong_sha && !sha_done) {
                sha[0] = sha[0] == '0' ? '1' : '0';
                sha_done = true;
            }
            if (oid_mode == 4)
                for (char *q = sha; *q; q++) *q = (char)toupper((unsigned char)*q);
            char lo[100];
            snprintf(lo, sizeof lo, "\"oid\":\"%s\",\"size\":%zu", sha, f->size);
            snprintf(tmp, sizeof tmp,
                     "{\"type\":\"file\",\"oid\":\"%s\",\"size\":%zu,\"path\":\"%s\","
                     "\"lfs\":{%s,\"pointerSize\":134}}",
                     "0123456789abcdef0123456789abcdef01234567", f->size, f->path, lo);
        } else {
            char oid[41];
            memcpy(oid, f->git_oid, 41);
            if (wrong_git && !git_done) {
                oid[0] = oid[0] == '0' ? '1' : '0';
                git_done = true;
            }
            if (oid_mode == 4)
                for (char *q = oid; *q; q++) *q = (char)toupper((unsigned char)*q);
            char oo[64];
            if (oid_mode == 1) oo[0] = 0;
            else if (oid_mode == 2) snprintf(oo, sizeof oo, "\"oid\":\"\",");
            else if (oid_mode == 3) snprintf(oo, sizeof oo, "\"oid\":\"%.39sg\",", oid);
            else snprintf(oo, sizeof oo, "\"oid\":\"%s\",", oid);
            snprintf(tmp, sizeof tmp, "{\"type\":\"file\",%s\"size\":%zu,\"path\":\"%s\"}", oo, f->size, f->path);
        }
        entries[n++] = strdup(tmp);
    }
    if (unsafe) {
        snprintf(tmp, sizeof tmp, "{\"type\":\"file\",\"oid\":\"%040d\",\"size\":3,\"path\":\"%s../evil\"}", 0, prefix);
        entries[n++] = strdup(tmp);
    }
    int end = page > 0 && start + page < n ? start + page : n;
    size_t cap = 64;
    for (int i = start; i < end; i++) cap += strlen(entries[i]) + 1;
    char *body = malloc(cap);
    strcpy(body, "[");
    for (int i = start; i < end; i++) {
        if (i > start) strcat(body, ",");
        strcat(body, entries[i]);
    }
    strcat(body, "]");
    for (int i = 0; i < n; i++) free(entries[i]);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (end < n) {
        char link[512];
        char base[64];
        if (other_host) snprintf(base, sizeof base, "http://localhost:%d", h->port);
        else snprintf(base, sizeof base, "%s", h->base);
        snprintf(link, sizeof link, "<%s/api/models/%s/tree/%s/%s?recursive=true&cursor=%d>; rel=\"next\"", base,
                 h->repo, commit, folder, end);
        MHD_add_response_header(r, "Link", link);
    }
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static void log_auth(fake_hub *h, struct MHD_Connection *c, char *dst, size_t n) {
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&h->mu);
    snprintf(dst, n, "%s", a ? a : "");
    pthread_mutex_unlock(&h->mu);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version, (void)upload, (void)upload_size;
    fake_hub *h = cls;
    if (!*con_cls) { /* first call for this request */
        *con_cls = h;
        pthread_mutex_lock(&h->mu);
        h->n_requests++;
        pthread_mutex_unlock(&h->mu);
    }
    if (strcmp(method, "GET")) return send_text(c, 405, "GET only", NULL, NULL);
    char api_prefix[300], rev_prefix[300], resolve_prefix[300];
    snprintf(api_prefix, sizeof api_prefix, "/api/models/%s/", h->repo);
    snprintf(rev_prefix, sizeof rev_prefix, "/%s/resolve/", h->repo);
    snprintf(resolve_prefix, sizeof resolve_prefix, "%s", rev_prefix);
    size_t al = strlen(api_prefix), rl = strlen(resolve_prefix);

    if (!strncmp(url, "/api/models/", 12)) {
        log_auth(h, c, h->auth_tree, sizeof h->auth_tree);
        if (strncmp(url, api_prefix, al))
            /* The Hub answers an unknown (or private) repository with 401 + RepoNotFound. */
            return send_text(c, 401, "{\"error\":\"Repository not found\"}", "X-Error-Code", "RepoNotFound");
        const char *rest = url + al;
        if (!strncmp(rest, "revision/", 9)) {
            pthread_mutex_lock(&h->mu);
            h->n_revision++;
            pthread_mutex_unlock(&h->mu);
            char commit[41];
            pthread_mutex_lock(&h->mu);
            memcpy(commit, h->commit, sizeof commit);
            pthread_mutex_unlock(&h->mu);
            if (strcmp(rest + 9, "main") && strcmp(rest + 9, commit))
                return send_text(c, 404, "{\"error\":\"Invalid rev id\"}", "X-Error-Code", "RevisionNotFound");
            char body[200];
            snprintf(body, sizeof body, "{\"id\":\"%s\",\"sha\":\"%s\",\"siblings\":[]}", h->repo, commit);
            return send_text(c, 200, body, "Content-Type", "application/json");
        }
        if (!strncmp(rest, "tree/", 5)) {
            rest += 5;
            pthread_mutex_lock(&h->mu);
            h->n_tree++;
            if (strncmp(rest, h->commit, 40)) h->n_unpinned++;
            pthread_mutex_unlock(&h->mu);
            const char *slash = strchr(rest, '/');
            return serve_tree(h, c, slash ? slash + 1 : "");
        }
        return send_text(c, 404, "{\"error\":\"not found\"}", NULL, NULL);
    }
    if (!strncmp(url, resolve_prefix, rl)) {
        log_auth(h, c, h->auth_file, sizeof h->auth_file);
        const char *rest = url + rl;
        const char *slash = strchr(rest, '/');
        const fake_file *f = slash ? fake_hub_file(h, slash + 1) : NULL;
        pthread_mutex_lock(&h->mu);
        h->n_file++;
        if (strncmp(rest, h->commit, 40) || rest[40] != '/') h->n_unpinned++;
        bool fail = h->fail500_times > 0;
        if (fail) h->fail500_times--, h->n_500++;
        int redirect = h->redirect;
        pthread_mutex_unlock(&h->mu);
        if (!f) return send_text(c, 404, "{\"error\":\"Entry not found\"}", "X-Error-Code", "EntryNotFound");
        if (fail) return send_text(c, 500, "internal error", NULL, NULL);
        if (redirect) {
            char loc[800];
            if (redirect == 1) snprintf(loc, sizeof loc, "/cdn/%s", f->path);
            else snprintf(loc, sizeof loc, "http://localhost:%d/cdn/%s", h->port, f->path);
            return send_text(c, 302, "", "Location", loc);
        }
        return serve_file(h, c, f);
    }
    if (!strncmp(url, "/cdn/", 5)) {
        log_auth(h, c, h->auth_cdn, sizeof h->auth_cdn);
        pthread_mutex_lock(&h->mu);
        h->n_cdn++;
        pthread_mutex_unlock(&h->mu);
        const fake_file *f = fake_hub_file(h, url + 5);
        if (!f) return send_text(c, 404, "not found", NULL, NULL);
        return serve_file(h, c, f);
    }
    return send_text(c, 404, "{\"error\":\"Repository not found\"}", "X-Error-Code", "RepoNotFound");
}

int fake_hub_start(fake_hub *h, const char *repo, const char *folder) {
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    snprintf(h->repo, sizeof h->repo, "%s", repo);
    snprintf(h->commit, sizeof h->commit, "%s", FAKE_COMMIT);
    char p[600];
    const char *pre = folder[0] ? "/" : "";
#define ADD(name, size, lfs, seed, text)                     \
    snprintf(p, sizeof p, "%s%s%s", folder, pre, name);      \
    add_file(h, p, size, lfs, seed, text)
    ADD("genai_config.json", 1500, false, 1, true);
    ADD("model.onnx", 300000, true, 2, false);
    ADD("model.onnx.data", 800000, true, 3, false);
    ADD("tokenizer.json", 200000, true, 4, true);
    ADD("sub/notes.txt", 77, false, 5, true);
#undef ADD
    add_file(h, "README.md", 500, false, 6, true); /* outside the folder: must not be pulled */

    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = 0; /* ephemeral */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)10, MHD_OPTION_END);
    if (!h->d) return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port) return -1;
    h->port = info->port;
    snprintf(h->base, sizeof h->base, "http://127.0.0.1:%d", h->port);
    return 0;
}

void fake_hub_stop(fake_hub *h) {
    if (h->d) MHD_stop_daemon(h->d);
    h->d = NULL;
    for (int i = 0; i < h->nfiles; i++) free(h->files[i].data);
    h->nfiles = 0;
    pthread_mutex_destroy(&h->mu);
}
