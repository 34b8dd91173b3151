/* simple.c — the README's C API example: answer one prompt, streaming the text.
 *
 *   simple MODEL_DIR "your question"
 *
 * Loads the model folder (genai_config.json, model.onnx, tokenizer.json), renders the
 * chat template, encodes, generates greedily and prints text as it completes. */
#include <onnxllm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct stream {
    onnxllm_detok *detok;
    const onnxllm_model *model;
    double first_token_ms; /* when the first token arrived (0 until then) */
};

static bool on_token(int32_t token, void *user) {
    struct stream *st = user;
    if (!st->first_token_ms) st->first_token_ms = now_ms();
    if (onnxllm_model_is_eos(st->model, token)) return true; /* generation stops after it */
    const char *text;
    size_t len;
    if (onnxllm_detok_push(st->detok, token, &text, &len, NULL) == ONNXLLM_OK && len) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    return true;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL_DIR PROMPT\n", argv[0]);
        return 2;
    }
    onnxllm_error err = {0};
    onnxllm_model *model = NULL;
    onnxllm_tokenizer *tok = NULL;
    onnxllm_template *tmpl = NULL;
    onnxllm_sequence *seq = NULL;
    onnxllm_detok *detok = NULL;
    onnxllm_tokens ids = {0};
    char *tok_path = NULL;
    int rc = 1;

    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.max_length = 1024;
    if (onnxllm_model_load(argv[1], &mp, &model, &err)) goto out;

    size_t n = strlen(argv[1]) + sizeof "/tokenizer.json";
    tok_path = malloc(n);
    snprintf(tok_path, n, "%s/tokenizer.json", argv[1]);
    if (onnxllm_tokenizer_load(tok_path, &tok, &err)) goto out;
    if (onnxllm_template_load(argv[1], &tmpl, &err)) goto out;

    onnxllm_chat_message msgs[] = {
        {.role = "system", .content = "You are a helpful assistant."},
        {.role = "user", .content = argv[2]},
    };
    /* prompt ids: the template's markers are special tokens, what the user typed is text */
    if (onnxllm_chat_render_ids(tmpl, tok, msgs, 2, NULL, true, 0, &ids, &err)) goto out;

    if (onnxllm_sequence_create(model, &seq, &err)) goto out;
    if (onnxllm_detok_create(tok, true, &detok, &err)) goto out;
    double t0 = now_ms();
    if (onnxllm_sequence_append(seq, ids.ids, ids.len, &err)) goto out; /* the prompt (prefill) */

    struct stream st = {detok, model, 0};
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    onnxllm_generate_result res;
    if (onnxllm_generate(seq, &sp, 32, on_token, &st, &res, &err)) goto out;
    const char *tail;
    size_t tail_len;
    if (onnxllm_detok_flush(detok, &tail, &tail_len, &err)) goto out;
    fwrite(tail, 1, tail_len, stdout);
    /* time to first token: from the start of the prompt's computation to the first
     * generated token (prefill + first sample) */
    fprintf(stderr, "\n[%zu prompt tokens, %d generated, %.1f ms to first token]\n", ids.len,
            res.n_generated, st.first_token_ms ? st.first_token_ms - t0 : 0.0);
    rc = 0;
out:
    if (rc) fprintf(stderr, "error: %s\n", err.message);
    onnxllm_detok_free(detok);
    onnxllm_sequence_free(seq);
    onnxllm_tokens_free(&ids);
    free(tok_path);
    onnxllm_template_free(tmpl);
    onnxllm_tokenizer_free(tok);
    onnxllm_model_free(model);
    return rc;
}
