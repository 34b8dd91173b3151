/* test_config.c — genai_config.json parsing and every bad-folder error of §2:
 * each case must fail with its status and a one-line message naming the file
 * and the problem. Folder-level cases (missing files, truncated data, session
 * I/O mismatch) use a real tiny model when the build made one (argv[1]). */
#include "test.h"
#include "engine/genai_config.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *GOOD =
    "{\"model\": {\"bos_token_id\": 1, \"context_length\": 128, \"decoder\": {"
    "\"session_options\": {\"log_id\": \"x\", \"intra_op_num_threads\": 3, \"provider_options\": "
    "[{\"cuda\": {\"enable_cuda_graph\": \"0\"}}]},"
    "\"filename\": \"model.onnx\", \"head_size\": 16, \"hidden_size\": 64,"
    "\"inputs\": {\"input_ids\": \"input_ids\", \"attention_mask\": \"attention_mask\","
    "\"past_key_names\": \"past_key_values.%d.key\", \"past_value_names\": \"past_key_values.%d.value\"},"
    "\"outputs\": {\"logits\": \"logits\", \"present_key_names\": \"present.%d.key\","
    "\"present_value_names\": \"present.%d.value\"},"
    "\"num_attention_heads\": 4, \"num_hidden_layers\": 2, \"num_key_value_heads\": 2},"
    "\"eos_token_id\": [200, 2], \"pad_token_id\": 0, \"type\": \"phi3\", \"vocab_size\": 503},"
    "\"search\": {\"do_sample\": false, \"max_length\": 128, \"past_present_share_buffer\": true,"
    "\"temperature\": 0.7, \"top_k\": 50, \"top_p\": 0.9}}";

static onnxllm_status parse(const char *text, olm_genai_config *c, onnxllm_error *e) {
    return olm_genai_config_parse(text, strlen(text), "/m/genai_config.json", c, e);
}

TEST(parses_all_fields) {
    olm_genai_config c;
    onnxllm_error e = {0};
    CHECK_EQ_INT(parse(GOOD, &c, &e), ONNXLLM_OK);
    CHECK_EQ_STR(c.type, "phi3");
    CHECK_EQ_INT(c.bos_token_id, 1);
    CHECK_EQ_INT(c.n_eos, 2);
    CHECK_EQ_INT(c.eos_token_id[0], 200);
    CHECK_EQ_INT(c.eos_token_id[1], 2);
    CHECK_EQ_INT(c.pad_token_id, 0);
    CHECK_EQ_INT(c.context_length, 128);
    CHECK_EQ_INT(c.vocab_size, 503);
    CHECK_EQ_STR(c.filename, "model.onnx");
    CHECK_EQ_INT(c.head_size, 16);
    CHECK_EQ_INT(c.hidden_size, 64);
    CHECK_EQ_INT(c.num_attention_heads, 4);
    CHECK_EQ_INT(c.num_key_value_heads, 2);
    CHECK_EQ_INT(c.num_hidden_layers, 2);
    CHECK_EQ_STR(c.in_past_key, "past_key_values.%d.key");
    CHECK_EQ_STR(c.out_present_value, "present.%d.value");
    CHECK_EQ_STR(c.in_position_ids, "position_ids"); /* genai default when absent */
    CHECK_EQ_INT(c.intra_op_num_threads, 3);
    CHECK(c.has_cuda_provider);
    CHECK_EQ_INT(c.n_cuda_options, 1);
    CHECK_EQ_STR(c.cuda_options[0].key, "enable_cuda_graph");
    CHECK_EQ_STR(c.cuda_options[0].value, "0");
    CHECK(c.past_present_share_buffer);
    CHECK_EQ_INT(c.search_max_length, 128);
    CHECK(c.temperature > 0.69f && c.temperature < 0.71f);
    CHECK_EQ_INT(c.top_k, 50);
    char name[OLM_NAME_MAX];
    olm_layer_name(name, c.in_past_key, 17);
    CHECK_EQ_STR(name, "past_key_values.17.key");
    olm_genai_config_free(&c);
}

TEST(defaults_when_optional_fields_absent) {
    const char *t = "{\"model\": {\"type\": \"llama\", \"vocab_size\": 10, \"context_length\": 8, \"eos_token_id\": 3,"
                    "\"decoder\": {\"filename\": \"m.onnx\", \"head_size\": 4, \"num_attention_heads\": 2,"
                    "\"num_key_value_heads\": 1, \"num_hidden_layers\": 1}}}";
    olm_genai_config c;
    onnxllm_error e = {0};
    CHECK_EQ_INT(parse(t, &c, &e), ONNXLLM_OK);
    CHECK_EQ_INT(c.n_eos, 1);
    CHECK_EQ_INT(c.eos_token_id[0], 3);
    CHECK_EQ_INT(c.pad_token_id, 3); /* falls back to eos[0] */
    CHECK_EQ_INT(c.bos_token_id, -1);
    CHECK_EQ_STR(c.in_input_ids, "input_ids");
    CHECK_EQ_STR(c.out_present_key, "present.%d.key");
    CHECK(!c.past_present_share_buffer); /* genai's default */
    CHECK(!c.has_cuda_provider);
    olm_genai_config_free(&c);
}

/* Replaces the first occurrence of `from` in GOOD by `to`, parses, and checks
 * the status and that the message contains `want`. */
static void bad_case(const char *from, const char *to, onnxllm_status st, const char *want) {
    const char *p = strstr(GOOD, from);
    CHECK(p != NULL);
    if (!p) return;
    char buf[4096];
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - GOOD), GOOD, to, p + strlen(from));
    olm_genai_config c;
    onnxllm_error e = {0};
    onnxllm_status got = parse(buf, &c, &e);
    CHECK_EQ_INT(got, st);
    if (got == ONNXLLM_OK) {
        olm_genai_config_free(&c);
        return;
    }
    if (!strstr(e.message, want) || !strstr(e.message, "/m/genai_config.json") || strchr(e.message, '\n'))
        printf("  message: %s (wanted \"%s\")\n", e.message, want);
    CHECK(strstr(e.message, want) != NULL);
    CHECK(strstr(e.message, "/m/genai_config.json") != NULL);
    CHECK(strchr(e.message, '\n') == NULL);
}

TEST(bad_fields_are_named) {
    bad_case("\"type\": \"phi3\", ", "", ONNXLLM_ERR_FORMAT, "model.type: missing");
    bad_case("\"vocab_size\": 503", "\"vocab_size\": \"x\"", ONNXLLM_ERR_FORMAT, "model.vocab_size: must be an integer");
    bad_case("\"context_length\": 128, ", "", ONNXLLM_ERR_FORMAT, "model.context_length: missing");
    bad_case("\"eos_token_id\": [200, 2], ", "", ONNXLLM_ERR_FORMAT, "model.eos_token_id: missing");
    bad_case("[200, 2]", "[200, 503]", ONNXLLM_ERR_FORMAT, "eos id 503 is >= model.vocab_size 503");
    bad_case("[200, 2]", "[]", ONNXLLM_ERR_FORMAT, "model.eos_token_id: empty list");
    bad_case("[200, 2]", "\"2\"", ONNXLLM_ERR_FORMAT, "model.eos_token_id: must be");
    bad_case("\"pad_token_id\": 0", "\"pad_token_id\": 9999", ONNXLLM_ERR_FORMAT, "model.pad_token_id");
    bad_case("\"head_size\": 16, ", "", ONNXLLM_ERR_FORMAT, "model.decoder.head_size: missing");
    bad_case("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 0", ONNXLLM_ERR_FORMAT,
             "model.decoder.num_hidden_layers: must be an integer in [1, 4096]");
    bad_case("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", ONNXLLM_ERR_FORMAT,
             "num_key_value_heads: must divide");
    bad_case("\"filename\": \"model.onnx\", ", "", ONNXLLM_ERR_FORMAT, "model.decoder.filename: missing");
    bad_case("\"filename\": \"model.onnx\"", "\"filename\": \"../x.onnx\"", ONNXLLM_ERR_FORMAT,
             "model.decoder.filename: must be a file inside");
    bad_case("past_key_values.%d.key", "past_key_values.key", ONNXLLM_ERR_FORMAT,
             "model.decoder.inputs.past_key_names: name template must contain exactly one %d");
    bad_case("present.%d.value", "present.%s.value", ONNXLLM_ERR_FORMAT, "present_value_names: name template");
    bad_case("\"intra_op_num_threads\": 3", "\"intra_op_num_threads\": -1", ONNXLLM_ERR_FORMAT,
             "model.decoder.session_options.intra_op_num_threads");
    bad_case("[{\"cuda\"", "[{\"cuda\": 1}, {\"cuda\"", ONNXLLM_ERR_FORMAT, "provider_options[0]");
    bad_case("\"past_present_share_buffer\": true", "\"past_present_share_buffer\": 1", ONNXLLM_ERR_FORMAT,
             "search.past_present_share_buffer: must be true or false");
    bad_case("\"type\": \"phi3\"", "\"type\": \"whisper\"", ONNXLLM_ERR_UNSUPPORTED, "model.type");
    bad_case("\"decoder\": {", "\"vision\": {}, \"decoder\": {", ONNXLLM_ERR_UNSUPPORTED, "model.vision");
    bad_case("{\"model\": {", "{\"model\": 3, \"x\": {", ONNXLLM_ERR_FORMAT, "model: must be an object");
}

TEST(malformed_json_has_position) {
    olm_genai_config c;
    onnxllm_error e = {0};
    const char *t = "{\n  \"model\": {\n    \"type\": \"phi3\",,\n  }\n}";
    CHECK_EQ_INT(parse(t, &c, &e), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(e.message, "/m/genai_config.json: malformed JSON at line 3") != NULL);
}

/* ---- folder-level errors, through onnxllm_model_load and the CLI ---------------*/

static const char *model_src; /* a good tiny model folder (fp32), or NULL */
static const char *cli;       /* the onnxllm binary, or NULL */
static char tmp[256];

static void sh(const char *fmt, const char *a, const char *b) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    if (system(cmd) != 0) printf("  command failed: %s\n", cmd);
}

static void expect_load_error(const char *dir, onnxllm_status st, const char *want) {
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    onnxllm_model_params p = onnxllm_model_default_params();
    p.n_threads = 1;
    onnxllm_status got = onnxllm_model_load(dir, &p, &m, &e);
    CHECK_EQ_INT(got, st);
    if (!strstr(e.message, want)) printf("  message: %s (wanted \"%s\")\n", e.message, want);
    CHECK(strstr(e.message, want) != NULL);
    CHECK(strchr(e.message, '\n') == NULL);
    onnxllm_model_free(m);
    if (cli) { /* the CLI reports the same line and exits 1 */
        char cmd[1024], line[1024] = "";
        snprintf(cmd, sizeof cmd, "%s generate -m %s --ids 1,2 -n 2 --threads 1 2>&1 >/dev/null", cli, dir);
        FILE *f = popen(cmd, "r");
        CHECK(f != NULL);
        if (!f) return;
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        int rc = pclose(f);
        CHECK_EQ_INT(WEXITSTATUS(rc), 1);
        CHECK(strstr(line, "onnxllm generate: ") == line);
        CHECK(strstr(line, want) != NULL);
    }
}

/* A fresh copy of the good model in tmp/NAME, returns its path. */
static const char *copy_model(const char *name) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    sh("rm -rf '%s'%s", dir, "");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", model_src, dir);
    if (system(cmd) != 0) printf("  copy failed\n");
    return dir;
}

static void edit_config(const char *dir, const char *from, const char *to) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sed -i 's/%s/%s/' '%s/genai_config.json'", from, to, dir);
    if (system(cmd) != 0) printf("  sed failed\n");
}

TEST(folder_errors) {
    expect_load_error("/nonexistent/model", ONNXLLM_ERR_IO, "/nonexistent/model: model folder not found");
    if (!model_src) SKIP("no model folder given");
    const char *d = copy_model("noconfig");
    sh("rm '%s/genai_config.json'%s", d, "");
    expect_load_error(d, ONNXLLM_ERR_IO, "genai_config.json: cannot open");

    d = copy_model("badjson");
    sh("printf '{\\n  \"model\": [1,\\n' > '%s/genai_config.json'%s", d, "");
    expect_load_error(d, ONNXLLM_ERR_FORMAT, "genai_config.json: malformed JSON at line");

    d = copy_model("noonnx");
    sh("rm '%s/model.onnx'%s", d, "");
    expect_load_error(d, ONNXLLM_ERR_IO, "model.onnx: cannot open");

    d = copy_model("nodata");
    sh("rm '%s/model.onnx.data'%s", d, "");
    expect_load_error(d, ONNXLLM_ERR_IO, "model.onnx.data: missing");

    d = copy_model("truncated");
    sh("truncate -s -1000 '%s/model.onnx.data'%s", d, "");
    expect_load_error(d, ONNXLLM_ERR_IO, "model.onnx.data: truncated");

    d = copy_model("garbage");
    sh("head -c 3000 /dev/urandom > '%s/model.onnx'%s", d, "");
    expect_load_error(d, ONNXLLM_ERR_FORMAT, "model.onnx");

    d = copy_model("layers");
    edit_config(d, "\"num_hidden_layers\": [0-9]*", "\"num_hidden_layers\": 7");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "num_hidden_layers is 7");

    d = copy_model("fewlayers");
    edit_config(d, "\"num_hidden_layers\": [0-9]*", "\"num_hidden_layers\": 1");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "is for layer 1 but genai_config.json model.decoder.num_hidden_layers is 1");

    d = copy_model("vocab");
    edit_config(d, "\"vocab_size\": [0-9]*", "\"vocab_size\": 7000");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "model.vocab_size is 7000");

    d = copy_model("kvheads");
    edit_config(d, "\"num_key_value_heads\": [0-9]*", "\"num_key_value_heads\": 1");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "num_key_value_heads is 1");

    d = copy_model("headsize");
    edit_config(d, "\"head_size\": [0-9]*", "\"head_size\": 8");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "head_size is 8");

    d = copy_model("names");
    edit_config(d, "\"logits\": \"logits\"", "\"logits\": \"scores\"");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "no output named scores");

    d = copy_model("inputname");
    edit_config(d, "\"input_ids\": \"input_ids\"", "\"input_ids\": \"tokens\"");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "input input_ids is not one genai_config.json describes");

    d = copy_model("eos");
    edit_config(d, "\"eos_token_id\": \\[[0-9, ]*\\]", "\"eos_token_id\": [99999]");
    expect_load_error(d, ONNXLLM_ERR_FORMAT, "eos id 99999 is >= model.vocab_size");

    /* issue 12 #14: a FIFO as genai_config.json / model.onnx is refused, not read */
    d = copy_model("fifo");
    sh("rm '%s/genai_config.json' && mkfifo '%s/genai_config.json'", d, d);
    alarm(20); /* a regression blocks forever: fail instead */
    expect_load_error(d, ONNXLLM_ERR_IO, "genai_config.json: not a regular file (a FIFO)");
    d = copy_model("fifo2");
    sh("rm '%s/model.onnx' && mkfifo '%s/model.onnx'", d, d);
    expect_load_error(d, ONNXLLM_ERR_IO, "model.onnx: not a regular file (a FIFO)");
    alarm(0);

    /* issue 12 #10 / #15: counts from the config that size allocations or threads */
    d = copy_model("manylayers");
    edit_config(d, "\"num_hidden_layers\": [0-9]*", "\"num_hidden_layers\": 4096");
    expect_load_error(d, ONNXLLM_ERR_MISMATCH, "but the graph has only");
    d = copy_model("threads");
    edit_config(d, "\"session_options\": {", "\"session_options\": {\"intra_op_num_threads\": 100000, ");
    expect_load_error(d, ONNXLLM_ERR_FORMAT, "intra_op_num_threads: must be an integer in [0, 1024]");
    d = copy_model("threads2"); /* in range for the file, too many for this machine */
    edit_config(d, "\"session_options\": {", "\"session_options\": {\"intra_op_num_threads\": 1024, ");
    {
        onnxllm_model *tm = NULL;
        onnxllm_error te = {0};
        CHECK_EQ_INT(onnxllm_model_load(d, NULL, &tm, &te), ONNXLLM_ERR_INVALID_ARGUMENT); /* threads from the config */
        CHECK(strstr(te.message, "threads asked for") != NULL);
        onnxllm_model_free(tm);
    }

    /* max_length above context_length is a caller error */
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    onnxllm_model_params p = onnxllm_model_default_params();
    p.max_length = 1 << 24;
    CHECK_EQ_INT(onnxllm_model_load(model_src, &p, &m, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "exceeds the model's context_length") != NULL);
    p = onnxllm_model_default_params();
    p.ep = "tpu";
    CHECK_EQ_INT(onnxllm_model_load(model_src, &p, &m, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    /* --threads 100000 never finished loading (ORT starts every thread) */
    p = onnxllm_model_default_params();
    p.n_threads = 100000;
    CHECK_EQ_INT(onnxllm_model_load(model_src, &p, &m, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "threads asked for") != NULL);
}

/* genai_config's "search" gives the defaults onnxruntime-genai users expect: greedy
 * unless do_sample; then its temperature / top_k / top_p; its repetition penalty over
 * the whole sequence; its max_length as the default KV capacity (capped at 4096). */
TEST(search_defaults) {
    if (!model_src) SKIP("no model folder given");
    onnxllm_model_params p = onnxllm_model_default_params();
    p.n_threads = 1;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    /* the writer's config: do_sample false, max_length 128 */
    CHECK_EQ_INT(onnxllm_model_load(model_src, &p, &m, &e), ONNXLLM_OK);
    if (m) {
        onnxllm_sampler_params sp = onnxllm_model_sampler_params(m);
        CHECK(sp.temperature == 0.0f);
        CHECK(sp.repetition_penalty == 1.0f);
        CHECK_EQ_INT(onnxllm_model_max_length(m), 128);
        onnxllm_model_free(m);
        m = NULL;
    }
    const char *d = copy_model("search");
    edit_config(d, "\"do_sample\": false", "\"do_sample\": true");
    edit_config(d, "\"temperature\": 1.0", "\"temperature\": 0.6");
    edit_config(d, "\"top_k\": 50", "\"top_k\": 7");
    edit_config(d, "\"top_p\": 1.0", "\"top_p\": 0.9");
    edit_config(d, "\"repetition_penalty\": 1.0", "\"repetition_penalty\": 1.3");
    edit_config(d, "\"max_length\": 128", "\"max_length\": 40");
    CHECK_EQ_INT(onnxllm_model_load(d, &p, &m, &e), ONNXLLM_OK);
    if (m) {
        onnxllm_sampler_params sp = onnxllm_model_sampler_params(m);
        CHECK(sp.temperature > 0.599f && sp.temperature < 0.601f);
        CHECK_EQ_INT(sp.top_k, 7);
        CHECK(sp.top_p > 0.899f && sp.top_p < 0.901f);
        CHECK(sp.repetition_penalty > 1.299f && sp.repetition_penalty < 1.301f);
        CHECK_EQ_INT(sp.penalty_last_n, 0);
        CHECK_EQ_INT(onnxllm_model_max_length(m), 40);
        onnxllm_model_free(m);
        m = NULL;
    }
    /* an explicit max_length wins over the config's */
    p.max_length = 100;
    CHECK_EQ_INT(onnxllm_model_load(d, &p, &m, &e), ONNXLLM_OK);
    if (m) CHECK_EQ_INT(onnxllm_model_max_length(m), 100);
    onnxllm_model_free(m);
    edit_config(d, "\"repetition_penalty\": 1.3", "\"repetition_penalty\": 0");
    expect_load_error(d, ONNXLLM_ERR_FORMAT, "search.repetition_penalty");
}

/* --ep cuda without the CUDA provider library (this machine's default install):
 * a clear error naming the missing file and how to get it. With the library
 * present but no GPU, ORT's own reason is passed on. */
TEST(cuda_provider_missing_is_explained) {
    if (!model_src) return;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    onnxllm_model_params p = onnxllm_model_default_params();
    p.ep = "cuda";
    p.n_threads = 1;
    onnxllm_status st = onnxllm_model_load(model_src, &p, &m, &e);
    if (st == ONNXLLM_OK) { /* a machine with a GPU */
        printf("  (CUDA available: error path not exercised)\n");
        onnxllm_model_free(m);
        return;
    }
    CHECK_EQ_INT(st, ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(e.message, "CUDA execution provider") != NULL);
    char lib[1024];
    snprintf(lib, sizeof lib, "%s/libonnxruntime_providers_cuda.so", ORT_LIB_DIR);
    if (access(lib, F_OK) != 0) {
        CHECK(strstr(e.message, "libonnxruntime_providers_cuda.so not found") != NULL);
        CHECK(strstr(e.message, "ONNXLLM_CUDA=1") != NULL);
    }
    if (cli) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s generate -m %s --ids 1,2 --ep cuda 2>/dev/null >/dev/null", cli, model_src);
        CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 1);
    }
}

int main(int argc, char **argv) {
    model_src = argc > 1 ? argv[1] : NULL;
    cli = argc > 2 ? argv[2] : NULL;
    snprintf(tmp, sizeof tmp, "/tmp/olm_test_config_%d", (int)getpid());
    mkdir(tmp, 0755);
    RUN(parses_all_fields);
    RUN(defaults_when_optional_fields_absent);
    RUN(bad_fields_are_named);
    RUN(malformed_json_has_position);
    RUN(folder_errors);
    RUN(cuda_provider_missing_is_explained);
    RUN(search_defaults);
    sh("rm -rf '%s'%s", tmp, "");
    return test_summary("engine_config");
}
