#!/usr/bin/env bash
# usability.sh ONNXLLM SOURCE_DIR DEMO_MODEL — what a first-time user trips over (issue 13),
# on the demo model (Phi-4-mini tokenizer and template, random weights):
#   1  make run with a MODEL that does not exist: an error, no download, no demo fallback
#   2  a tokenizer that does not fit the model: refused at load (run, chat, serve) and by
#      build-model, exit 1, with a message naming both sizes
#   8  genai_config's "search" gives run/chat/generate their defaults; flags override;
#      search.max_length is the default KV capacity; --ignore-eos
#   9  chat past --max-length: the oldest exchanges are dropped (system message kept),
#      it says so, every turn is answered; an answer cut by the capacity is reported
#   10 exit codes: 2 only for the command line, 1 for everything else
#   11 smaller: every command's --help has the exit codes; generate prints ids without
#      --print-ids; no empty line before an error; "[1 token" (no "1 tokens", no
#      "0.0 tokens/s"); /save into a missing folder says why
set -u
BIN=$1 SRC=$2 DEMO=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && [ -f "$2" ] && head -c 1500 "$2" && echo; }
# expect NAME WANT_RC CMD... : runs CMD (stdout $T/out, stderr $T/err) and checks its exit code
expect() {
  local name=$1 want=$2
  shift 2
  "$@" >"$T/out" 2>"$T/err" </dev/null
  local rc=$?
  if [ "$rc" = "$want" ]; then ok; else fail "$name: exit $rc, want $want" "$T/err"; fi
}
has() { grep -q -- "$2" "$T/$1" && ok || fail "$3: $1 lacks '$2'" "$T/$1"; }
json() { node -e "const o=JSON.parse(require('fs').readFileSync('$T/out','utf8')); process.stdout.write(String($1))"; }

# ---- 1: make run MODEL=<missing> -------------------------------------------------------
(cd "$SRC" && MODEL="$T/no-such-model" HF_HUB_OFFLINE=1 DEMO="$T/demo-fallback" bash scripts/run.sh "$BIN") \
  >"$T/out" 2>"$T/err" </dev/null
rc=$?
[ $rc = 1 ] && ok || fail "run.sh MODEL=<missing>: exit $rc, want 1" "$T/err"
has err "no-such-model: no such folder" "run.sh names the missing folder"
grep -qi "download\|pull" "$T/err" && fail "run.sh MODEL=<missing> tried a download" "$T/err" || ok
[ ! -e "$T/no-such-model" ] && [ ! -e "$T/no-such-model.partial" ] && [ ! -e "$T/demo-fallback" ] && ok ||
  fail "run.sh MODEL=<missing> created a folder or fell back to the demo model"
mkdir -p "$T/not-a-model"
(cd "$SRC" && MODEL="$T/not-a-model" bash scripts/run.sh "$BIN") >"$T/out" 2>"$T/err" </dev/null
[ $? = 1 ] && ok || fail "run.sh MODEL=<folder without genai_config.json>: want exit 1" "$T/err"
# a given, valid MODEL chats (stdin at its end: the chat ends at once, exit 0)
(cd "$SRC" && MODEL="$DEMO" bash scripts/run.sh "$BIN") >"$T/out" 2>"$T/err" </dev/null
[ $? = 0 ] && ok || fail "run.sh MODEL=<demo> exits 0 at end of input" "$T/err"

# ---- 2: a tokenizer of another model ---------------------------------------------------
"$BIN" build-model --preset tiny-1layer --seed 1 -o "$T/tiny" -q
cp "$DEMO/tokenizer.json" "$DEMO/tokenizer_config.json" "$T/tiny/"
V=$(node -e "process.stdout.write(String(require('$T/tiny/genai_config.json').model.vocab_size))")
expect "run with a tokenizer bigger than the model" 1 "$BIN" run -m "$T/tiny" -p hi -n 2
has err "does not belong to this model" "tokenizer mismatch message"
has err "vocabulary has $V entries" "tokenizer mismatch names the model's vocabulary"
expect "chat with a tokenizer bigger than the model" 1 "$BIN" chat -m "$T/tiny" -n 2
has err "does not belong to this model" "chat: tokenizer mismatch message"
grep -q "conversation" "$T/err" && fail "chat blames the conversation" "$T/err" || ok
expect "serve with a tokenizer bigger than the model" 1 timeout 120 "$BIN" serve -m "$T/tiny" --port 0
has err "does not belong to this model" "serve: tokenizer mismatch message"
expect "build-model with a tokenizer bigger than the preset" 1 \
  "$BIN" build-model --preset tiny-1layer -o "$T/tiny2" --tokenizer-dir "$DEMO" -q
has err "does not belong to this model" "build-model: tokenizer mismatch message"
[ ! -e "$T/tiny2" ] && ok || fail "build-model wrote a model despite the tokenizer mismatch"

# ---- 8: the model's own defaults ------------------------------------------------------
cp -r "$DEMO" "$T/d"
expect "run --json (do_sample false)" 0 "$BIN" run -m "$T/d" -p "Tell me a story" -n 12 --json --seed 1
[ "$(json o.sampling.temperature)" = 0 ] && ok || fail "do_sample false: greedy by default" "$T/out"
a=$(json o.text)
expect "run --json seed 2 (do_sample false)" 0 "$BIN" run -m "$T/d" -p "Tell me a story" -n 12 --json --seed 2
[ "$(json o.text)" = "$a" ] && ok || fail "greedy: the seed does not matter" "$T/out"
node -e "
const fs=require('fs'), p='$T/d/genai_config.json', c=JSON.parse(fs.readFileSync(p));
Object.assign(c.search, {do_sample: true, temperature: 1.7, top_k: 0, top_p: 1.0, repetition_penalty: 1.1, max_length: 96});
fs.writeFileSync(p, JSON.stringify(c, null, 2));"
expect "run --json (do_sample true)" 0 "$BIN" run -m "$T/d" -p "Tell me a story" -n 12 --json --seed 1
[ "$(json "o.sampling.temperature.toFixed(2)")" = 1.70 ] && ok || fail "search.temperature is the default" "$T/out"
[ "$(json "o.sampling.repetition_penalty.toFixed(2)")" = 1.10 ] && ok || fail "search.repetition_penalty is the default" "$T/out"
[ "$(json o.max_length)" = 96 ] && ok || fail "search.max_length is the default KV capacity" "$T/out"
s1=$(json o.text)
"$BIN" run -m "$T/d" -p "Tell me a story" -n 12 --json --seed 2 >"$T/out" 2>"$T/err"
[ "$(json o.text)" != "$s1" ] && ok || fail "do_sample true: different seeds, different answers" "$T/out"
expect "run --temperature 0 overrides do_sample" 0 "$BIN" run -m "$T/d" -p "Tell me a story" -n 12 --json --seed 3 --temperature 0
[ "$(json o.sampling.temperature)" = 0 ] && [ "$(json "o.sampling.repetition_penalty.toFixed(2)")" = 1.10 ] && ok ||
  fail "a flag overrides only its own value" "$T/out"
expect "run --max-length overrides search.max_length" 0 "$BIN" run -m "$T/d" -p hi -n 2 --json --max-length 200
[ "$(json o.max_length)" = 200 ] && ok || fail "--max-length overrides" "$T/out"
# a prompt longer than the capacity the config gives: a clear error, exit 1
long=$(printf 'word %.0s' $(seq 1 150))
expect "prompt longer than search.max_length" 1 "$BIN" run -m "$T/d" -p "$long" -n 2
has err "raise --max-length" "too-long prompt message"
[ -s "$T/out" ] && fail "an empty line before the error" "$T/out" || ok
# --ignore-eos: with the first greedy token made an eos id, generate stops after it;
# with --ignore-eos it goes on, and the ids match the unstopped run
cp -r "$DEMO" "$T/e"
"$BIN" generate -m "$T/e" --ids 1,2,3 -n 6 >"$T/out" 2>"$T/err"
first=$(cut -d, -f1 <"$T/out")
all=$(cat "$T/out")
node -e "
const fs=require('fs'), p='$T/e/genai_config.json', c=JSON.parse(fs.readFileSync(p));
c.model.eos_token_id = [$first]; fs.writeFileSync(p, JSON.stringify(c, null, 2));"
expect "generate stops at the eos id" 0 "$BIN" generate -m "$T/e" --ids 1,2,3 -n 6
[ "$(cat "$T/out")" = "$first" ] && ok || fail "stopped after the eos id" "$T/out"
expect "generate --ignore-eos" 0 "$BIN" generate -m "$T/e" --ids 1,2,3 -n 6 --ignore-eos
[ "$(cat "$T/out")" = "$all" ] && ok || fail "--ignore-eos gives the unstopped ids ($all)" "$T/out"
# one vocabulary: the old spellings are aliases
expect "generate --max-new/--repetition-penalty aliases" 0 "$BIN" generate -m "$DEMO" --ids 1,2,3 --max-new 3 --repetition-penalty 1.2
[ "$(tr -cd , <"$T/out" | wc -c)" = 2 ] && ok || fail "--max-new 3 gives 3 ids" "$T/out"
expect "run --repetition-penalty alias" 0 "$BIN" run -m "$DEMO" -p hi -n 2 --repetition-penalty 1.2 --json
[ "$(json "o.sampling.repetition_penalty.toFixed(2)")" = 1.20 ] && ok || fail "run --repetition-penalty" "$T/out"
expect "chat --max-new alias" 0 "$BIN" chat -m "$DEMO" --max-new 2 --presence-penalty 0.5

# ---- 9: chat past --max-length ---------------------------------------------------------
printf 'Tell me about the sea and the sky and the land.\nAnd the mountains, the rivers and the lakes?\nWhat about the forests and the deserts and the hills?\nAnd the cities, the roads and the bridges?\n/save %s\n' \
  "$T/conv.json" | "$BIN" chat -m "$DEMO" -s "Be brief." --max-length 120 -n 30 --ignore-eos >"$T/out" 2>"$T/err"
[ $? = 0 ] && ok || fail "chat past --max-length: exit 0" "$T/err"
[ "$(grep -c 'first token after' "$T/err")" = 4 ] && ok || fail "every turn answered" "$T/err"
has err "dropped the 2 oldest messages, kept the system message" "chat says what it dropped"
node -e "
const m=JSON.parse(require('fs').readFileSync('$T/conv.json','utf8')).messages;
process.exit(m[0].role==='system' && m[0].content==='Be brief.' && m.length < 9 && m[m.length-2].content.startsWith('And the cities') ? 0 : 1)" &&
  ok || fail "the system message and the latest turn are kept" "$T/conv.json"
# later turns reuse the cached system prefix: fewer prompt tokens computed than rendered
printf 'hello there\nhow are you today?\n' | "$BIN" chat -m "$DEMO" --max-length 64 -n 200 --ignore-eos >"$T/out" 2>"$T/err"
[ $? = 0 ] && ok || fail "chat with answers cut by --max-length: exit 0" "$T/err"
has err "answer cut: the conversation reached --max-length 64" "a cut answer is reported"
[ "$(grep -c 'first token after' "$T/err")" = 2 ] && ok || fail "the turn after a cut answer is answered" "$T/err"

# ---- 10: exit codes ---------------------------------------------------------------------
expect "--tools file missing" 1 "$BIN" run -m "$DEMO" -p hi --tools "$T/no-tools.json"
has err "no-tools.json" "missing --tools file named"
echo '{"a":' >"$T/bad-tools.json"
expect "--tools file malformed" 1 "$BIN" run -m "$DEMO" -p hi --tools "$T/bad-tools.json"
expect "prompt too long for --max-length" 1 "$BIN" run -m "$DEMO" -p "$long" --max-length 32
expect "generate: more ids than --max-length" 1 "$BIN" generate -m "$DEMO" --ids 1,2,3,4,5 --max-length 4
expect "generate: an id the model does not have" 1 "$BIN" generate -m "$DEMO" --ids 1,999999999
expect "run: missing model folder" 1 "$BIN" run -m "$T/nope" -p hi
expect "run: unknown option" 2 "$BIN" run -m "$DEMO" -p hi --bogus
expect "run: bad value" 2 "$BIN" run -m "$DEMO" -p hi --temperature hot
expect "run: --greedy with --temperature" 2 "$BIN" run -m "$DEMO" -p hi --greedy --temperature 1
expect "generate: --stop" 2 "$BIN" generate -m "$DEMO" --ids 1 --stop x
expect "build-model: unknown preset" 2 "$BIN" build-model --preset nope -o "$T/x"
expect "inspect: unknown option" 2 "$BIN" inspect --bogus "$DEMO"
expect "inspect: missing file" 1 "$BIN" inspect "$T/nope"
expect "convert: missing folder" 1 "$BIN" convert --from "$T/nope" -o "$T/x"
expect "quantize: missing folder" 1 "$BIN" quantize "$T/nope" "$T/x"
expect "tokenize: missing file" 1 "$BIN" tokenize --tokenizer "$T/nope.json" --text hi
expect "apply-template: missing folder" 1 "$BIN" apply-template -m "$T/nope"
expect "bench: missing folder" 1 "$BIN" bench -m "$T/nope"
expect "list: unreadable folder" 1 "$BIN" list "$T/nope"
expect "rm: not a pulled folder" 1 "$BIN" rm "$DEMO"
expect "unknown command" 2 "$BIN" frobnicate
expect "--version" 0 "$BIN" --version
has out "^onnxllm [0-9]" "--version prints the library's version"

# ---- 11: smaller things ----------------------------------------------------------------
for cmd in run chat generate bench tokenize apply-template pull list rm build-model convert quantize inspect; do
  "$BIN" $cmd --help >"$T/out" 2>&1
  if [ $? = 0 ] && grep -q "exit codes" "$T/out" && grep -q "^usage: onnxllm $cmd" "$T/out"; then ok; else
    fail "$cmd --help: usage line and exit codes" "$T/out"
  fi
done
expect "generate prints ids without --print-ids" 0 "$BIN" generate -m "$DEMO" --ids 1,2,3 -n 3
grep -Eq '^[0-9]+,[0-9]+,[0-9]+$' "$T/out" && ok || fail "generate's ids on stdout" "$T/out"
expect "generate --no-print-ids" 0 "$BIN" generate -m "$DEMO" --ids 1,2,3 -n 3 --no-print-ids
[ ! -s "$T/out" ] && ok || fail "--no-print-ids prints no ids" "$T/out"
printf 'hi\n/save %s/no/such/dir/c.json\n' "$T" | "$BIN" chat -m "$DEMO" -n 1 >"$T/out" 2>"$T/err"
has err "\[1 token, first token after" "one token: '1 token', no tokens/s"
grep -q "1 tokens\|0.0 tokens/s" "$T/err" && fail "'1 tokens' or '0.0 tokens/s'" "$T/err" || ok
has err "No such file or directory (its folder must exist)" "/save into a missing folder says why"
"$BIN" build-model --preset tiny-1layer -o "$T/bar" 2>"$T/err" >/dev/null
has err "build-model tiny-1layer -> $T/bar: \[" "build-model's progress bar has a label"

echo "usability: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
