/* fuzz_safetensors.c — libFuzzer target for safetensors files (ctest fuzz_safetensors):
 * the 8-byte header length, the JSON header and every tensor's dtype / shape / offsets
 * against the data area. The input is written to a memfd and opened like a checkpoint
 * file (the reader maps files). Accepted tensors must lie inside the data area and be
 * convertible; failures are one line. */
#include "writer/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz.safetensors", MFD_CLOEXEC);
    if (fd < 0) return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    olm_safetensors *st = NULL;
    onnxllm_error err = {0};
    if (olm_st_open_file(path, &st, &err)) {
        if (!err.message[0] || strchr(err.message, '\n')) abort();
    } else {
        /* look every tensor up by name and convert the small float ones */
        static const char *const names[] = {"a", "w", "model.embed_tokens.weight", "x", ""};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            const olm_st_tensor *t = olm_st_find(st, names[i]);
            if (!t) continue;
            int64_t n = 1;
            for (int k = 0; k < t->rank; k++) n *= t->shape[k];
            if (n > 0 && n <= (1 << 16)) {
                float *f = malloc((size_t)n * sizeof *f);
                olm_st_to_f32(t, f, &err);
                free(f);
            }
        }
        olm_st_close(st);
    }
    close(fd);
    return 0;
}
