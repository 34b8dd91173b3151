// chat_ref.mjs — an independent reference for the prompt the server builds: the
// documented request → chat mapping (docs/server.md) written again in JavaScript,
// rendered with @huggingface/jinja from the model's own chat_template and counted
// with HF `tokenizers`. Used for count_tokens / usage exactness.
import { readFileSync } from "node:fs";
import path from "node:path";
import { requireRef } from "./lib.mjs";

const { Template } = requireRef("@huggingface/jinja");
const { Tokenizer } = requireRef("tokenizers");

// Python json.dumps(v): separators ", " / ": ", ensure_ascii.
export function pyDumps(v) {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === "string") {
    let s = '"';
    for (const ch of v) {
      const cp = ch.codePointAt(0);
      const esc = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" }[ch];
      if (esc) s += esc;
      else if (cp < 0x20 || cp > 0x7e) for (let i = 0; i < ch.length; i++) s += "\\u" + ch.charCodeAt(i).toString(16).padStart(4, "0");
      else s += ch;
    }
    return s + '"';
  }
  if (Array.isArray(v)) return "[" + v.map(pyDumps).join(", ") + "]";
  return "{" + Object.entries(v).map(([k, x]) => pyDumps(k) + ": " + pyDumps(x)).join(", ") + "}";
}

const blocksText = (c, sep = "\n") => typeof c === "string" ? c : c.filter((b) => b.type === "text").map((b) => b.text).filter((t, i, a) => true).join(sep);

/* Anthropic Messages request → [{role, content}], tools string (or null). */
export function anthropicToChat(req) {
  let system = [];
  if (typeof req.system === "string") system.push(req.system);
  else if (Array.isArray(req.system)) {
    const blocks = req.system.filter((b, i) => !(i === 0 && b.text.startsWith("x-anthropic-billing-header:")));
    const t = blocks.map((b) => b.text).filter(Boolean).join("\n");
    if (t) system.push(t);
  }
  const msgs = [];
  for (const m of req.messages) {
    if (["system", "developer", "ctx", "msg"].includes(m.role)) {
      const t = blocksText(m.content);
      if (t) system.push(t);
      continue;
    }
    if (typeof m.content === "string") { msgs.push({ role: m.role, content: m.content }); continue; }
    let cur = null;
    for (const b of m.content) {
      if (b.type === "text") {
        if (!cur) msgs.push(cur = { role: m.role, content: "", calls: [] });
        cur.content += (cur.content && b.text ? "\n" : "") + b.text;
      } else if (b.type === "tool_use") {
        if (!cur) msgs.push(cur = { role: "assistant", content: "", calls: [] });
        cur.calls.push({ name: b.name, arguments: b.input ?? {} });
      } else if (b.type === "tool_result") {
        const c = b.content === undefined ? "" : blocksText(b.content);
        msgs.push({ role: "tool", content: (b.is_error ? "Error: " : "") + c });
        cur = null;
      }
    }
  }
  const out = msgs.map((m) => ({ role: m.role, content: m.calls?.length ? m.content + "<|tool_call|>[" + m.calls.map((c) => `{"name": ${pyDumps(c.name)}, "arguments": ${pyDumps(c.arguments)}}`).join(", ") + "]<|/tool_call|>" : m.content }));
  const tools = (req.tools ?? []).filter((t) => t.input_schema && !t.defer_loading).map((t) => {
    const d = { name: t.name };
    if (t.description !== undefined) d.description = t.description;
    d.parameters = t.input_schema;
    return d;
  });
  if (system.length) out.unshift({ role: "system", content: system.join("\n\n") });
  if (tools.length) {
    const sys = out.find((m) => m.role === "system");
    if (sys) sys.tools = pyDumps(tools);
    else out.unshift({ role: "system", content: "", tools: pyDumps(tools) });
  }
  return out;
}

export function renderer(modelDir) {
  const cfg = JSON.parse(readFileSync(path.join(modelDir, "tokenizer_config.json"), "utf8"));
  const tmpl = new Template(cfg.chat_template);
  const tok = Tokenizer.fromFile(path.join(modelDir, "tokenizer.json"));
  return {
    render: (messages) => tmpl.render({ messages, add_generation_prompt: true, eos_token: cfg.eos_token }),
    count: async (text) => (await tok.encode(text, null, { addSpecialTokens: false })).getIds().length,
  };
}
