/* test_cancel.c — cancellation is per call and never lost (issue 12), on the demo
 * model (4 layers, Phi-4-mini's vocabulary: a 3000-token prefill takes ~1 s, long
 * enough to cancel an ORT run while it is in flight).
 *   test_cancel MODEL_DIR */
#include "test.h"
#include "onnxllm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static const char *DIR_;
static onnxllm_model *model;
enum { LONG = 3000 };
static int32_t prompt[LONG];

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct {
    onnxllm_sequence *s;
    int delay_ms;
    atomic_bool started;
} canceller_arg;

static void *canceller(void *p) {
    canceller_arg *a = p;
    while (!atomic_load(&a->started)) usleep(100);
    usleep((useconds_t)a->delay_ms * 1000);
    onnxllm_sequence_cancel(a->s);
    return NULL;
}

/* An ORT run in flight is terminated: append returns CANCELLED long before the run
 * would have ended, the call is undone, and the sequence works afterwards. */
TEST(cancel_ort_run_in_flight) {
    onnxllm_sequence *s = NULL, *ref = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_sequence_create(model, &s, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_create(model, &ref, &e), ONNXLLM_OK);
    if (!s || !ref) return;
    double t0 = now_ms();
    CHECK_EQ_INT(onnxllm_sequence_append(ref, prompt, LONG, &e), ONNXLLM_OK);
    double full = now_ms() - t0;
    printf("  uncancelled prefill of %d tokens: %.0f ms\n", LONG, full);
    onnxllm_status st = ONNXLLM_OK;
    double took = 0;
    for (int attempt = 0; attempt < 3 && st != ONNXLLM_ERR_CANCELLED; attempt++) {
        canceller_arg a = {s, (int)(full / 10), false};
        pthread_t th;
        pthread_create(&th, NULL, canceller, &a);
        atomic_store(&a.started, true);
        t0 = now_ms();
        st = onnxllm_sequence_append(s, prompt, LONG, &e);
        took = now_ms() - t0;
        pthread_join(th, NULL);
        if (st == ONNXLLM_OK) { /* the run beat the cancel (a very loaded machine): try again */
            onnxllm_sequence_cancel_reset(s);
            onnxllm_sequence_rewind_to(s, 0, NULL);
        }
    }
    printf("  cancelled after %.0f ms: %s\n", took, e.message);
    CHECK_EQ_INT(st, ONNXLLM_ERR_CANCELLED);
    CHECK(took < full * 0.7);
    CHECK_EQ_INT(onnxllm_sequence_length(s), 0); /* undone */
    /* the request was used up: the next call runs, and gives what an uninterrupted one gives */
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, LONG, &e), ONNXLLM_OK);
    const float *a = onnxllm_sequence_logits(s), *b = onnxllm_sequence_logits(ref);
    CHECK(a && b && !memcmp(a, b, sizeof(float) * (size_t)onnxllm_model_vocab_size(model)));
    onnxllm_sequence_free(s);
    onnxllm_sequence_free(ref);
}

/* A cancel issued while no call runs stops the next call (it used to be cleared by
 * the next call's start), and only that one. */
TEST(cancel_before_a_call_is_not_lost) {
    onnxllm_sequence *s = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_sequence_create(model, &s, &e), ONNXLLM_OK);
    if (!s) return;
    onnxllm_sequence_cancel(s);
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, 16, &e), ONNXLLM_ERR_CANCELLED);
    CHECK_EQ_INT(onnxllm_sequence_length(s), 0);
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, 16, &e), ONNXLLM_OK); /* used up */
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    onnxllm_generate_result r;
    onnxllm_sequence_cancel(s);
    CHECK_EQ_INT(onnxllm_generate(s, &sp, 4, NULL, NULL, &r, &e), ONNXLLM_ERR_CANCELLED);
    CHECK_EQ_INT(r.stop, ONNXLLM_STOP_CANCELLED);
    CHECK_EQ_INT(r.n_generated, 0);
    CHECK_EQ_INT(onnxllm_generate(s, &sp, 4, NULL, NULL, &r, &e), ONNXLLM_OK);
    CHECK_EQ_INT(r.n_generated, 4);
    /* rewind_to does not take it: the next append does */
    onnxllm_sequence_cancel(s);
    CHECK_EQ_INT(onnxllm_sequence_rewind_to(s, 8, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, 4, &e), ONNXLLM_ERR_CANCELLED);
    CHECK_EQ_INT(onnxllm_sequence_length(s), 8);
    /* withdrawn by its owner */
    onnxllm_sequence_cancel(s);
    CHECK(onnxllm_sequence_cancel_reset(s));
    CHECK(!onnxllm_sequence_cancel_reset(s));
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, 4, &e), ONNXLLM_OK);
    onnxllm_sequence_free(s);
}

/* step() right after append(): the logits are ready and no ORT run is needed, but a
 * cancel still stops it (it was ignored). */
TEST(step_after_append_sees_cancel) {
    onnxllm_sequence *s = NULL;
    onnxllm_sampler *smp = NULL;
    onnxllm_error e = {0};
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    CHECK_EQ_INT(onnxllm_sequence_create(model, &s, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_create(&sp, onnxllm_model_vocab_size(model), &smp, &e), ONNXLLM_OK);
    if (!s || !smp) return;
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, 16, &e), ONNXLLM_OK);
    CHECK(onnxllm_sequence_logits(s) != NULL);
    onnxllm_sequence_cancel(s);
    int32_t tok = 0;
    CHECK_EQ_INT(onnxllm_sequence_step(s, smp, &tok, &e), ONNXLLM_ERR_CANCELLED);
    CHECK_EQ_INT(onnxllm_sequence_length(s), 16);
    CHECK_EQ_INT(onnxllm_sequence_step(s, smp, &tok, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_length(s), 17);
    onnxllm_sampler_free(smp);
    onnxllm_sequence_free(s);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_cancel MODEL_DIR\n");
        return 2;
    }
    DIR_ = argv[1];
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.max_length = 4096;
    mp.n_threads = 2;
    onnxllm_error e = {0};
    if (onnxllm_model_load(DIR_, &mp, &model, &e)) {
        printf("FAIL load %s: %s\n", DIR_, e.message);
        return 1;
    }
    int V = onnxllm_model_vocab_size(model);
    for (int i = 0; i < LONG; i++) prompt[i] = (int32_t)((i * 7919 + 13) % (V - 100)) + 10;
    RUN(cancel_ort_run_in_flight);
    RUN(cancel_before_a_call_is_not_lost);
    RUN(step_after_append_sees_cancel);
    onnxllm_model_free(model);
    return test_summary("cancel");
}
