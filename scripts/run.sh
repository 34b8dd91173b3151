#!/usr/bin/env bash
# `make run`: chat with the real Phi-4-mini when it is present (or can be pulled),
# otherwise with a small demo model of random weights and the real tokenizer.
set -euo pipefail
BIN=${1:-build/onnxllm}
MODEL=${MODEL:-models/phi-4-mini-cpu-int4}
DEMO=${DEMO:-models/demo}
if [ ! -f "$MODEL/genai_config.json" ]; then
  echo "run: no model at $MODEL; trying to download microsoft/Phi-4-mini-instruct-onnx (onnxllm pull)..." >&2
  rc=0
  "$BIN" pull -o "$MODEL" || rc=$?
  if [ "$rc" -eq 130 ]; then # Ctrl-C: stop here (the .partial folder resumes next time)
    echo "run: download interrupted; 'make run' again resumes it" >&2
    exit 130
  fi
  if [ "$rc" -ne 0 ]; then
    echo "run: download not possible; using the DEMO model (random weights: its answers are noise)" >&2
    MODEL=$DEMO
    if [ ! -f "$MODEL/genai_config.json" ]; then
      bash scripts/make-phi4-tokenizer.sh >/dev/null
      "$BIN" build-model --preset demo --seed 1 -o "$MODEL" --tokenizer-dir build/phi4-tokenizer
    fi
  fi
fi
if [ "$MODEL" = "$DEMO" ]; then
  cat >&2 <<'TXT'
==============================================================================
 DEMO MODEL — RANDOM WEIGHTS. Phi-4-mini's real tokenizer, vocabulary and chat
 template run end to end, but the answers are noise. For the real model:
   build/onnxllm pull -o models/phi-4-mini-cpu-int4   (needs huggingface.co)
==============================================================================
TXT
fi
exec "$BIN" chat -m "$MODEL"
