/* test_pull.c — onnxllm_pull and `onnxllm pull` against a local fake Hub (fake_hub.c):
 * full pull, resume after a cut connection (Range), checksum mismatch, redirects and
 * where the token goes, 404/401, 500 then success, a server that ignores Range,
 * pagination, unsafe paths, an unreachable endpoint, cancellation, and the CLI (help,
 * bad variant, a real pull, Ctrl-C → 130). Loopback only; every case takes well under
 * a second. Usage: test_pull PATH_TO_ONNXLLM_CLI */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_hub.h"
#include "pull/pull.h"
#include "common/fsutil.h"

static fake_hub hub;
static char tmp_root[256];
static const char *cli_path;
static int case_no;

#define REPO "org/model"
#define FOLDER "onnx/cpu-int4"

/* A fresh output path (not created) for each case. */
static void new_out(char *out, size_t n) { snprintf(out, n, "%s/case%d/model", tmp_root, ++case_no); }

typedef struct events {
    int listed, started, verified, retries, done, progress;
    uint64_t last_total_done;
    bool monotonic;
    char last_retry[600];
    char done_msg[600];
    volatile int *cancel_at_progress; /* set *this to 1 once bytes flow */
} events;

static void on_event(const onnxllm_pull_progress *p, void *user) {
    events *e = user;
    switch (p->event) {
    case ONNXLLM_PULL_LISTED: e->listed++; break;
    case ONNXLLM_PULL_FILE_START: e->started++; break;
    case ONNXLLM_PULL_FILE_PROGRESS:
        e->progress++;
        if (p->file_done > p->file_size || p->total_done > p->total_size) e->monotonic = false;
        if (e->cancel_at_progress && p->file_done > 0 && p->file_size > 100000) *e->cancel_at_progress = 1;
        break;
    case ONNXLLM_PULL_FILE_VERIFIED: e->verified++; break;
    case ONNXLLM_PULL_RETRY:
        e->retries++;
        snprintf(e->last_retry, sizeof e->last_retry, "%s", p->message ? p->message : "");
        break;
    case ONNXLLM_PULL_DONE:
        e->done++;
        snprintf(e->done_msg, sizeof e->done_msg, "%s", p->message ? p->message : "");
        break;
    }
}

static onnxllm_pull_params params(events *ev) {
    onnxllm_pull_params p = onnxllm_pull_default_params();
    p.endpoint = hub.base;
    p.token = NULL;
    p.repo = REPO;
    p.revision = "main";
    p.max_retries = 3;
    p.retry_delay_ms = 1;
    p.connect_timeout_s = 5;
    p.stall_timeout_s = 5;
    memset(ev, 0, sizeof *ev);
    ev->monotonic = true;
    p.progress = on_event;
    p.progress_user = ev;
    return p;
}

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static long fsize(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Byte-compares every file of the fake folder with out_dir/<relative path>. */
static bool same_files(const char *out_dir, const char *folder) {
    size_t fl = strlen(folder);
    int found = 0;
    for (int i = 0; i < hub.nfiles; i++) {
        const fake_file *f = &hub.files[i];
        char path[700];
        if (strncmp(f->path, folder, fl) || f->path[fl] != '/') {
            snprintf(path, sizeof path, "%s/%s", out_dir, f->path);
            if (exists(path)) return false; /* outside the folder: must not be there */
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", out_dir, f->path + fl + 1);
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            printf("  missing %s\n", path);
            return false;
        }
        unsigned char *buf = malloc(f->size + 1);
        size_t n = fread(buf, 1, f->size + 1, fp);
        fclose(fp);
        bool same = n == f->size && !memcmp(buf, f->data, f->size);
        free(buf);
        if (!same) {
            printf("  content differs: %s (%zu bytes, want %zu)\n", path, n, f->size);
            return false;
        }
        found++;
    }
    return found == 5;
}

static char *partial_of(const char *out, const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s.partial/%s", out, name);
    return buf;
}

/* ---- helpers' own references ---------------------------------------------------- */

TEST(digests_match_known_vectors) {
    char h[65], g[41];
    olm_sha256_hex("abc", 3, h); /* FIPS 180-2 test vector */
    CHECK_EQ_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    olm_git_blob_sha1_hex("hello\n", 6, g); /* `echo hello | git hash-object --stdin` */
    CHECK_EQ_STR(g, "ce013625030ba8dba906f756967f9e9ca394464a");
    olm_git_blob_sha1_hex("", 0, g); /* git's empty blob */
    CHECK_EQ_STR(g, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST(variants_and_urls) {
    const onnxllm_pull_variant *v = onnxllm_pull_find_variant("cpu");
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_STR(v->folder, "cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4");
        CHECK_EQ_STR(v->default_dir, "models/phi-4-mini-cpu-int4");
    }
    CHECK(onnxllm_pull_find_variant("gpu") != NULL);
    CHECK(onnxllm_pull_find_variant("tpu") == NULL);
    size_t n = 0;
    CHECK_EQ_STR(onnxllm_pull_variants(&n)[0].name, "cpu");
    CHECK_EQ_INT(n, 2);
    onnxllm_pull_params p = onnxllm_pull_default_params();
    p.endpoint = "https://hub.example/";
    p.repo = "microsoft/Phi-4-mini-instruct-onnx";
    p.revision = "refs/pr/1";
    char *u = olm_hub_tree_url(&p, "cpu_and_mobile/cpu-int4 x/");
    CHECK_EQ_STR(u, "https://hub.example/api/models/microsoft/Phi-4-mini-instruct-onnx/tree/refs%2Fpr%2F1/"
                    "cpu_and_mobile/cpu-int4%20x?recursive=true");
    free(u);
    p.revision = "main";
    u = olm_hub_file_url(&p, "gpu/gpu-int4-rtn-block-32/model.onnx.data");
    CHECK_EQ_STR(u, "https://hub.example/microsoft/Phi-4-mini-instruct-onnx/resolve/main/"
                    "gpu/gpu-int4-rtn-block-32/model.onnx.data");
    free(u);
    CHECK(olm_path_is_inside("a/b.txt"));
    CHECK(!olm_path_is_inside("../x"));
    CHECK(!olm_path_is_inside("a/../x"));
    CHECK(!olm_path_is_inside("/etc/passwd"));
    CHECK(!olm_path_is_inside("a//b"));
    CHECK(!olm_path_is_inside("a/./b"));
    CHECK(!olm_path_is_inside(""));
}

TEST(progress_formatting) {
    char b[32];
    olm_fmt_bytes(4860000000ull, b, sizeof b);
    CHECK_EQ_STR(b, "4.86 GB");
    olm_fmt_bytes(52100000, b, sizeof b);
    CHECK_EQ_STR(b, "52.1 MB");
    olm_fmt_bytes(999, b, sizeof b);
    CHECK_EQ_STR(b, "999 B");
    olm_fmt_rate(12345678, b, sizeof b);
    CHECK_EQ_STR(b, "12.3 MB/s");
    olm_fmt_eta(215, b, sizeof b);
    CHECK_EQ_STR(b, "3m35s");
    olm_fmt_eta(7322, b, sizeof b);
    CHECK_EQ_STR(b, "2h02m");
    olm_fmt_eta(-1, b, sizeof b);
    CHECK_EQ_STR(b, "--");

    /* Plain (non-terminal) output: a line per file and a progress line every 5 s. */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    olm_progress_printer pp;
    olm_progress_init(&pp, m, false);
    onnxllm_pull_progress ev = {.file_count = 2, .total_size = 2000000000ull};
    ev.event = ONNXLLM_PULL_LISTED;
    olm_progress_print(&pp, &ev, 0);
    ev = (onnxllm_pull_progress){.event = ONNXLLM_PULL_FILE_START, .file = "model.onnx.data", .file_index = 2,
                                 .file_count = 2, .file_size = 1000000000ull, .total_size = 2000000000ull,
                                 .total_done = 1000000000ull};
    olm_progress_print(&pp, &ev, 0);
    ev.event = ONNXLLM_PULL_FILE_PROGRESS;
    ev.file_done = 100000000;
    ev.total_done = 1100000000ull;
    ev.session_bytes = 10000000;
    olm_progress_print(&pp, &ev, 1.0); /* < 5 s after the last line: nothing */
    ev.file_done = 500000000;
    ev.total_done = 1500000000ull;
    ev.session_bytes = 500000000;
    olm_progress_print(&pp, &ev, 10.0); /* 50 MB/s, 500 MB left → 10 s */
    fclose(m);
    CHECK_EQ_STR(text, "pull: 2 files, 2.00 GB\n"
                       "[2/2] model.onnx.data (1.00 GB)\n"
                       "  model.onnx.data  75% 1.50 GB/2.00 GB 50.0 MB/s ETA 10s\n");
    free(text);

    /* Terminal: one redrawn line, cleared before the "verified" line. */
    m = open_memstream(&text, &len);
    olm_progress_init(&pp, m, true);
    ev.event = ONNXLLM_PULL_FILE_START;
    ev.session_bytes = 0;
    olm_progress_print(&pp, &ev, 0);
    ev.event = ONNXLLM_PULL_FILE_PROGRESS;
    ev.session_bytes = 500000000;
    olm_progress_print(&pp, &ev, 10.0);
    ev.event = ONNXLLM_PULL_FILE_VERIFIED;
    ev.message = "sha256 ok";
    olm_progress_print(&pp, &ev, 10.5);
    fclose(m);
    CHECK(strstr(text, "\r[2/2] model.onnx.data          [##########..........]  75% 1.50 GB/2.00 GB 50.0 MB/s ETA 10s") !=
          NULL);
    CHECK(strstr(text, "[2/2] model.onnx.data 1.00 GB: sha256 ok\n") != NULL);
    free(text);
}

/* ---- pulls against the fake hub ---------------------------------------------------- */

TEST(full_pull_then_up_to_date) {
    fake_hub_reset(&hub);
    events ev;
    onnxllm_pull_params p = params(&ev);
    char out[400], path[600];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    if (err.message[0]) printf("  %s\n", err.message);
    CHECK(same_files(out, FOLDER));
    CHECK(!exists(partial_of(out, "", path, sizeof path)));
    snprintf(path, sizeof path, "%s/.onnxllm-pull.json", out);
    CHECK(exists(path));
    snprintf(path, sizeof path, "%s/.onnxllm-pull.lock", out);
    CHECK(!exists(path));
    CHECK_EQ_INT(ev.listed, 1);
    CHECK_EQ_INT(ev.verified, 5);
    CHECK_EQ_INT(ev.retries, 0);
    CHECK_EQ_INT(ev.done, 1);
    CHECK(ev.progress > 0);
    CHECK(ev.monotonic);
    CHECK(strstr(ev.done_msg, "downloaded 5 files") != NULL);
    CHECK_EQ_INT(hub.n_file, 5);
    CHECK_EQ_INT(hub.n_revision, 1);
    CHECK_EQ_INT(hub.n_unpinned, 0); /* listing and files named the commit, not "main" */
    CHECK(!fake_hub_saw_range(&hub, 0));
    char *manifest = NULL;
    size_t mlen = 0;
    snprintf(path, sizeof path, "%s/.onnxllm-pull.json", out);
    FILE *mf = fopen(path, "r");
    if (mf) {
        manifest = calloc(1, 4096);
        mlen = fread(manifest, 1, 4095, mf);
        fclose(mf);
    }
    CHECK(mlen > 0 && strstr(manifest, "\"commit\":\t\"" FAKE_COMMIT "\"") != NULL);
    CHECK(mlen > 0 && strstr(manifest, "\"revision\":\t\"main\"") != NULL);
    free(manifest);

    /* Again: nothing is downloaded. */
    fake_hub_reset(&hub);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK_EQ_INT(hub.n_file, 0);
    CHECK(strstr(ev.done_msg, "up to date") != NULL);
    CHECK(strstr(ev.done_msg, "sizes and hashes match the manifest") != NULL);
    CHECK(same_files(out, FOLDER));

    /* Without our manifest only the sizes can be compared, and it says so. */
    snprintf(path, sizeof path, "%s/.onnxllm-pull.json", out);
    char saved[700];
    snprintf(saved, sizeof saved, "%s.saved", path);
    CHECK_EQ_INT(rename(path, saved), 0);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(strstr(ev.done_msg, "no manifest: hashes not checked") != NULL);
    CHECK_EQ_INT(rename(saved, path), 0);

    /* Changed upstream with the same size: not "up to date"; a file of the user's in
     * the folder stops the update (it would be deleted with the old version). */
    fake_hub_reset(&hub);
    fake_hub_change_file(&hub, FOLDER "/tokenizer.json");
    snprintf(path, sizeof path, "%s/my-notes.txt", out);
    FILE *fp = fopen(path, "w");
    fputs("mine\n", fp);
    fclose(fp);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_IO);
    CHECK(strstr(err.message, "holds an older version to update, but also my-notes.txt") != NULL);
    CHECK_EQ_INT(hub.n_file, 0);
    CHECK_EQ_INT(fsize(path), 5);

    /* Without it, the pull updates the folder: only the changed file is downloaded,
     * the others are linked over, and the new version replaces the old in one swap. */
    unlink(path);
    struct stat before, after;
    snprintf(path, sizeof path, "%s/model.onnx.data", out);
    stat(path, &before);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(strstr(ev.done_msg, "updated to 5 files") != NULL);
    CHECK_EQ_INT(hub.n_file, 1);
    CHECK(same_files(out, FOLDER)); /* with the new tokenizer.json */
    CHECK(stat(path, &after) == 0 && after.st_ino == before.st_ino);
    CHECK(!exists(partial_of(out, "", path, sizeof path)));
    snprintf(path, sizeof path, "%s.old", out);
    CHECK(!exists(path));
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(strstr(ev.done_msg, "up to date") != NULL);

    /* A symbolic link to an older version: "up to date" works through it, an update
     * does not replace the link. */
    char link_path[500];
    snprintf(link_path, sizeof link_path, "%s-link", out);
    CHECK_EQ_INT(symlink(out, link_path), 0);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, link_path, &p, &err), ONNXLLM_OK);
    CHECK(strstr(ev.done_msg, "up to date") != NULL);
    fake_hub_change_file(&hub, FOLDER "/tokenizer.json"); /* back to the original for the other cases */
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, link_path, &p, &err), ONNXLLM_ERR_IO);
    CHECK(strstr(err.message, "is a symbolic link") != NULL);
    unlink(link_path);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK); /* updates back */
    CHECK(same_files(out, FOLDER));

    /* Another folder's manifest: never mixed. */
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER "/sub", out, &p, &err), ONNXLLM_ERR_IO);
    CHECK(strstr(err.message, "holds org/model/" FOLDER ", not org/model/" FOLDER "/sub; choose another -o") != NULL);
}

TEST(interrupted_pull_leaves_part_and_resumes_with_range) {
    fake_hub_reset(&hub);
    snprintf(hub.cut_path, sizeof hub.cut_path, "%s/model.onnx.data", FOLDER);
    hub.cut_after = 123456;
    hub.cut_times = 1;
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.max_retries = 0; /* the cut ends this pull */
    char out[400], path[600];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    CHECK(strstr(err.message, "model.onnx.data") != NULL);
    CHECK(!exists(out)); /* never a half model */
    CHECK_EQ_INT(fsize(partial_of(out, "model.onnx.data.part", path, sizeof path)), 123456);
    CHECK(exists(partial_of(out, "model.onnx", path, sizeof path))); /* earlier files: verified, kept */

    fake_hub_reset(&hub);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(fake_hub_saw_range(&hub, 123456));
    CHECK(same_files(out, FOLDER));
    CHECK(!exists(partial_of(out, "", path, sizeof path)));
    /* genai_config.json and model.onnx were verified by the first run: not fetched again */
    CHECK_EQ_INT(hub.n_file, 3);
}

TEST(cut_connection_is_retried_within_one_pull) {
    fake_hub_reset(&hub);
    snprintf(hub.cut_path, sizeof hub.cut_path, "%s/tokenizer.json", FOLDER);
    hub.cut_after = 50000;
    hub.cut_times = 2; /* cut at 50000, then again 50000 bytes later */
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.max_retries = 1; /* each retry makes progress, so 1 is enough */
    char out[400];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    if (err.message[0]) printf("  %s\n", err.message);
    CHECK(fake_hub_saw_range(&hub, 50000));
    CHECK(fake_hub_saw_range(&hub, 100000));
    CHECK_EQ_INT(ev.retries, 2);
    CHECK(same_files(out, FOLDER));
}

TEST(checksum_mismatch_fails_and_deletes) {
    fake_hub_reset(&hub);
    hub.wrong_sha = true;
    events ev;
    onnxllm_pull_params p = params(&ev);
    char out[400], path[600];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_CHECKSUM);
    const fake_file *f = fake_hub_file(&hub, FOLDER "/model.onnx");
    CHECK(strstr(err.message, "model.onnx") != NULL);
    CHECK(strstr(err.message, "sha256 mismatch") != NULL);
    CHECK(f && strstr(err.message, f->sha256) != NULL); /* "got" = the real hash */
    CHECK(!exists(out));
    CHECK(!exists(partial_of(out, "model.onnx.part", path, sizeof path)));
    CHECK(!exists(partial_of(out, "model.onnx", path, sizeof path)));

    /* The git blob id of a small file is checked too. */
    fake_hub_reset(&hub);
    hub.wrong_git_oid = true;
    p = params(&ev);
    new_out(out, sizeof out);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_CHECKSUM);
    CHECK(strstr(err.message, "genai_config.json: git blob sha1 mismatch") != NULL);
    CHECK(!exists(out));
}

TEST(redirects_and_token_scope) {
    /* Same host: the token goes along. */
    fake_hub_reset(&hub);
    hub.redirect = 1;
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.token = "hf_secret";
    char out[400];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(same_files(out, FOLDER));
    CHECK_EQ_INT(hub.n_cdn, 5);
    CHECK_EQ_STR(hub.auth_tree, "Bearer hf_secret");
    CHECK_EQ_STR(hub.auth_file, "Bearer hf_secret");
    CHECK_EQ_STR(hub.auth_cdn, "Bearer hf_secret");

    /* Another host (localhost vs 127.0.0.1), like the Hub's CDN: no token there. */
    fake_hub_reset(&hub);
    hub.redirect = 2;
    p = params(&ev);
    p.token = "hf_secret";
    new_out(out, sizeof out);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    if (err.message[0]) printf("  %s\n", err.message);
    CHECK(same_files(out, FOLDER));
    CHECK_EQ_INT(hub.n_cdn, 5);
    CHECK_EQ_STR(hub.auth_file, "Bearer hf_secret");
    CHECK_EQ_STR(hub.auth_cdn, "");
}

TEST(missing_repo_and_file_errors) {
    fake_hub_reset(&hub);
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.repo = "org/missing";
    char out[400];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    CHECK(strstr(err.message, "repository not found: org/missing") != NULL);
    CHECK(strstr(err.message, "HF_TOKEN") != NULL);
    CHECK_EQ_INT(ev.retries, 0);
    CHECK(!exists(out));

    p = params(&ev);
    p.revision = "v9";
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    CHECK(strstr(err.message, "revision not found: v9 of org/model") != NULL);

    p = params(&ev);
    p.revision = FAKE_COMMIT; /* a commit id is used as is */
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK_EQ_INT(hub.n_revision, 1);

    p = params(&ev);
    p.repo = "not a repo";
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, "", NULL, &err), ONNXLLM_ERR_INVALID_ARGUMENT);
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull("../x", out, &p, &err), ONNXLLM_ERR_INVALID_ARGUMENT);
}

TEST(server_error_once_is_retried) {
    fake_hub_reset(&hub);
    hub.fail500_times = 1;
    events ev;
    onnxllm_pull_params p = params(&ev);
    char out[400];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK_EQ_INT(hub.n_500, 1);
    CHECK_EQ_INT(ev.retries, 1);
    CHECK(strstr(ev.last_retry, "HTTP 500") != NULL);
    CHECK(same_files(out, FOLDER));

    /* Always failing: bounded retries, then a clear error. */
    fake_hub_reset(&hub);
    hub.fail500_times = 100;
    p = params(&ev);
    p.max_retries = 2;
    new_out(out, sizeof out);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    CHECK(strstr(err.message, "HTTP 500") != NULL);
    CHECK(strstr(err.message, "gave up after 3 tries") != NULL);
    CHECK_EQ_INT(hub.n_500, 3);
    CHECK(!exists(out));
}

TEST(server_ignoring_range_restarts_the_file) {
    fake_hub_reset(&hub);
    snprintf(hub.cut_path, sizeof hub.cut_path, "%s/model.onnx.data", FOLDER);
    hub.cut_after = 200000;
    hub.cut_times = 1;
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.max_retries = 0;
    char out[400], path[600];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    CHECK_EQ_INT(fsize(partial_of(out, "model.onnx.data.part", path, sizeof path)), 200000);

    fake_hub_reset(&hub);
    hub.ignore_range = true;
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(fake_hub_saw_range(&hub, 200000)); /* asked, got a 200, started over */
    CHECK(same_files(out, FOLDER));
}

TEST(stale_part_longer_than_file_is_discarded) {
    fake_hub_reset(&hub);
    char out[400], path[600];
    new_out(out, sizeof out);
    snprintf(path, sizeof path, "%s/case%d", tmp_root, case_no);
    CHECK_EQ_INT(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s.partial", out);
    CHECK_EQ_INT(mkdir(path, 0755), 0);
    /* a .part bigger than the file, and a corrupt one of the right length */
    partial_of(out, "tokenizer.json.part", path, sizeof path);
    FILE *fp = fopen(path, "wb");
    for (int i = 0; i < 300000; i++) fputc('x', fp);
    fclose(fp);
    partial_of(out, "model.onnx.part", path, sizeof path);
    fp = fopen(path, "wb");
    for (int i = 0; i < 1000; i++) fputc('y', fp); /* wrong prefix: resumed, then the hash fails */
    fclose(fp);
    /* the staging folder says it holds this commit's pieces (else they are dropped unread) */
    partial_of(out, ".onnxllm-pull.commit", path, sizeof path);
    fp = fopen(path, "wb");
    fputs(FAKE_COMMIT, fp);
    fclose(fp);
    events ev;
    onnxllm_pull_params p = params(&ev);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_CHECKSUM);
    CHECK(strstr(err.message, "model.onnx: sha256 mismatch") != NULL);
    CHECK(!exists(partial_of(out, "model.onnx.part", path, sizeof path)));
    /* the next run starts that file over and completes */
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(same_files(out, FOLDER));
}

TEST(paginated_listing) {
    fake_hub_reset(&hub);
    hub.page_size = 2;
    events ev;
    onnxllm_pull_params p = params(&ev);
    char out[400];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK_EQ_INT(hub.n_tree, 3); /* 6 entries, 2 per page */
    CHECK(same_files(out, FOLDER));
}

TEST(unsafe_listing_is_rejected) {
    fake_hub_reset(&hub);
    hub.unsafe_path = true;
    events ev;
    onnxllm_pull_params p = params(&ev);
    char out[400], path[600];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(err.message, "unsafe file path") != NULL);
    CHECK(strstr(err.message, "../evil") != NULL);
    CHECK_EQ_INT(hub.n_file, 0);
    CHECK(!exists(partial_of(out, "", path, sizeof path)));
}

TEST(existing_other_folder_is_left_alone) {
    fake_hub_reset(&hub);
    char out[400], path[1000];
    new_out(out, sizeof out);
    snprintf(path, sizeof path, "mkdir -p '%s' && echo mine > '%s/genai_config.json'", out, out);
    CHECK_EQ_INT(system(path), 0);
    events ev;
    onnxllm_pull_params p = params(&ev);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_IO);
    CHECK(strstr(err.message, "exists but") != NULL);
    snprintf(path, sizeof path, "%s/genai_config.json", out);
    CHECK_EQ_INT(fsize(path), 5);
    CHECK_EQ_INT(hub.n_file, 0);
}

TEST(second_concurrent_pull_is_refused) {
    fake_hub_reset(&hub);
    char out[400], path[600];
    new_out(out, sizeof out);
    snprintf(path, sizeof path, "%s/case%d", tmp_root, case_no);
    CHECK_EQ_INT(mkdir(path, 0755), 0);
    CHECK_EQ_INT(mkdir(partial_of(out, "", path, sizeof path), 0755), 0);
    int fd = open(partial_of(out, ".onnxllm-pull.lock", path, sizeof path), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0); /* "another pull" holds the lock */
    events ev;
    onnxllm_pull_params p = params(&ev);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_IO);
    CHECK(strstr(err.message, "another onnxllm pull is writing") != NULL);
    CHECK_EQ_INT(hub.n_file, 0);
    close(fd); /* released: now it goes through */
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(same_files(out, FOLDER));
}

static int closed_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&sa, sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &len);
    close(s); /* nobody listens there now */
    return ntohs(sa.sin_port);
}

TEST(unreachable_endpoint_fails_at_once) {
    events ev;
    onnxllm_pull_params p = params(&ev);
    char endpoint[64], out[400];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", closed_port());
    p.endpoint = endpoint;
    p.retry_delay_ms = 10000; /* a retry would take 10 s: there must be none */
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    char want[128];
    snprintf(want, sizeof want, "cannot reach %s: ", endpoint);
    CHECK(strstr(err.message, want) == err.message);
    /* HF_ENDPOINT is already set to something else here: the message names it rather
     * than suggesting to set it */
    char want_ep[128];
    snprintf(want_ep, sizeof want_ep, "check your connection and HF_ENDPOINT (%s)", endpoint);
    CHECK(strstr(err.message, want_ep) != NULL);
    CHECK(strstr(err.message, "set HF_ENDPOINT") == NULL);
    CHECK_EQ_INT(ev.retries, 0);
    CHECK(!exists(out));
}

TEST(silent_endpoint_times_out_without_retries) {
    /* Accepts connections (the kernel's backlog) but never answers. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK_EQ_INT(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ_INT(listen(s, 4), 0);
    getsockname(s, (struct sockaddr *)&sa, &len);
    events ev;
    onnxllm_pull_params p = params(&ev);
    char endpoint[64], out[400];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    p.endpoint = endpoint;
    p.connect_timeout_s = 1; /* → 2 s for the whole metadata request */
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    double t0 = olm_monotonic_s();
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    double dt = olm_monotonic_s() - t0;
    close(s);
    CHECK(strstr(err.message, "cannot reach http://127.0.0.1:") == err.message);
    CHECK(strstr(err.message, "timed out") != NULL);
    CHECK_EQ_INT(ev.retries, 0);
    CHECK(dt < 10); /* bounded by the timeout, not by retries (a bound, not a benchmark) */
    CHECK(!exists(out));
}

TEST(cancel_keeps_partial_files) {
    fake_hub_reset(&hub);
    hub.slow_ms = 5;
    volatile int cancel = 0;
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.cancel = &cancel;
    ev.cancel_at_progress = &cancel;
    char out[400], path[600];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_CANCELLED);
    CHECK(strstr(err.message, "interrupted") != NULL);
    CHECK(!exists(out));
    long kept = fsize(partial_of(out, "model.onnx.part", path, sizeof path));
    CHECK(kept > 0 && kept < 300000);
    CHECK(exists(partial_of(out, "genai_config.json", path, sizeof path)));
}

/* ---- the CLI ------------------------------------------------------------------------ */

/* Runs `onnxllm pull ARGS` with HF_ENDPOINT=endpoint; stderr+stdout into *log. */

/* ---- issue 12: where the token goes, verification, staging of another commit ---------- */

/* #3: a "next" page on another host would get the token: refused (redirects were
 * covered, pagination was not) */
TEST(next_page_on_another_host_is_refused) {
    fake_hub_reset(&hub);
    hub.page_size = 2;
    hub.next_other_host = true;
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.token = "hf_secret";
    char out[400];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(err.message, "another host") != NULL);
    CHECK_EQ_INT(hub.n_tree, 1); /* the page on "localhost" was never asked for */
    CHECK_EQ_INT(hub.n_file, 0);
    CHECK(!exists(out));
}

/* #12: a file whose listing oid is missing, empty or malformed is not downloaded
 * (it was saved unverified, exit 0); an upper-case oid is a valid hash: verified. */
TEST(files_without_a_usable_hash_are_refused) {
    for (int mode = 1; mode <= 3; mode++) {
        fake_hub_reset(&hub);
        hub.oid_mode = mode;
        events ev;
        onnxllm_pull_params p = params(&ev);
        char out[400];
        new_out(out, sizeof out);
        onnxllm_error err = {0};
        CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_FORMAT);
        CHECK(strstr(err.message, "oid") != NULL);
        CHECK_EQ_INT(hub.n_file, 0);
        CHECK(!exists(out));
    }
    fake_hub_reset(&hub);
    hub.oid_mode = 4;
    events ev;
    onnxllm_pull_params p = params(&ev);
    char out[400];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(same_files(out, FOLDER));
    /* upper case and wrong: caught */
    fake_hub_reset(&hub);
    hub.oid_mode = 4;
    hub.wrong_git_oid = true;
    p = params(&ev);
    new_out(out, sizeof out);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_CHECKSUM);
}

/* #4: a file verified in OUT.partial by an interrupted pull of another commit, changed
 * upstream with the same size, was kept by its size (old bytes, new manifest hash) */
TEST(staging_of_another_commit_is_not_trusted) {
    fake_hub_reset(&hub);
    snprintf(hub.cut_path, sizeof hub.cut_path, "%s/model.onnx.data", FOLDER);
    hub.cut_after = 4096;
    hub.cut_times = 1;
    events ev;
    onnxllm_pull_params p = params(&ev);
    p.max_retries = 0;
    char out[400], path[600], mo[600];
    new_out(out, sizeof out);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_ERR_NETWORK);
    CHECK(exists(partial_of(out, "model.onnx", path, sizeof path))); /* verified, kept */
    CHECK(exists(partial_of(out, "model.onnx.data.part", path, sizeof path)));
    /* upstream: a new commit where model.onnx and model.onnx.data changed, same sizes */
    snprintf(mo, sizeof mo, "%s/model.onnx", FOLDER);
    fake_hub_change_file(&hub, mo);
    snprintf(mo, sizeof mo, "%s/model.onnx.data", FOLDER);
    fake_hub_change_file(&hub, mo);
    fake_hub_reset(&hub);
    snprintf(hub.commit, sizeof hub.commit, "%s", "b1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK(same_files(out, FOLDER)); /* the new bytes */
    CHECK(!fake_hub_saw_range(&hub, 4096)); /* the old commit's prefix was not resumed */
    /* up to date now, and a later pull agrees */
    fake_hub_reset(&hub);
    snprintf(hub.commit, sizeof hub.commit, "%s", "b1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
    p = params(&ev);
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    CHECK_EQ_INT(hub.n_file, 0);
    /* put the fake hub's files back as the other tests expect them */
    snprintf(mo, sizeof mo, "%s/model.onnx", FOLDER);
    fake_hub_change_file(&hub, mo);
    snprintf(mo, sizeof mo, "%s/model.onnx.data", FOLDER);
    fake_hub_change_file(&hub, mo);
}

static int run_cli(const char *endpoint, const char *args, char *log, size_t log_size) {
    char cmd[2000], logpath[400];
    snprintf(logpath, sizeof logpath, "%s/cli.log", tmp_root);
    snprintf(cmd, sizeof cmd, "HF_ENDPOINT='%s' HF_TOKEN= '%s' pull %s >'%s' 2>&1", endpoint, cli_path, args, logpath);
    int rc = system(cmd);
    log[0] = 0;
    FILE *fp = fopen(logpath, "r");
    if (fp) {
        size_t n = fread(log, 1, log_size - 1, fp);
        log[n] = 0;
        fclose(fp);
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(cli_help_list_and_usage_errors) {
    char log[8192];
    CHECK_EQ_INT(run_cli(hub.base, "--help", log, sizeof log), 0);
    CHECK(strstr(log, "usage: onnxllm pull [VARIANT] [-o DIR]") != NULL);
    CHECK_EQ_INT(run_cli(hub.base, "--list", log, sizeof log), 0);
    CHECK(strstr(log, "cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4") != NULL);
    CHECK_EQ_INT(run_cli(hub.base, "tpu", log, sizeof log), 2);
    CHECK(strstr(log, "unknown variant 'tpu' (known: cpu, gpu)") != NULL);
    CHECK_EQ_INT(run_cli(hub.base, "cpu gpu", log, sizeof log), 2);
    CHECK_EQ_INT(run_cli(hub.base, "--retries x", log, sizeof log), 2);
    CHECK_EQ_INT(run_cli(hub.base, "--bogus", log, sizeof log), 2);
}

TEST(cli_pulls_the_default_variant) {
    /* A second fake hub that serves the real repository and folder names. */
    fake_hub real;
    const onnxllm_pull_variant *v = onnxllm_pull_find_variant("cpu");
    CHECK_EQ_INT(fake_hub_start(&real, ONNXLLM_PULL_DEFAULT_REPO, v->folder), 0);
    char out[400], args[600], log[8192];
    new_out(out, sizeof out);
    snprintf(args, sizeof args, "-o '%s'", out);
    CHECK_EQ_INT(run_cli(real.base, args, log, sizeof log), 0);
    CHECK(strstr(log, "pull: 5 files, 1.3 MB") != NULL);
    CHECK(strstr(log, "model.onnx.data 800.0 kB: sha256 ok") != NULL);
    CHECK(strstr(log, "downloaded 5 files") != NULL);
    CHECK(strstr(log, "\r") == NULL); /* not a terminal: no bar redraws */
    char path[700];
    snprintf(path, sizeof path, "%s/model.onnx.data", out);
    CHECK_EQ_INT(fsize(path), 800000);
    /* again: up to date */
    CHECK_EQ_INT(run_cli(real.base, args, log, sizeof log), 0);
    CHECK(strstr(log, "up to date") != NULL);
    /* --quiet prints nothing on success */
    new_out(out, sizeof out);
    snprintf(args, sizeof args, "-q cpu -o '%s'", out);
    CHECK_EQ_INT(run_cli(real.base, args, log, sizeof log), 0);
    CHECK_EQ_STR(log, "");
    fake_hub_stop(&real);
}

/* `onnxllm list` / `onnxllm rm` (and onnxllm_pull_info / _remove under them): a pulled
 * folder is listed with its repository, folder, commit and size and can be removed; a
 * folder pull did not make, or one holding a file of the user's, is never deleted. */
static int run_tool(const char *args, char *log, size_t log_size) {
    char cmd[2000], logpath[400];
    snprintf(logpath, sizeof logpath, "%s/tool.log", tmp_root);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>&1", cli_path, args, logpath);
    int rc = system(cmd);
    log[0] = 0;
    FILE *fp = fopen(logpath, "r");
    if (fp) {
        size_t n = fread(log, 1, log_size - 1, fp);
        log[n] = 0;
        fclose(fp);
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(list_and_rm_pulled_folders) {
    fake_hub_reset(&hub);
    events ev;
    onnxllm_pull_params p = params(&ev);
    char root[400], out[600], path[700], args[1600], log[8192];
    snprintf(root, sizeof root, "%s/listing", tmp_root);
    mkdir(root, 0755);
    snprintf(out, sizeof out, "%s/pulled", root);
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_pull(FOLDER, out, &p, &err), ONNXLLM_OK);
    onnxllm_pulled info;
    CHECK_EQ_INT(onnxllm_pull_info(out, &info, &err), ONNXLLM_OK);
    CHECK_EQ_STR(info.commit, FAKE_COMMIT);
    CHECK_EQ_STR(info.revision, "main");
    CHECK_EQ_INT((int)info.n_files, 5);
    CHECK(info.bytes > 1000000 && !info.partial);
    /* a model folder of the user's (not pulled) and an interrupted pull */
    snprintf(path, sizeof path, "%s/mine", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/mine/genai_config.json", root);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/other.partial", root);
    mkdir(path, 0755);
    snprintf(args, sizeof args, "list '%s'", root);
    CHECK_EQ_INT(run_tool(args, log, sizeof log), 0);
    CHECK(strstr(log, "/pulled") && strstr(log, FAKE_COMMIT) == NULL); /* the commit is shortened */
    char want[200];
    snprintf(want, sizeof want, "%s@main (%.12s), 5 files, 1.", FOLDER, FAKE_COMMIT);
    CHECK(strstr(log, want) != NULL);
    CHECK(strstr(log, "/mine") && strstr(log, "not pulled"));
    CHECK(strstr(log, "/other.partial") && strstr(log, "interrupted pull"));
    /* rm refuses what pull did not make, and a pulled folder holding a file of the user's */
    snprintf(args, sizeof args, "rm '%s/mine'", root);
    CHECK_EQ_INT(run_tool(args, log, sizeof log), 1);
    CHECK(strstr(log, "not a folder made by onnxllm pull") != NULL);
    snprintf(path, sizeof path, "%s/mine/genai_config.json", root);
    CHECK(exists(path));
    snprintf(path, sizeof path, "%s/notes.txt", out);
    f = fopen(path, "w");
    if (f) fclose(f);
    snprintf(args, sizeof args, "rm '%s'", out);
    CHECK_EQ_INT(run_tool(args, log, sizeof log), 1);
    CHECK(strstr(log, "holds notes.txt, which onnxllm pull did not write") != NULL);
    CHECK(exists(out));
    unlink(path);
    /* now it goes, with its staging folder */
    snprintf(path, sizeof path, "%s.partial", out);
    mkdir(path, 0755);
    CHECK_EQ_INT(run_tool(args, log, sizeof log), 0);
    CHECK(strstr(log, "removed ") != NULL);
    CHECK(!exists(out));
    CHECK(!exists(path));
    CHECK_EQ_INT(run_tool("rm", log, sizeof log), 2);
    CHECK_EQ_INT(run_tool("list --help", log, sizeof log), 0);
    CHECK(strstr(log, "exit codes") != NULL);
}

TEST(cli_unreachable_and_not_found_exit_1) {
    char endpoint[64], log[8192], out[400], args[600];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", closed_port());
    new_out(out, sizeof out);
    snprintf(args, sizeof args, "-o '%s'", out);
    CHECK_EQ_INT(run_cli(endpoint, args, log, sizeof log), 1);
    CHECK(strstr(log, "onnxllm pull: cannot reach http://127.0.0.1:") != NULL);
    CHECK(strstr(log, "check your connection and HF_ENDPOINT (http://127.0.0.1:") != NULL);
    /* hub serves org/model only: the default repository is "not found" there */
    CHECK_EQ_INT(run_cli(hub.base, args, log, sizeof log), 1);
    CHECK(strstr(log, "repository not found: microsoft/Phi-4-mini-instruct-onnx") != NULL);
    CHECK(!exists(out));
    setenv("HF_HUB_OFFLINE", "1", 1);
    int n_before = hub.n_requests;
    CHECK(n_before > 0); /* the runs above did reach the hub */
    CHECK_EQ_INT(run_cli(hub.base, args, log, sizeof log), 1);
    unsetenv("HF_HUB_OFFLINE");
    CHECK(strstr(log, "HF_HUB_OFFLINE is set") != NULL);
    CHECK_EQ_INT(hub.n_requests, n_before);
}

TEST(cli_ctrl_c_exits_130_and_keeps_parts) {
    fake_hub_reset(&hub);
    hub.slow_ms = 20; /* ~1.3 MB in 16 kB blocks: several seconds unless interrupted */
    char out[400], part[600], endpoint_env[128], errlog[400];
    new_out(out, sizeof out);
    snprintf(errlog, sizeof errlog, "%s/ctrl-c.log", tmp_root);
    snprintf(part, sizeof part, "%s.partial/model.onnx.part", out);
    snprintf(endpoint_env, sizeof endpoint_env, "HF_ENDPOINT=%s", hub.base);
    pid_t pid = fork();
    if (pid == 0) {
        putenv(endpoint_env);
        if (!freopen(errlog, "w", stderr)) _exit(126);
        execl(cli_path, cli_path, "pull", "--repo", REPO, "--folder", FOLDER, "-o", out, "-q", (char *)NULL);
        _exit(127);
    }
    /* wait (bounded) until the download is under way */
    for (int i = 0; i < 500 && fsize(part) <= 0; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK(fsize(part) > 0);
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 130);
    CHECK(fsize(part) > 0);
    CHECK(!exists(out));
    char log[2000] = "";
    FILE *fp = fopen(errlog, "r");
    if (fp) {
        log[fread(log, 1, sizeof log - 1, fp)] = 0;
        fclose(fp);
    }
    CHECK(strstr(log, "onnxllm pull: interrupted; partial files kept in ") != NULL);
    hub.slow_ms = 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_pull PATH_TO_ONNXLLM_CLI\n");
        return 2;
    }
    cli_path = argv[1];
    snprintf(tmp_root, sizeof tmp_root, "/tmp/onnxllm-test-pull-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    if (fake_hub_start(&hub, REPO, FOLDER) != 0) {
        fprintf(stderr, "cannot start the fake hub on 127.0.0.1\n");
        return 1;
    }
    RUN(digests_match_known_vectors);
    RUN(variants_and_urls);
    RUN(progress_formatting);
    RUN(full_pull_then_up_to_date);
    RUN(interrupted_pull_leaves_part_and_resumes_with_range);
    RUN(cut_connection_is_retried_within_one_pull);
    RUN(checksum_mismatch_fails_and_deletes);
    RUN(redirects_and_token_scope);
    RUN(missing_repo_and_file_errors);
    RUN(server_error_once_is_retried);
    RUN(server_ignoring_range_restarts_the_file);
    RUN(stale_part_longer_than_file_is_discarded);
    RUN(paginated_listing);
    RUN(unsafe_listing_is_rejected);
    RUN(existing_other_folder_is_left_alone);
    RUN(second_concurrent_pull_is_refused);
    RUN(unreachable_endpoint_fails_at_once);
    RUN(silent_endpoint_times_out_without_retries);
    RUN(cancel_keeps_partial_files);
    RUN(next_page_on_another_host_is_refused);
    RUN(files_without_a_usable_hash_are_refused);
    RUN(staging_of_another_commit_is_not_trusted);
    RUN(cli_help_list_and_usage_errors);
    RUN(cli_pulls_the_default_variant);
    RUN(cli_unreachable_and_not_found_exit_1);
    RUN(list_and_rm_pulled_folders);
    RUN(cli_ctrl_c_exits_130_and_keeps_parts);
    fake_hub_stop(&hub);
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return test_summary("pull");
}
