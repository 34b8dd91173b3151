/* pull.c — a whole folder: list it, download each file into OUT.partial/, and only
 * when every file is verified rename OUT.partial to OUT (one atomic rename), with a
 * manifest (.onnxllm-pull.json) saying what was pulled from where. An interrupted or
 * failed pull leaves OUT.partial (resumed next time) and never a half-filled OUT. */
#include "pull/pull.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "common/error.h"
#include "common/fileio.h"
#include "common/fsutil.h"

#define MANIFEST_NAME ".onnxllm-pull.json"
#define LOCK_NAME ".onnxllm-pull.lock"
#define STAGING_COMMIT_NAME ".onnxllm-pull.commit"

/* OUT.partial holds pieces of one commit: .part files are prefixes of that commit's
 * files and would mix two versions if resumed under another. When the staging folder
 * was started for another commit (or by an older onnxllm that did not say), its .part
 * files are dropped; complete files are hashed again before use (download.c). */
static onnxllm_status tie_staging_to_commit(const char *staging, const olm_hub_listing *l, onnxllm_error *err) {
    char *marker = olm_path_join(staging, STAGING_COMMIT_NAME);
    if (!marker) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    char was[80] = "";
    FILE *f = fopen(marker, "r");
    if (f) {
        if (!fgets(was, sizeof was, f)) was[0] = 0;
        fclose(f);
    }
    onnxllm_status st = ONNXLLM_OK;
    if (strcmp(was, l->commit)) {
        for (size_t i = 0; i < l->n; i++) {
            char *p = malloc(strlen(staging) + strlen(l->files[i].rel) + 8);
            if (!p) continue;
            sprintf(p, "%s/%s.part", staging, l->files[i].rel);
            unlink(p);
            free(p);
        }
        f = fopen(marker, "w");
        bool ok = f && fputs(l->commit, f) >= 0;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot write: %s", marker, strerror(errno));
    }
    free(marker);
    return st;
}

onnxllm_pull_params onnxllm_pull_default_params(void) {
    onnxllm_pull_params p;
    memset(&p, 0, sizeof p);
    const char *e = getenv("HF_ENDPOINT");
    p.endpoint = e && *e ? e : ONNXLLM_PULL_DEFAULT_ENDPOINT;
    const char *t = getenv("HF_TOKEN");
    if (!t || !*t) t = getenv("HUGGING_FACE_HUB_TOKEN");
    p.token = t && *t ? t : NULL;
    p.repo = ONNXLLM_PULL_DEFAULT_REPO;
    p.revision = "main";
    p.max_retries = 5;
    p.retry_delay_ms = 1000;
    p.connect_timeout_s = 10;
    p.stall_timeout_s = 60;
    p.check_disk_space = true;
    return p;
}

double olm_monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool valid_repo(const char *r) {
    if (!r || !*r || r[0] == '/' || strstr(r, "..")) return false;
    int slashes = 0;
    for (const char *s = r; *s; s++) {
        char c = *s;
        if (c == '/') slashes++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_' || c == '.'))
            return false;
    }
    return slashes <= 1 && r[strlen(r) - 1] != '/';
}

static bool dir_is_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return false;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

/* Size of dir/rel, or -1. */
static int64_t file_size_at(const char *dir, const char *rel, const char *suffix) {
    char *p = malloc(strlen(dir) + strlen(rel) + strlen(suffix) + 2);
    if (!p) return -1;
    sprintf(p, "%s/%s%s", dir, rel, suffix);
    struct stat sb;
    int64_t r = stat(p, &sb) == 0 && S_ISREG(sb.st_mode) ? (int64_t)sb.st_size : -1;
    free(p);
    return r;
}

static onnxllm_status write_manifest(const char *staging, const char *folder, const char *rev_name,
                                     const onnxllm_pull_params *p, const olm_hub_listing *l, onnxllm_error *err) {
    cJSON *m = cJSON_CreateObject(), *files = cJSON_CreateArray();
    char *path = olm_path_join(staging, MANIFEST_NAME);
    char *text = NULL;
    onnxllm_status st = ONNXLLM_OK;
    if (!m || !files || !path) {
        cJSON_Delete(files);
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    cJSON_AddStringToObject(m, "endpoint", p->endpoint);
    cJSON_AddStringToObject(m, "repo", p->repo);
    cJSON_AddStringToObject(m, "revision", rev_name);
    cJSON_AddStringToObject(m, "commit", l->commit);
    cJSON_AddStringToObject(m, "folder", folder);
    cJSON_AddItemToObject(m, "files", files);
    for (size_t i = 0; i < l->n; i++) {
        cJSON *f = cJSON_CreateObject();
        if (!f) continue;
        cJSON_AddStringToObject(f, "path", l->files[i].rel);
        cJSON_AddNumberToObject(f, "size", (double)l->files[i].size);
        if (l->files[i].sha256[0]) cJSON_AddStringToObject(f, "sha256", l->files[i].sha256);
        if (l->files[i].git_oid[0]) cJSON_AddStringToObject(f, "git_oid", l->files[i].git_oid);
        cJSON_AddItemToArray(files, f);
    }
    text = cJSON_Print(m);
    FILE *fp = text ? fopen(path, "w") : NULL;
    if (!fp || fputs(text, fp) < 0 || fputc('\n', fp) == EOF || fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        if (fp) fclose(fp);
        goto done;
    }
    if (fclose(fp) != 0) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
done:
    free(text);
    free(path);
    cJSON_Delete(m);
    return st;
}

/* The hash the manifest of an earlier pull records for `rel` ("" if none). */
static const char *manifest_hash(const cJSON *manifest, const char *rel, const char *key) {
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(manifest, "files"), *f;
    cJSON_ArrayForEach(f, files) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(f, key);
        if (cJSON_IsString(path) && !strcmp(path->valuestring, rel)) return cJSON_IsString(h) ? h->valuestring : "";
    }
    return "";
}

/* True when the manifest lists `rel` (or rel is the manifest itself). */
static bool manifest_has(const cJSON *manifest, const char *rel) {
    if (!strcmp(rel, MANIFEST_NAME)) return true;
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(manifest, "files"), *f;
    cJSON_ArrayForEach(f, files) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
        if (cJSON_IsString(path) && !strcmp(path->valuestring, rel)) return true;
    }
    return false;
}

/* Finds a file under dir (relative name in `found`) that the manifest does not list:
 * an update replaces the whole folder, so it must hold nothing of the user's. */
static bool foreign_file(const char *dir, const char *prefix, const cJSON *manifest, char *found, size_t n) {
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    bool hit = false;
    while (!hit && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char rel[1024], path[2048];
        snprintf(rel, sizeof rel, "%s%s", prefix, e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            char sub[1100];
            snprintf(sub, sizeof sub, "%s/", rel);
            hit = foreign_file(path, sub, manifest, found, n);
        } else if (!manifest_has(manifest, rel)) {
            snprintf(found, n, "%s", rel);
            hit = true;
        }
    }
    closedir(d);
    return hit;
}

typedef enum out_state { OUT_ABSENT, OUT_COMPLETE, OUT_OUTDATED } out_state;

/* What OUT holds. COMPLETE: every listed file with its size and, when our manifest is
 * there, the hashes the listing gives now (a same-size upstream change is caught without
 * re-hashing gigabytes). OUTDATED: an earlier pull of the same repository folder (our
 * manifest, nothing else in it) that differs: it is updated. A folder that is not ours
 * is never touched. *manifest (caller frees) is set for OUTDATED. */
static onnxllm_status check_existing(const char *out, const char *folder, const onnxllm_pull_params *p,
                                     const olm_hub_listing *l, out_state *state, const char **how,
                                     cJSON **manifest, onnxllm_error *err) {
    *state = OUT_ABSENT;
    *how = "";
    *manifest = NULL;
    struct stat sb;
    if (stat(out, &sb) != 0) return ONNXLLM_OK;
    if (!S_ISDIR(sb.st_mode)) return olm_fail(err, ONNXLLM_ERR_IO, "%s exists and is not a folder", out);
    if (dir_is_empty(out)) return ONNXLLM_OK;

    char *mpath = olm_path_join(out, MANIFEST_NAME);
    cJSON *m = NULL;
    onnxllm_error ignored;
    if (!mpath) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (stat(mpath, &sb) != 0 || olm_load_json_file(mpath, &m, &ignored) != ONNXLLM_OK) m = NULL;
    free(mpath);

    if (m) {
        const cJSON *repo = cJSON_GetObjectItemCaseSensitive(m, "repo");
        const cJSON *mfolder = cJSON_GetObjectItemCaseSensitive(m, "folder");
        if (!cJSON_IsString(repo) || !cJSON_IsString(mfolder) || strcmp(repo->valuestring, p->repo) ||
            strcmp(mfolder->valuestring, folder)) {
            olm_fail(err, ONNXLLM_ERR_IO, "%s holds %s/%s, not %s/%s; choose another -o", out,
                     cJSON_IsString(repo) ? repo->valuestring : "?", cJSON_IsString(mfolder) ? mfolder->valuestring : "?",
                     p->repo, folder);
            cJSON_Delete(m);
            return ONNXLLM_ERR_IO;
        }
    }
    bool same = true;
    for (size_t i = 0; i < l->n && same; i++) {
        const olm_hub_file *f = &l->files[i];
        int64_t s = file_size_at(out, f->rel, "");
        if (s < 0 || (uint64_t)s != f->size) {
            if (!m) {
                return s < 0 ? olm_fail(err, ONNXLLM_ERR_IO,
                                        "%s exists but has no %s: it is not this model; remove it or choose another -o",
                                        out, f->rel)
                             : olm_fail(err, ONNXLLM_ERR_IO,
                                        "%s exists but its %s has %" PRId64 " bytes, not %" PRIu64
                                        "; remove it or choose another -o",
                                        out, f->rel, s, f->size);
            }
            same = false;
        } else if (m) {
            const char *want = f->sha256[0] ? f->sha256 : f->git_oid;
            if (want[0] && strcmp(manifest_hash(m, f->rel, f->sha256[0] ? "sha256" : "git_oid"), want)) same = false;
        }
    }
    if (same) {
        *how = m ? "sizes and hashes match the manifest" : "sizes match (no manifest: hashes not checked)";
        *state = OUT_COMPLETE;
        cJSON_Delete(m);
        return ONNXLLM_OK;
    }
    if (lstat(out, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        olm_fail(err, ONNXLLM_ERR_IO, "%s holds an older version but is a symbolic link; pull into its target instead",
                 out);
        cJSON_Delete(m);
        return ONNXLLM_ERR_IO;
    }
    char found[1024];
    if (foreign_file(out, "", m, found, sizeof found)) {
        olm_fail(err, ONNXLLM_ERR_IO,
                 "%s holds an older version to update, but also %s, which the pull did not make; move it away "
                 "or choose another -o",
                 out, found);
        cJSON_Delete(m);
        return ONNXLLM_ERR_IO;
    }
    *state = OUT_OUTDATED;
    *manifest = m;
    return ONNXLLM_OK;
}

/* Update: files that did not change are hard-linked from the old version into the
 * staging folder instead of being downloaded again (a failed link just downloads). */
static void reuse_unchanged(const char *out, const char *staging, const olm_hub_listing *l, const cJSON *m) {
    for (size_t i = 0; i < l->n; i++) {
        const olm_hub_file *f = &l->files[i];
        const char *want = f->sha256[0] ? f->sha256 : f->git_oid;
        if (!want[0] || strcmp(manifest_hash(m, f->rel, f->sha256[0] ? "sha256" : "git_oid"), want)) continue;
        int64_t s = file_size_at(out, f->rel, "");
        if (s < 0 || (uint64_t)s != f->size || file_size_at(staging, f->rel, "") >= 0) continue;
        char from[2048], to[2048];
        snprintf(from, sizeof from, "%s/%s", out, f->rel);
        snprintf(to, sizeof to, "%s/%s", staging, f->rel);
        char *slash = strrchr(to, '/');
        *slash = 0;
        bool made = olm_mkdir_p(to, NULL) == ONNXLLM_OK;
        *slash = '/';
        if (!made || link(from, to) != 0) continue;
    }
}

onnxllm_status onnxllm_pull(const char *folder, const char *out_dir, const onnxllm_pull_params *params,
                            onnxllm_error *err) {
    onnxllm_pull_params p = params ? *params : onnxllm_pull_default_params();
    if (!p.endpoint || !*p.endpoint) p.endpoint = ONNXLLM_PULL_DEFAULT_ENDPOINT;
    if (!p.repo || !*p.repo) p.repo = ONNXLLM_PULL_DEFAULT_REPO;
    if (!p.revision || !*p.revision) p.revision = "main";
    if (p.max_retries < 0) p.max_retries = 0;
    if (!folder) folder = "";
    if (!out_dir || !*out_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no output folder given");
    if (!valid_repo(p.repo))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "invalid repository id \"%s\" (expected OWNER/NAME)", p.repo);
    if (strncmp(p.endpoint, "http://", 7) && strncmp(p.endpoint, "https://", 8))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "invalid endpoint \"%s\" (expected http:// or https://)",
                        p.endpoint);
    /* The folder without leading/trailing slashes: how the listing and manifest name it. */
    char nfolder[1024];
    {
        const char *f = folder;
        while (*f == '/') f++;
        if (strlen(f) >= sizeof nfolder)
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "folder name too long: \"%s\"", folder);
        snprintf(nfolder, sizeof nfolder, "%s", f);
        size_t n = strlen(nfolder);
        while (n && nfolder[n - 1] == '/') nfolder[--n] = 0;
        if (n && !olm_path_is_inside(nfolder))
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "invalid folder \"%s\"", folder);
        folder = nfolder;
    }

    size_t ol = strlen(out_dir);
    while (ol > 1 && out_dir[ol - 1] == '/') ol--;
    char *out = malloc(ol + 1), *staging = malloc(ol + sizeof ".partial"), *lock_path = NULL;
    olm_http h = {0};
    olm_hub_listing l = {0};
    int lock_fd = -1;
    cJSON *old_manifest = NULL;
    onnxllm_status st = ONNXLLM_OK;
    if (!out || !staging) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    memcpy(out, out_dir, ol);
    out[ol] = 0;
    sprintf(staging, "%s.partial", out);

    if ((st = olm_http_init(&h, &p, err)) != ONNXLLM_OK) goto done;
    /* Pin the branch to a commit: every later request names the commit. */
    char commit[41];
    const char *rev_name = p.revision;
    if ((st = olm_hub_resolve_commit(&h, commit, err)) != ONNXLLM_OK) goto done;
    p.revision = commit;
    if ((st = olm_hub_list(&h, folder, &l, err)) != ONNXLLM_OK) goto done;
    snprintf(l.commit, sizeof l.commit, "%s", commit);

    olm_pull_state ps = {.http = &h, .p = &p};
    ps.prog.file_count = (int)l.n;
    ps.prog.total_size = l.total_size;

    out_state state;
    const char *how = "";
    if ((st = check_existing(out, folder, &p, &l, &state, &how, &old_manifest, err)) != ONNXLLM_OK) goto done;
    if (state == OUT_COMPLETE) {
        ps.prog.total_done = l.total_size;
        char msg[ONNXLLM_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "up to date: %s holds all %zu files (%s)", out, l.n, how);
        olm_pull_report(&ps, ONNXLLM_PULL_DONE, msg);
        goto done;
    }

    if ((st = olm_mkdir_p(staging, err)) != ONNXLLM_OK) goto done;
    /* One pull per folder at a time: a second one would write the same .part files. */
    lock_path = olm_path_join(staging, LOCK_NAME);
    lock_fd = lock_path ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (lock_fd < 0) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create: %s", lock_path ? lock_path : staging, strerror(errno));
        goto done;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "another onnxllm pull is writing %s; wait for it or stop it", staging);
        goto done;
    }

    if ((st = tie_staging_to_commit(staging, &l, err)) != ONNXLLM_OK) goto done;
    if (state == OUT_OUTDATED) reuse_unchanged(out, staging, &l, old_manifest);

    /* What is already there (verified files, .part prefixes) and what is left. */
    uint64_t present = 0;
    for (size_t i = 0; i < l.n; i++) {
        int64_t s = file_size_at(staging, l.files[i].rel, "");
        if (s < 0 || (uint64_t)s != l.files[i].size) s = file_size_at(staging, l.files[i].rel, ".part");
        if (s > 0) present += (uint64_t)s < l.files[i].size ? (uint64_t)s : l.files[i].size;
    }
    if (p.check_disk_space) {
        struct statvfs vfs;
        uint64_t need = l.total_size - present + (16u << 20);
        if (statvfs(staging, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < need) {
            char a[32], b[32];
            olm_fmt_bytes(need, a, sizeof a);
            olm_fmt_bytes((uint64_t)vfs.f_bavail * vfs.f_frsize, b, sizeof b);
            st = olm_fail(err, ONNXLLM_ERR_IO, "not enough disk space for %s: %s needed, %s free", staging, a, b);
            goto done;
        }
    }
    ps.prog.total_done = present;
    olm_pull_report(&ps, ONNXLLM_PULL_LISTED, l.commit[0] ? l.commit : NULL);
    ps.prog.total_done = 0;

    for (size_t i = 0; i < l.n; i++) {
        ps.prog.file_index = (int)i + 1;
        if ((st = olm_download_file(&ps, &l.files[i], staging, err)) != ONNXLLM_OK) goto done;
        ps.prog.total_done = ps.done_before_file + l.files[i].size;
    }
    ps.prog.file = NULL;
    ps.prog.file_index = 0;

    if ((st = write_manifest(staging, folder, rev_name, &p, &l, err)) != ONNXLLM_OK) goto done;
    {
        char *marker = olm_path_join(staging, STAGING_COMMIT_NAME);
        if (marker) unlink(marker);
        free(marker);
    }
    unlink(lock_path);
    close(lock_fd);
    lock_fd = -1;
    olm_fsync_dir(staging);
    /* The one step that makes OUT appear, complete: an update swaps the new version
     * with the old one (then deletes it); an empty OUT is replaced. */
    if ((st = olm_replace_dir(staging, out, false, err)) != ONNXLLM_OK) goto done;
    {
        char msg[ONNXLLM_ERROR_MESSAGE_MAX], sz[32];
        olm_fmt_bytes(l.total_size, sz, sizeof sz);
        snprintf(msg, sizeof msg, "%s %zu files (%s) %s %s", state == OUT_OUTDATED ? "updated to" : "downloaded", l.n,
                 sz, state == OUT_OUTDATED ? "in" : "into", out);
        ps.prog.total_done = l.total_size;
        olm_pull_report(&ps, ONNXLLM_PULL_DONE, msg);
    }

done:
    cJSON_Delete(old_manifest);
    if (lock_fd >= 0) close(lock_fd);
    free(lock_path);
    olm_hub_listing_free(&l);
    olm_http_free(&h);
    free(staging);
    free(out);
    return st;
}

/* ---- folders made by pull: what they hold, removing them (onnxllm list / rm) ---------- */

static void copy_str(const cJSON *o, const char *key, char *out, size_t n) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static onnxllm_status load_manifest(const char *dir, cJSON **out, onnxllm_error *err) {
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0) return olm_fail(err, ONNXLLM_ERR_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return olm_fail(err, ONNXLLM_ERR_IO, "%s: not a folder", dir);
    char *path = olm_path_join(dir, MANIFEST_NAME);
    if (!path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status st = ONNXLLM_OK;
    if (access(path, F_OK) != 0)
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: not a folder made by onnxllm pull (no %s)", dir, MANIFEST_NAME);
    else
        st = olm_load_json_file(path, out, err);
    free(path);
    if (!st && !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s/%s: not a pull manifest", dir, MANIFEST_NAME);
    }
    return st;
}

onnxllm_status onnxllm_pull_info(const char *dir, onnxllm_pulled *out, onnxllm_error *err) {
    memset(out, 0, sizeof *out);
    if (!dir || !*dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no folder given");
    cJSON *m = NULL;
    onnxllm_status st = load_manifest(dir, &m, err);
    if (st) return st;
    copy_str(m, "endpoint", out->endpoint, sizeof out->endpoint);
    copy_str(m, "repo", out->repo, sizeof out->repo);
    copy_str(m, "folder", out->folder, sizeof out->folder);
    copy_str(m, "revision", out->revision, sizeof out->revision);
    copy_str(m, "commit", out->commit, sizeof out->commit);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(m, "files"), *f;
    cJSON_ArrayForEach(f, files) {
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
        out->n_files++;
        if (cJSON_IsNumber(size) && size->valuedouble > 0) out->bytes += (uint64_t)size->valuedouble;
    }
    cJSON_Delete(m);
    size_t n = strlen(dir) + sizeof ".partial";
    char *staging = malloc(n);
    if (staging) {
        snprintf(staging, n, "%s.partial", dir);
        struct stat sb;
        out->partial = stat(staging, &sb) == 0 && S_ISDIR(sb.st_mode);
        free(staging);
    }
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_pull_remove(const char *dir, onnxllm_error *err) {
    if (!dir || !*dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no folder given");
    struct stat sb;
    if (lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode))
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: a symbolic link; remove the folder it points to instead", dir);
    cJSON *m = NULL;
    onnxllm_status st = load_manifest(dir, &m, err);
    if (st) return st;
    char found[1024] = "";
    bool foreign = foreign_file(dir, "", m, found, sizeof found);
    cJSON_Delete(m);
    if (foreign)
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: holds %s, which onnxllm pull did not write: not removed", dir, found);
    size_t n = strlen(dir) + sizeof ".partial";
    char *staging = malloc(n);
    if (!staging) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    snprintf(staging, n, "%s.partial", dir);
    olm_remove_tree(dir);
    if (lstat(staging, &sb) == 0 && S_ISDIR(sb.st_mode)) olm_remove_tree(staging);
    free(staging);
    if (lstat(dir, &sb) == 0) return olm_fail(err, ONNXLLM_ERR_IO, "%s: could not remove everything in it", dir);
    return ONNXLLM_OK;
}
