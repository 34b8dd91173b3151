/* test_hugepages.c — model params hugepages (src/engine/hugepages.c) on the demo model
 * (its embedding-sized weights are tens of MB once prepacked):
 *   - the weights go to 2 MiB blocks of our allocator and the process gains anonymous
 *     huge pages (when THP is not "never"), with nothing copied afterwards;
 *   - the tokens are the same as without it;
 *   - models loaded one after another each get the allocator, and a model freed while
 *     another runs takes nothing of the other's (the allocator lives with its model);
 *   - two models loading at the same moment both load (one may go without).
 * Argument: the demo model folder. */
#include "test.h"
#include "engine/engine.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *dir;

static long anon_huge_kb(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "AnonHugePages:", 14)) sscanf(line + 14, "%ld", &kb);
    if (f) fclose(f);
    return kb;
}

static bool thp_available(void) {
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char line[128] = "";
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        fclose(f);
    }
    return line[0] && !strstr(line, "[never]");
}

static onnxllm_model *load(bool hugepages) {
    onnxllm_model_params p = onnxllm_model_default_params();
    p.hugepages = hugepages;
    p.n_threads = 1;
    p.max_length = 64;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    if (onnxllm_model_load(dir, &p, &m, &e)) printf("  load: %s\n", e.message);
    return m;
}

/* greedy tokens after a fixed prompt */
static void run(onnxllm_model *m, int32_t *out, int n) {
    onnxllm_sequence *s = NULL;
    onnxllm_error e = {0};
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    sp.ignore_eos = true;
    int32_t prompt[5] = {9906, 1495, 11, 2375, 0};
    memset(out, 0xff, sizeof *out * (size_t)n);
    if (onnxllm_sequence_create(m, &s, &e) || onnxllm_sequence_append(s, prompt, 5, &e)) {
        printf("  run: %s\n", e.message);
        onnxllm_sequence_free(s);
        return;
    }
    onnxllm_generate_result r;
    if (onnxllm_generate(s, &sp, n, NULL, NULL, &r, &e)) printf("  generate: %s\n", e.message);
    size_t len = onnxllm_sequence_length(s);
    for (int i = 0; i < n && (size_t)i < len - 5; i++) out[i] = onnxllm_sequence_tokens(s)[5 + i];
    onnxllm_sequence_free(s);
}

TEST(weights_on_huge_pages_same_tokens) {
    int32_t plain[8], huge[8];
    onnxllm_model *m = load(false);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(m->hp == NULL);
    run(m, plain, 8);
    onnxllm_model_free(m);

    long before = anon_huge_kb();
    m = load(true);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(m->hp != NULL);
    uint64_t bytes = olm_hp_alloc_huge_bytes(m->hp);
    long after = anon_huge_kb();
    printf("  %.1f MB in huge-page blocks; AnonHugePages %ld -> %ld kB\n", bytes / 1e6, before, after);
    CHECK(bytes >= (8u << 20)); /* the prepacked lm_head alone is larger */
    if (thp_available()) CHECK(after - before >= 4096); /* at least two huge pages really backed */
    run(m, huge, 8);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(huge[i], plain[i]);
    onnxllm_model_free(m);
}

TEST(one_after_another_and_freed_while_another_runs) {
    onnxllm_model *a = load(true), *b = load(true);
    CHECK(a && b);
    if (!a || !b) {
        onnxllm_model_free(a);
        onnxllm_model_free(b);
        return;
    }
    CHECK(a->hp != NULL && b->hp != NULL); /* the first load gave the slot back */
    int32_t x[6], y[6];
    run(a, x, 6);
    onnxllm_model_free(a); /* b must not depend on anything of a's */
    run(b, y, 6);
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(y[i], x[i]);
    onnxllm_model_free(b);
}

static void *load_thread(void *arg) {
    *(onnxllm_model **)arg = load(true);
    return NULL;
}

TEST(two_loads_at_once) {
    onnxllm_model *m[2] = {NULL, NULL};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, load_thread, &m[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    CHECK(m[0] && m[1]);
    if (m[0] && m[1]) {
        printf("  allocators: %s, %s\n", m[0]->hp ? "yes" : "no", m[1]->hp ? "yes" : "no");
        CHECK(m[0]->hp || m[1]->hp);
        int32_t x[6], y[6];
        run(m[0], x, 6);
        run(m[1], y, 6);
        for (int i = 0; i < 6; i++) CHECK_EQ_INT(y[i], x[i]);
    }
    onnxllm_model_free(m[0]);
    onnxllm_model_free(m[1]);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        printf("usage: test_hugepages DEMO_MODEL_DIR\n");
        return 2;
    }
    dir = argv[1];
    RUN(weights_on_huge_pages_same_tokens);
    RUN(one_after_another_and_freed_while_another_runs);
    RUN(two_loads_at_once);
    return test_summary("engine_hugepages");
}
