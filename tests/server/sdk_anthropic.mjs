// sdk_anthropic.mjs — `onnxllm serve` through the official `@anthropic-ai/sdk`:
// messages (plain, streamed, tool_use with input_json_delta, the tool_result round
// trip, prefill, stop sequences), count_tokens against an independent reference
// (@huggingface/jinja + HF tokenizers) on the captured Claude Code request, errors
// in Anthropic's shape, pings during a long prompt, the SSE event grammar.
//   node tests/server/sdk_anthropic.mjs ONNXLLM MODEL_DIR
import { readFileSync } from "node:fs";
import { args, check, deadline, requireClient, startServer, stopServer, summary, readSSE, rawExchange } from "./lib.mjs";
import { anthropicToChat, renderer } from "./chat_ref.mjs";

const AnthropicMod = requireClient("@anthropic-ai/sdk");
const Anthropic = AnthropicMod.default ?? AnthropicMod.Anthropic;
const [bin, model] = args;
deadline(300000, "sdk_anthropic");

const TEXT = "Hello from onnxllm! Grüße 🤖 — done.";
const CALL_TEXT = "Let me check.";
const CALL = `${CALL_TEXT}<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]<|/tool_call|>`;
const KEY = "sk-ant-test";
const srv = await startServer(bin, model, ["--ctx", "16384", "--api-key", KEY, "--ping-interval", "0.1",
  "--test-output", TEXT, "--test-output", CALL]);
const pick = (i) => ({ headers: { "X-Test-Output": String(i) } });
const client = new Anthropic({ baseURL: srv.url, apiKey: KEY, timeout: 120000, maxRetries: 0 });
const tools = [{ name: "get_weather", description: "Weather in a city", input_schema: { type: "object", properties: { city: { type: "string" }, unit: { type: "string" } }, required: ["city"] } }];
const ref = renderer(model);

/* The Anthropic SSE grammar: message_start first; blocks start/delta/stop with
 * increasing indexes; message_delta then message_stop last; pings anywhere before. */
function grammar(events) {
  const ev = events.filter((e) => !e.comment);
  if (ev[0]?.event !== "message_start") return "first event " + ev[0]?.event;
  if (ev[ev.length - 1]?.event !== "message_stop") return "last event " + ev[ev.length - 1]?.event;
  let open = -1, next = 0, sawDelta = false;
  for (const e of ev.slice(1, -1)) {
    if (e.data?.type !== e.event) return `event ${e.event} with data type ${e.data?.type}`;
    if (e.event === "ping") continue;
    if (sawDelta) return `${e.event} after message_delta`;
    if (e.event === "content_block_start") { if (open >= 0 || e.data.index !== next) return "bad start index"; open = next++; }
    else if (e.event === "content_block_delta") { if (e.data.index !== open) return "delta outside its block"; }
    else if (e.event === "content_block_stop") { if (e.data.index !== open) return "bad stop"; open = -1; }
    else if (e.event === "message_delta") { if (open >= 0) return "message_delta with a block open"; sawDelta = true; }
    else return "unknown event " + e.event;
  }
  return sawDelta ? null : "no message_delta";
}
const post = (path, body, headers = {}) => fetch(`${srv.url}${path}`, { method: "POST", headers: { "x-api-key": KEY, "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

try {
  // --- plain
  const m1 = await client.messages.create({ model: "onnx-local", max_tokens: 100, system: "Be brief.", messages: [{ role: "user", content: "Hi" }] }, pick(0));
  check("text", m1.content.length === 1 && m1.content[0].type === "text" && m1.content[0].text === TEXT, m1.content);
  check("shape", m1.type === "message" && m1.role === "assistant" && m1.model === "onnx-local" && /^msg_/.test(m1.id) && m1.stop_reason === "end_turn" && m1.stop_sequence === null, m1);
  check("usage", m1.usage.input_tokens > 3 && m1.usage.output_tokens >= 10 && m1.usage.cache_read_input_tokens >= 0 && m1.usage.cache_creation_input_tokens === 0, m1.usage);
  const m1b = await client.messages.create({ model: "onnx-local", max_tokens: 100, system: "Be brief.", messages: [{ role: "user", content: "Hi" }] }, pick(0));
  const total1 = m1.usage.input_tokens + m1.usage.cache_read_input_tokens;
  check("cache_read", m1b.usage.cache_read_input_tokens > 0 && m1b.usage.input_tokens + m1b.usage.cache_read_input_tokens === total1, m1b.usage);

  // --- streamed: SDK accumulation + the raw grammar
  const s1 = client.messages.stream({ model: "x", max_tokens: 100, messages: [{ role: "user", content: "Hi" }] }, pick(0));
  let n = 0;
  s1.on("text", () => n++);
  const f1 = await s1.finalMessage();
  check("stream_text", f1.content[0].text === TEXT && n >= 5 && f1.stop_reason === "end_turn", { c: f1.content, n });
  check("stream_usage", f1.usage.output_tokens >= 10, f1.usage);
  const r1 = await readSSE(await post("/v1/messages?beta=true", { model: "x", max_tokens: 100, stream: true, messages: [{ role: "user", content: "Hi" }] }, { "X-Test-Output": "0" }));
  check("stream_grammar", grammar(r1.events) === null, grammar(r1.events));

  // --- tool use, not streamed
  const t1 = await client.messages.create({ model: "x", max_tokens: 200, tools, messages: [{ role: "user", content: "Weather in Paris?" }] }, pick(1));
  const tu = t1.content.find((b) => b.type === "tool_use");
  check("tool_use", t1.stop_reason === "tool_use" && t1.content[0].type === "text" && t1.content[0].text === CALL_TEXT && tu && tu.name === "get_weather" && /^toolu_/.test(tu.id), t1.content);
  check("tool_use_input", JSON.stringify(tu?.input) === JSON.stringify({ city: "Paris", unit: "celsius" }), tu?.input);

  // --- tool use, streamed: the SDK builds input from input_json_delta only
  const s2 = client.messages.stream({ model: "x", max_tokens: 200, tools, messages: [{ role: "user", content: "Weather in Paris?" }] }, pick(1));
  let jsonDeltas = 0;
  s2.on("inputJson", () => jsonDeltas++);
  const f2 = await s2.finalMessage();
  const tu2 = f2.content.find((b) => b.type === "tool_use");
  check("stream_tool_use", tu2 && JSON.stringify(tu2.input) === JSON.stringify({ city: "Paris", unit: "celsius" }) && jsonDeltas >= 3 && f2.stop_reason === "tool_use", { c: f2.content, jsonDeltas });
  const r2 = await readSSE(await post("/v1/messages", { model: "x", max_tokens: 200, stream: true, tools, messages: [{ role: "user", content: "Weather?" }] }, { "X-Test-Output": "1" }));
  check("stream_tool_grammar", grammar(r2.events) === null, grammar(r2.events));
  const start = r2.events.find((e) => e.event === "content_block_start" && e.data.content_block.type === "tool_use");
  check("stream_tool_start_empty_input", start && JSON.stringify(start.data.content_block.input) === "{}", start);
  check("stream_tool_not_text", !r2.events.some((e) => e.data?.delta?.type === "text_delta" && /tool_call|get_weather/.test(e.data.delta.text)));

  // --- the round trip: tool_use back in the assistant turn, several tool_results (one an error) + text
  const history = [{ role: "user", content: "Weather in Paris and Rome?" },
    { role: "assistant", content: [{ type: "text", text: CALL_TEXT }, tu, { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Rome" } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: tu.id, content: "21 C" },
      { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "service down" }], is_error: true },
      { type: "text", text: "Summarize." }] }];
  const t2 = await client.messages.create({ model: "x", max_tokens: 200, tools, messages: history }, pick(0));
  check("roundtrip", t2.content[0].text === TEXT && t2.stop_reason === "end_turn", t2.content);
  const ct2 = await client.messages.countTokens({ model: "x", tools, messages: history });
  const want2 = await ref.count(ref.render(anthropicToChat({ tools, messages: history })));
  check("roundtrip_count_tokens", ct2.input_tokens === want2 && t2.usage.input_tokens + t2.usage.cache_read_input_tokens === want2, { got: ct2.input_tokens, want: want2, usage: t2.usage });

  // --- prefill (last turn is the assistant's) and stop sequences
  const p1 = await client.messages.create({ model: "x", max_tokens: 100, messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Sure:" }] }, pick(0));
  check("prefill", p1.content[0].text === TEXT, p1.content);
  const sq = await client.messages.create({ model: "x", max_tokens: 100, stop_sequences: ["Grüße"], messages: [{ role: "user", content: "Hi" }] }, pick(0));
  check("stop_sequence", sq.stop_reason === "stop_sequence" && sq.stop_sequence === "Grüße" && sq.content[0].text === TEXT.slice(0, TEXT.indexOf("Grüße")), sq);
  const mx = await client.messages.create({ model: "x", max_tokens: 3, messages: [{ role: "user", content: "Hi" }] }, pick(0));
  check("max_tokens", mx.stop_reason === "max_tokens" && mx.usage.output_tokens === 3, mx);
  const big = await client.messages.create({ model: "x", max_tokens: 1000000, messages: [{ role: "user", content: "Hi" }], thinking: { type: "enabled", budget_tokens: 1024 }, metadata: { user_id: "u" } }, pick(0));
  check("max_tokens_clamped_unknown_fields", big.content[0].text === TEXT, big);

  // --- count_tokens: the captured Claude Code request (billing header, system inside messages, 12 tools)
  const cc = JSON.parse(readFileSync(new URL("captured/claude-code-2.1.328.messages.json", import.meta.url), "utf8"));
  const ccBody = { ...cc, stream: undefined, max_tokens: undefined };
  const ct = await (await post("/v1/messages/count_tokens?beta=true", ccBody)).json();
  const want = await ref.count(ref.render(anthropicToChat(cc)));
  check("count_tokens_claude_code", ct.input_tokens === want && want > 5000, { got: ct, want });
  const noBilling = { ...ccBody, system: cc.system.slice(1) };
  const ct3 = await (await post("/v1/messages/count_tokens", noBilling)).json();
  check("billing_header_dropped", ct3.input_tokens === ct.input_tokens, [ct3, ct]);
  const sysInMsgs = await client.messages.countTokens({ model: "x", system: "A\n\nB", messages: [{ role: "user", content: "hi" }] });
  const sysInMsgs2 = await client.messages.countTokens({ model: "x", system: "A", messages: [{ role: "user", content: "hi" }, { role: "system", content: "B" }] });
  check("system_role_merged", sysInMsgs.input_tokens === sysInMsgs2.input_tokens, [sysInMsgs, sysInMsgs2]);

  // --- pings while a long prompt is computed (ping interval 0.1 s here)
  const long = "The quick brown fox jumps over the lazy dog. ".repeat(300);
  const r3 = await readSSE(await post("/v1/messages", { model: "x", max_tokens: 50, stream: true, messages: [{ role: "user", content: long }] }, { "X-Test-Output": "0" }));
  const firstBlock = r3.events.findIndex((e) => e.event === "content_block_start");
  check("ping_before_content", r3.events.slice(1, firstBlock).some((e) => e.event === "ping"), r3.events.slice(0, 4));
  check("ping_grammar", grammar(r3.events) === null, grammar(r3.events));

  // --- errors in Anthropic's shape
  const err = async (p) => { try { await p(); return null; } catch (e) { return e; } };
  let e = await err(() => client.messages.create({ model: "x", max_tokens: 10, messages: [{ role: "robot", content: "hi" }] }));
  check("error_role", e?.status === 400 && e.error?.type === "error" && e.error?.error?.type === "invalid_request_error" && /messages\[0\]\.role/.test(e.message), e?.message);
  e = await err(() => client.messages.create({ model: "x", messages: [{ role: "user", content: "hi" }] }));
  check("error_max_tokens_required", e?.status === 400 && /max_tokens/.test(e.message), e?.message);
  e = await err(() => client.messages.create({ model: "x", max_tokens: 10, tools: [{ name: "f", input_schema: { type: "object", properties: { a: { type: "array", contains: {} } } } }], tool_choice: { type: "any" }, messages: [{ role: "user", content: "hi" }] }));
  check("error_tool_schema_keyword", e?.status === 400 && e.error?.error?.type === "invalid_request_error" && /^tool_choice: .*"contains"/.test(e.error?.error?.message), e?.message);
  e = await err(() => client.messages.create({ model: "x", max_tokens: 10, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "AA==" } }] }] }));
  check("error_image", e?.status === 400 && /image/.test(e.message), e?.message);
  const wrong = new Anthropic({ baseURL: srv.url, apiKey: "nope", maxRetries: 0, timeout: 10000 });
  e = await err(() => wrong.messages.create({ model: "x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }));
  check("error_401", e?.status === 401 && e.error?.error?.type === "authentication_error", e?.status);
  const bearer = await post("/v1/messages", { model: "x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }, { "x-api-key": "", Authorization: `Bearer ${KEY}`, "X-Test-Output": "0" });
  check("bearer_accepted", bearer.status === 200 && bearer.headers.get("request-id")?.startsWith("req_"));
  const malformed = await post("/v1/messages", "{\"model\": ");
  const mj = await malformed.json();
  check("error_malformed_json", malformed.status === 400 && mj.type === "error" && mj.error.type === "invalid_request_error" && /malformed JSON/.test(mj.error.message) && mj.request_id, mj);
  const r413 = await rawExchange(srv.port, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{`);
  check("error_413", r413.status === 413 && /request_too_large/.test(r413.text), r413.text.slice(0, 300));
  const r404 = await fetch(`${srv.url}/v1/nothing`, { headers: { "x-api-key": KEY } });
  check("error_404", r404.status === 404);
  const r405 = await fetch(`${srv.url}/v1/messages`, { headers: { "x-api-key": KEY } });
  check("error_405", r405.status === 405 && (await r405.json()).error.type === "invalid_request_error" && /POST/.test(r405.headers.get("allow")));
  const head = await fetch(`${srv.url}/`, { method: "HEAD" });
  check("head_root", head.status === 200);
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
await stopServer(srv);
summary("sdk_anthropic");
