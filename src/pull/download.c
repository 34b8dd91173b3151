/* download.c — one file of a pull: resumable transfer into NAME.part, hashed while it
 * arrives, verified, then renamed to NAME.
 *
 * Resume: when NAME.part exists we re-hash its bytes (so the final digest covers the
 * whole file) and ask for "Range: bytes=N-". A 206 must start at N (Content-Range);
 * a 200 means the server ignored the range, so the .part is truncated and the file
 * restarts from byte 0; a 416 means our .part does not fit the file: it is dropped.
 *
 * Verification: LFS files against lfs.oid (sha256 of the content); other files against
 * the tree's oid, which is git's blob id sha1("blob <size>\0" + content) — both are the
 * repository's own metadata, so a corrupt or truncated file is never kept. A file with
 * no hash in the listing is checked by size only. */
#include "pull/pull.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/fsutil.h"

static void to_hex(const unsigned char *d, unsigned n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = 0;
}

void olm_sha256_hex(const void *data, size_t n, char out[65]) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_Digest(data, n, d, &dl, EVP_sha256(), NULL);
    to_hex(d, dl, out);
}

void olm_git_blob_sha1_hex(const void *data, size_t n, char out[41]) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    char head[48];
    int hl = snprintf(head, sizeof head, "blob %zu", n);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha1(), NULL);
    EVP_DigestUpdate(c, head, (size_t)hl + 1); /* including the NUL */
    EVP_DigestUpdate(c, data, n);
    EVP_DigestFinal_ex(c, d, &dl);
    EVP_MD_CTX_free(c);
    to_hex(d, dl, out);
}

void olm_pull_report(olm_pull_state *st, onnxllm_pull_event ev, const char *message) {
    if (!st->p->progress) return;
    st->prog.event = ev;
    st->prog.message = message;
    st->prog.session_bytes = st->http->session_bytes;
    st->p->progress(&st->prog, st->p->progress_user);
    st->prog.message = NULL;
}

/* One transfer attempt's state, seen by the curl write callback. */
typedef struct dl {
    olm_pull_state *st;
    const olm_hub_file *f;
    int fd;
    EVP_MD_CTX *md;   /* NULL when the listing gives no hash */
    uint64_t offset;  /* bytes in the .part file */
    int64_t req_from; /* the Range we asked for (0 = none) */
    bool started, discard, bad_range, too_long, restarted;
    int werrno;
} dl;

static void hash_reset(dl *x) {
    if (!x->md) return;
    if (x->f->sha256[0]) {
        EVP_DigestInit_ex(x->md, EVP_sha256(), NULL);
    } else {
        char head[48];
        int hl = snprintf(head, sizeof head, "blob %" PRIu64, x->f->size);
        EVP_DigestInit_ex(x->md, EVP_sha1(), NULL);
        EVP_DigestUpdate(x->md, head, (size_t)hl + 1);
    }
}

static bool write_all(int fd, const char *d, size_t n, int *werrno) {
    while (n) {
        ssize_t w = write(fd, d, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            *werrno = errno;
            return false;
        }
        d += w;
        n -= (size_t)w;
    }
    return true;
}

static void report_progress(dl *x) {
    olm_pull_state *st = x->st;
    st->prog.file_done = x->offset;
    st->prog.total_done = st->done_before_file + x->offset;
    olm_pull_report(st, ONNXLLM_PULL_FILE_PROGRESS, NULL);
}

static size_t dl_write(char *d, size_t size, size_t n, void *user) {
    dl *x = user;
    size_t len = size * n;
    if (!x->started) {
        x->started = true;
        long code = x->st->http->resp.status;
        if (code == 206) {
            /* "bytes START-END/TOTAL": must continue exactly where our .part ends. */
            long long start = -1;
            if (sscanf(x->st->http->resp.content_range, "bytes %lld-", &start) != 1 || start != x->req_from) {
                x->bad_range = true;
                return 0;
            }
        } else if (code == 200) {
            if (x->offset > 0) { /* the server ignored our Range: start over */
                if (ftruncate(x->fd, 0) != 0 || lseek(x->fd, 0, SEEK_SET) != 0) {
                    x->werrno = errno;
                    return 0;
                }
                x->offset = 0;
                x->restarted = true;
                hash_reset(x);
                report_progress(x);
            }
        } else {
            x->discard = true; /* an error page: not file content */
        }
    }
    if (x->discard) return len;
    if (x->offset + len > x->f->size) {
        x->too_long = true;
        return 0;
    }
    if (!write_all(x->fd, d, len, &x->werrno)) return 0;
    if (x->md) EVP_DigestUpdate(x->md, d, len);
    x->offset += len;
    x->st->http->session_bytes += len;
    report_progress(x);
    return len;
}

/* Feeds the first `n` bytes of fd into the digest (resume). */
static bool rehash_prefix(dl *x, uint64_t n, char *buf, size_t bufsize) {
    if (lseek(x->fd, 0, SEEK_SET) != 0) return false;
    while (n) {
        if (olm_http_cancelled(x->st->http)) return false; /* re-hashing 5 GB takes seconds */
        size_t want = n < bufsize ? (size_t)n : bufsize;
        ssize_t r = read(x->fd, buf, want);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        if (x->md) EVP_DigestUpdate(x->md, buf, (size_t)r);
        n -= (uint64_t)r;
    }
    return true;
}

enum { REHASH_BUF = 1 << 20, MAX_ATTEMPTS_HARD = 1000 };

onnxllm_status olm_download_file(olm_pull_state *st, const olm_hub_file *f, const char *staging_dir,
                                 onnxllm_error *err) {
    const onnxllm_pull_params *p = st->p;
    olm_http *h = st->http;
    size_t dl_len = strlen(staging_dir), rl = strlen(f->rel);
    char *final = malloc(dl_len + rl + 2), *part = malloc(dl_len + rl + 7);
    char *url = olm_hub_file_url(p, f->path);
    char *buf = malloc(REHASH_BUF);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    onnxllm_status ret = ONNXLLM_OK;
    if (!final || !part || !url || !buf || !md) {
        ret = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    if (!f->sha256[0] && !f->git_oid[0]) { /* the listing check refuses these; never keep a file unverified */
        ret = olm_fail(err, ONNXLLM_ERR_FORMAT, "file %s: no hash to verify it with", f->rel);
        goto done;
    }
    sprintf(final, "%s/%s", staging_dir, f->rel);
    sprintf(part, "%s.part", final);
    {
        char *slash = strrchr(part, '/');
        *slash = 0; /* part is staging_dir/rel.part: the file's folder */
        ret = olm_mkdir_p(part, err);
        *slash = '/';
        if (ret) goto done;
    }

    st->prog.file = f->rel;
    st->prog.file_size = f->size;
    st->done_before_file = st->prog.total_done;

    /* Verified by an earlier, interrupted pull — but maybe of another commit, where a
     * same-size file had other bytes: hashed again against this listing, never trusted by
     * its size (pull.c also drops .part files left by another commit). */
    struct stat sb;
    if (stat(final, &sb) == 0) {
        if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == f->size) {
            dl v = {.st = st, .f = f, .md = md, .fd = open(final, O_RDONLY | O_CLOEXEC)};
            char got[65] = "";
            bool same = false;
            hash_reset(&v);
            if (v.fd >= 0 && rehash_prefix(&v, f->size, buf, REHASH_BUF)) {
                unsigned char d[EVP_MAX_MD_SIZE];
                unsigned dlen = 0;
                EVP_DigestFinal_ex(md, d, &dlen);
                to_hex(d, dlen, got);
                same = !strcmp(got, f->sha256[0] ? f->sha256 : f->git_oid);
            }
            if (v.fd >= 0) close(v.fd);
            if (olm_http_cancelled(h)) {
                ret = olm_fail(err, ONNXLLM_ERR_CANCELLED, "interrupted; partial files kept in %s for the next pull",
                               staging_dir);
                goto done;
            }
            if (same) {
                st->prog.file_done = f->size;
                st->prog.total_done = st->done_before_file + f->size;
                olm_pull_report(st, ONNXLLM_PULL_FILE_VERIFIED, "kept from an earlier run (hash checked again)");
                goto done;
            }
        }
        unlink(final);
    }

    uint64_t best = 0;   /* largest .part seen: a retry that got further is progress */
    int failures = 0;    /* consecutive failed attempts without progress */
    bool started_reported = false;
    char msg[ONNXLLM_ERROR_MESSAGE_MAX];
    char what[300];
    snprintf(what, sizeof what, "file %s", f->rel);
    for (int attempt = 0;; attempt++) {
        if (olm_http_cancelled(h)) {
            ret = olm_fail(err, ONNXLLM_ERR_CANCELLED, "interrupted; partial files kept in %s for the next pull",
                           staging_dir);
            goto done;
        }
        if (attempt >= MAX_ATTEMPTS_HARD) {
            ret = olm_fail(err, ONNXLLM_ERR_NETWORK, "%s: giving up after %d attempts", what, attempt);
            goto done;
        }
        dl x = {.st = st, .f = f, .md = md};
        x.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (x.fd < 0 || fstat(x.fd, &sb) != 0) {
            ret = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open: %s", part, strerror(errno));
            if (x.fd >= 0) close(x.fd);
            goto done;
        }
        x.offset = (uint64_t)sb.st_size;
        if (x.offset > f->size) { /* not this file: start over */
            if (ftruncate(x.fd, 0) != 0) {
                ret = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot truncate: %s", part, strerror(errno));
                close(x.fd);
                goto done;
            }
            x.offset = 0;
        }
        hash_reset(&x);
        if (x.offset && !rehash_prefix(&x, x.offset, buf, REHASH_BUF)) {
            if (olm_http_cancelled(h))
                ret = olm_fail(err, ONNXLLM_ERR_CANCELLED, "interrupted; partial files kept in %s for the next pull",
                               staging_dir);
            else
                ret = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot read back: %s", part, strerror(errno));
            close(x.fd);
            goto done;
        }
        if (best < x.offset) best = x.offset;
        if (!started_reported) {
            started_reported = true;
            st->prog.file_done = x.offset;
            st->prog.total_done = st->done_before_file + x.offset;
            olm_pull_report(st, ONNXLLM_PULL_FILE_START, x.offset ? "resuming" : NULL);
        }

        olm_http_class cls = OLM_HTTP_OK;
        if (x.offset < f->size) {
            x.req_from = (int64_t)x.offset;
            CURLcode rc = olm_http_get(h, url, x.req_from, 0, dl_write, &x);
            cls = olm_http_classify(h, rc, url, what, msg, sizeof msg);
            if (x.werrno) {
                ret = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot write: %s", part, strerror(x.werrno));
                close(x.fd);
                goto done;
            }
            if (x.too_long) {
                close(x.fd);
                unlink(part);
                ret = olm_fail(err, ONNXLLM_ERR_CHECKSUM,
                               "%s: the server sent more than the %" PRIu64 " bytes the listing gives; deleted", what,
                               f->size);
                goto done;
            }
            if (x.bad_range) {
                snprintf(msg, sizeof msg, "%s: server answered Range bytes=%" PRId64 "- with \"%s\"", what, x.req_from,
                         h->resp.content_range);
                close(x.fd);
                x.fd = -1;
                unlink(part); /* restart from scratch */
                cls = OLM_HTTP_TRANSIENT;
            } else if (cls == OLM_HTTP_FATAL && h->resp.status == 416 && x.req_from > 0) {
                close(x.fd);
                x.fd = -1;
                unlink(part); /* our .part does not fit the remote file: restart */
                snprintf(msg, sizeof msg, "%s: HTTP 416 for Range bytes=%" PRId64 "-", what, x.req_from);
                cls = OLM_HTTP_TRANSIENT;
            } else if (cls == OLM_HTTP_OK && (h->resp.status != 200 && h->resp.status != 206)) {
                snprintf(msg, sizeof msg, "%s: unexpected HTTP %ld", what, h->resp.status);
                cls = OLM_HTTP_FATAL;
            } else if (cls == OLM_HTTP_OK && x.offset < f->size) {
                snprintf(msg, sizeof msg, "%s: connection closed after %" PRIu64 " of %" PRIu64 " bytes", what,
                         x.offset, f->size);
                cls = OLM_HTTP_TRANSIENT;
            }
        }

        if (cls == OLM_HTTP_OK) {
            /* Complete: check the digest, then make it durable and give it its name. */
            char got[65] = "";
            const char *want = f->sha256[0] ? f->sha256 : f->git_oid;
            const char *kind = f->sha256[0] ? "sha256" : "git blob sha1";
            if (md) {
                unsigned char d[EVP_MAX_MD_SIZE];
                unsigned dlen = 0;
                EVP_DigestFinal_ex(md, d, &dlen);
                to_hex(d, dlen, got);
            }
            if (strcmp(got, want)) {
                close(x.fd);
                unlink(part);
                ret = olm_fail(err, ONNXLLM_ERR_CHECKSUM, "%s: %s mismatch: expected %s, got %s; deleted it, run again",
                               what, kind, want, got);
                goto done;
            }
            if (fsync(x.fd) != 0 || close(x.fd) != 0) {
                ret = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot write: %s", part, strerror(errno));
                goto done;
            }
            if (rename(part, final) != 0) {
                ret = olm_fail(err, ONNXLLM_ERR_IO, "cannot rename %s to %s: %s", part, final, strerror(errno));
                goto done;
            }
            st->prog.file_done = f->size;
            st->prog.total_done = st->done_before_file + f->size;
            olm_pull_report(st, ONNXLLM_PULL_FILE_VERIFIED,
                            f->sha256[0] ? "sha256 ok" : "git blob sha1 ok");
            goto done;
        }
        if (x.fd >= 0) close(x.fd);

        if (cls == OLM_HTTP_CANCELLED) {
            ret = olm_fail(err, ONNXLLM_ERR_CANCELLED, "interrupted; partial files kept in %s for the next pull",
                           staging_dir);
            goto done;
        }
        if (cls == OLM_HTTP_FATAL) {
            ret = olm_fail(err, ONNXLLM_ERR_NETWORK, "%s", msg);
            goto done;
        }
        /* Transient (or unreachable in the middle of a pull): retry with backoff. A try
         * that got further than any before resets the count, so a long download over a
         * flaky link keeps going, while a link that delivers nothing gives up. */
        if (stat(part, &sb) == 0 && (uint64_t)sb.st_size > best) {
            best = (uint64_t)sb.st_size;
            failures = 0;
        }
        if (++failures > p->max_retries) {
            ret = olm_fail(err, ONNXLLM_ERR_NETWORK, "%s (gave up after %d tries without progress)", msg, failures);
            goto done;
        }
        int wait_ms = olm_http_retry_delay_ms(h, failures);
        char rmsg[ONNXLLM_ERROR_MESSAGE_MAX + 64];
        snprintf(rmsg, sizeof rmsg, "%s; retrying in %.1f s (try %d of %d)", msg, wait_ms / 1000.0, failures + 1,
                 p->max_retries + 1);
        olm_pull_report(st, ONNXLLM_PULL_RETRY, rmsg);
        olm_http_sleep(h, wait_ms);
    }

done:
    EVP_MD_CTX_free(md);
    free(buf);
    free(url);
    free(part);
    free(final);
    return ret;
}
