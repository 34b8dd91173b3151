#!/bin/sh
# cli_test.sh ONNXLLM — `onnxllm build-model` / `inspect`: outputs, determinism, and
# clear errors with the documented exit codes (2 usage, 1 failure).
set -u
BIN="$1"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
T=$(mktemp -d /tmp/olm-cli-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # check NAME EXPECTED_RC ACTUAL_RC
    if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fails=$((fails + 1)); else echo "ok   $1"; fi
}
refused() { # refused NAME ACTUAL_RC: a clean refusal (1, or 2 if the CLI calls it usage), not a crash
    case "$2" in 1 | 2) echo "ok   $1" ;; *) echo "FAIL $1: exit $2, expected 1 or 2"; fails=$((fails + 1)) ;; esac
}
grep_err() { # grep_err NAME PATTERN
    if grep -q -- "$2" "$T/err"; then echo "ok   $1"; else echo "FAIL $1: stderr lacks '$2':"; cat "$T/err"; fails=$((fails + 1)); fi
}

"$BIN" build-model --preset tiny-gqa --seed 3 -o "$T/a" -q 2>"$T/err"; check build_ok 0 $?
for f in genai_config.json model.onnx model.onnx.data; do
    [ -s "$T/a/$f" ] && echo "ok   has_$f" || { echo "FAIL missing $f"; fails=$((fails + 1)); }
done
"$BIN" build-model --preset tiny-gqa --seed 3 -o "$T/b" -q 2>"$T/err"; check build_again 0 $?
cmp -s "$T/a/model.onnx.data" "$T/b/model.onnx.data" && cmp -s "$T/a/model.onnx" "$T/b/model.onnx"
check same_seed_same_bytes 0 $?
"$BIN" build-model --preset tiny-gqa --seed 4 -o "$T/c" -q 2>"$T/err"
cmp -s "$T/a/model.onnx.data" "$T/c/model.onnx.data"; check other_seed_other_bytes 1 $?

"$BIN" build-model --preset no-such -o "$T/x" 2>"$T/err"; check unknown_preset_rc 2 $?
grep_err unknown_preset_msg "unknown preset 'no-such' (known: tiny-gqa"
"$BIN" build-model --preset tiny-gqa -o /proc/olm-no/such 2>"$T/err"; check unwritable_rc 1 $?
grep_err unwritable_msg "/proc/olm-no: cannot create directory"
"$BIN" build-model -o "$T/y" 2>"$T/err"; check missing_preset_rc 2 $?
grep_err missing_preset_msg "preset is required"
"$BIN" build-model --preset tiny-gqa 2>"$T/err"; check missing_output_rc 2 $?
"$BIN" build-model --preset tiny-gqa --precision int8 -o "$T/z" 2>"$T/err"; check bad_precision_rc 2 $?
grep_err bad_precision_msg "expected int4 or fp32"
"$BIN" build-model --preset tiny-gqa --precision fp32 --ep cuda -o "$T/z" 2>"$T/err"; check fp32_cuda_rc 1 $?
grep_err fp32_cuda_msg "int4 only"
"$BIN" build-model --preset tiny-gqa --seed -1 -o "$T/z" 2>"$T/err"; check bad_seed_rc 2 $?
"$BIN" build-model --preset tiny-gqa --tokenizer-dir "$T/none" -o "$T/z" 2>"$T/err"; check no_tokenizer_rc 1 $?
grep_err no_tokenizer_msg "no tokenizer.json"
mkdir -p "$T/tok"
# (a loadable tokenizer: build-model checks that its ids fit the preset's vocabulary)
printf '{"version":"1.0","model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]}}' >"$T/tok/tokenizer.json"
printf '{"chat_template":"x"}' >"$T/tok/tokenizer_config.json"
"$BIN" build-model --preset tiny-1layer --tokenizer-dir "$T/tok" -o "$T/t" -q 2>"$T/err"; check tokenizer_copy_rc 0 $?
cmp -s "$T/tok/tokenizer.json" "$T/t/tokenizer.json" && cmp -s "$T/tok/tokenizer_config.json" "$T/t/tokenizer_config.json"
check tokenizer_files_copied 0 $?
[ ! -e "$T/t/merges.txt" ]; check absent_optional_files_skipped 0 $?
"$BIN" build-model --help >"$T/out" 2>&1; check help_rc 0 $?

"$BIN" inspect "$T/a" >"$T/out" 2>"$T/err"; check inspect_rc 0 $?
grep -q "com.microsoft::GroupQueryAttention" "$T/out" && grep -q "lm_head.MatMul.weight_Q4 *uint8 *\[503, 8, 16\]" "$T/out"
check inspect_lists_nodes_and_inits 0 $?
"$BIN" inspect --json "$T/a" >"$T/out" 2>"$T/err"; check inspect_json_rc 0 $?
grep -q '"op":[[:space:]]*"MatMulNBits"' "$T/out"; check inspect_json_content 0 $?
"$BIN" inspect "$T/nonexistent" 2>"$T/err"; check inspect_missing_rc 1 $?
grep_err inspect_missing_msg "nonexistent: cannot open"
printf 'garbage\377\377' >"$T/bad.onnx"
"$BIN" inspect "$T/bad.onnx" 2>"$T/err"; check inspect_bad_rc 1 $?
grep_err inspect_bad_msg "bad.onnx: not an ONNX model"

# ---- issue 12: outputs are written atomically and never over an input --------------
"$BIN" build-model --preset tiny-gqa --seed 3 --precision fp32 -o "$T/m" -q 2>"$T/err"; check fp32_build_rc 0 $?
cp -r "$T/m" "$T/m.orig"
same_as_orig() { for f in genai_config.json model.onnx model.onnx.data; do cmp -s "$T/m/$f" "$T/m.orig/$f" || return 1; done; }
# #5: the input spelled as another path is still the input (a string compare let
# "m m/" through, and the writer truncated m/model.onnx.data first)
"$BIN" quantize -q "$T/m" "$T/m/" 2>"$T/err"; refused quantize_onto_input_slash_rc $?
grep_err quantize_onto_input_msg "is the input"
(cd "$T" && "$BIN" quantize -q m ./m 2>"$T/err"); refused quantize_onto_input_dot_rc $?
ln -s m "$T/mlink"
"$BIN" quantize -q "$T/m" "$T/mlink" 2>"$T/err"; refused quantize_onto_input_symlink_rc $?
same_as_orig; check input_untouched 0 $?
# #5: a failure midway leaves an existing output as it was (it used to be truncated in
# place: a graph pointing at a partial data file), and no staging folder behind
"$BIN" quantize -q "$T/m" "$T/q" 2>"$T/err"; check quantize_rc 0 $?
cp -r "$T/q" "$T/q.saved"
sz=$(stat -c %s "$T/m/model.onnx.data")
truncate -s $((sz / 2)) "$T/m/model.onnx.data"
"$BIN" quantize -q "$T/m" "$T/q" 2>"$T/err"; check quantize_midway_failure_rc 1 $?
cmp -s "$T/q/model.onnx.data" "$T/q.saved/model.onnx.data" && cmp -s "$T/q/model.onnx" "$T/q.saved/model.onnx"
check output_intact_after_failure 0 $?
[ -z "$(ls "$T" | grep -e '\.tmp-')" ]; check no_staging_left 0 $?
# rebuilding into an existing folder replaces our files and keeps the user's
echo notes >"$T/q/NOTES.txt"
"$BIN" build-model --preset tiny-1layer --seed 9 -o "$T/q" -q 2>"$T/err"; check rebuild_into_existing_rc 0 $?
[ -f "$T/q/NOTES.txt" ] && ! cmp -s "$T/q/model.onnx" "$T/q.saved/model.onnx"; check rebuild_replaces_keeps_notes 0 $?
# #7: an empty output name (mkdir_p("") read before its buffer)
"$BIN" build-model --preset tiny-gqa -o "" 2>"$T/err"; refused empty_output_build_rc $?
"$BIN" quantize -q "$T/m.orig" "" 2>"$T/err"; refused empty_output_quantize_rc $?
"$BIN" convert --from "$T/m.orig" -o "" 2>"$T/err"; refused empty_output_convert_rc $?
# #14: a FIFO is not a model file (reading it blocked forever)
mkfifo "$T/fifo.onnx"
timeout 20 "$BIN" inspect "$T/fifo.onnx" 2>"$T/err"; check inspect_fifo_rc 1 $?
grep_err inspect_fifo_msg "not a regular file (a FIFO)"

echo "writer-cli: $fails failed"
[ "$fails" = 0 ]
