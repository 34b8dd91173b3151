#!/usr/bin/env node
// maskbench.mjs — MaskBench counts for onnxllm's constrained decoding.
//
//   node tools/jsonschema/maskbench.mjs --bin build/onnxllm --tokenizer TOK.json
//        [--data DIR] [--subset K] [--out PREFIX] [--compact] [--check LIMITS.json]
//        [--jobs N] [--lines FILE]
//
// For every schema file of the data folder (MaskBench format: {schema, tests:
// [{data, valid}]}), each test instance is serialised compactly
// (JSON.stringify) and checked with `onnxllm schema-test` token by token
// (Phi-4-mini tokenizer). Counted per schema, as MaskBench does
// (jsonschemabench/maskbench/scripts/maskbench_results.py):
//   compile error       the schema does not compile (unsupported keyword, ...)
//   validation error    a valid instance is rejected
//   invalidation error  an invalid instance is accepted
//   passing             compiled, no validation or invalidation error
// Each instance is also validated with ajv + ajv-formats (draft 2020-12 /
// draft-07 / draft-04 by $schema): "label_vs_ajv" counts instances whose
// dataset label ajv disagrees with, and "accepted_ajv_invalid" counts texts
// the grammar accepted that ajv rejects (the number that matters for users).
// Key order: the grammar writes object keys in the schema's order (as every
// engine in MaskBench's published table does), and some dataset instances list
// them in another order. Every instance is therefore also re-serialised with
// its keys in that order (see schemaOrder below) and re-tested when its text
// changes: the "*_schema_order" counts (the ones comparable with the published
// table), next to the as-is counts, which stay the primary numbers. A schema
// whose rejected valid instances all pass in schema order counts in
// "order_only_validation_errors".
// Timings: every mask computation (one per token plus the final one) and
// every compilation, one thread, as printed by schema-test.
//
// --lines FILE writes the schema-test input lines (to reproduce one verdict by hand).
// --subset K keeps every K-th schema (sorted by name): the fixed subset the
// test suite runs. --jobs N splits the lines over N schema-test processes (counts
// are the same; timings then share the CPU — bench_grammar is the timing tool). --out PREFIX writes PREFIX.json (summary + per-schema
// results) and PREFIX.md (the table). --check LIMITS.json fails (exit 1) when
// a count is outside the limits given there.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Ajv2020 = require("ajv/dist/2020").default;
const Ajv07 = require("ajv").default;
const addFormats = require("ajv-formats").default;

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}
const bin = arg("--bin", "build/onnxllm");
const tokenizer = arg("--tokenizer");
const dataDir = arg("--data", path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../shared/jsonschema/maskbench-dev"));
const subset = parseInt(arg("--subset", "1"), 10);
const outPrefix = arg("--out");
const checkFile = arg("--check");
const compact = process.argv.includes("--compact");
const jobs = Math.max(1, parseInt(arg("--jobs", "1"), 10));
if (!tokenizer) {
  console.error("usage: maskbench.mjs --bin ONNXLLM --tokenizer TOKENIZER.json [--data DIR] [--subset K] [--out PREFIX] [--check LIMITS.json]");
  process.exit(2);
}

const files = fs.readdirSync(dataDir).filter((f) => f.endsWith(".json")).sort();
const chosen = files.filter((_, i) => i % subset === 0);

// ajv instances per draft (strict off: real-world schemas carry unknown keywords)
function mkAjv(Cls, opts = {}) {
  const a = new Cls({ strict: false, allErrors: false, validateFormats: true, logger: false, ...opts });
  addFormats(a);
  return a;
}
const ajvs = { d2020: mkAjv(Ajv2020), d07: mkAjv(Ajv07) };
const compiled_ = new Map(); // file -> validator (null: ajv cannot compile the schema)
function ajvCheck(file, schema, data) {
  if (!compiled_.has(file)) {
    const s = typeof schema === "object" && schema ? schema.$schema || "" : "";
    const a = /2020|2019/.test(s) ? ajvs.d2020 : ajvs.d07;
    try {
      compiled_.set(file, a.compile(stripIds(schema)));
    } catch {
      compiled_.set(file, null);
    }
  }
  const v = compiled_.get(file);
  return v ? (v(data) ? true : false) : null;
}
// $id values collide across files in one ajv instance: drop them (refs are local)
function stripIds(s) {
  if (Array.isArray(s)) return s.map(stripIds);
  if (s && typeof s === "object") {
    const o = {};
    for (const [k, v] of Object.entries(s)) {
      if ((k === "$id" || k === "id") && typeof v === "string") continue;
      if (k === "$schema") continue;
      o[k] = k === "properties" || k === "patternProperties" || k === "definitions" || k === "$defs"
        ? Object.fromEntries(Object.entries(v || {}).map(([kk, vv]) => [kk, stripIds(vv)]))
        : stripIds(v);
    }
    return o;
  }
  return s;
}

// Lossless JSON: integers beyond 2^53 keep their digits (JSON.parse would round
// 9223372036854776001 onto the schema's maximum 9223372036854776000, as Python's
// json, which MaskBench labels with, does not). Other numbers are written as
// JSON.stringify writes them. ajv only sees the rounded values, so instances
// with such integers get no ajv verdict.
const ORDER = Symbol("source key order");
const keysOf = (o) => o[ORDER] || Object.keys(o);
class BigInt_ {
  constructor(raw) {
    this.raw = raw;
  }
}
function parseLossless(src) {
  let i = 0;
  const ws = () => {
    while (i < src.length && " \t\r\n".includes(src[i])) i++;
  };
  const val = () => {
    ws();
    const c = src[i];
    if (c === "{") {
      i++;
      const o = {}, order = [];
      // keys in source order (JS objects put integer-like keys first)
      Object.defineProperty(o, ORDER, { value: order, enumerable: false });
      ws();
      if (src[i] === "}") return i++, o;
      for (;;) {
        ws();
        const k = str();
        ws();
        i++; // :
        if (!Object.prototype.hasOwnProperty.call(o, k)) order.push(k);
        Object.defineProperty(o, k, { value: val(), enumerable: true, writable: true, configurable: true });
        ws();
        if (src[i++] === "}") return o;
      }
    }
    if (c === "[") {
      i++;
      const a = [];
      ws();
      if (src[i] === "]") return i++, a;
      for (;;) {
        a.push(val());
        ws();
        if (src[i++] === "]") return a;
      }
    }
    if (c === '"') return str();
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(src.slice(i, i + 400));
    if (!m) throw new Error(`bad JSON at ${i}`);
    i += m[0].length;
    const t = m[0];
    if (t === "true") return true;
    if (t === "false") return false;
    if (t === "null") return null;
    if (/^-?\d+$/.test(t) && !Number.isSafeInteger(Number(t))) return new BigInt_(t.replace(/^(-?)0+(?=\d)/, "$1"));
    return Number(t);
  };
  const str = () => {
    const start = i++;
    while (src[i] !== '"') i += src[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(src.slice(start, i));
  };
  return val();
}
function dump(v) {
  if (v instanceof BigInt_) return v.raw;
  if (v instanceof Ordered) return "{" + v.entries.map(([k, x]) => JSON.stringify(k) + ":" + dump(x)).join(",") + "}";
  if (Array.isArray(v)) return "[" + v.map(dump).join(",") + "]";
  if (v && typeof v === "object") return "{" + keysOf(v).map((k) => JSON.stringify(k) + ":" + dump(v[k])).join(",") + "}";
  return JSON.stringify(v);
}
// ---- schema order --------------------------------------------------------------------
// The grammar writes object keys in the schema's order (docs/grammar.md: the
// `properties` of every conjunct — $ref/allOf expanded depth-first in keyword
// order, the chosen anyOf/oneOf branch appended — then names only in
// `required`; additional keys may come anywhere), as every engine in MaskBench's
// published table does. Dataset instances sometimes list keys in another order,
// so each instance is also re-serialised in that order (additional keys after
// the named ones, in their own order) and re-tested: the "schema order" counts.
// The as-is counts stay the primary numbers.
class Ordered {
  constructor(entries) {
    this.entries = entries; // [[key, value], ...] in output order
  }
}
const escPtr = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");
function resolvePtr(root, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#")) return null;
  let frag = ref.slice(1);
  try {
    frag = decodeURIComponent(frag);
  } catch {
    return null;
  }
  if (frag === "") return { s: root, ptr: "" };
  if (!frag.startsWith("/")) return null;
  let at = root;
  for (const seg of frag.slice(1).split("/")) {
    const k = seg.replace(/~1/g, "/").replace(/~0/g, "~");
    if (at === null || typeof at !== "object" || !(k in at)) return null;
    at = at[k];
  }
  return { s: at, ptr: frag };
}
/* $ref and allOf expanded depth-first in keyword order, as schema.c's expand_one */
function expandConj(root, list) {
  const out = [];
  const seen = new Set();
  const one = (c, depth) => {
    if (!c.s || typeof c.s !== "object" || Array.isArray(c.s) || depth > 200 || seen.has(c.s)) return;
    seen.add(c.s);
    out.push(c);
    for (const k of keysOf(c.s)) {
      if (k === "$ref") {
        const t = resolvePtr(root, c.s.$ref);
        if (t) one({ s: t.s, ptr: t.ptr }, depth + 1);
      } else if (k === "allOf" && Array.isArray(c.s.allOf)) {
        c.s.allOf.forEach((e, i) => one({ s: e, ptr: `${c.ptr}/allOf/${i}` }, depth + 1));
      }
    }
  };
  for (const c of list) one(c, 0);
  return out;
}
function branchValidator(key, ptr) {
  const id = `${key}#${ptr.split("/").map((x) => encodeURIComponent(x)).join("/")}`;
  if (!orderValidators.has(id)) {
    let v = null;
    try {
      v = orderAjvOf.get(key).getSchema(id) || null;
    } catch {
      v = null;
    }
    orderValidators.set(id, v);
  }
  return orderValidators.get(id);
}
function patternMatches(p, k) {
  try {
    return new RegExp(p, "u").test(k);
  } catch {
    return false;
  }
}
/* plain: the JSON.parse value (for ajv), loss: the lossless one (for the text) */
function schemaOrder(key, root, conjs, plain, loss, depth = 0) {
  if (depth > 400 || loss === null || typeof loss !== "object" || loss instanceof BigInt_) return loss;
  let set = expandConj(root, conjs);
  // distribute anyOf/oneOf, in set order: the first branch this value validates against
  const done = new Map(); // schema object -> keywords distributed (as schema.c's done flags)
  const open = (c, kw) => Array.isArray(c.s[kw]) && !(done.get(c.s) || new Set()).has(kw);
  for (let guard = 0; guard < 256; guard++) {
    const c = set.find((c) => open(c, "anyOf") || open(c, "oneOf"));
    if (!c) break;
    const kw = open(c, "anyOf") ? "anyOf" : "oneOf";
    if (!done.has(c.s)) done.set(c.s, new Set());
    done.get(c.s).add(kw);
    const alts = c.s[kw];
    let pick = 0;
    for (let i = 0; i < alts.length; i++) {
      const v = branchValidator(key, `${c.ptr}/${kw}/${i}`);
      if (v && v(plain)) {
        pick = i;
        break;
      }
    }
    set = expandConj(root, [...set, { s: alts[pick], ptr: `${c.ptr}/${kw}/${pick}` }]);
  }
  if (Array.isArray(loss)) {
    return loss.map((e, i) => {
      const sub = [];
      for (const c of set) {
        const pre = c.s.prefixItems, it = c.s.items, ai = c.s.additionalItems;
        const tuple = Array.isArray(pre) ? ["prefixItems", pre] : Array.isArray(it) ? ["items", it] : null;
        if (tuple && i < tuple[1].length) sub.push({ s: tuple[1][i], ptr: `${c.ptr}/${tuple[0]}/${i}` });
        else {
          const rest = tuple ? (tuple[0] === "prefixItems" ? ["items", it] : ["additionalItems", ai]) : ["items", it];
          if (rest[1] && typeof rest[1] === "object") sub.push({ s: rest[1], ptr: `${c.ptr}/${rest[0]}` });
        }
      }
      return schemaOrder(key, root, sub, plain[i], e, depth + 1);
    });
  }
  const names = [], req = [];
  const add = (n) => names.includes(n) || names.push(n);
  for (const c of set) {
    const props = c.s.properties;
    if (props && typeof props === "object") keysOf(props).forEach(add);
    if (Array.isArray(c.s.required)) c.s.required.forEach((n) => typeof n === "string" && !req.includes(n) && req.push(n));
    for (const kw of ["dependencies", "dependentRequired"]) {
      const d = c.s[kw];
      if (!d || typeof d !== "object") continue;
      for (const n of keysOf(d)) {
        const l = d[n];
        const list = Array.isArray(l) ? l : l && Array.isArray(l.required) ? l.required : null;
        if (!list) continue;
        add(n);
        list.forEach((x) => typeof x === "string" && add(x));
      }
    }
  }
  req.forEach(add);
  const keys = keysOf(loss);
  const orderKeys = [...names.filter((n) => keys.includes(n)), ...keys.filter((k) => !names.includes(k))];
  return new Ordered(
    orderKeys.map((k) => {
      const sub = [];
      for (const c of set) {
        const props = c.s.properties && typeof c.s.properties === "object" ? c.s.properties : {};
        if (Object.prototype.hasOwnProperty.call(props, k)) {
          sub.push({ s: props[k], ptr: `${c.ptr}/properties/${escPtr(k)}` });
          continue;
        }
        let matched = false;
        const pp = c.s.patternProperties;
        if (pp && typeof pp === "object")
          for (const p of keysOf(pp))
            if (patternMatches(p, k)) {
              matched = true;
              sub.push({ s: pp[p], ptr: `${c.ptr}/patternProperties/${escPtr(p)}` });
            }
        const ap = c.s.additionalProperties;
        if (!matched && ap && typeof ap === "object") sub.push({ s: ap, ptr: `${c.ptr}/additionalProperties` });
      }
      return [k, schemaOrder(key, root, sub, plain[k], loss[k], depth + 1)];
    }),
  );
}
const orderAjv = mkAjv(Ajv07);
const orderAjv2020 = mkAjv(Ajv2020);
const orderValidators = new Map();
const orderAjvOf = new Map();
/* the instance in schema order (text), or null when the order cannot be worked out */
function schemaOrderText(file, schema, xschema, plain, loss) {
  if (!schema || typeof schema !== "object") return null;
  const key = "f:" + file;
  try {
    if (!orderKeysAdded.has(key)) {
      orderKeysAdded.add(key);
      const s = typeof schema.$schema === "string" ? schema.$schema : "";
      const a = /2020|2019/.test(s) ? orderAjv2020 : orderAjv;
      orderAjvOf.set(key, a);
      a.addSchema(stripIds(schema), key);
    }
    return dump(schemaOrder(key, xschema, [{ s: xschema, ptr: "" }], plain, loss));
  } catch {
    return null;
  }
}
const orderKeysAdded = new Set();

function hasBig(v) {
  if (v instanceof BigInt_) return true;
  if (v instanceof Ordered) return v.entries.some(([, x]) => hasBig(x));
  if (v && typeof v === "object") return Object.keys(v).some((k) => hasBig(v[k]));
  return false;
}

// one schema-test process for everything; lines in order
const lines = [];
const meta = [];
let orderUnknown = 0; // instances whose schema order could not be worked out (tested as-is only)
for (const f of chosen) {
  const src = fs.readFileSync(path.join(dataDir, f), "utf8");
  const d = JSON.parse(src), x = parseLossless(src);
  const tests = d.tests || [];
  const schemaText = dump(x.schema), bigSchema = hasBig(x.schema);
  if (!tests.length) {
    lines.push(`{"schema":${schemaText}}`);
    meta.push({ file: f, test: -1 });
  }
  const reordered = [];
  tests.forEach((t, i) => {
    const text = dump(x.tests[i].data);
    lines.push(`{"schema":${schemaText},"text":${JSON.stringify(text)}}`);
    meta.push({ file: f, test: i, valid: !!t.valid, data: t.data, schema: d.schema, big: bigSchema || hasBig(x.tests[i].data) });
    const ordered = schemaOrderText(f, d.schema, x.schema, t.data, x.tests[i].data);
    if (ordered === null) orderUnknown++;
    else if (ordered !== text) reordered.push([i, ordered]);
  });
  // the same instances in schema order (only those whose text changes), right after
  // the as-is lines so that schema-test reuses the grammar
  for (const [i, text] of reordered) {
    lines.push(`{"schema":${schemaText},"text":${JSON.stringify(text)}}`);
    meta.push({ file: f, test: i, valid: !!tests[i].valid, data: tests[i].data, schema: d.schema, big: bigSchema || hasBig(x.tests[i].data), reordered: true });
  }
}

// --lines FILE: the schema-test input lines (as-is, then schema order), to reproduce a verdict
if (arg("--lines")) fs.writeFileSync(arg("--lines"), lines.map((l, i) => l + "\n").join(""));

const args = ["schema-test", "--tokenizer", tokenizer, "--all-timings"];
if (compact) args.push("--compact");
/* runs the lines lo..hi through one schema-test process */
function runChunk(lo, hi) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["pipe", "pipe", "inherit"] });
    let buf = "";
    const res = [];
    child.stdout.on("data", (c) => {
      buf += c;
      let k;
      while ((k = buf.indexOf("\n")) >= 0) {
        res.push(JSON.parse(buf.slice(0, k)));
        buf = buf.slice(k + 1);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(res) : reject(new Error(`schema-test exited with ${code}`))));
    (async () => {
      for (let i = lo; i < hi; i++) {
        if (!child.stdin.write(lines[i] + "\n")) await new Promise((r) => child.stdin.once("drain", r));
      }
      child.stdin.end();
    })();
  });
}
const t0 = Date.now();
/* chunk boundaries on schema changes (a grammar is reused for consecutive lines) */
const bounds = [0];
for (let j = 1; j < jobs; j++) {
  let b = Math.floor((lines.length * j) / jobs);
  while (b < lines.length && b > 0 && meta[b].file === meta[b - 1].file) b++;
  bounds.push(b);
}
bounds.push(lines.length);
const parts = await Promise.all(bounds.slice(0, -1).map((lo, j) => runChunk(lo, bounds[j + 1])));
const results = parts.flat();
const wallS = (Date.now() - t0) / 1000;
if (results.length !== lines.length) throw new Error(`expected ${lines.length} results, got ${results.length}`);

// tally per schema
const per = new Map();
const maskUs = [];
const compileUs = [];
let nValid = 0, nInvalid = 0, labelVsAjv = 0, acceptedAjvInvalid = 0, internal = 0;
const errorsByKeyword = {};
for (let i = 0; i < results.length; i++) {
  const r = results[i], m = meta[i];
  let s = per.get(m.file);
  if (!s) {
    s = { file: m.file, compiled: r.compiled, error: r.error, compile_us: r.compile_us, validation: [], invalidation: [], order: {}, valid: {}, reordered: [] };
    per.set(m.file, s);
    if (r.compiled) compileUs.push(r.compile_us);
    else {
      const kw = (r.error.match(/keyword "([^"]+)"/) || r.error.match(/^(format|pattern|multipleOf|\$ref|number|string|object keys)/) || [null, r.error.split(":")[0]])[1];
      errorsByKeyword[kw] = (errorsByKeyword[kw] || 0) + 1;
    }
  }
  if (r.error && r.compiled) internal++;
  if (!r.compiled || m.test < 0) continue;
  if (m.reordered) {
    // the instance in schema order: replaces the as-is verdict in the schema-order counts
    const ajv = m.big ? null : ajvCheck(m.file, m.schema, m.data);
    if (r.accepted && ajv === false) acceptedAjvInvalid++;
    s.order[m.test] = r;
    s.reordered.push(m.test);
    continue;
  }
  s.order[m.test] = r;
  s.valid[m.test] = m.valid;
  for (const us of r.mask_us) {
    maskUs.push(us);
    if (!(us <= (s.mask_us_max || 0))) s.mask_us_max = us;
  }
  if (m.valid) nValid++;
  else nInvalid++;
  const ajv = m.big ? null : ajvCheck(m.file, m.schema, m.data);
  if (ajv !== null && ajv !== m.valid) labelVsAjv++;
  if (r.accepted && ajv === false) acceptedAjvInvalid++;
  if (m.valid && !r.accepted) s.validation.push({ test: m.test, rejected_at: r.rejected_at, ajv });
  if (!m.valid && r.accepted) s.invalidation.push({ test: m.test, ajv });
}
const schemas = [...per.values()];
const compiled = schemas.filter((s) => s.compiled).length;
const withValidation = schemas.filter((s) => s.compiled && s.validation.length).length;
const withInvalidation = schemas.filter((s) => s.compiled && s.invalidation.length).length;
// MaskBench counts a schema once: invalidation first ("should reject"), else validation
const invalidationErrors = withInvalidation;
const validationErrors = schemas.filter((s) => s.compiled && !s.invalidation.length && s.validation.length).length;
const passing = compiled - schemas.filter((s) => s.compiled && (s.validation.length || s.invalidation.length)).length;
const validRejected = schemas.reduce((a, s) => a + s.validation.length, 0);
const invalidAccepted = schemas.reduce((a, s) => a + s.invalidation.length, 0);
// schema-order verdicts: validation_order / invalidation_order per schema
for (const s of schemas) {
  s.validation_order = [];
  s.invalidation_order = [];
  for (const [t, r] of Object.entries(s.order)) {
    if (s.valid[t] && !r.accepted) s.validation_order.push({ test: +t, rejected_at: r.rejected_at });
    if (!s.valid[t] && r.accepted) s.invalidation_order.push({ test: +t });
  }
}
const validationErrorsOrder = schemas.filter((s) => s.compiled && !s.invalidation_order.length && s.validation_order.length).length;
const invalidationErrorsOrder = schemas.filter((s) => s.compiled && s.invalidation_order.length).length;
const passingOrder = compiled - schemas.filter((s) => s.compiled && (s.validation_order.length || s.invalidation_order.length)).length;
const validRejectedOrder = schemas.reduce((a, s) => a + s.validation_order.length, 0);
const invalidAcceptedOrder = schemas.reduce((a, s) => a + s.invalidation_order.length, 0);
// schemas whose every rejected valid instance passes once its keys are in schema order
const orderOnly = schemas.filter((s) => s.compiled && s.validation.length && !s.validation_order.length).length;

function pct(arr, p) {
  if (!arr.length) return 0;
  const a = [...arr].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor((a.length * p) / 100))];
}
const summary = {
  data: path.basename(dataDir),
  subset_every: subset,
  whitespace: compact ? "compact" : "flexible",
  schemas: schemas.length,
  compiled,
  compile_errors: schemas.length - compiled,
  validation_errors: validationErrors,
  invalidation_errors: invalidationErrors,
  passing,
  passing_pct: +((100 * passing) / schemas.length).toFixed(2),
  schemas_with_validation_error: withValidation,
  valid_instances: nValid,
  invalid_instances: nInvalid,
  valid_instances_rejected: validRejected,
  valid_instances_rejected_pct: +((100 * validRejected) / Math.max(1, nValid)).toFixed(3),
  invalid_instances_accepted: invalidAccepted,
  // the same, each instance's object keys in the schema's order (the grammar's order, and
  // every engine's in MaskBench's published table); instances whose text changes are re-tested
  instances_reordered: schemas.reduce((a, s) => a + s.reordered.length, 0),
  instances_order_unknown: orderUnknown,
  validation_errors_schema_order: validationErrorsOrder,
  invalidation_errors_schema_order: invalidationErrorsOrder,
  passing_schema_order: passingOrder,
  passing_schema_order_pct: +((100 * passingOrder) / schemas.length).toFixed(2),
  valid_instances_rejected_schema_order: validRejectedOrder,
  invalid_instances_accepted_schema_order: invalidAcceptedOrder,
  order_only_validation_errors: orderOnly,
  accepted_but_ajv_invalid: acceptedAjvInvalid,
  labels_ajv_disagrees_with: labelVsAjv,
  internal_errors: internal,
  tokens: maskUs.length,
  mask_us_p50: pct(maskUs, 50),
  mask_us_p90: pct(maskUs, 90),
  mask_us_p99: pct(maskUs, 99),
  mask_us_max: maskUs.reduce((a, b) => (b > a ? b : a), 0),
  mask_us_mean: maskUs.length ? +(maskUs.reduce((a, b) => a + b, 0) / maskUs.length).toFixed(1) : 0,
  compile_us_p50: pct(compileUs, 50),
  compile_us_p90: pct(compileUs, 90),
  compile_us_p99: pct(compileUs, 99),
  compile_us_max: compileUs.reduce((a, b) => (b > a ? b : a), 0),
  compile_errors_by_keyword: Object.fromEntries(Object.entries(errorsByKeyword).sort((a, b) => b[1] - a[1])),
  wall_s: wallS,
};

const table = `| metric | value |
|---|---|
| schemas | ${summary.schemas} |
| compiled | ${summary.compiled} |
| compile errors | ${summary.compile_errors} |
| validation errors (schemas) | ${summary.validation_errors} |
| invalidation errors (schemas) | ${summary.invalidation_errors} |
| passing | ${summary.passing} (${summary.passing_pct} %) |
| valid instances rejected | ${summary.valid_instances_rejected} of ${summary.valid_instances} (${summary.valid_instances_rejected_pct} %) |
| invalid instances accepted | ${summary.invalid_instances_accepted} of ${summary.invalid_instances} |
| keys in schema order: validation / invalidation errors (schemas) | ${summary.validation_errors_schema_order} / ${summary.invalidation_errors_schema_order} (${summary.order_only_validation_errors} schemas fail only on key order; ${summary.instances_reordered} instances re-tested) |
| keys in schema order: passing | ${summary.passing_schema_order} (${summary.passing_schema_order_pct} %) |
| keys in schema order: valid rejected / invalid accepted | ${summary.valid_instances_rejected_schema_order} / ${summary.invalid_instances_accepted_schema_order} |
| accepted texts ajv rejects | ${summary.accepted_but_ajv_invalid} |
| mask µs p50 / p90 / p99 / max (${summary.tokens} masks) | ${summary.mask_us_p50} / ${summary.mask_us_p90} / ${summary.mask_us_p99} / ${summary.mask_us_max} |
| compile µs p50 / p90 / p99 / max | ${summary.compile_us_p50} / ${summary.compile_us_p90} / ${summary.compile_us_p99} / ${summary.compile_us_max} |
`;
console.log(JSON.stringify(summary, null, 2));
console.log(table);
if (outPrefix) {
  fs.writeFileSync(outPrefix + ".json", JSON.stringify({ summary, schemas: schemas.map(({ file, compiled, error, compile_us, validation, invalidation, validation_order, invalidation_order, reordered }) => ({ file, compiled, error, compile_us, validation, invalidation, validation_schema_order: validation_order, invalidation_schema_order: invalidation_order, reordered })) }, null, 1) + "\n");
  fs.writeFileSync(outPrefix + ".md", table);
}
if (checkFile) {
  const lim = JSON.parse(fs.readFileSync(checkFile, "utf8"));
  const bad = [];
  for (const [k, v] of Object.entries(lim)) {
    if (!/^(min|max)_/.test(k) || typeof summary[k.slice(4)] !== "number") bad.push(`unknown limit ${k}`);
    if (k.startsWith("min_") && summary[k.slice(4)] < v) bad.push(`${k.slice(4)} = ${summary[k.slice(4)]} < ${v}`);
    if (k.startsWith("max_") && summary[k.slice(4)] > v) bad.push(`${k.slice(4)} = ${summary[k.slice(4)]} > ${v}`);
  }
  for (const s of schemas) {
    for (const x of s.invalidation) console.error(`invalidation: ${s.file} test ${x.test} (ajv says ${x.ajv})`);
    for (const x of s.invalidation_order) console.error(`invalidation (keys in schema order): ${s.file} test ${x.test}`);
  }
  if (bad.length) {
    console.error("maskbench: outside the limits: " + bad.join("; "));
    process.exit(1);
  }
}
