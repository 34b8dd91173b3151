/* test_common.c — error formatting and JSON loading helpers. */
#include "test.h"
#include "common/error.h"
#include "common/fileio.h"

TEST(fail_formats_message) {
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_fail(&e, ONNXLLM_ERR_IO, "%s: %d", "x", 3), ONNXLLM_ERR_IO);
    CHECK_EQ_INT(e.status, ONNXLLM_ERR_IO);
    CHECK_EQ_STR(e.message, "x: 3");
    olm_wrap(&e, ONNXLLM_ERR_FORMAT, "ctx");
    CHECK_EQ_STR(e.message, "ctx: x: 3");
    CHECK_EQ_INT(olm_fail(NULL, ONNXLLM_ERR_IO, "no err"), ONNXLLM_ERR_IO);
}

TEST(json_error_has_position) {
    onnxllm_error e = {0};
    cJSON *j = NULL;
    const char *bad = "{\n  \"a\": 1,\n  \"b\": ]\n}";
    CHECK_EQ_INT(olm_parse_json(bad, strlen(bad), "cfg.json", &j, &e), ONNXLLM_ERR_FORMAT);
    CHECK(j == NULL);
    CHECK(strstr(e.message, "cfg.json: malformed JSON at line 3") != NULL);
}

TEST(missing_file_is_io_error) {
    onnxllm_error e = {0};
    cJSON *j = NULL;
    CHECK_EQ_INT(olm_load_json_file("/nonexistent/x.json", &j, &e), ONNXLLM_ERR_IO);
    CHECK(strstr(e.message, "/nonexistent/x.json: cannot open") != NULL);
}

TEST(path_join) {
    char *p = olm_path_join("a/b", "c.json");
    CHECK_EQ_STR(p, "a/b/c.json");
    free(p);
    p = olm_path_join("a/", "c");
    CHECK_EQ_STR(p, "a/c");
    free(p);
}

int main(void) {
    RUN(fail_formats_message);
    RUN(json_error_has_position);
    RUN(missing_file_is_io_error);
    RUN(path_join);
    return test_summary("common");
}
