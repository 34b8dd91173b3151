/* fake_hub.h — a local stand-in for the Hugging Face Hub, for the pull tests.
 *
 * libmicrohttpd on 127.0.0.1 with an ephemeral port, serving one repository:
 *   GET /api/models/{repo}/revision/main                       {"sha": FAKE_COMMIT}
 *   GET /api/models/{repo}/tree/{rev}/{folder}?recursive=true  listing JSON (paginated on demand)
 *   GET /{repo}/resolve/{rev}/{path}                           file (Range: bytes=N-), or a 302
 *   GET /cdn/{path}                                            redirect target
 * Knobs make it misbehave the ways the real network does (cut connections, 500s, ignored
 * ranges, wrong metadata); a log records what clients asked for. */
#ifndef FAKE_HUB_H
#define FAKE_HUB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKE_MAX_FILES 8
#define FAKE_MAX_LOG 64
#define FAKE_COMMIT "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" /* what "main" points to */

typedef struct fake_file {
    char path[600]; /* in the repository */
    unsigned char *data;
    size_t size;
    bool lfs;
    char sha256[65];
    char git_oid[41];
} fake_file;

typedef struct fake_hub {
    struct MHD_Daemon *d;
    int port;
    char base[64]; /* "http://127.0.0.1:PORT" */
    char repo[128];
    fake_file files[FAKE_MAX_FILES];
    int nfiles;
    pthread_mutex_t mu;

    /* knobs: set between pulls */
    char cut_path[256]; /* cut the body of this file ... */
    long cut_after;     /* ... after this many bytes of a response ... */
    int cut_times;      /* ... for this many responses */
    bool ignore_range;  /* answer 200 with the whole file to a Range request */
    int fail500_times;  /* next N file requests get HTTP 500 */
    int redirect;       /* 0: serve directly, 1: 302 to /cdn/ (same host), 2: 302 to localhost:PORT/cdn/ */
    bool wrong_sha;     /* list a wrong sha256 for the first LFS file of the folder */
    bool wrong_git_oid; /* list a wrong git oid for the first non-LFS file */
    int page_size;      /* >0: paginate the listing with Link rel="next" */
    bool unsafe_path;   /* add "../evil" to the listing */
    int slow_ms;        /* sleep this long per 16 kB block of file bodies */
    char commit[41];    /* what "main" points to (FAKE_COMMIT after reset) */
    int oid_mode;       /* listing oids of non-LFS files: 0 as they are, 1 missing, 2 "", 3 not hex;
                           4: every oid (lfs.oid too) in upper case */
    bool next_other_host; /* the pagination Link names "localhost" instead of 127.0.0.1 */

    /* log */
    int n_requests; /* all requests */
    int n_revision, n_tree, n_file, n_cdn, n_500;
    int n_unpinned; /* listing / file requests that named "main" instead of the commit */
    char ranges[FAKE_MAX_LOG][48]; /* Range header of each file/cdn request ("" = none) */
    int n_ranges;
    char auth_tree[160];  /* Authorization of the last listing request */
    char auth_file[160];  /* ... of the last /resolve/ request */
    char auth_cdn[160];   /* ... of the last /cdn/ request */
} fake_hub;

/* Starts the server with repo `repo` holding the default files under `folder` (and a
 * README.md at the root). Returns 0 on success. */
int fake_hub_start(fake_hub *h, const char *repo, const char *folder);
void fake_hub_stop(fake_hub *h);
/* Resets knobs and log. */
void fake_hub_reset(fake_hub *h);
/* The file at `path` in the repository, or NULL. */
const fake_file *fake_hub_file(const fake_hub *h, const char *path);
/* Adds an LFS file of `size` pseudo-random bytes (before pulls start). */
int fake_hub_add_file(fake_hub *h, const char *path, size_t size);
/* Changes one byte of `path` (same size, new hashes): "updated upstream". */
void fake_hub_change_file(fake_hub *h, const char *path);
/* True when some request carried "Range: bytes=<from>-". */
bool fake_hub_saw_range(fake_hub *h, long from);

#endif
