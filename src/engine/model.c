/* model.c — onnxllm_model: a validated model folder with its ORT session.
 *
 * Load order = cheapest check first, so a broken folder fails in milliseconds
 * with a message naming the file: folder → genai_config.json → model.onnx and
 * its external data (scanned without ORT) → ORT session → graph I/O vs config. */
#include "engine/engine.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

onnxllm_model_params onnxllm_model_default_params(void) {
    onnxllm_model_params p;
    memset(&p, 0, sizeof p);
    return p;
}

/* onnxruntime-genai rewinds Phi-3-family models once the sequence reaches this
 * length, recomputing the cache with the long-factor rotary table. The values are
 * fixed in genai 0.15.2 (Generator::InitializePhi3RopeThreshold: 4097 for phi3 and
 * phimoe, 8193 for phi3small; batch 1 on CPU/CUDA), not read from the config —
 * which is also why a LongRoPE switch at another length gets no rewind there. */
static int rope_threshold(const char *type) {
    if (!strcmp(type, "phi3") || !strcmp(type, "phimoe")) return 4097;
    if (!strcmp(type, "phi3small")) return 8193;
    return 0;
}

onnxllm_status onnxllm_model_load(const char *dir, const onnxllm_model_params *params, onnxllm_model **out,
                                  onnxllm_error *err) {
    *out = NULL;
    onnxllm_model_params p = params ? *params : onnxllm_model_default_params();
    if (!dir || !dir[0]) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no model folder given");
    struct stat sb;
    if (stat(dir, &sb) != 0) return olm_fail(err, ONNXLLM_ERR_IO, "%s: model folder not found: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return olm_fail(err, ONNXLLM_ERR_IO, "%s: not a folder (expected a model folder)", dir);
    if (p.ep && strcmp(p.ep, "cpu") && strcmp(p.ep, "cuda"))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown execution provider \"%s\" (use cpu or cuda)", p.ep);
    if (p.n_threads < 0 || p.max_length < 0 || p.device_id < 0)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "n_threads, max_length and device_id must be >= 0");
    if (p.n_threads > olm_max_threads())
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "%d threads asked for: at most %d on this machine (4 per CPU, at least 64)", p.n_threads,
                        olm_max_threads());

    onnxllm_model *m = calloc(1, sizeof *m);
    if (!m) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    m->api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    onnxllm_status st = ONNXLLM_OK;
    m->dir = strdup(dir);
    if (!m->api) st = olm_fail(err, ONNXLLM_ERR_RUNTIME, "ONNX Runtime library is older than API %d", ORT_API_VERSION);
    else if (!m->dir) st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!st) st = olm_genai_config_load(dir, &m->cfg, err);
    if (st) goto fail;
    snprintf(m->ep, sizeof m->ep, "%s", p.ep ? p.ep : m->cfg.has_cuda_provider ? "cuda" : "cpu");
    /* default: genai_config's search.max_length (else context_length), at most 4096 —
     * the KV cache is allocated at this size up front (131072 would be 32 GiB) */
    int want = m->cfg.search_max_length > 0 ? m->cfg.search_max_length : m->cfg.context_length;
    m->max_length = p.max_length ? p.max_length : (want < 4096 ? want : 4096);
    if (m->max_length > m->cfg.context_length && !p.max_length) m->max_length = m->cfg.context_length;
    if (m->max_length > m->cfg.context_length) {
        st = olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "max_length %d exceeds the model's context_length %d (%s)",
                      m->max_length, m->cfg.context_length, m->cfg.path);
        goto fail;
    }
    m->shared_kv = m->cfg.past_present_share_buffer && !p.no_shared_kv;
    m->rope_threshold = rope_threshold(m->cfg.type);
    if ((st = olm_onnx_scan_file(dir, m->cfg.filename, &m->scan, err))) goto fail;
    if ((st = olm_session_open(m, &p, err))) goto fail;
    if ((st = olm_session_check_io(m, err))) goto fail;
    *out = m;
    return ONNXLLM_OK;
fail:
    onnxllm_model_free(m);
    return st;
}

void onnxllm_model_free(onnxllm_model *m) {
    if (!m) return;
    const OrtApi *api = m->api;
    if (api) {
        if (m->dev_alloc) api->ReleaseAllocator(m->dev_alloc);
        if (m->session) api->ReleaseSession(m->session);
        if (m->cpu_mem) api->ReleaseMemoryInfo(m->cpu_mem);
        if (m->dev_mem) api->ReleaseMemoryInfo(m->dev_mem);
        if (m->env) api->ReleaseEnv(m->env);
    }
    olm_hp_alloc_free(m->hp); /* ORT no longer frees through it */
    free(m->io.past_k);
    free(m->io.past_v);
    free(m->io.present_k);
    free(m->io.present_v);
    olm_genai_config_free(&m->cfg);
    free(m->dir);
    free(m);
}

const char *onnxllm_model_dir(const onnxllm_model *m) { return m->dir; }
const char *onnxllm_model_type(const onnxllm_model *m) { return m->cfg.type; }
const char *onnxllm_model_ep(const onnxllm_model *m) { return m->ep; }
int onnxllm_model_vocab_size(const onnxllm_model *m) { return m->cfg.vocab_size; }
int onnxllm_model_context_length(const onnxllm_model *m) { return m->cfg.context_length; }
int onnxllm_model_max_length(const onnxllm_model *m) { return m->max_length; }
int onnxllm_model_n_threads(const onnxllm_model *m) { return m->n_threads; }

/* genai_config.json "search" as onnxruntime-genai reads it: greedy unless do_sample;
 * top_k / top_p outside their useful range mean "off"; the repetition penalty applies
 * to the whole sequence (genai has no window) and also when greedy. */
onnxllm_sampler_params onnxllm_model_sampler_params(const onnxllm_model *m) {
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    const olm_genai_config *c = &m->cfg;
    if (c->do_sample && c->temperature > 0.0f && isfinite(c->temperature)) {
        p.temperature = c->temperature;
        p.top_k = c->top_k > 0 ? c->top_k : 0;
        p.top_p = c->top_p > 0.0f && c->top_p < 1.0f ? c->top_p : 1.0f;
    } else {
        p.temperature = 0.0f;
    }
    p.repetition_penalty = c->repetition_penalty;
    p.penalty_last_n = 0;
    return p;
}
int32_t onnxllm_model_bos(const onnxllm_model *m) { return m->cfg.bos_token_id; }
int32_t onnxllm_model_pad(const onnxllm_model *m) { return m->cfg.pad_token_id; }

const int32_t *onnxllm_model_eos(const onnxllm_model *m, size_t *n) {
    *n = (size_t)m->cfg.n_eos;
    return m->cfg.eos_token_id;
}

bool onnxllm_model_is_eos(const onnxllm_model *m, int32_t token) {
    for (int i = 0; i < m->cfg.n_eos; i++)
        if (m->cfg.eos_token_id[i] == token) return true;
    return false;
}

uint64_t onnxllm_model_weight_bytes_per_token(const onnxllm_model *m) {
    return m->scan.total_bytes - m->scan.embedding_bytes;
}
