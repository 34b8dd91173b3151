/* fuzz_hub.c — libFuzzer target for the Hub's tree listing (ctest fuzz_hub). Input:
 * byte 0 picks the folder prefix, the rest is one listing page (JSON). The parser must
 * accept or fail with one line; accepted files must be safe relative paths inside the
 * folder, with a lowercase hash and a size the listing can hold. */
#include "pull/pull.h"
#include "common/fsutil.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char *const prefixes[] = {"", "cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/", "gpu/", "a/"};
    const char *prefix = prefixes[data[0] % 4];
    olm_hub_listing l;
    memset(&l, 0, sizeof l);
    onnxllm_error err = {0};
    onnxllm_status st = olm_hub_parse_page(&l, (const char *)data + 1, size - 1, prefix, "fuzz://listing", &err);
    if (st) {
        if (!err.message[0] || strchr(err.message, '\n')) abort();
    }
    uint64_t total = 0;
    for (size_t i = 0; i < l.n; i++) {
        const olm_hub_file *f = &l.files[i];
        if (!olm_path_is_inside(f->rel) || strncmp(f->path, prefix, strlen(prefix))) abort();
        if (!f->sha256[0] && !f->git_oid[0]) abort(); /* never a file without a hash */
        for (const char *h = f->sha256[0] ? f->sha256 : f->git_oid; *h; h++)
            if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f'))) abort();
        total += f->size;
    }
    if (total != l.total_size) abort();
    olm_hub_listing_free(&l);
    return 0;
}
