// sdk_openai.mjs — `onnxllm serve` through the official `openai` npm package: Chat
// Completions (plain, streamed, tools and the tool round trip, errors), Completions,
// Responses (plain, streamed, function calls and their outputs), models, API keys.
//   node tests/server/sdk_openai.mjs ONNXLLM MODEL_DIR
// The demo model has random weights: answers are made deterministic with the
// server's test mode (--test-output; the X-Test-Output header picks one): the model
// still computes every token, and what comes back must be exactly that text / call.
import { args, check, deadline, requireClient, startServer, stopServer, summary, readSSE } from "./lib.mjs";

const OpenAI = requireClient("openai").default ?? requireClient("openai");
const [bin, model] = args;
deadline(240000, "sdk_openai");

const TEXT = "Hello from onnxllm! Grüße 🤖 — done.";
const CALL_TEXT = "Let me check.";
const CALL = `${CALL_TEXT}<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]<|/tool_call|>`;
const TWO_CALLS = `<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"tz": "Europe/Paris"}}]<|/tool_call|>`;
const LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen";
const KEY = "sk-test-key";
const srv = await startServer(bin, model, ["--ctx", "4096", "--api-key", KEY, "--alias", "onnx-local",
  "--test-output", TEXT, "--test-output", CALL, "--test-output", TWO_CALLS, "--test-output", LONG]);
const pick = (i) => ({ headers: { "X-Test-Output": String(i) } });
const client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY, timeout: 60000, maxRetries: 0 });
const tools = [
  { type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string" } }, required: ["city"] } } },
  { type: "function", function: { name: "get_time", description: "Time in a zone", parameters: { type: "object", properties: { tz: { type: "string" } } } } },
];

try {
  // --- models, aliases
  const models = await client.models.list();
  const ids = models.data.map((m) => m.id);
  check("models_list", ids.includes("demo-model") && ids.includes("onnx-local"), ids);
  check("models_retrieve", (await client.models.retrieve("onnx-local")).id === "onnx-local");

  // --- chat, not streamed
  const c1 = await client.chat.completions.create({ model: "onnx-local", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], max_tokens: 64, temperature: 0 }, pick(0));
  check("chat_text", c1.choices[0].message.content === TEXT, c1.choices[0].message);
  check("chat_finish", c1.choices[0].finish_reason === "stop", c1.choices[0].finish_reason);
  check("chat_object", c1.object === "chat.completion" && c1.model === "onnx-local" && /^chatcmpl-/.test(c1.id));
  const u1 = c1.usage;
  check("chat_usage", u1.prompt_tokens > 5 && u1.completion_tokens >= 10 && u1.total_tokens === u1.prompt_tokens + u1.completion_tokens && typeof u1.prompt_tokens_details?.cached_tokens === "number", u1);
  // the same prompt again: its prefix is served from the KV cache
  const c1b = await client.chat.completions.create({ model: "onnx-local", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], max_tokens: 64 }, pick(0));
  check("chat_cached_tokens", c1b.usage.prompt_tokens_details.cached_tokens >= u1.prompt_tokens - 2 && c1b.usage.prompt_tokens_details.cached_tokens < u1.prompt_tokens, c1b.usage);

  // --- max_tokens cuts: finish_reason length
  const c2 = await client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 }, pick(0));
  check("chat_length", c2.choices[0].finish_reason === "length" && c2.usage.completion_tokens === 3 && TEXT.startsWith(c2.choices[0].message.content), c2.choices[0]);

  // --- stop strings (not included)
  const c3 = await client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "Hi" }], stop: ["Grüße"] }, pick(0));
  check("chat_stop", c3.choices[0].message.content === TEXT.slice(0, TEXT.indexOf("Grüße")) && c3.choices[0].finish_reason === "stop", c3.choices[0]);

  // --- streamed: the SDK's stream helper reassembles the same answer; usage on request
  const st = client.chat.completions.stream({ model: "x", messages: [{ role: "user", content: "Hi" }], stream_options: { include_usage: true } }, pick(0));
  let deltas = 0;
  st.on("content", () => deltas++);
  const f1 = await st.finalChatCompletion();
  check("stream_text", f1.choices[0].message.content === TEXT && deltas >= 5, { content: f1.choices[0].message.content, deltas });
  check("stream_usage", f1.usage && f1.usage.completion_tokens >= 10, f1.usage);

  // --- tools: one call with text before it
  const t1 = await client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "Weather in Paris?" }], tools }, pick(1));
  const m1 = t1.choices[0].message;
  check("tools_finish", t1.choices[0].finish_reason === "tool_calls", t1.choices[0].finish_reason);
  check("tools_text_before", m1.content === CALL_TEXT, m1.content);
  check("tools_call", m1.tool_calls?.length === 1 && m1.tool_calls[0].type === "function" && m1.tool_calls[0].function.name === "get_weather" && /^call_[A-Za-z0-9]{24}$/.test(m1.tool_calls[0].id), m1.tool_calls);
  check("tools_args", JSON.stringify(JSON.parse(m1.tool_calls[0].function.arguments)) === JSON.stringify({ city: "Paris", unit: "celsius" }), m1.tool_calls[0].function.arguments);

  // --- tools streamed: first delta id + type + name + "" arguments, then pieces; never shown as text
  const raw = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json", "X-Test-Output": "2" },
    body: JSON.stringify({ model: "x", stream: true, messages: [{ role: "user", content: "Weather and time?" }], tools }) });
  const { events } = await readSSE(raw);
  const chunks = events.filter((e) => e.data && typeof e.data === "object");
  const tc = chunks.flatMap((c) => c.data.choices?.[0]?.delta?.tool_calls ?? []);
  const firsts = tc.filter((d) => d.id);
  check("stream_tools_first_delta", firsts.length === 2 && firsts.every((d) => d.type === "function" && d.function.name && d.function.arguments === ""), firsts);
  check("stream_tools_pieces", tc.filter((d) => !d.id).length >= 4, tc.length);
  const argsOf = (i) => tc.filter((d) => d.index === i).map((d) => d.function.arguments ?? "").join("");
  check("stream_tools_args", JSON.parse(argsOf(0)).city === "Paris" && JSON.parse(argsOf(1)).tz === "Europe/Paris", [argsOf(0), argsOf(1)]);
  check("stream_tools_no_text", chunks.every((c) => !c.data.choices?.[0]?.delta?.content), "tool call leaked into content");
  check("stream_tools_finish", chunks.some((c) => c.data.choices?.[0]?.finish_reason === "tool_calls"));
  check("stream_done", events[events.length - 1].data === "[DONE]");
  // the SDK's stream helper assembles the calls the same way
  const st2 = client.chat.completions.stream({ model: "x", messages: [{ role: "user", content: "Weather and time?" }], tools }, pick(2));
  const f2 = await st2.finalChatCompletion();
  const calls2 = f2.choices[0].message.tool_calls ?? [];
  check("stream_helper_tools", calls2.length === 2 && calls2[0].function.name === "get_weather" && JSON.parse(calls2[1].function.arguments).tz === "Europe/Paris", calls2);

  // --- the round trip: the call and its result go back; the next answer is text
  const history = [{ role: "user", content: "Weather in Paris?" }, m1,
    { role: "tool", tool_call_id: m1.tool_calls[0].id, content: "{\"temp\": 21}" }];
  const t2 = await client.chat.completions.create({ model: "x", messages: history, tools }, pick(0));
  check("roundtrip_text", t2.choices[0].message.content === TEXT && t2.choices[0].finish_reason === "stop", t2.choices[0]);
  check("roundtrip_prompt_grew", t2.usage.prompt_tokens > t1.usage.prompt_tokens + 10, [t1.usage, t2.usage]);

  // --- Completions
  const cp = await client.completions.create({ model: "x", prompt: "Once upon a time", max_tokens: 64 }, pick(0));
  check("completions_text", cp.choices[0].text === TEXT && cp.object === "text_completion", cp.choices[0]);
  const cpd = await client.completions.create({ model: "x", prompt: "Once upon a time" }, pick(3));
  check("completions_default_16", cpd.usage.completion_tokens === 16 && cpd.choices[0].finish_reason === "length" && LONG.startsWith(cpd.choices[0].text), cpd.usage);
  const cps = await client.completions.create({ model: "x", prompt: [9906, 1917], stream: true, max_tokens: 64 }, pick(0));
  let ctext = "";
  for await (const ch of cps) ctext += ch.choices[0]?.text ?? "";
  check("completions_stream_ids", ctext === TEXT, ctext);

  // --- Responses: plain, streamed, function call and output
  const r1 = await client.responses.create({ model: "x", instructions: "Be brief.", input: "Hi", max_output_tokens: 64 }, pick(0));
  check("responses_text", r1.output_text === TEXT && r1.status === "completed" && r1.usage.input_tokens > 3, { t: r1.output_text, s: r1.status });
  const rs = client.responses.stream({ model: "x", input: [{ role: "user", content: "Hi" }] }, pick(0));
  let rdeltas = 0;
  rs.on("response.output_text.delta", () => rdeltas++);
  const rf = await rs.finalResponse();
  check("responses_stream", rf.output_text === TEXT && rdeltas >= 5 && rf.usage.output_tokens >= 10, { t: rf.output_text, rdeltas });
  const rtools = [{ type: "function", name: "get_weather", description: "Weather", parameters: tools[0].function.parameters, strict: false },
    { type: "web_search" }, { type: "namespace", name: "ns", tools: [] }];
  const r2 = await client.responses.create({ model: "x", input: "Weather in Paris?", tools: rtools }, pick(1));
  const fc = r2.output.find((o) => o.type === "function_call");
  check("responses_call", fc && fc.name === "get_weather" && JSON.parse(fc.arguments).city === "Paris" && /^call_/.test(fc.call_id), r2.output);
  check("responses_call_text", r2.output.find((o) => o.type === "message")?.content?.[0]?.text === CALL_TEXT, r2.output);
  const rs2 = client.responses.stream({ model: "x", input: "Weather in Paris?", tools: rtools }, pick(1));
  let argDeltas = 0;
  rs2.on("response.function_call_arguments.delta", () => argDeltas++);
  const rf2 = await rs2.finalResponse();
  const fc2 = rf2.output.find((o) => o.type === "function_call");
  check("responses_stream_call", fc2 && JSON.parse(fc2.arguments).unit === "celsius" && argDeltas >= 3, { out: rf2.output, argDeltas });
  const r3 = await client.responses.create({ model: "x", tools: rtools, input: [
    { role: "user", content: "Weather in Paris?" },
    { type: "function_call", call_id: fc.call_id, name: fc.name, arguments: fc.arguments },
    { type: "function_call_output", call_id: fc.call_id, output: "{\"temp\": 21}" }] }, pick(0));
  check("responses_roundtrip", r3.output_text === TEXT && r3.usage.input_tokens > r2.usage.input_tokens, r3.output_text);
  const r4 = await client.responses.create({ model: "x", input: "Hi", max_output_tokens: 2 }, pick(0));
  check("responses_incomplete", r4.status === "incomplete" && r4.incomplete_details?.reason === "max_output_tokens", r4.status);

  // --- errors: status, type, the field named
  const err = async (p, opts) => { try { await p(); return null; } catch (e) { return e; } };
  let e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "user", content: 5 }] }));
  check("error_wrong_type", e?.status === 400 && /messages\[0\]\.content/.test(e.message) && e.error?.type === "invalid_request_error", e?.message);
  e = await err(() => client.chat.completions.create({ model: "x", messages: [] }));
  check("error_empty_messages", e?.status === 400 && /messages/.test(e.message), e?.message);
  e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "wizard", content: "hi" }] }));
  check("error_unknown_role", e?.status === 400 && /messages\[0\]\.role.*wizard/.test(e.message), e?.message);
  e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], max_tokens: 100000 }));
  check("error_over_context", e?.status === 400 && /max_tokens/.test(e.message) && e.code === "context_length_exceeded", e?.message);
  // constraints we cannot enforce: 400 naming the keyword (tests/server/constrained.mjs: the ones we can)
  e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "array", contains: { type: "integer" } } } } }));
  check("error_schema_keyword", e?.status === 400 && e.error?.param === "response_format" && /"contains"/.test(e.message), e?.message);
  const badTools = [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { if: { type: "string" } } } } } }];
  e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], tools: badTools, tool_choice: "required" }));
  check("error_tool_schema_keyword", e?.status === 400 && /tool_choice/.test(e.message) && /"if"/.test(e.message), e?.message);
  e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], tool_choice: "required" }));
  check("error_tool_choice_without_tools", e?.status === 400 && /tool_choice/.test(e.message), e?.message);
  e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], n: 2 }));
  check("error_n", e?.status === 400 && /\bn\b/.test(e.message), e?.message);
  e = await err(() => client.chat.completions.create({ model: "x", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }] }));
  check("error_image", e?.status === 400 && /image_url/.test(e.message), e?.message);
  e = await err(() => client.responses.create({ model: "x", input: "hi", previous_response_id: "resp_1" }));
  check("error_previous_response_id", e?.status === 400 && /previous_response_id/.test(e.message), e?.message);
  e = await err(() => client.responses.create({ model: "x", input: "hi", text: { format: { type: "json_schema", name: "x", schema: { type: "object", dependentSchemas: { a: {} } } } } }));
  check("error_text_format_keyword", e?.status === 400 && /text\.format/.test(e.message) && /dependentSchemas/.test(e.message), e?.message);
  const bad = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "wrong", timeout: 10000, maxRetries: 0 });
  e = await err(() => bad.chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }] }));
  check("error_401", e?.status === 401 && e.error?.type === "authentication_error", e?.status);
  check("models_public", (await bad.models.list()).data.length >= 1);
  const h = await fetch(`${srv.url}/health`);
  check("health_public", h.status === 200);
  const m = await fetch(`${srv.url}/metrics`);
  check("metrics_needs_key", m.status === 401);
  const m2 = await (await fetch(`${srv.url}/metrics`, { headers: { "x-api-key": KEY } })).text();
  check("metrics_counts", /vllm:generation_tokens_total\{model_name="demo-model"\} [1-9]/.test(m2) && /vllm:time_to_first_token_seconds_count\{model_name="demo-model"\} [1-9]/.test(m2) && /vllm:prefix_cache_hits\{model_name="demo-model"\} [1-9]/.test(m2), m2.slice(0, 400));
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
await stopServer(srv);
summary("sdk_openai");
