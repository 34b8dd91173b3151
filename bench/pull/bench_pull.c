/* bench_pull.c — what `onnxllm pull` costs on top of the transfer itself.
 *
 * Serves a big file from the tests' fake Hub on loopback (so the network is not the
 * limit) and times, in one run:
 *   raw      libcurl GET of the file into a discarding callback (the transfer alone)
 *   sha256   OpenSSL sha256 of the same bytes in memory
 *   pull     onnxllm_pull of the folder: listing, transfer, incremental sha256,
 *            writes, fsync, rename
 *   resume   a pull cut at 75% then resumed: re-hash of the .part + the last 25%
 * Usage: bench_pull [MB]   (default 256) */
#include <curl/curl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_hub.h"
#include "pull/pull.h"

static size_t discard(char *d, size_t s, size_t n, void *u) {
    (void)d;
    *(size_t *)u += s * n;
    return s * n;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 256;
    size_t size = mb << 20;
    fake_hub hub;
    if (fake_hub_start(&hub, "bench/repo", "f") || fake_hub_add_file(&hub, "f/big.bin", size)) {
        fprintf(stderr, "cannot start the fake hub\n");
        return 1;
    }
    char tmp[] = "/tmp/onnxllm-bench-pull-XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    double mbs = (double)size / 1e6;

    /* raw transfer */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "%s/bench/repo/resolve/main/f/big.bin", hub.base);
    size_t got = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    double t0 = olm_monotonic_s();
    curl_easy_perform(c);
    double t_raw = olm_monotonic_s() - t0;
    curl_easy_cleanup(c);
    curl_global_cleanup();

    /* sha256 alone */
    const fake_file *f = fake_hub_file(&hub, "f/big.bin");
    char hex[65];
    t0 = olm_monotonic_s();
    olm_sha256_hex(f->data, f->size, hex);
    double t_sha = olm_monotonic_s() - t0;

    /* full pull */
    onnxllm_pull_params p = onnxllm_pull_default_params();
    p.endpoint = hub.base;
    p.repo = "bench/repo";
    p.token = NULL;
    p.retry_delay_ms = 1;
    char out[300];
    onnxllm_error err = {0};
    snprintf(out, sizeof out, "%s/a", tmp);
    t0 = olm_monotonic_s();
    onnxllm_status st = onnxllm_pull("f", out, &p, &err);
    double t_pull = olm_monotonic_s() - t0;
    if (st != ONNXLLM_OK) fprintf(stderr, "pull failed: %s\n", err.message);

    /* cut at 75%, then resume */
    snprintf(hub.cut_path, sizeof hub.cut_path, "f/big.bin");
    hub.cut_after = (long)(size / 4 * 3);
    hub.cut_times = 1;
    p.max_retries = 0;
    snprintf(out, sizeof out, "%s/b", tmp);
    onnxllm_pull("f", out, &p, &err);
    p.max_retries = 5;
    t0 = olm_monotonic_s();
    st = onnxllm_pull("f", out, &p, &err);
    double t_resume = olm_monotonic_s() - t0;
    if (st != ONNXLLM_OK) fprintf(stderr, "resume failed: %s\n", err.message);

    printf("file: %zu MB (%zu bytes received by the raw GET)\n", mb, got);
    printf("raw libcurl GET, discarded : %7.3f s  %7.1f MB/s\n", t_raw, mbs / t_raw);
    printf("sha256 in memory           : %7.3f s  %7.1f MB/s\n", t_sha, mbs / t_sha);
    printf("onnxllm_pull (hash+disk)   : %7.3f s  %7.1f MB/s  (%.2fx the raw GET time)\n", t_pull, mbs / t_pull,
           t_pull / t_raw);
    printf("resume at 75%% (rehash+25%%) : %7.3f s\n", t_resume);
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    fake_hub_stop(&hub);
    return 0;
}
