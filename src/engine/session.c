/* session.c — the ONNX Runtime side of a model: environment, session options,
 * execution providers, and the check that the graph's inputs and outputs are the
 * ones genai_config.json describes (names, ranks, dtypes, static dims).
 *
 * Options mirror onnxruntime-genai's CreateSessionOptionsFromConfig so both run
 * the same kernels: ORT-default graph optimisation and spinning unless the config
 * says otherwise, intra-op threads from the caller/config. The thread default
 * differs on purpose: genai uses half the logical CPUs, we use every physical core. */
#include "engine/engine.h"
#include "common/error.h"
#include "common/fileio.h"
#include "engine/graph_edit.h"

#include <onnxruntime_session_options_config_keys.h>

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

onnxllm_status olm_ort_status(const OrtApi *api, OrtStatus *st, onnxllm_status code, onnxllm_error *err,
                              const char *what) {
    if (!st) return ONNXLLM_OK;
    char msg[ONNXLLM_ERROR_MESSAGE_MAX - 64];
    snprintf(msg, sizeof msg, "%s", api->GetErrorMessage(st));
    /* ORT messages can span lines; keep the one-line contract. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    api->ReleaseStatus(st);
    return olm_fail(err, code, "%s: %s", what, msg);
}

/* Distinct (package, core) pairs among the CPUs this process may run on. */
int olm_physical_cores(void) {
    cpu_set_t set;
    int allowed = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) allowed = CPU_COUNT(&set);
    int n = 0;
    long seen[1024];
    for (int cpu = 0; cpu < CPU_SETSIZE && n < 1024; cpu++) {
        if (allowed && !CPU_ISSET(cpu, &set)) continue;
        char path[128];
        long pkg = 0, core = -1;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fscanf(f, "%ld", &core) != 1) core = cpu;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%ld", &pkg) != 1) pkg = 0;
            fclose(f);
        }
        long key = pkg * 100000 + core;
        bool dup = false;
        for (int i = 0; i < n; i++) dup |= seen[i] == key;
        if (!dup) seen[n++] = key;
    }
    if (n == 0) n = allowed > 0 ? allowed : (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

int olm_max_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    long lim = n > 0 ? 4 * n : 64;
    return lim < 64 ? 64 : lim > OLM_MAX_THREADS ? OLM_MAX_THREADS : (int)lim;
}

/* Directory holding libonnxruntime.so (where ORT looks for provider libraries). */
static void ort_lib_dir(char *out, size_t cap) {
    Dl_info info;
    out[0] = 0;
    if (dladdr((void *)OrtGetApiBase, &info) && info.dli_fname) {
        snprintf(out, cap, "%s", info.dli_fname);
        char *slash = strrchr(out, '/');
        if (slash) *slash = 0;
        else snprintf(out, cap, ".");
    }
}

static onnxllm_status append_cuda(onnxllm_model *m, OrtSessionOptions *so, const onnxllm_model_params *p,
                                  onnxllm_error *err) {
    const OrtApi *api = m->api;
    char dir[1024], lib[1100];
    ort_lib_dir(dir, sizeof dir);
    snprintf(lib, sizeof lib, "%s/libonnxruntime_providers_cuda.so", dir);
    struct stat sb;
    if (stat(lib, &sb) != 0)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED,
                        "CUDA execution provider not available: %s not found next to libonnxruntime.so "
                        "(install it with ONNXLLM_CUDA=1 scripts/setup-deps.sh, npm package "
                        "com.github.asus4.onnxruntime.linux-x64-gpu)",
                        lib);
    OrtCUDAProviderOptionsV2 *cuda = NULL;
    onnxllm_status st = olm_ort_status(api, api->CreateCUDAProviderOptions(&cuda), ONNXLLM_ERR_UNSUPPORTED, err,
                                       "CUDA execution provider");
    if (st) return st;
    const char *keys[OLM_MAX_PROVIDER_OPTIONS + 1], *vals[OLM_MAX_PROVIDER_OPTIONS + 1];
    char devid[16];
    size_t n = 0;
    bool has_dev = false;
    for (int i = 0; i < m->cfg.n_cuda_options; i++) {
        keys[n] = m->cfg.cuda_options[i].key;
        vals[n] = m->cfg.cuda_options[i].value;
        if (!strcmp(keys[n], "device_id")) {
            has_dev = true;
            if (p->device_id) {
                snprintf(devid, sizeof devid, "%d", p->device_id);
                vals[n] = devid;
            }
        }
        n++;
    }
    if (!has_dev) {
        snprintf(devid, sizeof devid, "%d", p->device_id);
        keys[n] = "device_id";
        vals[n++] = devid;
    }
    st = olm_ort_status(api, api->UpdateCUDAProviderOptions(cuda, keys, vals, n), ONNXLLM_ERR_FORMAT, err,
                        "genai_config.json: model.decoder.session_options.provider_options cuda");
    if (!st)
        st = olm_ort_status(api, api->SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda),
                            ONNXLLM_ERR_UNSUPPORTED, err,
                            "CUDA execution provider could not be loaded (CUDA runtime, cuDNN or driver missing?)");
    api->ReleaseCUDAProviderOptions(cuda);
    return st;
}

/* Reads model.onnx once: the rotary switch width, and — unless the caller wants
 * every position's logits — the graph edited in memory so lm_head runs on the
 * last positions only (graph_edit.c). ORT then loads from the
 * bytes, so it is told where the external weights live (they are still mapped from
 * model.onnx.data, never read here). *out stays NULL when the graph does not fit
 * the edit: the file is loaded as is and logits keep every position. */
static onnxllm_status last_logits_model(onnxllm_model *m, const char *path, bool edit, OrtSessionOptions *so,
                                        uint8_t **out, size_t *out_len, onnxllm_error *err) {
    char *buf = NULL;
    size_t len = 0;
    onnxllm_status st = olm_read_file(path, &buf, &len, err);
    if (st) return st;
    /* While the bytes are here: where the graph switches rotary tables (batching
     * must not mix rows from both sides of it). */
    int64_t sw = 0;
    int found = olm_graph_rope_switch((const uint8_t *)buf, len, &sw);
    m->rope_switch = found < 0 ? -1 : found ? sw : 0;
    char why[256];
    if (edit)
        st = olm_graph_last_logits((const uint8_t *)buf, len, m->cfg.out_logits, out, out_len, why, sizeof why, err);
    free(buf);
    if (st || !*out) return st;
    char *dir = strdup(path);
    if (!dir) st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    else {
        char *slash = strrchr(dir, '/');
        if (slash) slash[slash == dir] = 0;
        else snprintf(dir, strlen(dir) + 1, ".");
        st = olm_ort_status(m->api,
                            m->api->AddSessionConfigEntry(so, kOrtSessionOptionsModelExternalInitializersFileFolderPath,
                                                          dir),
                            ONNXLLM_ERR_RUNTIME, err, "session options");
    }
    free(dir);
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

/* ORT's CreateEnv starts its telemetry, which matches std::regex patterns against
 * /proc/self/cmdline. libstdc++'s regex recurses once per character (~250 bytes of
 * stack per byte of command line), so a command line of ~32 KB — a long -p prompt —
 * overflows an 8 MB main-thread stack (SIGSEGV, ~97,000 frames deep). CreateEnv
 * therefore runs on a thread whose stack is sized from the command line (Linux caps
 * it at ARG_MAX, 2 MB by default → ~800 MB of address space, touched only as deep
 * as the recursion goes, and gone when the thread ends). */
typedef struct {
    const OrtApi *api;
    OrtEnv **env;
    OrtStatus *st;
} env_job;

static void *env_thread(void *arg) {
    env_job *j = arg;
    j->st = j->api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "onnxllm", j->env);
    return NULL;
}

static size_t cmdline_bytes(void) {
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    size_t n = 0;
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) n += (size_t)r;
    close(fd);
    return n;
}

static OrtStatus *create_env(const OrtApi *api, OrtEnv **env) {
    env_job j = {api, env, NULL};
    size_t stack = ((size_t)32 << 20) + 400 * cmdline_bytes();
    pthread_attr_t at;
    pthread_t t;
    if (pthread_attr_init(&at) == 0) {
        bool started = pthread_attr_setstacksize(&at, stack) == 0 && pthread_create(&t, &at, env_thread, &j) == 0;
        pthread_attr_destroy(&at);
        if (started) {
            pthread_join(t, NULL);
            return j.st;
        }
    }
    env_thread(&j); /* no thread (address space or thread limit): the caller's stack */
    return j.st;
}

onnxllm_status olm_session_open(onnxllm_model *m, const onnxllm_model_params *p, onnxllm_error *err) {
    const OrtApi *api = m->api;
    const olm_genai_config *c = &m->cfg;
    onnxllm_status st;
    st = olm_ort_status(api, create_env(api, &m->env), ONNXLLM_ERR_RUNTIME, err,
                        "ONNX Runtime environment");
    if (st) return st;
    st = olm_ort_status(api, api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &m->cpu_mem),
                        ONNXLLM_ERR_RUNTIME, err, "ONNX Runtime memory info");
    if (st) return st;
    OrtSessionOptions *so = NULL;
    st = olm_ort_status(api, api->CreateSessionOptions(&so), ONNXLLM_ERR_RUNTIME, err, "session options");
    if (st) return st;
    m->n_threads = p->n_threads > 0 ? p->n_threads
                 : c->intra_op_num_threads > 0 ? c->intra_op_num_threads
                                               : olm_physical_cores();
    /* a thread count from a downloaded config is bounded like the caller's: ORT would
     * try to start every one of them (100000 never finished loading) */
    if (m->n_threads > olm_max_threads() || c->inter_op_num_threads > olm_max_threads()) {
        st = olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                      "%s: model.decoder.session_options: %d threads asked for: at most %d on this machine (4 per "
                      "CPU, at least 64)",
                      c->path, m->n_threads > c->inter_op_num_threads ? m->n_threads : c->inter_op_num_threads,
                      olm_max_threads());
        goto done;
    }
#define SO(call)                                                                                        \
    do {                                                                                                \
        st = olm_ort_status(api, (call), ONNXLLM_ERR_RUNTIME, err, "session options");                  \
        if (st) goto done;                                                                              \
    } while (0)
    SO(api->SetIntraOpNumThreads(so, m->n_threads));
    if (c->inter_op_num_threads > 0) SO(api->SetInterOpNumThreads(so, c->inter_op_num_threads));
    if (c->graph_optimization_level >= 0)
        SO(api->SetSessionGraphOptimizationLevel(so, (GraphOptimizationLevel)c->graph_optimization_level));
    if (c->enable_cpu_mem_arena == 0) SO(api->DisableCpuMemArena(so));
    if (c->enable_mem_pattern == 0) SO(api->DisableMemPattern(so));
    if (c->log_id[0]) SO(api->SetSessionLogId(so, c->log_id));
    if (c->log_severity_level >= 0) SO(api->SetSessionLogSeverityLevel(so, c->log_severity_level));
#undef SO
    if (!strcmp(m->ep, "cuda")) {
        st = append_cuda(m, so, p, err);
        if (st) goto done;
    }
    char *path = olm_path_join(m->dir, m->cfg.filename);
    if (!path) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    char what[1100];
    snprintf(what, sizeof what, "%s: ONNX Runtime cannot load the model", path);
    uint8_t *edited = NULL;
    size_t edited_len = 0;
    st = last_logits_model(m, path, !p->full_logits, so, &edited, &edited_len, err);
    bool applied = false;
    /* huge pages: our allocator serves the CPU allocations of this session creation */
    bool hp_registered = false;
    if (!st && p->hugepages && !strcmp(m->ep, "cpu") && (m->hp = olm_hp_alloc_create(api))) {
        hp_registered = olm_hp_alloc_register(m->hp, m->env);
        OrtStatus *os = hp_registered ? api->AddSessionConfigEntry(so, kOrtSessionOptionsConfigUseEnvAllocators, "1")
                                      : NULL;
        if (os) api->ReleaseStatus(os);
        if (!hp_registered || os) { /* the slot is taken: load without */
            if (hp_registered) olm_hp_alloc_unregister(m->hp, m->env);
            hp_registered = false;
            olm_hp_alloc_free(m->hp);
            m->hp = NULL;
        }
    }
    if (!st && edited) {
        /* Through a memfd rather than CreateSessionFromArray: our copy is freed
         * before ORT parses, so it does not add ~model.onnx bytes (52 MB for
         * Phi-4-mini, its rope caches are inline) to the load's peak RSS. */
        int fd = memfd_create("onnxllm-edited-model.onnx", MFD_CLOEXEC);
        size_t off = 0;
        while (fd >= 0 && off < edited_len) {
            ssize_t w = write(fd, edited + off, edited_len - off);
            if (w <= 0) break;
            off += (size_t)w;
        }
        OrtStatus *os;
        if (fd >= 0 && off == edited_len) {
            free(edited);
            edited = NULL;
            char fdpath[64];
            snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
            os = api->CreateSession(m->env, fdpath, so, &m->session);
        } else {
            os = api->CreateSessionFromArray(m->env, edited, edited_len, so, &m->session);
        }
        if (fd >= 0) close(fd);
        applied = !os;
        if (os) { /* a graph the edit did not foresee: run it as published (errors then name the file) */
            api->ReleaseStatus(os);
            m->session = NULL;
            free(edited);
            edited = NULL;
        }
    }
    if (!st && !applied)
        st = olm_ort_status(api, api->CreateSession(m->env, path, so, &m->session), ONNXLLM_ERR_FORMAT, err, what);
    free(edited); /* ORT parsed it into its own graph */
    free(path);
    if (hp_registered) olm_hp_alloc_unregister(m->hp, m->env); /* the session keeps it */
    if (st) goto done;
    m->last_logits_only = applied;
    if (!strcmp(m->ep, "cuda")) {
        st = olm_ort_status(api, api->CreateMemoryInfo("Cuda", OrtDeviceAllocator, p->device_id, OrtMemTypeDefault,
                                                       &m->dev_mem),
                            ONNXLLM_ERR_RUNTIME, err, "CUDA memory info");
        if (!st)
            st = olm_ort_status(api, api->CreateAllocator(m->session, m->dev_mem, &m->dev_alloc), ONNXLLM_ERR_RUNTIME,
                                err, "CUDA allocator");
    }
done:
    api->ReleaseSessionOptions(so);
    return st;
}

/* ---- I/O check -------------------------------------------------------------------*/

typedef struct {
    ONNXTensorElementDataType type;
    size_t rank;
    int64_t dims[8];
} tinfo_t;

static onnxllm_status type_info(onnxllm_model *m, bool input, size_t i, tinfo_t *t, onnxllm_error *err) {
    const OrtApi *api = m->api;
    OrtTypeInfo *ti = NULL;
    const OrtTensorTypeAndShapeInfo *tsi = NULL;
    OrtStatus *s = input ? api->SessionGetInputTypeInfo(m->session, i, &ti)
                         : api->SessionGetOutputTypeInfo(m->session, i, &ti);
    onnxllm_status st = olm_ort_status(api, s, ONNXLLM_ERR_RUNTIME, err, "session type info");
    if (st) return st;
    memset(t, 0, sizeof *t);
    if (!(s = api->CastTypeInfoToTensorInfo(ti, &tsi)) && tsi) {
        olm_ort_void(api, api->GetTensorElementType(tsi, &t->type));
        olm_ort_void(api, api->GetDimensionsCount(tsi, &t->rank));
        if (t->rank > 8) t->rank = 8;
        olm_ort_void(api, api->GetDimensions(tsi, t->dims, t->rank));
    } else if (s) {
        api->ReleaseStatus(s);
    }
    api->ReleaseTypeInfo(ti);
    return ONNXLLM_OK;
}

static const char *dtype_name(ONNXTensorElementDataType t) {
    switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED: return "not a tensor";
    default: return "another type";
    }
}

static bool is_float(ONNXTensorElementDataType t) {
    return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
}
static bool is_int(ONNXTensorElementDataType t) {
    return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 || t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
}

/* Finds the layer index of name for a template; -1 if it does not match. */
static int match_layer(const char *tmpl, const char *name) {
    const char *p = strstr(tmpl, "%d");
    size_t pre = (size_t)(p - tmpl), post = strlen(p + 2);
    size_t n = strlen(name);
    if (n <= pre + post || strncmp(name, tmpl, pre) || strcmp(name + n - post, p + 2)) return -1;
    int v = 0;
    for (size_t i = pre; i < n - post; i++) {
        if (name[i] < '0' || name[i] > '9' || v > 100000) return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

#define MISMATCH(...) olm_fail(err, ONNXLLM_ERR_MISMATCH, __VA_ARGS__)

onnxllm_status olm_session_check_io(onnxllm_model *m, onnxllm_error *err) {
    const OrtApi *api = m->api;
    const olm_genai_config *c = &m->cfg;
    const int L = c->num_hidden_layers;
    olm_io *io = &m->io;
    OrtAllocator *alloc = NULL;
    olm_ort_void(api, api->GetAllocatorWithDefaultOptions(&alloc));
    size_t n_in = 0, n_out = 0;
    olm_ort_void(api, api->SessionGetInputCount(m->session, &n_in));
    olm_ort_void(api, api->SessionGetOutputCount(m->session, &n_out));
    /* The per-layer tables are sized by the config's layer count: only as far as the
     * graph justifies it (each layer has a past key and value input). */
    if ((size_t)L > n_in / 2)
        return MISMATCH("%s: genai_config.json model.decoder.num_hidden_layers is %d but the graph has only %zu "
                        "inputs (2 per layer are needed)",
                        c->filename, L, n_in);
    io->past_k = calloc((size_t)L, OLM_NAME_MAX);
    io->past_v = calloc((size_t)L, OLM_NAME_MAX);
    io->present_k = calloc((size_t)L, OLM_NAME_MAX);
    io->present_v = calloc((size_t)L, OLM_NAME_MAX);
    unsigned char *seen = calloc((size_t)L * 4, 1);
    if (!io->past_k || !io->past_v || !io->present_k || !io->present_v || !seen) {
        free(seen);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < L; i++) {
        olm_layer_name(io->past_k[i], c->in_past_key, i);
        olm_layer_name(io->past_v[i], c->in_past_value, i);
        olm_layer_name(io->present_k[i], c->out_present_key, i);
        olm_layer_name(io->present_v[i], c->out_present_value, i);
    }
    const char *file = c->filename;
    onnxllm_status st = ONNXLLM_OK;
    bool has_ids = false, has_logits = false;
    io->kv_type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    for (size_t pass = 0; pass < 2 && !st; pass++) {
        bool input = pass == 0;
        size_t count = input ? n_in : n_out;
        for (size_t i = 0; i < count && !st; i++) {
            char *name = NULL;
            OrtStatus *os = input ? api->SessionGetInputName(m->session, i, alloc, &name)
                                  : api->SessionGetOutputName(m->session, i, alloc, &name);
            if ((st = olm_ort_status(api, os, ONNXLLM_ERR_RUNTIME, err, "session names"))) break;
            tinfo_t t;
            if ((st = type_info(m, input, i, &t, err))) {
                alloc->Free(alloc, name);
                break;
            }
            const char *kind = input ? "input" : "output";
            int layer;
            bool key = false;
            if (input && !strcmp(name, c->in_input_ids)) {
                has_ids = true;
                io->ids_type = t.type;
                if (!is_int(t.type) || t.rank != 2)
                    st = MISMATCH("%s: input %s is %s rank %zu, expected int64/int32 [batch, sequence]", file, name,
                                  dtype_name(t.type), t.rank);
            } else if (input && !strcmp(name, c->in_attention_mask)) {
                io->has_mask = true;
                io->mask_type = t.type;
                if (!is_int(t.type) || t.rank != 2)
                    st = MISMATCH("%s: input %s is %s rank %zu, expected int64/int32 [batch, total_sequence]", file,
                                  name, dtype_name(t.type), t.rank);
            } else if (input && !strcmp(name, c->in_position_ids)) {
                io->has_pos = true;
                io->pos_type = t.type;
                if (!is_int(t.type) || t.rank != 2)
                    st = MISMATCH("%s: input %s is %s rank %zu, expected int64/int32 [batch, sequence]", file, name,
                                  dtype_name(t.type), t.rank);
            } else if (!input && !strcmp(name, c->out_logits)) {
                has_logits = true;
                io->logits_type = t.type;
                if (!is_float(t.type) || t.rank != 3)
                    st = MISMATCH("%s: output %s is %s rank %zu, expected float32/float16 [batch, sequence, vocab]",
                                  file, name, dtype_name(t.type), t.rank);
                else if (t.dims[2] > 0 && t.dims[2] != c->vocab_size)
                    st = MISMATCH("%s: output %s has vocab dimension %lld but genai_config.json model.vocab_size is %d",
                                  file, name, (long long)t.dims[2], c->vocab_size);
            } else if ((layer = match_layer(input ? c->in_past_key : c->out_present_key, name)) >= 0 ||
                       (layer = match_layer(input ? c->in_past_value : c->out_present_value, name)) >= 0) {
                key = match_layer(input ? c->in_past_key : c->out_present_key, name) >= 0;
                if (layer >= L) {
                    st = MISMATCH("%s: %s %s is for layer %d but genai_config.json model.decoder.num_hidden_layers "
                                  "is %d",
                                  file, kind, name, layer, L);
                } else if (!is_float(t.type) || t.rank != 4) {
                    st = MISMATCH("%s: %s %s is %s rank %zu, expected float32/float16 [batch, kv_heads, sequence, "
                                  "head_size]",
                                  file, kind, name, dtype_name(t.type), t.rank);
                } else if (t.dims[1] > 0 && t.dims[1] != c->num_key_value_heads) {
                    st = MISMATCH("%s: %s %s has %lld kv heads but genai_config.json "
                                  "model.decoder.num_key_value_heads is %d",
                                  file, kind, name, (long long)t.dims[1], c->num_key_value_heads);
                } else if (t.dims[3] > 0 && t.dims[3] != c->head_size) {
                    st = MISMATCH("%s: %s %s has head size %lld but genai_config.json model.decoder.head_size is %d",
                                  file, kind, name, (long long)t.dims[3], c->head_size);
                } else if (io->kv_type != ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED && io->kv_type != t.type) {
                    st = MISMATCH("%s: %s %s is %s but other KV tensors are %s", file, kind, name,
                                  dtype_name(t.type), dtype_name(io->kv_type));
                } else {
                    io->kv_type = t.type;
                    if (input && key && layer == 0) memcpy(io->kv_dims, t.dims, sizeof io->kv_dims);
                    seen[(size_t)layer * 4 + (input ? 0 : 2) + (key ? 0 : 1)] = 1;
                }
            } else if (input) {
                st = MISMATCH("%s: input %s is not one genai_config.json describes (model.decoder.inputs)", file,
                              name);
            }
            alloc->Free(alloc, name);
        }
    }
    if (!st && !has_ids) st = MISMATCH("%s: no input named %s (genai_config.json model.decoder.inputs.input_ids)", file,
                                       c->in_input_ids);
    if (!st && !has_logits)
        st = MISMATCH("%s: no output named %s (genai_config.json model.decoder.outputs.logits)", file, c->out_logits);
    for (int i = 0; i < L && !st; i++) {
        static const char *const what[4] = {"input", "input", "output", "output"};
        const char *names[4] = {io->past_k[i], io->past_v[i], io->present_k[i], io->present_v[i]};
        for (int j = 0; j < 4 && !st; j++)
            if (!seen[(size_t)i * 4 + j])
                st = MISMATCH("%s: no %s named %s, but genai_config.json model.decoder.num_hidden_layers is %d", file,
                              what[j], names[j], L);
    }
    free(seen);
    return st;
}
