/* st_write.h — test helper: writes safetensors files and HF config folders. */
#ifndef OLM_TEST_ST_WRITE_H
#define OLM_TEST_ST_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_tensor {
    const char *name;
    const char *dtype;   /* "F32", "BF16", "F16", or anything (bytes written as given) */
    int rank;
    int64_t shape[4];
    const void *data;    /* raw little-endian bytes in dtype */
    size_t nbytes;
} tw_tensor;

/* Writes one safetensors file; returns 0 on success. */
int tw_write(const char *path, const tw_tensor *t, int n);
/* Writes a text file. */
int tw_text(const char *path, const char *text);
/* fp32 → bf16 (round to nearest even), as torch's .to(bfloat16). */
uint16_t tw_bf16(float f);
/* Creates a fresh empty directory (removing an old one). */
int tw_fresh_dir(const char *path);

#endif
