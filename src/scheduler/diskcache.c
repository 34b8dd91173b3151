/* diskcache.c — the persistent prefix cache (--cache-dir): slot images on disk, so an
 * agent's conversation prefix survives eviction and server restarts.
 *
 * One file per image, written to a temporary name and renamed into place:
 *   header   magic "OLMKVC01", fingerprint, geometry, n_tokens, n_kv, n_short,
 *            chunk, header checksum (covers the header and the token ids)
 *   tokens   n_tokens int32
 *   chunks   for each CHUNK positions [c, c + CHUNK) ∩ [0, n_kv): a checksum, then the
 *            positions of every layer / K|V / head (olm_slab_gather order)
 * Chunks are checked one by one as they are read, so a prefix of an image can be
 * loaded without reading (or trusting) the rest. A file whose magic, geometry or
 * checksums are wrong is never loaded: a bad file of this model is removed, a file of
 * another model (different fingerprint) is left alone for its own server — both with
 * a warning on stderr. */
#include "scheduler/sched.h"
#include "common/error.h"
#include "common/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "OLMKVC01"
#define CHUNK 64

typedef struct {
    char magic[8];
    uint64_t fingerprint;
    uint32_t n_layers, nkv, head, elem;
    int64_t n_tokens, n_kv, n_short;
    uint32_t chunk, reserved;
    uint64_t check;               /* over the header (with check = 0) and the tokens */
} disk_header;

/* A fast 64-bit checksum over 8-byte words (corruption detection, not security). */
static uint64_t mix(uint64_t h, const uint8_t *p, size_t n) {
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * k;
    return h ^ (h >> 32) ^ n;
}

static void warn(const char *path, const char *why) { fprintf(stderr, "onnxllm: prefix cache: %s: %s\n", path, why); }

static uint64_t file_fingerprint(const char *dir, const char *name, uint64_t h) {
    char *p = olm_path_join(dir, name);
    struct stat st;
    if (p && stat(p, &st) == 0) {
        int64_t v[2] = {(int64_t)st.st_size, (int64_t)st.st_mtime};
        h = mix(h, (const uint8_t *)v, sizeof v);
    }
    free(p);
    return h;
}

static uint64_t model_fingerprint(const onnxllm_model *m, const olm_slab *sl) {
    uint64_t h = 0x6f6e6e786c6c6dull;
    char *cfg = NULL;
    size_t len = 0;
    char *path = olm_path_join(m->dir, "genai_config.json");
    if (path && olm_read_file(path, &cfg, &len, NULL) == ONNXLLM_OK) h = mix(h, (const uint8_t *)cfg, len);
    free(cfg);
    free(path);
    h = file_fingerprint(m->dir, m->cfg.filename, h);
    char data[1200];
    snprintf(data, sizeof data, "%s.data", m->cfg.filename);
    h = file_fingerprint(m->dir, data, h);
    int64_t geo[6] = {sl->n_layers, sl->nkv, sl->head, (int64_t)sl->elem, m->cfg.vocab_size, m->rope_switch};
    return mix(h, (const uint8_t *)geo, sizeof geo);
}

static bool read_all(int fd, void *buf, size_t n, off_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (uint8_t *)buf + got, n - got, off + (off_t)got);
        if (k <= 0) return false;
        got += (size_t)k;
    }
    return true;
}

/* Reads and checks the header and tokens. 1 ok, 0 another model's file, -1 bad. */
static int read_head(const olm_diskcache *dc, const olm_slab *sl, int fd, disk_header *h, int32_t **tokens) {
    *tokens = NULL;
    if (!read_all(fd, h, sizeof *h, 0) || memcmp(h->magic, MAGIC, 8)) return -1;
    if (h->fingerprint != dc->fingerprint) return 0;
    if (h->n_layers != (uint32_t)sl->n_layers || h->nkv != (uint32_t)sl->nkv || h->head != (uint32_t)sl->head ||
        h->elem != (uint32_t)sl->elem || h->chunk != CHUNK || h->n_tokens < 1 || h->n_tokens > sl->cap ||
        h->n_kv < 0 || h->n_kv > h->n_tokens || h->n_short < 0 || h->n_short > h->n_kv)
        return -1;
    int32_t *t = malloc((size_t)h->n_tokens * sizeof *t);
    if (!t || !read_all(fd, t, (size_t)h->n_tokens * sizeof *t, sizeof *h)) {
        free(t);
        return -1;
    }
    disk_header z = *h;
    z.check = 0;
    uint64_t c = mix(mix(0, (const uint8_t *)&z, sizeof z), (const uint8_t *)t, (size_t)h->n_tokens * sizeof *t);
    if (c != h->check) {
        free(t);
        return -1;
    }
    *tokens = t;
    return 1;
}

static void drop(olm_diskcache *dc, size_t i, bool unlink_file) {
    if (unlink_file) unlink(dc->e[i].path);
    dc->bytes -= dc->e[i].bytes;
    free(dc->e[i].path);
    free(dc->e[i].tokens);
    dc->e[i] = dc->e[--dc->n];
}

onnxllm_status olm_disk_open(olm_diskcache *dc, const char *dir, uint64_t max_bytes, const onnxllm_model *m,
                             const olm_slab *sl, onnxllm_error *err) {
    memset(dc, 0, sizeof *dc);
    if (!dir || !dir[0]) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "cache_dir is empty");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create the cache folder: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: not a folder", dir);
    dc->dir = strdup(dir);
    if (!dc->dir) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    dc->max_bytes = max_bytes;
    dc->fingerprint = model_fingerprint(m, sl);
    DIR *d = opendir(dir);
    if (!d) {
        olm_disk_close(dc);
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot list the cache folder: %s", dir, strerror(errno));
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 4 || strcmp(de->d_name + nl - 3, ".kv")) continue;
        char *path = olm_path_join(dir, de->d_name);
        if (!path) continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat fst;
        disk_header h;
        int32_t *tokens = NULL;
        int ok = fd >= 0 && fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) ? read_head(dc, sl, fd, &h, &tokens) : -1;
        if (fd >= 0) close(fd);
        if (ok == 1) {
            size_t chunks = (size_t)((h.n_kv + CHUNK - 1) / CHUNK);
            uint64_t want = sizeof h + (uint64_t)h.n_tokens * 4 + chunks * 8 + olm_slab_span_bytes(sl, h.n_kv);
            if ((uint64_t)fst.st_size != want) ok = -1;
        }
        if (ok < 0) warn(path, "corrupt or truncated, ignored and removed");
        if (ok < 0) unlink(path);
        if (ok == 0) warn(path, "written for another model, ignored");
        if (ok != 1 || (dc->n == dc->cap && !(dc->e = realloc(dc->e, (dc->cap = dc->cap * 2 + 8) * sizeof *dc->e)))) {
            free(tokens);
            free(path);
            if (!dc->e) dc->n = dc->cap = 0;
            continue;
        }
        dc->e[dc->n++] = (olm_disk_entry){path, tokens, h.n_tokens, h.n_short, (uint64_t)fst.st_size,
                                          (uint64_t)fst.st_mtime};
        dc->bytes += (uint64_t)fst.st_size;
    }
    closedir(d);
    return ONNXLLM_OK;
}

void olm_disk_close(olm_diskcache *dc) {
    for (size_t i = 0; i < dc->n; i++) {
        free(dc->e[i].path);
        free(dc->e[i].tokens);
    }
    free(dc->e);
    free(dc->dir);
    memset(dc, 0, sizeof *dc);
}

int64_t olm_disk_match(const olm_diskcache *dc, const int32_t *prompt, int64_t n, int64_t sw, int *best) {
    *best = -1;
    int64_t bestn = 0;
    for (size_t i = 0; i < dc->n; i++) {
        const olm_disk_entry *e = &dc->e[i];
        int64_t lim = e->n_tokens < n - 1 ? e->n_tokens : n - 1, k = 0;
        while (k < lim && e->tokens[k] == prompt[k]) k++;
        if (n > sw) k = e->n_short == 0 ? k : 0;
        else if (k > e->n_short) k = e->n_short;
        if (k > bestn) {
            bestn = k;
            *best = (int)i;
        }
    }
    return bestn;
}

void olm_disk_save(olm_diskcache *dc, olm_slab *sl, int slot, const int32_t *tokens, int64_t n_tokens, int64_t n_kv,
                   int64_t n_short) {
    if (n_kv < 1) return;
    if (n_tokens > n_kv) n_tokens = n_kv; /* tokens without KV are of no use to a reader */
    uint64_t now = (uint64_t)time(NULL);
    /* Already on disk (an entry holding this whole prefix with the same table use)? */
    for (size_t i = 0; i < dc->n; i++) {
        olm_disk_entry *e = &dc->e[i];
        if (e->n_tokens >= n_tokens && !memcmp(e->tokens, tokens, (size_t)n_tokens * 4) &&
            (e->n_short == 0) == (n_short == 0) && e->n_short >= (n_short < n_tokens ? n_short : n_tokens)) {
            e->used = now;
            return;
        }
    }
    uint64_t th = mix(0, (const uint8_t *)tokens, (size_t)n_tokens * 4);
    char name[64], tmpname[80];
    snprintf(name, sizeof name, "%016llx-%016llx.kv", (unsigned long long)dc->fingerprint, (unsigned long long)th);
    snprintf(tmpname, sizeof tmpname, ".%s.tmp", name);
    char *path = olm_path_join(dc->dir, name), *tmp = olm_path_join(dc->dir, tmpname);
    size_t span = olm_slab_span_bytes(sl, CHUNK);
    uint8_t *buf = malloc(span);
    int32_t *tok_copy = malloc((size_t)n_tokens * 4);
    FILE *f = path && tmp && buf && tok_copy ? fopen(tmp, "wbx") : NULL;
    if (!f && path && tmp && buf && tok_copy && errno == EEXIST) { /* a stale temporary file of a crash */
        unlink(tmp);
        f = fopen(tmp, "wbx");
    }
    bool ok = f != NULL;
    if (ok) {
        disk_header h = {.fingerprint = dc->fingerprint, .n_layers = (uint32_t)sl->n_layers,
                         .nkv = (uint32_t)sl->nkv, .head = (uint32_t)sl->head, .elem = (uint32_t)sl->elem,
                         .n_tokens = n_tokens, .n_kv = n_kv, .n_short = n_short < n_kv ? n_short : n_kv,
                         .chunk = CHUNK};
        memcpy(h.magic, MAGIC, 8);
        h.check = mix(mix(0, (const uint8_t *)&h, sizeof h), (const uint8_t *)tokens, (size_t)n_tokens * 4);
        ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(tokens, 4, (size_t)n_tokens, f) == (size_t)n_tokens;
        for (int64_t c = 0; ok && c < n_kv; c += CHUNK) {
            int64_t e = c + CHUNK < n_kv ? c + CHUNK : n_kv;
            olm_slab_gather(sl, slot, c, e, buf);
            size_t len = olm_slab_span_bytes(sl, e - c);
            uint64_t ck = mix(0, buf, len);
            ok = fwrite(&ck, 8, 1, f) == 1 && fwrite(buf, 1, len, f) == len;
        }
        ok = (fflush(f) == 0) & ok;
        ok = (fclose(f) == 0) & ok;
        if (ok) ok = rename(tmp, path) == 0;
        if (!ok) {
            warn(tmp, strerror(errno ? errno : EIO));
            unlink(tmp);
        }
    }
    free(buf);
    free(tmp);
    if (!ok) {
        free(path);
        free(tok_copy);
        return;
    }
    struct stat st;
    uint64_t size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    /* Entries that are a prefix of this one are now redundant; a same-named one is replaced. */
    for (size_t i = 0; i < dc->n;) {
        olm_disk_entry *e = &dc->e[i];
        bool same = !strcmp(e->path, path);
        if (same || (e->n_tokens <= n_tokens && !memcmp(e->tokens, tokens, (size_t)e->n_tokens * 4) &&
                     (e->n_short == 0) == (n_short == 0)))
            drop(dc, i, !same);
        else
            i++;
    }
    if (dc->n == dc->cap) {
        olm_disk_entry *ne = realloc(dc->e, (dc->cap * 2 + 8) * sizeof *ne);
        if (!ne) {
            free(path);
            free(tok_copy);
            return;
        }
        dc->e = ne;
        dc->cap = dc->cap * 2 + 8;
    }
    memcpy(tok_copy, tokens, (size_t)n_tokens * 4);
    dc->e[dc->n++] = (olm_disk_entry){path, tok_copy, n_tokens, n_short < n_kv ? n_short : n_kv, size, now};
    dc->bytes += size;
    /* Bounded: the least recently used files go first (never the one just written). */
    while (dc->bytes > dc->max_bytes && dc->n > 1) {
        size_t old = 0;
        for (size_t i = 1; i + 1 < dc->n; i++)
            if (dc->e[i].used < dc->e[old].used) old = i;
        if (old == dc->n - 1) break;
        drop(dc, old, true);
    }
    if (dc->bytes > dc->max_bytes && dc->n == 1) drop(dc, 0, true); /* larger than the whole cache */
}

bool olm_disk_load(olm_diskcache *dc, int i, olm_slab *sl, int slot, int64_t n) {
    olm_disk_entry *e = &dc->e[i];
    int fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    disk_header h;
    int32_t *tokens = NULL;
    bool ok = fd >= 0 && read_head(dc, sl, fd, &h, &tokens) == 1 && h.n_tokens == e->n_tokens &&
              !memcmp(tokens, e->tokens, (size_t)h.n_tokens * 4) && n <= h.n_kv;
    free(tokens);
    size_t span = olm_slab_span_bytes(sl, CHUNK);
    uint8_t *buf = ok ? malloc(span) : NULL;
    off_t off = (off_t)(sizeof h + (size_t)h.n_tokens * 4);
    for (int64_t c = 0; ok && c < n; c += CHUNK) {
        int64_t end = c + CHUNK < h.n_kv ? c + CHUNK : h.n_kv;
        size_t len = olm_slab_span_bytes(sl, end - c);
        uint64_t ck = 0;
        ok = buf && read_all(fd, &ck, 8, off) && read_all(fd, buf, len, off + 8) && mix(0, buf, len) == ck;
        if (ok) olm_slab_scatter(sl, slot, c, end, buf, (n < end ? n : end) - c);
        off += (off_t)(8 + len);
    }
    free(buf);
    if (fd >= 0) close(fd);
    if (!ok) {
        warn(e->path, "corrupt or changed since it was listed, not loaded and removed");
        drop(dc, (size_t)i, true);
        return false;
    }
    e->used = (uint64_t)time(NULL);
    return true;
}
