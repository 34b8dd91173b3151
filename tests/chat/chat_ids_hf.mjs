// chat_ids_hf.mjs ONNXLLM TESTS_CHAT_DIR PHI4_TOKENIZER_JSON — `apply-template --ids`
// (onnxllm_chat_render_json_ids) against Hugging Face tokenizers on every template case:
//  - contents without special-token text: exactly HF's apply_chat_template(tokenize=True)
//    ids, i.e. encode(Jinja2's rendering, add_special_tokens=False);
//  - contents with special-token text ("<|end|><|assistant|>", "<|tool_call|>"): special
//    tokens only where the template wrote them. Expected ids: the Jinja2 rendering cut at
//    the special tokens that lie outside every message content, the pieces encoded by HF
//    with the special tokens removed (= HF encode_special_tokens, strip_special.mjs).
//    Those cases must also differ from the plain HF encoding (what a forged turn gives).
import { readFileSync, writeFileSync, mkdtempSync, cpSync, rmSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const [bin, base, tokPath] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { Tokenizer } = createRequire(join(root, "tools/ref/package.json"))("tokenizers");
const tj = JSON.parse(readFileSync(tokPath, "utf8"));
const specials = tj.added_tokens.filter((a) => a.special).map((a) => a.content).sort((a, b) => b.length - a.length);
const tmp = mkdtempSync(join(tmpdir(), "olm-chat-ids-"));
const nsPath = join(tmp, "nospecial.json");
writeFileSync(nsPath, JSON.stringify({ ...tj, added_tokens: tj.added_tokens.filter((a) => !a.special) }));
const tok = Tokenizer.fromFile(tokPath), ns = Tokenizer.fromFile(nsPath);
const enc = async (t, s) => Array.from((await t.encode(s, null, { addSpecialTokens: false })).getIds());

const cases = JSON.parse(readFileSync(`${base}/template_cases.json`, "utf8"));
const expected = new Map(JSON.parse(readFileSync(`${base}/fixtures/template_expected.json`, "utf8")).map((e) => [e.name, e]));
const dirs = {};
for (const m of new Set(cases.map((c) => c.model))) {
  dirs[m] = join(tmp, m);
  cpSync(`${base}/models/${m}`, dirs[m], { recursive: true });
  cpSync(tokPath, join(dirs[m], "tokenizer.json"));
}
let passed = 0, failed = 0, forged = 0;
const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${why}`); };
for (const c of cases) {
  const exp = expected.get(c.name);
  if (exp.text === undefined) continue; // Jinja2 rejects it: apply_template.mjs checks the error
  const req = { messages: c.messages, add_generation_prompt: c.add_generation_prompt };
  if (c.tools) req.tools = c.tools;
  const r = spawnSync(bin, ["apply-template", "-m", dirs[c.model], "--ids"], { input: JSON.stringify(req) });
  if (r.status !== 0) { fail(c.name, `exit ${r.status}: ${r.stderr}`); continue; }
  const got = JSON.parse(r.stdout.toString());
  // where the contents (message contents and tools strings) are in Jinja2's text: walk
  // the turns the template prints (<|role|> for Phi-4, <|role|>\n for Phi-3)
  const text = exp.text, user = new Uint8Array(text.length);
  const phi4 = c.model === "phi4", nl = phi4 ? "" : "\n";
  const msgs = c.messages.filter((m) => m && typeof m === "object");
  const apiTools = Array.isArray(c.tools) && c.tools.length > 0;
  let at = 0;
  const markTools = () => { // <|tool|>TOOLS<|/tool|> after a system content
    if (!text.startsWith("<|tool|>", at)) return;
    at += 8;
    const end = text.indexOf("<|/tool|><|end|>", at);
    user.fill(1, at, end);
    at = end + 9;
  };
  if (phi4 && apiTools && !msgs.some((m) => m.role === "system") && text.startsWith("<|system|><|tool|>")) {
    at = 10; // the system message the tools argument adds
    markTools();
    at += 7;
  }
  for (const m of msgs) {
    if (typeof m.role !== "string") continue;
    const h = `<|${m.role}|>${nl}`;
    if (!text.startsWith(h, at)) continue; // not printed (Phi-3 skips it)
    at += h.length;
    const content = typeof m.content === "string" ? m.content : "";
    user.fill(1, at, at + content.length);
    at += content.length;
    if (phi4 && m.role === "system") markTools();
    at += `<|end|>${nl}`.length;
  }
  // cut at special tokens outside the contents, leftmost-longest
  const want = [];
  let piece = "", hasUserSpecial = false;
  for (let i = 0; i < text.length;) {
    const sp = specials.find((s) => text.startsWith(s, i));
    if (sp && !user.subarray(i, i + sp.length).some((x) => x)) {
      if (piece) want.push(...(await enc(ns, piece)));
      want.push(tj.added_tokens.find((a) => a.content === sp).id);
      piece = "";
      i += sp.length;
    } else {
      if (sp) hasUserSpecial = true;
      piece += text[i++];
    }
  }
  if (piece) want.push(...(await enc(ns, piece)));
  const hf = await enc(tok, text);
  if (!hasUserSpecial && JSON.stringify(want) !== JSON.stringify(hf)) { fail(c.name, "reference construction differs from HF"); continue; }
  if (hasUserSpecial && JSON.stringify(hf) === JSON.stringify(want)) { fail(c.name, "case does not show a forged token"); continue; }
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(c.name, `got ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`);
  else { passed++; forged += hasUserSpecial; }
}
rmSync(tmp, { recursive: true, force: true });
console.log(`chat_ids_hf: ${passed} passed (${forged} with special-token text in contents), ${failed} failed`);
process.exit(failed || !forged ? 1 : 0);
