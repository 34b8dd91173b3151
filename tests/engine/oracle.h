/* oracle.h — onnxruntime-genai 0.15.2 as the reference engine for tests and bench.
 * Greedy (do_sample false) generation on a model folder, same threads and
 * max_length as ours. */
#ifndef OLM_TEST_ORACLE_H
#define OLM_TEST_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* Writes up to max_new generated ids to out (eos included, as genai returns it);
 * returns the count, or -1 with a message in errbuf. */
int oracle_generate(const char *dir, const int32_t *prompt, size_t n_prompt, int max_new, int max_length,
                    int threads, int32_t *out, char *errbuf, size_t errcap);
/* Last-position logits after the prompt (vocab floats into out); 0 or -1. */
int oracle_first_logits(const char *dir, const int32_t *prompt, size_t n_prompt, int max_length, int threads,
                        float *out, size_t vocab, char *errbuf, size_t errcap);
/* OgaShutdown: call once at process exit. */
void oracle_shutdown(void);

#endif
