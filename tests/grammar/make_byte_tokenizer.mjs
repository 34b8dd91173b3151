#!/usr/bin/env node
// make_byte_tokenizer.mjs OUT_DIR — a byte-level BPE tokenizer.json without merges for the
// tiny test models (vocabulary 1000): ids 0 <pad>, 1 <s>, 2 <|end|> (the tiny presets'
// pad/bos/eos), the 256 bytes at 3..258, <|tool_call|> 259 and <|/tool_call|> 260.
import fs from "node:fs";
import path from "node:path";
const out = process.argv[2];
fs.mkdirSync(out, { recursive: true });
const bs = [];
for (let b = 33; b <= 126; b++) bs.push(b);
for (let b = 161; b <= 172; b++) bs.push(b);
for (let b = 174; b <= 255; b++) bs.push(b);
const cs = bs.slice();
let n = 0;
for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
const vocab = {};
bs.forEach((b, i) => { vocab[String.fromCodePoint(cs[i])] = 3 + b; });
const added = [
  { id: 0, content: "<pad>", special: true }, { id: 1, content: "<s>", special: true }, { id: 2, content: "<|end|>", special: true },
  { id: 259, content: "<|tool_call|>", special: false }, { id: 260, content: "<|/tool_call|>", special: false },
].map((a) => ({ single_word: false, lstrip: false, rstrip: false, normalized: false, ...a }));
const tok = {
  version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer: null,
  pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  post_processor: null, decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
           fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
};
fs.writeFileSync(path.join(out, "tokenizer.json"), JSON.stringify(tok));
console.log(path.join(out, "tokenizer.json"));
