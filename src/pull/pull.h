/* pull.h — internals of `onnxllm pull`, shared by the files of src/pull/:
 *   http.c      one libcurl handle per pull, response headers, error classes, retry delays
 *   hub.c       variants, Hub URLs, the repository tree listing
 *   download.c  one file: resumable transfer, incremental hashing, verification
 *   pull.c      the whole folder: staging dir, lock, disk space, final rename
 *   progress.c  rendering progress events for a terminal or a log (used by the CLI) */
#ifndef OLM_PULL_H
#define OLM_PULL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <curl/curl.h>

#include "onnxllm.h"

/* ---- http.c ---------------------------------------------------------------- */

/* What we keep from the headers of the last response (reset at each status line,
 * so after redirects it describes the final response). */
typedef struct olm_http_resp {
    long status;
    char error_code[64];     /* X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) */
    char error_message[256]; /* X-Error-Message */
    char content_range[128];
    char repo_commit[64];    /* X-Repo-Commit */
    int retry_after_s;       /* Retry-After in seconds, -1 if absent */
    char *link_next;         /* Link: <...>; rel="next" (malloc'd) */
} olm_http_resp;

typedef struct olm_http {
    CURL *curl;
    const onnxllm_pull_params *p;
    char errbuf[CURL_ERROR_SIZE];
    olm_http_resp resp;
    uint64_t session_bytes; /* body bytes received by this pull (progress speeds) */
} olm_http;

/* How a finished request should be treated. */
typedef enum olm_http_class {
    OLM_HTTP_OK,
    OLM_HTTP_TRANSIENT,   /* retry after a delay */
    OLM_HTTP_UNREACHABLE, /* DNS / connect failure: the host cannot be reached */
    OLM_HTTP_CANCELLED,
    OLM_HTTP_FATAL        /* 401/403/404/other 4xx, TLS errors, ... */
} olm_http_class;

onnxllm_status olm_http_init(olm_http *h, const onnxllm_pull_params *p, onnxllm_error *err);
void olm_http_free(olm_http *h);

/* GET `url` (following redirects), the body going to write_cb. range_from > 0 asks for
 * "Range: bytes=range_from-". timeout_s > 0 bounds the whole request (metadata calls);
 * file transfers use 0 and rely on the stall timeout. Returns the curl code; the
 * response is in h->resp. */
typedef size_t (*olm_write_fn)(char *data, size_t size, size_t n, void *user);
CURLcode olm_http_get(olm_http *h, const char *url, int64_t range_from, long timeout_s, olm_write_fn write_cb,
                      void *user);

/* Classifies a finished request; for every class but OK, writes a one-line reason
 * into msg (what = the resource, e.g. "file model.onnx"). */
olm_http_class olm_http_classify(olm_http *h, CURLcode rc, const char *url, const char *what, char *msg,
                                 size_t msg_size);

/* True when *p->cancel is set. */
bool olm_http_cancelled(const olm_http *h);

/* Delay before retry number `attempt` (1-based): retry_delay_ms doubled per attempt, at
 * most 30 s, or the last response's Retry-After (at most 60 s). */
int olm_http_retry_delay_ms(const olm_http *h, int attempt);
/* Sleeps ms milliseconds in short slices; returns false as soon as cancelled. */
bool olm_http_sleep(const olm_http *h, int ms);

/* "https://host[:port]" of a URL, for messages. */
void olm_http_origin(const char *url, char *out, size_t out_size);

/* ---- hub.c ----------------------------------------------------------------- */

typedef struct olm_hub_file {
    char *path;        /* path in the repository */
    char *rel;         /* path relative to the pulled folder = path under out_dir */
    uint64_t size;
    char sha256[65];   /* lfs.oid for LFS files, "" otherwise */
    char git_oid[41];  /* git blob sha1 (the tree's "oid") for non-LFS files, "" if absent */
} olm_hub_file;

typedef struct olm_hub_listing {
    olm_hub_file *files;
    size_t n;
    uint64_t total_size;
    char commit[64]; /* X-Repo-Commit of the listing, "" if the server did not say */
} olm_hub_listing;

/* The commit id p->revision points to now (GET /api/models/{repo}/revision/{rev} →
 * "sha"), so that the listing and every file come from one snapshot even if the branch
 * moves during a long download. A 40-hex revision is taken as is. */
onnxllm_status olm_hub_resolve_commit(olm_http *h, char commit[41], onnxllm_error *err);

/* Lists the files under `folder` of p->repo at p->revision (following Link rel="next"
 * pages). Rejects unsafe paths (absolute, "..", empty components, control characters). */
onnxllm_status olm_hub_list(olm_http *h, const char *folder, olm_hub_listing *out, onnxllm_error *err);
void olm_hub_listing_free(olm_hub_listing *l);
/* Adds the files of one listing page (JSON text; the fuzz target's entry point). */
onnxllm_status olm_hub_parse_page(olm_hub_listing *l, const char *json, size_t len, const char *prefix,
                                  const char *url, onnxllm_error *err);

/* URL of the listing page / of a file (malloc'd; NULL when out of memory). Path
 * components and the revision are percent-encoded as huggingface_hub does. */
char *olm_hub_tree_url(const onnxllm_pull_params *p, const char *folder);
char *olm_hub_file_url(const onnxllm_pull_params *p, const char *path);


/* ---- download.c ------------------------------------------------------------ */

/* Hex digests used for verification (exposed for tests). out: 65 / 41 chars. */
void olm_sha256_hex(const void *data, size_t n, char out[65]);
void olm_git_blob_sha1_hex(const void *data, size_t n, char out[41]);

/* Progress bookkeeping shared by download.c and pull.c. */
typedef struct olm_pull_state {
    olm_http *http;
    const onnxllm_pull_params *p;
    onnxllm_pull_progress prog; /* the next event to report */
    uint64_t done_before_file;  /* total_done at the start of the current file */
} olm_pull_state;

void olm_pull_report(olm_pull_state *st, onnxllm_pull_event ev, const char *message);

/* Downloads file f into staging_dir/f->rel via staging_dir/f->rel.part, resuming a
 * .part that is there, and verifies it. On success staging_dir/f->rel exists and is
 * verified. On a hash mismatch the .part is deleted (ONNXLLM_ERR_CHECKSUM). */
onnxllm_status olm_download_file(olm_pull_state *st, const olm_hub_file *f, const char *staging_dir,
                                 onnxllm_error *err);

/* ---- progress.c ------------------------------------------------------------- */

typedef struct olm_progress_printer {
    FILE *out;
    bool tty;            /* redraw one line with \r; otherwise print a line every few seconds */
    double t_start;      /* time of the first byte (for speed) */
    double t_last;       /* time of the last print */
    uint64_t bytes_start;
    int line_len;        /* length of the bar line on screen */
} olm_progress_printer;

void olm_progress_init(olm_progress_printer *pp, FILE *out, bool tty);
/* Renders event p at time `now` (seconds, monotonic). */
void olm_progress_print(olm_progress_printer *pp, const onnxllm_pull_progress *p, double now);

/* Formatting helpers (exposed for tests): "4.86 GB", "12.3 MB/s", "3m05s". */
void olm_fmt_bytes(uint64_t n, char *out, size_t size);
void olm_fmt_rate(double bytes_per_s, char *out, size_t size);
void olm_fmt_eta(double seconds, char *out, size_t size);

double olm_monotonic_s(void);

#endif
