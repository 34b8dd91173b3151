// load.mjs — 16 concurrent streaming clients (Anthropic, Chat Completions, Responses,
// Completions; text and tool calls) against one `onnxllm serve`: all complete within
// the deadline, every stream is well formed and reassembles to exactly the answer
// (no lost, duplicated or interleaved pieces), usage adds up.
//   node tests/server/load.mjs ONNXLLM MODEL_DIR
import { args, check, deadline, readSSE, startServer, stopServer, summary } from "./lib.mjs";

const [bin, model] = args;
deadline(300000, "load");
const TEXT = Array.from({ length: 10 }, (_, i) => `piece ${i} — Grüße 🤖 «${i}»`).join(", ") + ".";
const ARGS = { query: "a fairly long query " + "x".repeat(40), filters: { lang: ["en", "fr"], n: 12 }, note: "ünïcødé 🤖" };
const CALL = `Searching.<|tool_call|>[{"name": "search", "arguments": ${JSON.stringify(ARGS)}}]<|/tool_call|>`;
const srv = await startServer(bin, model, ["--ctx", "4096", "--ping-interval", "0.5", "--test-output", TEXT, "--test-output", CALL]);
const tools = { anthropic: [{ name: "search", input_schema: { type: "object" } }],
  openai: [{ type: "function", function: { name: "search", parameters: { type: "object" } } }],
  responses: [{ type: "function", name: "search", parameters: { type: "object" } }] };

async function client(i) {
  const api = ["anthropic", "openai", "responses", "completions"][i % 4];
  const call = i % 8 >= 4 && api !== "completions";
  const msg = [{ role: "user", content: `client ${i}: hello` }];
  const [path, body] = api === "anthropic" ? ["/v1/messages", { model: "x", max_tokens: 1000, stream: true, messages: msg, tools: tools.anthropic }]
    : api === "openai" ? ["/v1/chat/completions", { model: "x", stream: true, stream_options: { include_usage: true }, messages: msg, tools: tools.openai }]
    : api === "responses" ? ["/v1/responses", { model: "x", stream: true, input: msg, tools: tools.responses }]
    : ["/v1/completions", { model: "x", stream: true, prompt: `client ${i}`, max_tokens: 1000 }];
  const t0 = Date.now();
  const res = await fetch(`${srv.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "X-Test-Output": call ? "1" : "0" },
    body: JSON.stringify(body), signal: AbortSignal.timeout(240000) });
  const { events } = await readSSE(res);
  const data = events.filter((e) => !e.comment).map((e) => e.data);
  let text = "", args = "", name = "";
  let ok = res.status === 200;
  if (api === "anthropic") {
    for (const d of data) {
      if (d.type === "content_block_delta" && d.delta.type === "text_delta") text += d.delta.text;
      if (d.type === "content_block_delta" && d.delta.type === "input_json_delta") args += d.delta.partial_json;
      if (d.type === "content_block_start" && d.content_block.type === "tool_use") name = d.content_block.name;
    }
    ok &&= data[0]?.type === "message_start" && data[data.length - 1]?.type === "message_stop";
    ok &&= data.find((d) => d.type === "message_delta")?.delta.stop_reason === (call ? "tool_use" : "end_turn");
  } else if (api === "openai") {
    for (const d of data) {
      if (typeof d !== "object") continue;
      const dl = d.choices?.[0]?.delta ?? {};
      if (dl.content) text += dl.content;
      for (const tc of dl.tool_calls ?? []) { if (tc.function?.name) name = tc.function.name; args += tc.function?.arguments ?? ""; }
    }
    ok &&= data[data.length - 1] === "[DONE]" && data.some((d) => d.usage && d.choices?.length === 0);
  } else if (api === "responses") {
    const seqs = data.map((d) => d.sequence_number);
    ok &&= seqs.every((s, k) => s === k);
    for (const d of data) {
      if (d.type === "response.output_text.delta") text += d.delta;
      if (d.type === "response.function_call_arguments.delta") args += d.delta;
      if (d.type === "response.output_item.added" && d.item.type === "function_call") name = d.item.name;
    }
    ok &&= data[data.length - 1]?.type === "response.completed";
  } else {
    for (const d of data) if (typeof d === "object") text += d.choices?.[0]?.text ?? "";
    ok &&= data[data.length - 1] === "[DONE]";
  }
  if (call) ok &&= text === "Searching." && name === "search" && JSON.stringify(JSON.parse(args || "null")) === JSON.stringify(ARGS);
  else ok &&= text === TEXT && args === "";
  return { i, api, call, ok, ms: Date.now() - t0, text: text.slice(0, 80), args: args.slice(0, 80) };
}

try {
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => client(i).catch((e) => ({ i, ok: false, err: String(e) }))));
  for (const r of results) check(`client_${r.i}_${r.api}${r.call ? "_call" : ""}`, r.ok, r);
  console.log(`16 streams in ${Date.now() - t0} ms (one sequence: they queue)`);
  const m = await (await fetch(`${srv.url}/metrics`)).text();
  check("metrics_16_finished", /vllm:request_success_total\{model_name="demo-model",finished_reason="stop"\} 16\b/.test(m), m.match(/request_success_total[^\n]*/g));
  check("metrics_idle", /vllm:num_requests_running\{[^}]*\} 0\b/.test(m) && /vllm:num_requests_waiting\{[^}]*\} 0\b/.test(m));
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
await stopServer(srv);
summary("load");
