/* fuzz_genai_config.c — libFuzzer target for genai_config.json (ctest fuzz_genai_config).
 * Any bytes: the parser must accept (and then hold values its consumers can trust)
 * or fail with a one-line message naming the file. */
#include "engine/genai_config.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    olm_genai_config c;
    onnxllm_error err = {0};
    memset(&c, 0, sizeof c);
    onnxllm_status st = olm_genai_config_parse((const char *)data, size, "fuzz/genai_config.json", &c, &err);
    if (st) {
        if (!err.message[0] || strchr(err.message, '\n') || !strstr(err.message, "genai_config.json")) abort();
    } else {
        /* what the engine sizes allocations and loops with */
        if (c.vocab_size <= 0 || c.context_length <= 0 || c.num_hidden_layers <= 0 || c.head_size <= 0 ||
            c.num_key_value_heads <= 0 || c.n_eos < 0 || c.n_eos > OLM_MAX_EOS)
            abort();
        char name[OLM_NAME_MAX];
        olm_layer_name(name, c.in_past_key, c.num_hidden_layers - 1);
        olm_layer_name(name, c.out_present_value, 0);
    }
    olm_genai_config_free(&c);
    return 0;
}
