// constrained.mjs — constrained decoding through `onnxllm serve`, with the official SDKs,
// on the demo model WITHOUT test outputs: its weights are random, so only the grammar
// makes the answers valid. Every answer that finishes (finish_reason stop / tool_calls,
// stop_reason tool_use / end_turn) must parse and validate with ajv (an independent
// validator); an answer cut by max_tokens is not judged, but each group must finish
// some. Covered: Chat response_format json_object / json_schema, tool_choice required /
// named with parallel_tool_calls false, tool_choice auto (free text without stray tags,
// or valid calls), strict tools; Responses text.format and tool_choice required;
// Anthropic tool_choice any / tool, disable_parallel_tool_use, streamed input_json_delta;
// Claude Code's own tools (the captured request) under tool_choice any; unsupported
// keywords: 400 when asked for, unconstrained (200) for non-strict auto tools.
//   node tests/server/constrained.mjs ONNXLLM MODEL_DIR
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { args, check, deadline, requireClient, root, startServer, stopServer, summary, readSSE } from "./lib.mjs";

const OpenAI = requireClient("openai").default ?? requireClient("openai");
const Anthropic = requireClient("@anthropic-ai/sdk").default ?? requireClient("@anthropic-ai/sdk");
const requireJs = createRequire(path.join(root, "tools/jsonschema/package.json"));
const Ajv = requireJs("ajv").default;
const addFormats = requireJs("ajv-formats").default ?? requireJs("ajv-formats");
const [bin, model] = args;
deadline(420000, "constrained");

const Ajv2020 = requireJs("ajv/dist/2020").default;
const ajv = new Ajv({ strict: false }), ajv2020 = new Ajv2020({ strict: false });
addFormats(ajv);
addFormats(ajv2020);
const validate = (schema, v) => {
  const a = /2020-12|2019-09/.test(schema.$schema ?? "") ? ajv2020 : ajv;
  const f = a.compile(schema);
  return f(v) ? null : a.errorsText(f.errors);
};

const srv = await startServer(bin, model, ["--ctx", "16384", "--parallel", "4"]);
const oa = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "x", timeout: 180000, maxRetries: 0 });
const an = new Anthropic({ baseURL: srv.url, apiKey: "x", timeout: 180000, maxRetries: 0 });
const SEEDS = [1, 2, 3, 4];
const sampled = (seed) => ({ temperature: 1, top_p: 1, seed });

const PERSON = { type: "object", properties: { name: { type: "string", maxLength: 6 }, age: { type: "integer", minimum: 0, maximum: 120 }, ok: { type: "boolean" } }, required: ["name", "age", "ok"], additionalProperties: false };
const DIGITS = { type: "array", items: { type: "integer", minimum: 0, maximum: 9 }, minItems: 1, maxItems: 3 };
const WEATHER = { type: "object", properties: { city: { type: "string", maxLength: 10 }, unit: { enum: ["c", "f"] } }, required: ["city"], additionalProperties: false };
const TIME = { type: "object", properties: { tz: { enum: ["UTC", "Europe/Paris", "Asia/Tokyo"] } }, required: ["tz"], additionalProperties: false };
const oaTools = [
  { type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: WEATHER } },
  { type: "function", function: { name: "get_time", description: "Time in a zone", parameters: TIME } },
];
const anTools = [{ name: "get_weather", description: "Weather in a city", input_schema: WEATHER }, { name: "get_time", description: "Time in a zone", input_schema: TIME }];
const schemaOf = { get_weather: WEATHER, get_time: TIME };
const msgs = [{ role: "user", content: "Answer." }];

/* Runs one request per seed at once; `judge` returns [finished, problem or null]. */
async function group(name, make, judge) {
  const outs = await Promise.all(SEEDS.map((s) => make(s).then((r) => r, (e) => ({ error: e }))));
  let finished = 0;
  const problems = [];
  outs.forEach((o, i) => {
    if (o.error) { problems.push(`seed ${SEEDS[i]}: ${o.error.status} ${o.error.message}`); return; }
    const [done, bad] = judge(o);
    if (done) finished++;
    if (bad) problems.push(`seed ${SEEDS[i]}: ${bad}`);
  });
  check(`${name}_valid`, problems.length === 0, problems.join("\n"));
  check(`${name}_some_finish`, finished > 0, `${finished} of ${SEEDS.length} finished`);
}

const parse = (t) => { try { return [JSON.parse(t), null]; } catch (e) { return [undefined, `not JSON: ${e.message}: ${JSON.stringify(t).slice(0, 300)}`]; } };
function judgeChatJSON(schema) {
  return (c) => {
    const ch = c.choices[0];
    if (ch.finish_reason === "length") return [false, null];
    if (ch.finish_reason !== "stop") return [false, `finish_reason ${ch.finish_reason}`];
    const [v, bad] = parse(ch.message.content);
    if (bad) return [true, bad];
    return [true, schema ? validate(schema, v) : (v && typeof v === "object" && !Array.isArray(v) ? null : "not an object")];
  };
}
function judgeCalls(expectName, single) {
  return (calls, finish) => {
    if (finish === "length" || finish === "max_tokens") return [false, null];
    if (!calls.length) return [true, `no call (finish ${finish})`];
    if (single && calls.length !== 1) return [true, `${calls.length} calls with parallel calls off`];
    for (const c of calls) {
      if (!schemaOf[c.name]) return [true, `unknown tool ${c.name}`];
      if (expectName && c.name !== expectName) return [true, `called ${c.name}, not ${expectName}`];
      const bad = validate(schemaOf[c.name], c.args);
      if (bad) return [true, `${c.name} ${JSON.stringify(c.args)}: ${bad}`];
    }
    return [true, null];
  };
}
const chatCalls = (c) => (c.choices[0].message.tool_calls ?? []).map((t) => ({ name: t.function.name, args: JSON.parse(t.function.arguments) }));

try {
  // --- Chat Completions: response formats
  await group("chat_json_schema", (s) => oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 120, ...sampled(s),
    response_format: { type: "json_schema", json_schema: { name: "person", schema: PERSON, strict: true } } }), judgeChatJSON(PERSON));
  await group("chat_json_schema_array", (s) => oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 60, ...sampled(s),
    response_format: { type: "json_schema", json_schema: { name: "digits", schema: DIGITS } } }), judgeChatJSON(DIGITS));
  {
    // json_object: any object; random weights rarely close one, so greedy and short values are not asked for —
    // what finishes must be an object
    const outs = await Promise.all(SEEDS.map((s) => oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 40, ...sampled(s), response_format: { type: "json_object" } })));
    const bad = outs.map(judgeChatJSON(null)).filter(([, b]) => b);
    check("chat_json_object_valid", bad.length === 0 && outs.every((o) => o.choices[0].message.content.trimStart().startsWith("{")), bad);
  }

  // --- Chat: tool_choice required / named, one call
  await group("chat_tool_required", (s) => oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 150, ...sampled(s), tools: oaTools, tool_choice: "required", parallel_tool_calls: false }),
    (c) => judgeCalls(null, true)(chatCalls(c), c.choices[0].finish_reason));
  await group("chat_tool_named", (s) => oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 150, ...sampled(s), tools: oaTools, tool_choice: { type: "function", function: { name: "get_time" } } }),
    (c) => judgeCalls("get_time", false)(chatCalls(c), c.choices[0].finish_reason));
  {
    // streamed: the SDK reassembles the call from argument deltas
    const st = oa.chat.completions.stream({ model: "x", messages: msgs, max_tokens: 150, ...sampled(7), tools: oaTools, tool_choice: "required", parallel_tool_calls: false });
    const f = await st.finalChatCompletion();
    const [done, bad] = judgeCalls(null, true)(chatCalls(f), f.choices[0].finish_reason);
    check("chat_tool_required_streamed", !bad && (done || f.choices[0].finish_reason === "length"), bad ?? f.choices[0]);
  }
  // auto: free text (no stray tags) or valid calls
  {
    const outs = await Promise.all(SEEDS.map((s) => oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 60, ...sampled(s), tools: oaTools })));
    const problems = [];
    for (const c of outs) {
      const m = c.choices[0].message;
      if (/<\|\/?tool_call\|>/.test(m.content ?? "")) problems.push(`stray tag in ${JSON.stringify(m.content)}`);
      const [, bad] = judgeCalls(null, false)(chatCalls(c), c.choices[0].finish_reason === "tool_calls" ? "tool_calls" : "length");
      if (c.choices[0].finish_reason === "tool_calls" && bad) problems.push(bad);
    }
    check("chat_tool_auto", problems.length === 0, problems);
  }
  // unsupported keyword: non-strict auto tools run unconstrained; strict ones are refused
  const badTool = (strict) => [{ type: "function", function: { name: "f", strict, parameters: { type: "object", properties: { a: { type: "array", contains: { type: "integer" } } } } } }];
  const r1 = await oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 5, tools: badTool(false) });
  check("chat_auto_unsupported_runs", r1.choices.length === 1);
  let e = null;
  try { await oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 5, tools: badTool(true) }); } catch (x) { e = x; }
  check("chat_strict_unsupported_400", e?.status === 400 && /"contains"/.test(e.message), e?.message);

  e = null;
  try { await oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 5, tools: oaTools, tool_choice: { type: "function", function: { name: "nope" } } }); } catch (x) { e = x; }
  check("chat_named_unknown_tool_400", e?.status === 400 && e.error?.param === "tool_choice" && /^tool_choice: no tool named "nope"/.test(e.error?.message), e?.message);
  e = null;
  try { await oa.chat.completions.create({ model: "x", messages: msgs, max_tokens: 5, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "integer", minimum: 5, maximum: 1 } } } }); } catch (x) { e = x; }
  check("chat_unsatisfiable_schema_400", e?.status === 400 && /unsatisfiable/.test(e.error?.message), e?.message);

  // --- Responses: text.format and tool_choice required
  const respText = (r) => r.output.filter((o) => o.type === "message").flatMap((o) => o.content).filter((c) => c.type === "output_text").map((c) => c.text).join("");
  await group("responses_text_format", (s) => oa.responses.create({ model: "x", input: "Answer.", max_output_tokens: 120, temperature: 1, top_p: 1,
    text: { format: { type: "json_schema", name: "person", schema: PERSON, strict: true } } }), (r) => {
    if (r.status === "incomplete") return [false, null];
    const [v, bad] = parse(respText(r));
    return [true, bad ?? validate(PERSON, v)];
  });
  await group("responses_tool_required", (s) => oa.responses.create({ model: "x", input: "Answer.", max_output_tokens: 150, temperature: 1, top_p: 1, parallel_tool_calls: false,
    tools: oaTools.map((t) => ({ type: "function", name: t.function.name, description: t.function.description, parameters: t.function.parameters, strict: true })), tool_choice: "required" }), (r) => {
    const calls = r.output.filter((o) => o.type === "function_call").map((o) => ({ name: o.name, args: JSON.parse(o.arguments) }));
    return judgeCalls(null, true)(calls, r.status === "incomplete" ? "length" : "done");
  });

  // --- Anthropic: tool_choice any / tool, one call
  const anCalls = (m) => m.content.filter((b) => b.type === "tool_use").map((b) => ({ name: b.name, args: b.input }));
  await group("anthropic_tool_any_single", (s) => an.messages.create({ model: "x", max_tokens: 150, temperature: 1, messages: msgs, tools: anTools, tool_choice: { type: "any", disable_parallel_tool_use: true } }),
    (m) => judgeCalls(null, true)(anCalls(m), m.stop_reason === "max_tokens" ? "max_tokens" : m.stop_reason));
  await group("anthropic_tool_named", (s) => an.messages.create({ model: "x", max_tokens: 150, temperature: 1, messages: msgs, tools: anTools, tool_choice: { type: "tool", name: "get_weather" } }),
    (m) => {
      if (m.stop_reason !== "max_tokens" && m.stop_reason !== "tool_use") return [true, `stop_reason ${m.stop_reason}`];
      return judgeCalls("get_weather", false)(anCalls(m), m.stop_reason);
    });
  {
    // streamed: input_json_delta pieces after a content_block_start whose input is {}
    const res = await fetch(`${srv.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "x", max_tokens: 150, temperature: 1, stream: true, messages: msgs, tools: anTools, tool_choice: { type: "any", disable_parallel_tool_use: true } }) });
    const { events } = await readSSE(res);
    const starts = events.filter((x) => x.data?.type === "content_block_start" && x.data.content_block.type === "tool_use");
    const json = events.filter((x) => x.data?.type === "content_block_delta" && x.data.delta.type === "input_json_delta").map((x) => x.data.delta.partial_json).join("");
    const stop = events.find((x) => x.data?.type === "message_delta")?.data.delta.stop_reason;
    let bad = null;
    if (stop === "tool_use") {
      const [v, pb] = parse(json);
      bad = starts.length !== 1 ? `${starts.length} tool_use blocks` : JSON.stringify(starts[0].data.content_block.input) !== "{}" ? "start input not {}" : pb ?? validate(schemaOf[starts[0].data.content_block.name], v);
    } else if (stop !== "max_tokens") bad = `stop_reason ${stop}`;
    check("anthropic_tool_streamed", !bad, bad);
  }

  // an assistant prefill is the start of the output: the grammar continues after it
  e = null;
  try { await an.messages.create({ model: "x", max_tokens: 20, messages: [...msgs, { role: "assistant", content: "Sure, " }], tools: anTools, tool_choice: { type: "any" } }); } catch (x) { e = x; }
  check("anthropic_prefill_outside_constraint_400", e?.status === 400 && /assistant message to continue/.test(e.error?.error?.message), e?.message);
  const pre = await an.messages.create({ model: "x", max_tokens: 20, messages: [...msgs, { role: "assistant", content: "Sure, " }], tools: anTools });
  check("anthropic_prefill_auto_ok", pre.type === "message", pre);

  // --- Claude Code's own tools (the captured request), tool_choice any: a valid call of one of them
  const cc = JSON.parse(fs.readFileSync(new URL("captured/claude-code-2.1.328.messages.json", import.meta.url), "utf8"));
  {
    const ccSchema = Object.fromEntries(cc.tools.map((t) => [t.name, t.input_schema]));
    const outs = await Promise.all([11, 12].map((s) => an.messages.create({ model: "x", max_tokens: 300, temperature: 1, messages: msgs, tools: cc.tools, tool_choice: { type: "any", disable_parallel_tool_use: true } })));
    const problems = [];
    let finished = 0;
    for (const m of outs) {
      // cut by max_tokens (long strings: random weights rarely close one): the call
      // already started, with the name of one of the given tools
      const first = m.content[0];
      if (!first || first.type !== "tool_use" || !ccSchema[first.name]) problems.push(`does not start with a call of a given tool: ${JSON.stringify(m.content).slice(0, 300)}`);
      if (m.stop_reason === "max_tokens") continue;
      finished++;
      const calls = anCalls(m);
      if (m.stop_reason !== "tool_use" || calls.length !== 1) { problems.push(`stop ${m.stop_reason}, ${calls.length} calls`); continue; }
      const bad = ccSchema[calls[0].name] ? validate(ccSchema[calls[0].name], calls[0].args) : `unknown tool ${calls[0].name}`;
      if (bad) problems.push(`${calls[0].name} ${JSON.stringify(calls[0].args).slice(0, 300)}: ${bad}`);
    }
    check("claude_code_tools_any_valid", problems.length === 0, problems);
    console.log(`  Claude Code tools under tool_choice any: ${finished} of 2 finished within 300 tokens`);
  }
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
await stopServer(srv);
summary("constrained");
