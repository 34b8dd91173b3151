#!/usr/bin/env bash
# bench-tokenizer.sh [BUILD_DIR] [SECONDS] — tokenizer speed and memory, ours vs HF
# tokenizers (npm `tokenizers`, the Rust library through Node), one thread each
# (RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false), same inputs, one after the
# other in this run: load time of tokenizer.json, resident memory of the loaded
# tokenizer, encode throughput on the test corpus (one call per line) and on an
# 8 MB English + code text (one call per ~4 KB chunk).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECS=${2:-3}
DATA=$BUILD/tokenizer-bench
mkdir -p "$DATA"
[ -x "$BUILD/bench/tokenizer/bench_tokenizer" ] || cmake --build "$BUILD" --target bench_tokenizer >/dev/null
bash scripts/make-phi4-tokenizer.sh "$DATA/phi4-tokenizer" >/dev/null
[ -f "$DATA/corpus.jsonl" ] || node tools/ref/tokenizer_corpus.mjs "$DATA/corpus.jsonl"
[ -f "$DATA/big.txt" ] || bash bench/tokenizer/make_bench_text.sh "$DATA/big.txt" 8
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
L=tools/ref/node_modules/@lenml
printf '%-7s | %-22s | %-22s | %-22s | %-16s | %-14s\n' tokenizer "load ms ours/HF" "corpus MB/s ours/HF" "8MB text MB/s ours/HF" "encode speedup" "RSS MB ours/HF"
for name in phi4 llama3 qwen3 gemma3 llama2; do
  case $name in
    phi4) f=$DATA/phi4-tokenizer/tokenizer.json ;;
    *) f=$L/tokenizer-$name/models/tokenizer.json ;;
  esac
  ours=$("$BUILD/bench/tokenizer/bench_tokenizer" "$f" "$DATA/corpus.jsonl" "$DATA/big.txt" "$SECS")
  hf=$(node bench/tokenizer/bench_hf.mjs "$f" "$DATA/corpus.jsonl" "$DATA/big.txt" "$SECS")
  echo "$ours" > "$DATA/$name.ours.json"
  echo "$hf" > "$DATA/$name.hf.json"
  node -e '
const o = JSON.parse(process.argv[1]), h = JSON.parse(process.argv[2]), n = process.argv[3];
const hc = Math.max(h.corpus_mb_s, h.corpus_batch_mb_s), hb = Math.max(h.big_mb_s, h.big_batch_mb_s);
if (o.corpus_tokens !== h.corpus_tokens || o.big_tokens !== h.big_tokens) console.log(`${n}: TOKEN COUNTS DIFFER`);
const f = (a, b) => `${a} / ${b}`.padEnd(22);
console.log(`${n.padEnd(7)} | ${f(o.load_ms_median, h.load_ms_median)} | ${f(o.corpus_mb_s, hc)} | ${f(o.big_mb_s, hb)} | ${(o.corpus_mb_s / hc).toFixed(1)}x / ${(o.big_mb_s / hb).toFixed(1)}x`.padEnd(101) + ` | ${o.rss_mb} / ${h.rss_mb}`);
' "$ours" "$hf" "$name"
done
echo "(HF MB/s: the better of encode per call and encodeBatch; raw JSON in $DATA/*.json)"
