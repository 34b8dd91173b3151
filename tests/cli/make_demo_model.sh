#!/usr/bin/env bash
# make_demo_model.sh ONNXLLM SOURCE_DIR OUT_DIR — the model the CLI end-to-end tests
# run: Phi-4-mini's tokenizer (scripts/make-phi4-tokenizer.sh) and chat template on
# the 4-layer random-weight `demo` body. Built once per build tree.
set -euo pipefail
BIN=$1 SRC=$2 OUT=$3
TOK=$(dirname "$OUT")/phi4-tokenizer
bash "$SRC/scripts/make-phi4-tokenizer.sh" "$TOK" >/dev/null
if [ ! -f "$OUT/.ok" ] || [ "$BIN" -nt "$OUT/.ok" ]; then
  rm -rf "$OUT"
  "$BIN" build-model --preset demo --seed 1 -o "$OUT" --tokenizer-dir "$TOK" >/dev/null
  touch "$OUT/.ok"
fi
