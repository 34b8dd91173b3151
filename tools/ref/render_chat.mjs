// render_chat.mjs — cross-check of the chat-template fixtures with @huggingface/jinja.
//
//   node tools/ref/render_chat.mjs tests/chat
// Renders every case of tests/chat/template_cases.json with the model's chat_template
// (tests/chat/models/<model>/tokenizer_config.json) through @huggingface/jinja and
// compares with tests/chat/fixtures/template_expected.json (made by render_chat.py
// with Python's Jinja2). @huggingface/jinja is more lenient than Jinja2 ("a" + 5,
// "a" + [..] concatenate instead of raising), so only the cases Jinja2 renders
// are compared. API-level tools become json.dumps() text as in render_chat.py.
import { readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";

const base = process.argv[2] || "tests/chat";

// Python json.dumps(v) with default separators and ensure_ascii (no floats in our cases).
function pyDumps(v) {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error("floats are not reproduced here");
    return String(v);
  }
  if (typeof v === "string") {
    let s = '"';
    for (const ch of v) {
      const cp = ch.codePointAt(0);
      const esc = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" }[ch];
      if (esc) s += esc;
      else if (cp < 0x20 || cp > 0x7e) {
        for (let i = 0; i < ch.length; i++) s += "\\u" + ch.charCodeAt(i).toString(16).padStart(4, "0");
      } else s += ch;
    }
    return s + '"';
  }
  if (Array.isArray(v)) return "[" + v.map(pyDumps).join(", ") + "]";
  return "{" + Object.entries(v).map(([k, x]) => pyDumps(k) + ": " + pyDumps(x)).join(", ") + "}";
}

function toolDef(t) {
  const f = t.function && typeof t.function === "object" ? t.function : t;
  const d = { name: f.name };
  if ("description" in f) d.description = f.description;
  if ("parameters" in f) d.parameters = f.parameters;
  else if ("input_schema" in f) d.parameters = f.input_schema;
  return d;
}

const cases = JSON.parse(readFileSync(`${base}/template_cases.json`, "utf8"));
const expected = new Map(JSON.parse(readFileSync(`${base}/fixtures/template_expected.json`, "utf8")).map((e) => [e.name, e]));
let passed = 0, failed = 0;
for (const c of cases) {
  const exp = expected.get(c.name);
  if (!exp) { console.log(`FAIL ${c.name}: no expected entry`); failed++; continue; }
  if (exp.error) continue;
  const cfg = JSON.parse(readFileSync(`${base}/models/${c.model}/tokenizer_config.json`, "utf8"));
  const eos = typeof cfg.eos_token === "object" ? cfg.eos_token.content : cfg.eos_token ?? "";
  const msgs = c.messages.map((m) => (m && typeof m === "object" ? { ...m } : m));
  if (c.tools && c.tools.length) {
    const s = pyDumps(c.tools.map(toolDef));
    const i = msgs.findIndex((m) => m && m.role === "system");
    if (i < 0) msgs.unshift({ role: "system", content: "", tools: s });
    else msgs[i].tools = s;
  }
  let got;
  try {
    got = new Template(cfg.chat_template).render({ messages: msgs, add_generation_prompt: c.add_generation_prompt, eos_token: eos });
  } catch (e) {
    got = `(error) ${e.message}`;
  }
  if (got === exp.text) passed++;
  else {
    failed++;
    console.log(`FAIL ${c.name}\n  jinja2:             ${JSON.stringify(exp.text)}\n  @huggingface/jinja: ${JSON.stringify(got)}`);
  }
}
console.log(`render_chat: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
