#!/usr/bin/env bash
# cli.sh ONNXLLM TOKENIZER_JSON DEMO_MODEL_DIR — the grammar's command-line surface:
#  - schema-test: one output line per input line with exactly the documented keys
#    (compiled, error, accepted, rejected_at, compile_us, mask_us_p50, mask_us_max)
#  - run --schema with an unsupported keyword: exit 2, the message names the keyword
#  - run --tool-choice without --tools: exit 2
#  - run --tools --tool-choice required --json: the answer is a tool call whose
#    arguments are valid (checked with ajv in node)
set -euo pipefail
BIN=$1 TOK=$2 MODEL=$3
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$T/in.jsonl" <<'J'
{"schema": {"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}, "text": "{\"a\": 12}"}
{"schema": {"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}, "text": "{\"a\": \"x\"}"}
{"schema": {"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}, "text": "{\"a\": 1"}
{"schema": {"type": "array", "contains": {"type": "integer"}}, "text": "[1]"}
{"schema": {"type":"string","format":"date"}}
not json
J
"$BIN" schema-test --tokenizer "$TOK" < "$T/in.jsonl" > "$T/out.jsonl"
node - "$T/out.jsonl" <<'JS'
const lines = require("fs").readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const keys = ["compiled", "error", "accepted", "rejected_at", "compile_us", "mask_us_p50", "mask_us_max"];
const want = [
  { compiled: true, accepted: true, rejected_at: null },
  { compiled: true, accepted: false, rejected_at: 5 },   /* the token " \"" that starts the string value */
  { compiled: true, accepted: false, rejected_at: 7 },   /* all tokens allowed, not complete: the text's length */
  { compiled: false, accepted: false, rejected_at: null },
  { compiled: true, accepted: false, rejected_at: null },
  { compiled: false, accepted: false, rejected_at: null },
];
if (lines.length !== want.length) throw new Error(`expected ${want.length} lines, got ${lines.length}`);
lines.forEach((o, i) => {
  if (JSON.stringify(Object.keys(o)) !== JSON.stringify(keys)) throw new Error(`line ${i}: keys ${Object.keys(o)}`);
  for (const [k, v] of Object.entries(want[i])) if (o[k] !== v) throw new Error(`line ${i}: ${k} = ${JSON.stringify(o[k])}, expected ${v}`);
  if (typeof o.error !== "string" || (o.compiled && o.error !== "") || (!o.compiled && !o.error)) throw new Error(`line ${i}: error ${o.error}`);
  for (const k of ["compile_us", "mask_us_p50", "mask_us_max"]) if (!(Number.isInteger(o[k]) && o[k] >= 0)) throw new Error(`line ${i}: ${k}`);
});
if (!/"contains"/.test(lines[3].error)) throw new Error("the error does not name the keyword: " + lines[3].error);
console.log("schema-test format ok");
JS

echo '{"type":"object","properties":{"x":{"if":{}}}}' > "$T/bad.json"
set +e
"$BIN" run -m "$MODEL" -p hi --schema "$T/bad.json" -n 4 2> "$T/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "run --schema with an unsupported keyword: exit $rc (want 2)"
grep -q '"if"' "$T/err" || fail "the message does not name the keyword: $(cat "$T/err")"
set +e
"$BIN" run -m "$MODEL" -p hi --tool-choice required -n 4 2> "$T/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "--tool-choice without --tools: exit $rc (want 2)"

cat > "$T/tools.json" <<'J'
[{"type":"function","function":{"name":"set_alarm","parameters":{"type":"object","properties":{"hour":{"type":"integer","minimum":0,"maximum":23},"label":{"type":"string","maxLength":10}},"required":["hour"],"additionalProperties":false}}}]
J
"$BIN" run -m "$MODEL" -p "Wake me at 7" --tools "$T/tools.json" --tool-choice required --no-parallel-tool-calls \
  --json -n 60 --seed 5 > "$T/run.json"
node - "$T/run.json" "$HERE/../../tools/jsonschema/node_modules" <<'JS'
const fs = require("fs");
const o = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const Ajv = require(process.argv[3] + "/ajv").default;
const schema = { type: "object", properties: { hour: { type: "integer", minimum: 0, maximum: 23 }, label: { type: "string", maxLength: 10 } }, required: ["hour"], additionalProperties: false };
if (o.finish_reason === "length") { console.log("cut by max tokens (not judged)"); process.exit(0); }
if (o.finish_reason !== "tool_calls" || o.tool_calls.length !== 1) throw new Error("not one tool call: " + JSON.stringify(o));
const c = o.tool_calls[0].function;
if (c.name !== "set_alarm") throw new Error("name " + c.name);
const v = new Ajv().compile(schema);
if (!v(JSON.parse(c.arguments))) throw new Error("arguments invalid: " + c.arguments);
console.log("run --tool-choice required ok: " + c.arguments);
JS
echo "grammar cli: ok"
