#!/usr/bin/env bash
# test_cli.sh ONNXLLM REF_DIR — `onnxllm tokenize` end to end against HF's ids
# (REF_DIR from gen_ref.sh): --jsonl encode, --add-special, --decode, --skip-special,
# bad input lines (line number, exit 1) and usage errors (exit 2).
set -u
BIN=$1
REF=$2
TOK=$REF/phi4-tokenizer/tokenizer.json
fail=0
check() { if [ "$2" != "$3" ]; then echo "FAIL $1: got [$2] expected [$3]"; fail=1; else echo "ok   $1"; fi; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# 200 corpus lines: ids must equal HF's (text and ids from the expected file)
node -e '
const fs = require("fs");
const L = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).slice(0, 200).map(JSON.parse);
fs.writeFileSync(process.argv[2], L.map(o => JSON.stringify(Buffer.from(o.text, "hex").toString("utf8"))).join("\n") + "\n");
fs.writeFileSync(process.argv[3], L.map(o => JSON.stringify(o.ids)).join("\n") + "\n");
fs.writeFileSync(process.argv[4], L.map(o => JSON.stringify(Buffer.from(o.dec, "hex").toString("utf8"))).join("\n") + "\n");
' "$REF/phi4.jsonl" "$T/in.jsonl" "$T/ids.jsonl" "$T/dec.jsonl"
"$BIN" tokenize --tokenizer "$TOK" --jsonl < "$T/in.jsonl" > "$T/out.jsonl"
check "encode 200 lines exit" "$?" 0
check "encode 200 lines == HF" "$(cmp -s "$T/out.jsonl" "$T/ids.jsonl" && echo same)" same
"$BIN" tokenize --tokenizer "$TOK" --jsonl --decode < "$T/ids.jsonl" > "$T/dec_out.jsonl"
node -e '
const fs = require("fs");
const a = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
const b = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map(JSON.parse);
process.exit(a.length === b.length && a.every((x, i) => x === b[i]) ? 0 : 1);' "$T/dec_out.jsonl" "$T/dec.jsonl"
check "decode 200 lines == HF" "$?" 0

check "add-special (llama2 BOS)" "$(echo '"Hello"' | "$BIN" tokenize --tokenizer "$(cat "$REF/llama2.path")" --jsonl --add-special)" "[1,22557]"
check "no add-special" "$(echo '"Hello"' | "$BIN" tokenize --tokenizer "$(cat "$REF/llama2.path")" --jsonl)" "[22557]"
check "special parsed" "$(echo '"<|user|>Hi<|end|>"' | "$BIN" tokenize --tokenizer "$TOK" --jsonl)" "[200021,12194,200020]"
check "decode" "$(echo '[200021,12194,200020,200050]' | "$BIN" tokenize --tokenizer "$TOK" --jsonl --decode)" '"<|user|>Hi<|end|>"'
check "decode skip-special" "$(echo '[200021,12194,200020,200025]' | "$BIN" tokenize --tokenizer "$TOK" --jsonl --decode --skip-special)" '"Hi<|tool_call|>"'
check "escapes round trip" "$(printf '%s\n' '"a\u0000b\n\"\\\t\ud83d\ude00"' | "$BIN" tokenize --tokenizer "$TOK" --jsonl | "$BIN" tokenize --tokenizer "$TOK" --jsonl --decode)" '"a\u0000b\n\"\\\t😀"'

printf '"ok"\nnot json\n' | "$BIN" tokenize --tokenizer "$TOK" --jsonl > "$T/o" 2> "$T/e"
check "bad line exit" "$?" 1
check "bad line message" "$(grep -c 'stdin line 2' "$T/e")" 1
check "good line before it printed" "$(cat "$T/o")" "[525]"
printf '[1,2]\n[1,"x"]\n' | "$BIN" tokenize --tokenizer "$TOK" --jsonl --decode > /dev/null 2> "$T/e"
check "bad decode line exit" "$?" 1
check "bad decode line message" "$(grep -c 'stdin line 2' "$T/e")" 1
"$BIN" tokenize --jsonl < /dev/null 2> "$T/e"
check "missing --tokenizer exit" "$?" 2
"$BIN" tokenize --tokenizer "$TOK" --bogus < /dev/null 2> /dev/null
check "unknown option exit" "$?" 2
"$BIN" tokenize --tokenizer /nonexistent.json --jsonl < /dev/null 2> "$T/e"
check "missing file exit" "$?" 1
check "missing file message" "$(grep -c '/nonexistent.json' "$T/e")" 1
"$BIN" tokenize --help > /dev/null
check "help exit" "$?" 0
check "raw text mode" "$("$BIN" tokenize --tokenizer "$TOK" --text 'Hello world')" "[13225,2375]"
exit $fail
