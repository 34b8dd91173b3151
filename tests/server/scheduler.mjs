// scheduler.mjs — the scheduler seen through HTTP (issue 9 wired into `onnxllm serve`):
//  - a full queue answers 429 (OpenAI, Responses) / 529 overloaded_error (Anthropic) with
//    Retry-After, and the official SDKs' own retry then gets the answer;
//  - cached prompt tokens reach every API's usage (prompt_tokens_details.cached_tokens,
//    cache_read_input_tokens, input_tokens_details.cached_tokens) and the vLLM metrics;
//  - concurrent requests are batched (several running at once) and all complete;
//  - --cache-dir: an agent's prefix survives a server restart.
//   node tests/server/scheduler.mjs ONNXLLM MODEL_DIR
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { args, check, deadline, requireClient, sleep, startServer, stopServer, summary } from "./lib.mjs";

const [bin, model] = args;
deadline(300000, "scheduler");
const OpenAI = requireClient("openai").default;
const Anthropic = requireClient("@anthropic-ai/sdk").default;
const SYSTEM = "You are a careful assistant. " + "Answer with one short sentence about the weather. ".repeat(12);
const J = { "content-type": "application/json" };

const metric = (text, name) => {
  const m = new RegExp(`^${name.replace(/[{}:"\\]/g, (c) => "\\" + c)}[^\\n]* ([0-9.e+]+)$`, "m").exec(text);
  return m ? +m[1] : NaN;
};

// ---- a full queue -------------------------------------------------------------------------
{
  // one slot, no queue: while a long request runs, the next one is refused at once
  const srv = await startServer(bin, model, ["--ctx", "2048", "--parallel", "1", "--max-queue", "0"]);
  const long = fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: J, signal: AbortSignal.timeout(120000),
    body: JSON.stringify({ model: "x", max_tokens: 400, messages: [{ role: "user", content: "tell a long story" }] }) });
  let running = 0;
  for (let i = 0; i < 200 && running < 1; i++) {
    running = metric(await (await fetch(`${srv.url}/metrics`)).text(), 'vllm:num_requests_running{model_name="demo-model"}');
    if (running < 1) await sleep(20);
  }
  check("long_request_running", running === 1, running);
  const o = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: J,
    body: JSON.stringify({ model: "x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
  const ob = await o.json();
  check("openai_429", o.status === 429 && ob.error?.type === "rate_limit_error", [o.status, ob]);
  check("openai_retry_after", /^\d+$/.test(o.headers.get("retry-after") ?? ""), o.headers.get("retry-after"));
  const a = await fetch(`${srv.url}/v1/messages`, { method: "POST", headers: { ...J, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
  const ab = await a.json();
  check("anthropic_529", a.status === 529 && ab.type === "error" && ab.error?.type === "overloaded_error", [a.status, ab]);
  check("anthropic_retry_after", /^\d+$/.test(a.headers.get("retry-after") ?? ""));
  const r = await fetch(`${srv.url}/v1/responses`, { method: "POST", headers: J,
    body: JSON.stringify({ model: "x", max_output_tokens: 5, input: "hi" }) });
  check("responses_429", r.status === 429, r.status);
  const m = await (await fetch(`${srv.url}/metrics`)).text();
  check("refused_counted", metric(m, 'onnxllm:requests_refused_total{model_name="demo-model"}') >= 3);
  // The SDKs retry on 429 / 529 (Retry-After): once the long request ends they get their answer.
  const oc = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "x", maxRetries: 30, timeout: 120000 });
  const ac = new Anthropic({ baseURL: srv.url, apiKey: "x", maxRetries: 30, timeout: 120000 });
  const [ro, ra] = await Promise.all([
    oc.chat.completions.create({ model: "x", max_tokens: 3, messages: [{ role: "user", content: "hi" }] }),
    ac.messages.create({ model: "x", max_tokens: 3, messages: [{ role: "user", content: "hi" }] }),
  ]);
  check("openai_sdk_retried", ro.choices?.[0]?.message?.role === "assistant", ro);
  check("anthropic_sdk_retried", ra.type === "message", ra);
  check("long_request_done", (await long).status === 200);
  await stopServer(srv, "queue");
}

// ---- cached tokens in usage, batching, the disk cache ---------------------------------------
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "onnxllm-kv-"));
try {
  let srv = await startServer(bin, model, ["--ctx", "2048", "--parallel", "3", "--cache-dir", cacheDir]);
  const oc = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "x", maxRetries: 0, timeout: 120000 });
  const turn1 = [{ role: "system", content: SYSTEM }, { role: "user", content: "Weather in Paris?" }];
  const t1 = await oc.chat.completions.create({ model: "x", max_tokens: 8, temperature: 0, messages: turn1 });
  const turn2 = [...turn1, { role: "assistant", content: t1.choices[0].message.content ?? "" }, { role: "user", content: "And Rome?" }];
  const t2 = await oc.chat.completions.create({ model: "x", max_tokens: 8, temperature: 0, messages: turn2 });
  const c2 = t2.usage?.prompt_tokens_details?.cached_tokens ?? 0;
  check("openai_cached_tokens", c2 > 100 && c2 < t2.usage.prompt_tokens, t2.usage);
  const ac = new Anthropic({ baseURL: srv.url, apiKey: "x", maxRetries: 0, timeout: 120000 });
  const am = await ac.messages.create({ model: "x", max_tokens: 8, temperature: 0, system: SYSTEM,
    messages: [{ role: "user", content: "Weather in Oslo?" }] });
  check("anthropic_cache_read", am.usage.cache_read_input_tokens > 100 &&
    am.usage.input_tokens + am.usage.cache_read_input_tokens > am.usage.cache_read_input_tokens, am.usage);
  const rr = await (await fetch(`${srv.url}/v1/responses`, { method: "POST", headers: J, body: JSON.stringify({
    model: "x", max_output_tokens: 8, temperature: 0, instructions: SYSTEM, input: "Weather in Lima?" }) })).json();
  check("responses_cached_tokens", rr.usage?.input_tokens_details?.cached_tokens > 100, rr.usage);
  // three at once: all batched, all complete
  const many = await Promise.all([0, 1, 2, 3, 4].map((i) => oc.chat.completions.create({ model: "x", max_tokens: 24,
    messages: [{ role: "system", content: SYSTEM }, { role: "user", content: `question ${i}` }] })));
  check("concurrent_complete", many.every((c) => c.usage.completion_tokens >= 1), many.map((c) => c.usage));
  const m = await (await fetch(`${srv.url}/metrics`)).text();
  const q = metric(m, 'vllm:prefix_cache_queries{model_name="demo-model"}'), h = metric(m, 'vllm:prefix_cache_hits{model_name="demo-model"}');
  check("metrics_prefix_cache", q > 0 && h > 0 && h < q, [q, h]);
  check("metrics_kv_usage", metric(m, 'vllm:kv_cache_usage_perc{model_name="demo-model"}') >= 0);
  await stopServer(srv, "cache_dir_first");
  const files = fs.readdirSync(cacheDir).filter((f) => f.endsWith(".kv"));
  check("cache_dir_written_at_exit", files.length >= 1, files);
  // a restart: turn 2 again, served from the disk cache
  srv = await startServer(bin, model, ["--ctx", "2048", "--parallel", "3", "--cache-dir", cacheDir]);
  const oc2 = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "x", maxRetries: 0, timeout: 120000 });
  const t3 = await oc2.chat.completions.create({ model: "x", max_tokens: 8, temperature: 0, messages: turn2 });
  check("restart_cached_tokens", (t3.usage?.prompt_tokens_details?.cached_tokens ?? 0) > 100, t3.usage);
  check("restart_same_answer", t3.choices[0].message.content === t2.choices[0].message.content,
    [t3.choices[0].message.content, t2.choices[0].message.content]);
  const m2 = await (await fetch(`${srv.url}/metrics`)).text();
  check("restart_disk_load", metric(m2, 'onnxllm:prefix_cache_disk_loads_total{model_name="demo-model"}') >= 1);
  await stopServer(srv, "cache_dir_second");
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
summary("scheduler");
