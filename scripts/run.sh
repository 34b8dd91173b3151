#!/usr/bin/env bash
# `make run`: chat with a model.
#   MODEL set (make run MODEL=DIR): that folder, which must exist — a mistyped path is
#     an error, never a download into it.
#   MODEL unset: the real Phi-4-mini in models/phi-4-mini-cpu-int4, downloaded there
#     (onnxllm pull) when absent; when the download is impossible (offline), a small
#     demo model of random weights with the real tokenizer (DEMO, built once).
set -euo pipefail
BIN=${1:-build/onnxllm}
DEFAULT_MODEL=models/phi-4-mini-cpu-int4
DEMO=${DEMO:-models/demo}
if [ -n "${MODEL:-}" ]; then
  if [ ! -d "$MODEL" ]; then
    echo "run: MODEL=$MODEL: no such folder (give a model folder, or leave MODEL unset for Phi-4-mini)" >&2
    exit 1
  fi
  if [ ! -f "$MODEL/genai_config.json" ]; then
    echo "run: MODEL=$MODEL: not a model folder (no genai_config.json)" >&2
    exit 1
  fi
else
  MODEL=$DEFAULT_MODEL
  if [ ! -f "$MODEL/genai_config.json" ]; then
    echo "run: no model at $MODEL; downloading microsoft/Phi-4-mini-instruct-onnx (onnxllm pull, ~4.9 GB)" >&2
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
        tok=$(bash scripts/make-phi4-tokenizer.sh build/phi4-tokenizer)
        "$BIN" build-model --preset demo --seed 1 -o "$MODEL" --tokenizer-dir "$(dirname "$tok")"
      fi
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
# The chat takes the terminal's Ctrl-C for itself (it stops an answer; at the prompt it
# ends the chat), so make never sees an interrupt: leaving that way is a normal end.
rc=0
"$BIN" chat -m "$MODEL" || rc=$?
[ "$rc" -eq 130 ] && rc=0
exit "$rc"
