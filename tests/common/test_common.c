/* test_common.c — error formatting, JSON loading and the untrusted-input layer
 * (strict JSON, range-checked getters, bounded protobuf reader, paths, folders). */
#include "test.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/untrusted.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(fail_formats_message) {
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_fail(&e, ONNXLLM_ERR_IO, "%s: %d", "x", 3), ONNXLLM_ERR_IO);
    CHECK_EQ_INT(e.status, ONNXLLM_ERR_IO);
    CHECK_EQ_STR(e.message, "x: 3");
    olm_wrap(&e, ONNXLLM_ERR_FORMAT, "ctx");
    CHECK_EQ_STR(e.message, "ctx: x: 3");
    CHECK_EQ_INT(olm_fail(NULL, ONNXLLM_ERR_IO, "no err"), ONNXLLM_ERR_IO);
    /* found by fuzz_safetensors (10-minute run): a tensor name with a newline made a
     * two-line message; names quoted from files may also carry terminal escapes */
    olm_fail(&e, ONNXLLM_ERR_FORMAT, "tensor '%s': bad", "a\nb\x1b[2J\x7f");
    CHECK_EQ_STR(e.message, "tensor 'a\\x0ab\\x1b[2J\\x7f': bad");
    olm_wrap(&e, ONNXLLM_ERR_FORMAT, "in %s", "x\ty");
    CHECK(strchr(e.message, '\t') == NULL && strchr(e.message, '\n') == NULL);
}

TEST(json_error_has_position) {
    onnxllm_error e = {0};
    cJSON *j = NULL;
    const char *bad = "{\n  \"a\": 1,\n  \"b\": ]\n}";
    CHECK_EQ_INT(olm_json_parse(bad, strlen(bad), "cfg.json", &j, &e), ONNXLLM_ERR_FORMAT);
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

static cJSON *parse_ok(const char *text) {
    cJSON *j = NULL;
    onnxllm_error e = {0};
    if (olm_json_parse(text, strlen(text), "t", &j, &e)) printf("  unexpected error: %s\n", e.message);
    return j;
}

static const char *parse_err(const char *text, size_t len) {
    static onnxllm_error e;
    cJSON *j = NULL;
    memset(&e, 0, sizeof e);
    if (!olm_json_parse(text, len, "t", &j, &e)) {
        cJSON_Delete(j);
        return NULL;
    }
    return e.message;
}

/* issue 12 #16: what cJSON alone accepts silently */
TEST(json_strict) {
    const char *m;
    /* a NUL inside a string would be cut short: an error, not a truncation */
    const char nul[] = "{\"a\": \"x\\u0000y\"}";
    CHECK((m = parse_err(nul, strlen(nul))) && strstr(m, "\\u0000"));
    const char raw_nul[] = "{\"a\": \"x\0y\"}";
    CHECK((m = parse_err(raw_nul, sizeof raw_nul - 1)) && strstr(m, "NUL"));
    /* trailing garbage after the document */
    CHECK((m = parse_err("{} x", 4)) && strstr(m, "after the JSON value"));
    CHECK((m = parse_err("[1]]", 4)) != NULL);
    CHECK(parse_err("{}  \n", 5) == NULL);
    /* raw control characters and invalid UTF-8 */
    CHECK(parse_err("\"a\tb\"", 5) != NULL);
    CHECK((m = parse_err("\"\xff\"", 3)) && strstr(m, "UTF-8"));
    CHECK((m = parse_err("\"\xed\xa0\x80\"", 5)) && strstr(m, "UTF-8")); /* a surrogate in UTF-8 */
    CHECK(parse_err("\"\xe2\x82\xac\"", 5) == NULL);
    /* nesting depth */
    char deep[2 * OLM_JSON_MAX_DEPTH + 8];
    memset(deep, '[', OLM_JSON_MAX_DEPTH + 1);
    memset(deep + OLM_JSON_MAX_DEPTH + 1, ']', OLM_JSON_MAX_DEPTH + 1);
    CHECK((m = parse_err(deep, 2 * OLM_JSON_MAX_DEPTH + 2)) && strstr(m, "nested"));
    CHECK(parse_err(deep + 1, 2 * OLM_JSON_MAX_DEPTH) == NULL);
}

/* Python's json.loads: the first key's place, the last key's value */
TEST(json_duplicate_keys_as_python) {
    cJSON *j = parse_ok("{\"a\": 1, \"b\": 2, \"a\": 3, \"c\": {\"x\": 1, \"x\": [5]}, \"a\": 4}");
    CHECK(j != NULL);
    if (!j) return;
    char *out = cJSON_PrintUnformatted(j);
    CHECK_EQ_STR(out, "{\"a\":4,\"b\":2,\"c\":{\"x\":[5]}}");
    free(out);
    cJSON_Delete(j);
}

TEST(json_getters_check_type_and_range) {
    cJSON *j = parse_ok("{\"n\": 5, \"big\": 3000000000, \"neg\": -1, \"f\": 1.5, \"huge\": 1e300, "
                        "\"s\": \"hi\", \"b\": true, \"z\": null, \"two53\": 9007199254740993}");
    onnxllm_error e = {0};
    int64_t v = 7;
    int32_t v32 = 7;
    uint64_t u = 0;
    double d = 0;
    const char *str = NULL;
    bool b = false;
    CHECK_EQ_INT(olm_json_get_int(j, "n", "cfg", 0, 10, true, &v, &e), 0);
    CHECK_EQ_INT(v, 5);
    CHECK_EQ_INT(olm_json_get_int(j, "n", "cfg", 6, 10, true, &v, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_STR(e.message, "cfg.n: must be an integer in [6, 10] (got a number)");
    CHECK_EQ_INT(olm_json_get_i32(j, "big", "cfg", 0, INT32_MAX, true, &v32, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_INT(v32, 7); /* untouched on error: never truncated to int32 */
    CHECK_EQ_INT(olm_json_get_size(j, "neg", "cfg", 100, true, &u, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_INT(olm_json_get_int(j, "f", "cfg", 0, 10, true, &v, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_INT(olm_json_get_int(j, "huge", "cfg", INT64_MIN, INT64_MAX, true, &v, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_INT(olm_json_get_int(j, "two53", "cfg", 0, INT64_MAX, true, &v, &e), ONNXLLM_ERR_FORMAT); /* not exact */
    CHECK_EQ_INT(olm_json_get_int(j, "s", "cfg", 0, 10, true, &v, &e), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(e.message, "got a string") != NULL);
    v = 7; /* absent or null optional: untouched, OK */
    CHECK_EQ_INT(olm_json_get_int(j, "absent", "cfg", 0, 10, false, &v, &e), 0);
    CHECK_EQ_INT(olm_json_get_int(j, "z", "cfg", 0, 10, false, &v, &e), 0);
    CHECK_EQ_INT(v, 7);
    CHECK_EQ_INT(olm_json_get_int(j, "z", "cfg", 0, 10, true, &v, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_STR(e.message, "cfg.z: null, must be an integer in [0, 10]");
    CHECK_EQ_INT(olm_json_get_double(j, "f", "cfg", 0, 2, true, &d, &e), 0);
    CHECK(d == 1.5);
    CHECK_EQ_INT(olm_json_get_double(j, "huge", "cfg", 0, 1e10, true, &d, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_INT(olm_json_get_string(j, "s", "cfg", 8, true, &str, &e), 0);
    CHECK_EQ_STR(str, "hi");
    CHECK_EQ_INT(olm_json_get_string(j, "s", "cfg", 1, true, &str, &e), ONNXLLM_ERR_FORMAT);
    CHECK_EQ_INT(olm_json_get_bool(j, "b", "cfg", true, &b, &e), 0);
    CHECK(b);
    CHECK_EQ_INT(olm_json_get_bool(j, "n", "cfg", true, &b, &e), ONNXLLM_ERR_FORMAT);
    cJSON_Delete(j);
}

/* protobuf nested as deep as the reader allows, and one level more */
TEST(pbread_depth_and_bounds) {
    /* deep nesting, walked recursively through olm_pb_sub */
    enum { LEVELS = OLM_PB_MAX_DEPTH + 5 };
    uint8_t *buf = malloc(LEVELS * 6 + 2);
    size_t cap = LEVELS * 6 + 2, n = 2;
    buf[cap - 2] = 0x10;
    buf[cap - 1] = 0x01;
    for (int i = 0; i < LEVELS; i++) {
        uint8_t len[5];
        int k = 0;
        size_t v = n;
        do {
            len[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
        memcpy(buf + cap - n - k, len, (size_t)k);
        buf[cap - n - k - 1] = 0x0a;
        n += (size_t)k + 1;
    }
    olm_pb_reader r = olm_pb_reader_init(buf + cap - n, n);
    int depth = 0;
    for (;;) {
        olm_pb_field f;
        if (!olm_pb_next(&r, &f) || f.num != 1) break;
        r = olm_pb_sub(&f);
        depth++;
    }
    CHECK(r.bad);                           /* the reader refused to go deeper */
    CHECK_EQ_INT(depth, OLM_PB_MAX_DEPTH + 1); /* OLM_PB_MAX_DEPTH nested readers worked */
    free(buf);
    /* a LEN field longer than the buffer, a truncated varint */
    const uint8_t longer[] = {0x0a, 0x05, 1, 2};
    olm_pb_reader r2 = olm_pb_reader_init(longer, sizeof longer);
    olm_pb_field f;
    CHECK(!olm_pb_next(&r2, &f) && r2.bad);
    const uint8_t trunc[] = {0x08, 0xff};
    r2 = olm_pb_reader_init(trunc, sizeof trunc);
    CHECK(!olm_pb_next(&r2, &f) && r2.bad);
    const uint8_t packed_trunc[] = {0x0a, 0x02, 0x01, 0x81};
    r2 = olm_pb_reader_init(packed_trunc, sizeof packed_trunc);
    CHECK(olm_pb_next(&r2, &f));
    int64_t *v = NULL;
    int nv = 0;
    CHECK(!olm_pb_append_ints(&f, &v, &nv));
    free(v);
}

TEST(path_is_inside) {
    CHECK(olm_path_is_inside("model.onnx.data"));
    CHECK(olm_path_is_inside("a/b.bin"));
    CHECK(!olm_path_is_inside(""));
    CHECK(!olm_path_is_inside(NULL));
    CHECK(!olm_path_is_inside("/etc/passwd"));
    CHECK(!olm_path_is_inside("../x"));
    CHECK(!olm_path_is_inside("a/../../x"));
    CHECK(!olm_path_is_inside(".."));
    CHECK(!olm_path_is_inside("a//b"));
    CHECK(!olm_path_is_inside("a/./b"));
    CHECK(!olm_path_is_inside("a/"));
    CHECK(!olm_path_is_inside("a\\..\\b"));
    CHECK(!olm_path_is_inside("a\nb"));
    CHECK(olm_path_is_inside("..a/b..")); /* dots inside names are names */
}

static char tmpdir[64];

TEST(mkdir_p_and_regular_files) {
    onnxllm_error e = {0};
    char p[256];
    /* issue 12 #7: the empty name is an error (it used to read before its buffer) */
    CHECK_EQ_INT(olm_mkdir_p("", &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    snprintf(p, sizeof p, "%s/a/b/c//", tmpdir);
    CHECK_EQ_INT(olm_mkdir_p(p, &e), 0);
    CHECK_EQ_INT(olm_mkdir_p(p, &e), 0); /* exists: fine */
    snprintf(p, sizeof p, "%s/file", tmpdir);
    FILE *f = fopen(p, "w");
    fputs("{}", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/file/sub", tmpdir);
    CHECK_EQ_INT(olm_mkdir_p(p, &e), ONNXLLM_ERR_IO);
    CHECK(strstr(e.message, "not a folder") != NULL);
    /* issue 12 #14: a FIFO is refused at once, not read (which would block forever) */
    snprintf(p, sizeof p, "%s/fifo", tmpdir);
    CHECK(mkfifo(p, 0600) == 0);
    char *text = NULL;
    size_t len;
    alarm(10); /* a regression hangs: fail, do not hang */
    CHECK_EQ_INT(olm_read_file(p, &text, &len, &e), ONNXLLM_ERR_IO);
    CHECK(strstr(e.message, "not a regular file (a FIFO)") != NULL);
    CHECK_EQ_INT(olm_read_file(tmpdir, &text, &len, &e), ONNXLLM_ERR_IO);
    CHECK(strstr(e.message, "a folder") != NULL);
    CHECK_EQ_INT(olm_read_file("/dev/zero", &text, &len, &e), ONNXLLM_ERR_IO);
    alarm(0);
    snprintf(p, sizeof p, "%s/file", tmpdir);
    CHECK_EQ_INT(olm_read_file(p, &text, &len, &e), 0);
    CHECK_EQ_INT(len, 2);
    free(text);
}

static bool exists(const char *dir, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void touch(const char *dir, const char *name, const char *content) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

/* issue 12 #5: atomic output folders, same-file refusal by device/inode */
TEST(outdir_atomic_and_same_file) {
    onnxllm_error e = {0};
    char in[256], out[256], spelled[300], link_path[300];
    snprintf(in, sizeof in, "%s/in", tmpdir);
    snprintf(out, sizeof out, "%s/new/out", tmpdir);
    CHECK_EQ_INT(olm_mkdir_p(in, &e), 0);
    touch(in, "model.onnx", "input");
    /* the input spelled differently is still the input */
    const char *inputs[] = {in};
    olm_outdir o;
    snprintf(spelled, sizeof spelled, "%s/", in);
    CHECK_EQ_INT(olm_outdir_begin(&o, spelled, inputs, 1, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "is the input") != NULL);
    snprintf(spelled, sizeof spelled, "%s/../in/.", in);
    CHECK_EQ_INT(olm_outdir_begin(&o, spelled, inputs, 1, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    snprintf(link_path, sizeof link_path, "%s/link", tmpdir);
    CHECK(symlink(in, link_path) == 0);
    CHECK_EQ_INT(olm_outdir_begin(&o, link_path, inputs, 1, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(olm_outdir_begin(&o, "", inputs, 1, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    /* a new folder (parents made): nothing at OUT until commit */
    CHECK_EQ_INT(olm_outdir_begin(&o, out, inputs, 1, &e), 0);
    touch(o.path, "model.onnx", "v1");
    CHECK(access(out, F_OK) != 0);
    CHECK_EQ_INT(olm_outdir_commit(&o, &e), 0);
    CHECK(exists(out, "model.onnx"));
    /* replacing: a failed write leaves the old version whole; a committed one replaces
     * our files and keeps the user's */
    touch(out, "notes.txt", "mine");
    CHECK_EQ_INT(olm_outdir_begin(&o, out, inputs, 1, &e), 0);
    touch(o.path, "model.onnx", "half");
    olm_outdir_abort(&o);
    char p[512], buf[16] = "";
    snprintf(p, sizeof p, "%s/model.onnx", out);
    FILE *f = fopen(p, "r");
    CHECK(f && fgets(buf, sizeof buf, f));
    if (f) fclose(f);
    CHECK_EQ_STR(buf, "v1");
    CHECK_EQ_INT(olm_outdir_begin(&o, out, inputs, 1, &e), 0);
    touch(o.path, "model.onnx", "v2");
    CHECK_EQ_INT(olm_outdir_commit(&o, &e), 0);
    f = fopen(p, "r");
    CHECK(f && fgets(buf, sizeof buf, f));
    if (f) fclose(f);
    CHECK_EQ_STR(buf, "v2");
    CHECK(exists(out, "notes.txt"));
    /* no staging folders left behind */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -a %s/new | grep -c tmp- > /dev/null", tmpdir);
    CHECK(system(cmd) != 0);
    CHECK(olm_same_file(in, spelled));
    CHECK(!olm_same_file(in, out));
}

TEST(checked_arithmetic) {
    size_t s;
    CHECK(!olm_mul_size(SIZE_MAX / 2 + 1, 2, &s) && s == 0);
    CHECK(olm_mul_size(3, 4, &s) && s == 12);
    int64_t p;
    int64_t dims[] = {1 << 30, 1 << 30, 1 << 30};
    CHECK(!olm_dims_product(dims, 3, 0, &p));
    int64_t neg[] = {2, -3};
    CHECK(!olm_dims_product(neg, 2, 0, &p));
    CHECK(olm_dims_product(dims, 2, 0, &p) && p == (int64_t)1 << 60);
    CHECK(!olm_dims_product(dims, 2, 1000, &p));
    uint64_t u;
    CHECK(olm_parse_u64("18446744073709551615", 20, &u) && u == UINT64_MAX);
    CHECK(!olm_parse_u64("18446744073709551616", 20, &u));
    CHECK(!olm_parse_u64("12x", 3, &u));
    CHECK(!olm_parse_u64("-1", 2, &u));
    CHECK(!olm_count_justified(2147483648u, 61, 1, 65536));
    CHECK(olm_count_justified(1000, 61, 1, 65536));
}

int main(void) {
    RUN(fail_formats_message);
    RUN(json_error_has_position);
    RUN(missing_file_is_io_error);
    RUN(path_join);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/olm-common-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(json_strict);
    RUN(json_duplicate_keys_as_python);
    RUN(json_getters_check_type_and_range);
    RUN(pbread_depth_and_bounds);
    RUN(path_is_inside);
    RUN(mkdir_p_and_regular_files);
    RUN(outdir_atomic_and_same_file);
    RUN(checked_arithmetic);
    olm_remove_tree(tmpdir);
    return test_summary("common");
}
