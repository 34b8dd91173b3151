// run_e2e.mjs — `onnxllm run`, `apply-template --ids` and `bench` end to end on the demo model.
//   node tests/cli/run_e2e.mjs ONNXLLM MODEL_DIR
// References: HF tokenizers (npm) for the prompt ids; the CLI's own greedy output for
// --stop (a run with a stop string must print exactly the text before its first
// occurrence in the unstopped run).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import fs from "node:fs";
import os from "node:os";

const [bin, model] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../tools/ref/package.json"));
const { Tokenizer } = require("tokenizers");

let passed = 0, failed = 0;
const check = (name, ok, info = "") => {
  if (ok) passed++;
  else { failed++; console.log(`FAIL ${name} ${info}`); }
};
const run = (args, input) => {
  const r = spawnSync(bin, args, { input: input ?? "", maxBuffer: 1 << 24 });
  return { status: r.status, out: r.stdout.toString("utf8"), err: r.stderr.toString("utf8") };
};

// --- apply-template --ids == HF tokenizers(rendered text, add_special_tokens=False),
// except that special-token text inside a content stays text: that content is encoded
// by HF without its special tokens (strip_special.mjs), between the template's markers
const tok = Tokenizer.fromFile(path.join(model, "tokenizer.json"));
const tj = JSON.parse(fs.readFileSync(path.join(model, "tokenizer.json"), "utf8"));
const nsPath = path.join(os.tmpdir(), `olm-e2e-nospecial-${process.pid}.json`);
fs.writeFileSync(nsPath, JSON.stringify({ ...tj, added_tokens: tj.added_tokens.filter((a) => !a.special) }));
const ns = Tokenizer.fromFile(nsPath);
fs.unlinkSync(nsPath);
const enc = async (t, s) => Array.from((await t.encode(s, null, { addSpecialTokens: false })).getIds());
const requests = [
  { messages: [{ role: "user", content: "hi" }], add_generation_prompt: true },
  { messages: [{ role: "system", content: "You are terse." }, { role: "user", content: "Grüße 🤖 <|end|>  two  spaces\n\nnew" }, { role: "assistant", content: "ok" }] },
  { messages: [{ role: "user", content: "Weather in Paris?" }], add_generation_prompt: true,
    tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }] },
];
for (const [i, req] of requests.entries()) {
  const text = run(["apply-template", "-m", model], JSON.stringify(req));
  const ids = run(["apply-template", "-m", model, "--ids"], JSON.stringify(req));
  check(`ids_${i}_exit`, text.status === 0 && ids.status === 0, ids.err);
  let want = await enc(tok, text.out);
  const special = req.messages.find((m) => m.content.includes("<|end|>"));
  if (special) { // the template's text around it, the content as text
    const at = text.out.indexOf(special.content);
    want = [...await enc(tok, text.out.slice(0, at)), ...await enc(ns, special.content),
            ...await enc(tok, text.out.slice(at + special.content.length))];
  }
  check(`ids_${i}`, JSON.stringify(JSON.parse(ids.out)) === JSON.stringify(want), `\n  got  ${ids.out}  want ${JSON.stringify(want)}`);
}

// --- run --json: fields, usage.prompt_tokens == the rendered prompt's ids
const j = run(["run", "-m", model, "-p", "hi", "-n", "8", "--json", "--seed", "1"]);
check("run_json_exit", j.status === 0, j.err);
let o = {};
try { o = JSON.parse(j.out); } catch (e) { check("run_json_parses", false, j.out); }
const promptIds = JSON.parse(run(["apply-template", "-m", model, "--ids"], JSON.stringify(requests[0])).out);
check("run_json_text", typeof o.text === "string");
check("run_json_tool_calls", Array.isArray(o.tool_calls));
check("run_json_finish", ["stop", "length", "tool_calls"].includes(o.finish_reason), o.finish_reason);
check("run_json_usage", o.usage && o.usage.prompt_tokens === promptIds.length && o.usage.completion_tokens >= 1 && o.usage.completion_tokens <= 8, JSON.stringify(o.usage));
const t = o.timings || {};
check("run_json_timings", ["load_ms", "ttft_ms", "prefill_tok_s", "decode_tok_s"].every((k) => typeof t[k] === "number" && t[k] >= 0) && t.load_ms > 0 && t.ttft_ms > 0, JSON.stringify(t));
// same seed, same answer
const j2 = run(["run", "-m", model, "-p", "hi", "-n", "8", "--json", "--seed", "1"]);
check("run_seed_reproducible", j2.status === 0 && JSON.parse(j2.out).text === o.text);

// --- streaming output == the --json text (greedy), and --stop cuts it
const g = run(["run", "-m", model, "-p", "Tell me a story", "-n", "24", "--temperature", "0", "--json"]);
const full = JSON.parse(g.out).text;
const s = run(["run", "-m", model, "-p", "Tell me a story", "-n", "24", "--temperature", "0"]);
check("run_stream_matches_json", s.status === 0 && s.out === (full.endsWith("\n") || full === "" ? full : full + "\n"), `\n  stream ${JSON.stringify(s.out)}\n  json   ${JSON.stringify(full)}`);
const chars = [...full];
if (chars.length >= 6) {
  // a stop string that starts inside the answer and spans several characters (likely several tokens)
  let at = Math.floor(chars.length / 2), stop = chars.slice(at, at + 3).join("");
  const cut = full.indexOf(stop);
  const r = run(["run", "-m", model, "-p", "Tell me a story", "-n", "24", "--temperature", "0", "--json", "--stop", stop, "--stop", "zq-never-appears-qz"]);
  check("run_stop_exit", r.status === 0, r.err);
  check("run_stop_text", JSON.parse(r.out || "{}").text === full.slice(0, cut), `stop ${JSON.stringify(stop)} got ${r.out}`);
  check("run_stop_finish", JSON.parse(r.out || "{}").finish_reason === "stop");
} else check("run_answer_long_enough", false, JSON.stringify(full));
check("run_max_tokens_finish", JSON.parse(g.out).finish_reason === "length" || JSON.parse(g.out).usage.completion_tokens < 24);

// --- prompt from stdin, system message, raw
const st = run(["run", "-m", model, "-p", "-", "-s", "Be brief.", "-n", "4", "--json", "--seed", "3"], "hello from stdin");
const stPrompt = JSON.parse(run(["apply-template", "-m", model, "--ids"], JSON.stringify({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hello from stdin" }], add_generation_prompt: true })).out);
check("run_stdin_system", st.status === 0 && JSON.parse(st.out).usage.prompt_tokens === stPrompt.length, st.err + st.out);
const raw = run(["run", "-m", model, "-p", "plain text", "--raw", "-n", "2", "--json"]);
check("run_raw", raw.status === 0 && JSON.parse(raw.out).usage.prompt_tokens === (await tok.encode("plain text", null, { addSpecialTokens: false })).getIds().length, raw.err + raw.out);

// --- --tools: the tool definitions go into the prompt as apply-template renders them
const toolsFile = path.join(path.dirname(model), "run_e2e_tools.json");
writeFileSync(toolsFile, JSON.stringify(requests[2].tools));
const tl = run(["run", "-m", model, "-p", "Weather in Paris?", "--tools", toolsFile, "-n", "2", "--json"]);
const tlIds = JSON.parse(run(["apply-template", "-m", model, "--ids"], JSON.stringify(requests[2])).out);
check("run_tools", tl.status === 0 && JSON.parse(tl.out).usage.prompt_tokens === tlIds.length, tl.err + tl.out);
writeFileSync(toolsFile, "{\"not\": \"a list\"}");
const tb = run(["run", "-m", model, "-p", "x", "--tools", toolsFile]);
check("run_tools_not_a_list", tb.status === 1 && /expected a JSON array/.test(tb.err), tb.err);

// --- chat from a pipe: no prompts, two turns (one multi-line), /save, end of input → 0
const saveFile = path.join(path.dirname(model), "run_e2e_chat.json");
const ch = run(["chat", "-m", model, "-n", "4", "--seed", "2", "-s", "Be brief."], `hi\n"""\nline one\nline two\n"""\n/save ${saveFile}\n`);
check("chat_pipe_exit", ch.status === 0, ch.err);
check("chat_pipe_stats", (ch.err.match(/tokens\/s, first token after/g) || []).length === 2, ch.err);
let saved = [];
try { saved = JSON.parse(readFileSync(saveFile, "utf8")).messages; } catch (e) { /* checked below */ }
check("chat_pipe_save", saved.length === 5 && saved[0].role === "system" && saved[1].content === "hi" &&
  saved[3].content === "line one\nline two" && saved[4].role === "assistant" && ch.out.startsWith(saved[2].content),
  JSON.stringify(saved));

// --- errors
const e1 = run(["run", "-m", "/nonexistent/model", "-p", "hi"]);
check("missing_model", e1.status === 1 && /^onnxllm run: \/nonexistent\/model: model folder not found/.test(e1.err), e1.err);
const e2 = run(["run", "-m", model, "-p", "hi", "--top-k", "x"]);
check("bad_value", e2.status === 2 && /--top-k: 'x' is not a count/.test(e2.err), e2.err);
const e3 = run(["run", "-m", model, "-p", "hi", "--frobnicate"]);
check("bad_option", e3.status === 2 && /unrecognized option '--frobnicate'/.test(e3.err), e3.err);
const e6 = run(["run", "-m", model, "-p", "hi", "--ep", "tpu"]);
check("bad_ep", e6.status === 2 && /--ep: 'tpu' is not cpu or cuda/.test(e6.err), e6.err);
const e4 = run(["run", "-m", model]);
check("missing_prompt", e4.status === 2 && /missing -p PROMPT/.test(e4.err), e4.err);
const e5 = run(["run", "-m", path.join(here, "../chat/models/phi4"), "-p", "hi"]);
check("folder_without_model", e5.status === 1 && /^onnxllm run: .*tokenizer\.json/.test(e5.err), e5.err);
for (const cmd of ["run", "chat", "bench", "apply-template"]) {
  const h = run([cmd, "--help"]);
  check(`help_${cmd}`, h.status === 0 && h.out.startsWith(`usage: onnxllm ${cmd}`) && /exit codes/.test(h.out));
}

// --- bench --json
const b = run(["bench", "-m", model, "-p", "16", "-n", "8", "--json"]);
check("bench_exit", b.status === 0, b.err);
let bo = {};
try { bo = JSON.parse(b.out); } catch { check("bench_json_parses", false, b.out); }
check("bench_fields", bo.ep === "cpu" && bo.prompt_tokens === 16 && bo.gen_tokens === 8 && ["load_ms", "ttft_ms", "prefill_tok_s", "decode_tok_s", "peak_rss_mib"].every((k) => bo[k] > 0), b.out);
const bt = run(["bench", "-m", model, "-p", "8", "-n", "4"]);
check("bench_table", bt.status === 0 && /prefill .* tokens\/s/.test(bt.out) && /peak RSS/.test(bt.out), bt.out + bt.err);
const be = run(["bench", "-m", model, "-n", "0"]);
check("bench_bad_n", be.status === 2, be.err);

console.log(`cli e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
