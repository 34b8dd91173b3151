#!/usr/bin/env bash
# gen_ref.sh OUT_DIR [MAX_LINES] — reference data for the tokenizer tests, produced by HF
# tokenizers (npm `tokenizers`, tools/ref): the corpus, the derived Phi-4-mini
# tokenizer, and OUT_DIR/NAME.jsonl expected outputs for 6 tokenizer.json files
# and for the synthetic files of tools/ref/tokenizer_synth.mjs (NAME synth_*).
# Skips work whose outputs are newer than the generator scripts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$1
MAX=${2:-}   # sanitizer builds test the first MAX lines only: generate only those
mkdir -p "$OUT"
REF=$ROOT/tools/ref
L=$REF/node_modules/@lenml
bash "$ROOT/scripts/make-phi4-tokenizer.sh" "$OUT/phi4-tokenizer" >/dev/null
CORPUS=$OUT/corpus.jsonl
[ "$CORPUS" -nt "$REF/tokenizer_corpus.mjs" ] || node "$REF/tokenizer_corpus.mjs" "$CORPUS"
declare -A FILES=(
  [phi4]=$OUT/phi4-tokenizer/tokenizer.json [gpt4o]=$L/tokenizer-gpt4o/models/tokenizer.json
  [llama3]=$L/tokenizer-llama3/models/tokenizer.json [qwen3]=$L/tokenizer-qwen3/models/tokenizer.json
  [gemma3]=$L/tokenizer-gemma3/models/tokenizer.json [llama2]=$L/tokenizer-llama2/models/tokenizer.json)
# synthetic files for the components the published ones do not use (every 4th line)
SYN=$OUT/synth
mkdir -p "$SYN"
if ! [ "$SYN/synth.list" -nt "$REF/tokenizer_synth.mjs" ]; then node "$REF/tokenizer_synth.mjs" "$SYN"; fi
[ "$SYN/corpus.jsonl" -nt "$CORPUS" ] || awk 'NR % 4 == 1' "$CORPUS" > "$SYN/corpus.jsonl"
for s in $(cat "$SYN/synth.list"); do
  FILES[synth_$s]=$SYN/synth_$s.json
done
pids=()
for name in phi4 gpt4o llama3 qwen3 gemma3 llama2 $(sed 's/^/synth_/' "$SYN/synth.list"); do
  f=${FILES[$name]}
  exp=$OUT/$name.jsonl
  if [ "$exp" -nt "$CORPUS" ] && [ "$exp" -nt "$REF/tokenizer_expected.mjs" ] && [ "$exp" -nt "$f" ]; then continue; fi
  corpus=$CORPUS
  extra=()
  [ -n "$MAX" ] && extra+=(--max-lines="$MAX")
  case $name in synth_*) corpus=$SYN/corpus.jsonl; extra+=(--stream-all) ;; esac
  ns=()
  if [ $name = phi4 ] || [ $name = gpt4o ]; then # special tokens are in model.vocab: strippable
    node "$REF/strip_special.mjs" "$f" "$OUT/$name.nospecial.json"
    ns=("$OUT/$name.nospecial.json")
  fi
  node "$REF/tokenizer_expected.mjs" "$f" "$corpus" "$exp.tmp" "${ns[@]}" "${extra[@]}" 2>/dev/null && mv "$exp.tmp" "$exp" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
for name in phi4 gpt4o llama3 qwen3 gemma3 llama2 $(sed 's/^/synth_/' "$SYN/synth.list"); do
  [ -s "$OUT/$name.jsonl" ] || { echo "gen_ref: $OUT/$name.jsonl was not produced" >&2; exit 1; }
  # the path of each tokenizer.json, for the tests
  echo "${FILES[$name]}" > "$OUT/$name.path"
done
