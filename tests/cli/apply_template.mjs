// apply_template.mjs — `onnxllm apply-template` end to end on every template case.
//   node tests/cli/apply_template.mjs ONNXLLM_BINARY tests/chat
// Pipes each case of tests/chat/template_cases.json as a request and compares stdout
// with the Jinja2 fixture (tests/chat/fixtures/template_expected.json); cases Jinja2
// rejects must exit 2 with one "onnxllm apply-template: ..." line on stderr.
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const [bin, base] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(`${base}/template_cases.json`, "utf8"));
const expected = new Map(JSON.parse(readFileSync(`${base}/fixtures/template_expected.json`, "utf8")).map((e) => [e.name, e]));
let passed = 0, failed = 0;
const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${why}`); };
for (const c of cases) {
  const req = { messages: c.messages, add_generation_prompt: c.add_generation_prompt };
  if (c.tools) req.tools = c.tools;
  const r = spawnSync(bin, ["apply-template", "-m", `${base}/models/${c.model}`], { input: JSON.stringify(req) });
  const exp = expected.get(c.name);
  const out = r.stdout.toString("utf8"), err = r.stderr.toString("utf8");
  if (exp.text !== undefined) {
    if (r.status !== 0) fail(c.name, `exit ${r.status}: ${err}`);
    else if (out !== exp.text) fail(c.name, `got ${JSON.stringify(out)}\n  want ${JSON.stringify(exp.text)}`);
    else passed++;
  } else {
    // a request the template rejects is bad input, not a bad command line: exit 1 (2 is
    // for the command line only)
    const want = 1;
    if (r.status !== want) fail(c.name, `exit ${r.status}, want ${want} (Jinja2: ${exp.error})`);
    else if (!/^onnxllm apply-template: .+\n$/.test(err)) fail(c.name, `stderr ${JSON.stringify(err)}`);
    else if (out !== "") fail(c.name, "printed something on error");
    else passed++;
  }
}
// bad requests and arguments
const run = (args, input) => spawnSync(bin, args, { input: input ?? "" });
const expectExit = (name, r, code, re) => {
  const err = r.stderr.toString("utf8");
  if (r.status !== code) fail(name, `exit ${r.status}, want ${code}: ${err}`);
  else if (re && !re.test(err)) fail(name, `stderr ${JSON.stringify(err)} does not match ${re}`);
  else passed++;
};
expectExit("malformed_json", run(["apply-template", "-m", `${base}/models/phi4`], '{"messages": ['), 2, /stdin: malformed JSON at line 1/);
expectExit("no_messages", run(["apply-template", "-m", `${base}/models/phi4`], '{"msgs": []}'), 2, /expected \{"messages"/);
expectExit("missing_model_dir", run(["apply-template", "-m", "/nonexistent/model"], "{}"), 1, /\/nonexistent\/model: cannot open model folder/);
expectExit("unsupported_template", run(["apply-template", "-m", `${base}/models/unknown`], "{}"), 1, /unsupported chat template/);
expectExit("no_model_option", run(["apply-template"]), 2, /missing -m MODEL_DIR/);
expectExit("bad_option", run(["apply-template", "--bogus"]), 2, /unrecognized option '--bogus'/);
const h = run(["apply-template", "--help"]);
if (h.status === 0 && /usage: onnxllm apply-template/.test(h.stdout.toString())) passed++; else fail("help", `exit ${h.status}`);
console.log(`apply-template: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
