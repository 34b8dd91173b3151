#!/usr/bin/env node
// e2e.mjs — constrained generation end to end, judged by ajv + ajv-formats.
//
//   node e2e.mjs GEN_CONSTRAINED MODEL_DIR TOKENIZER_JSON SCHEMA_DIR N MAX_TOKENS [TOOL_RUNS [MIN_FINISHED [REPEAT]]]
//
// The model has random weights, so only the grammar can make its output valid.
// 1. For the first N schemas of SCHEMA_DIR (MaskBench files) that compile, one
//    generation each: an output that ended with eos must parse as JSON and
//    validate against its schema (ajv); one cut by MAX_TOKENS is not judged.
// 2. Tool calls with tool_choice required (parallel on and off), a named tool,
//    and auto: every call parsed from the output names a given tool and its
//    arguments validate against that tool's parameters; required/named outputs
//    always contain a call (when they finished); parallel off: exactly one.
// Fails on any invalid finished output, and when fewer than MIN_FINISHED (default
// a tenth) of the schema runs or half the tool runs finish (the check would then
// say little; the short sanitizer run passes 0 for the schemas).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);
const jsRoot = path.resolve(here, "../../tools/jsonschema/node_modules");
const Ajv2020 = require(jsRoot + "/ajv/dist/2020").default;
const Ajv07 = require(jsRoot + "/ajv").default;
const addFormats = require(jsRoot + "/ajv-formats").default;

const [gen, modelDir, tokenizer, schemaDir, nStr, maxStr, toolStr, minStr, repStr] = process.argv.slice(2);
const REPEAT = repStr ? +repStr : 1; /* runs per schema (different seeds) */
const N = +nStr, MAX = +maxStr, TOOL_RUNS = toolStr ? +toolStr : 16, MIN_FIN = minStr !== undefined ? +minStr : 0.1;
function mkAjv(C) { const a = new C({ strict: false, logger: false }); addFormats(a); return a; }
const ajv = { a20: mkAjv(Ajv2020), a07: mkAjv(Ajv07) };
function strip(s) {
  if (Array.isArray(s)) return s.map(strip);
  if (s && typeof s === "object") {
    const o = {};
    for (const [k, v] of Object.entries(s)) {
      if ((k === "$id" || k === "id" || k === "$schema") && typeof v === "string") continue;
      o[k] = k === "properties" || k === "patternProperties" || k === "definitions" || k === "$defs"
        ? Object.fromEntries(Object.entries(v || {}).map(([a, b]) => [a, strip(b)])) : strip(v);
    }
    return o;
  }
  return s;
}
function validator(schema) {
  const d = schema && typeof schema === "object" && /2019|2020/.test(schema.$schema || "") ? ajv.a20 : ajv.a07;
  try { return d.compile(strip(schema)); } catch { return null; }
}

const reqs = [], what = [];
for (const f of fs.readdirSync(schemaDir).filter((f) => f.endsWith(".json")).sort()) {
  const d = JSON.parse(fs.readFileSync(path.join(schemaDir, f), "utf8"));
  /* most runs compact (a random model spends flexible whitespace generously), every
   * fourth with the default bounded whitespace */
  for (let r = 0; r < REPEAT; r++) {
    reqs.push({ schema: d.schema, seed: reqs.length + 1, compact: reqs.length % 4 !== 0 });
    what.push({ kind: "schema", file: f, schema: d.schema });
  }
}
const tools = [
  { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string", maxLength: 16 }, unit: { enum: ["celsius", "fahrenheit"] }, days: { type: "integer", minimum: 1, maximum: 7 } }, required: ["city", "unit"], additionalProperties: false } } },
  { type: "function", function: { name: "create_event", parameters: { type: "object", properties: { title: { type: "string", maxLength: 20 }, date: { type: "string", format: "date" }, attendees: { type: "array", items: { type: "string", format: "email", maxLength: 24 }, maxItems: 2 } }, required: ["title", "date"], additionalProperties: false } } },
  { name: "ping", input_schema: { type: "object", properties: {}, additionalProperties: false } },
];
const toolRuns = [];
const kinds = [{ tool_choice: "required", parallel: false }, { tool_choice: { type: "function", function: { name: "create_event" } }, parallel: false },
  { tool_choice: "required", parallel: true }, { tool_choice: "auto", parallel: false }];
for (let i = 0; i < TOOL_RUNS; i++) toolRuns.push(kinds[i % kinds.length]);
toolRuns.forEach((t, i) => { reqs.push({ tools, ...t, seed: 1000 + i, max_tokens: 120, compact: i % 4 !== 3, prompt: "<|user|>Call a tool.<|end|><|assistant|>" }); what.push({ kind: "tools", ...t }); });

// schemas: stop after N compiled ones (the helper is fed everything; compile errors are cheap)
const r = spawnSync(gen, [modelDir, tokenizer, String(MAX), String(N)], { input: reqs.map((x) => JSON.stringify(x)).join("\n") + "\n", maxBuffer: 1 << 28, encoding: "utf8" });
if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
let compiled = 0, finished = 0, valid = 0, invalid = 0, cut = 0, judged = 0;
const byTool = Object.fromEntries(tools.map((t) => [t.function ? t.function.name : t.name, t.function ? t.function.parameters : t.input_schema]));
let toolFinished = 0, toolBad = 0;
for (let i = 0; i < out.length; i++) {
  const o = out[i], w = what[i];
  if (w.kind === "schema") {
    if (!o.compiled || o.skipped) continue;
    compiled++;
    if (o.stop !== "eos") { cut++; continue; }
    finished++;
    const v = validator(w.schema);
    if (!v) continue;
    judged++;
    let data, ok = false;
    try { data = JSON.parse(o.text); ok = v(data); } catch { ok = false; }
    if (ok) valid++;
    else { invalid++; console.error(`INVALID ${w.file}: ${o.text.slice(0, 300)}\n  ${JSON.stringify(v.errors || "not JSON").slice(0, 300)}`); }
  } else {
    if (!o.compiled) { console.error("tools did not compile: " + o.error); toolBad++; continue; }
    if (o.stop !== "eos") continue;
    toolFinished++;
    const calls = o.tool_calls || [];
    const forced = w.tool_choice !== "auto";
    let bad = forced && calls.length === 0;
    if (w.parallel === false && calls.length !== 1 && forced) bad = true;
    for (const c of calls) {
      const schema = byTool[c.function.name];
      if (!schema) { bad = true; continue; }
      if (w.tool_choice && w.tool_choice.function && c.function.name !== w.tool_choice.function.name) bad = true;
      let args; try { args = JSON.parse(c.function.arguments); } catch { bad = true; continue; }
      const v = validator(schema);
      if (!v(args)) bad = true;
    }
    if (bad) { toolBad++; console.error(`BAD TOOL OUTPUT (${JSON.stringify(w.tool_choice)}): ${o.text.slice(0, 400)}`); }
  }
}
const summary = { schemas: compiled, finished, judged, valid, invalid, cut_by_max_tokens: cut, tool_runs: toolRuns.length, tool_finished: toolFinished, tool_bad: toolBad };
console.log(JSON.stringify(summary));
if (invalid || toolBad || compiled < N || finished < MIN_FIN * compiled || toolFinished * 2 < toolRuns.length) {
  console.error("e2e: failed " + JSON.stringify(summary));
  process.exit(1);
}
