// tokenizer_expected.mjs TOKENIZER.json CORPUS.jsonl OUT.jsonl [NOSPECIAL_TOKENIZER.json] [--stream-all]
//                        [--max-lines=N]
// Expected outputs from HF tokenizers (npm `tokenizers`, the Rust library) for the
// C tokenizer tests. One JSON object per corpus line (strings as hex of UTF-8):
//   {"text", "ids": encode(text, add_special=false), "ids_add": encode(text, true),
//    "dec": decode(ids), "dec_skip": decode(ids, skip_special=true),
//    "stream": text emitted by HF's DecodeStream over ids (every 3rd line, or all),
//    "stream_flush": that plus what is left in its window (= our detok flush),
//    "ids_ns": ids from NOSPECIAL_TOKENIZER (special added tokens removed = HF's
//              encode_special_tokens) when given}
// then 400 decode-only objects {"decode_ids", "dec", "dec_skip", "stream"} over
// random slices of the corpus ids mixed with random (incl. unknown) ids.
// The Node binding has no DecodeStream: stream() below is a line-by-line
// port of tokenizers/src/tokenizer/mod.rs step_decode_stream.
import fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');

const streamAll = process.argv.includes('--stream-all'); // stream every line, not every 3rd
const maxArg = process.argv.find((a) => a.startsWith('--max-lines='));
const maxLines = maxArg ? Number(maxArg.slice(12)) : Infinity; // first N corpus lines only
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [tokPath, corpusPath, outPath, nsPath] = args;
const tok = Tokenizer.fromFile(tokPath);
const ns = nsPath ? Tokenizer.fromFile(nsPath) : null;
const lines = fs.readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.length).slice(0, maxLines).map((l) => JSON.parse(l));
const blen = (s) => Buffer.byteLength(s, 'utf8');
// strings travel as hex of their UTF-8 bytes: exact, NUL-safe, trivial to read in C
const hex = (s) => Buffer.from(s, 'utf8').toString('hex');

async function stream(ids, skip) {
  let window = [], prefix = '', prefixIndex = 0, out = '';
  for (const id of ids) {
    window.push(id);
    const s = await tok.decode(window, skip);
    if (blen(s) > blen(prefix) && !s.endsWith('\ufffd')) {
      if (!s.startsWith(prefix)) return { out, err: true };
      out += s.slice(prefix.length);
      const newPrefixIndex = window.length - prefixIndex;
      window = window.slice(prefixIndex);
      prefix = await tok.decode(window, skip);
      prefixIndex = newPrefixIndex;
    }
  }
  // what a flush at the end would add (our API has one; HF's DecodeStream does not)
  const s = await tok.decode(window, skip);
  const flush = blen(s) > blen(prefix) && s.startsWith(prefix) ? s.slice(prefix.length) : '';
  return { out, flush, err: false };
}

let seed = 0x9e3779b9;
const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; };
const vocabSize = tok.getVocabSize(true);
let maxId = 0;
for (const v of Object.values(tok.getVocab(true))) if (v > maxId) maxId = v;

const out = [];
const allIds = [];
for (const text of lines) {
  const ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
  const idsAdd = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
  const o = { text: hex(text), ids, ids_add: idsAdd, dec: hex(await tok.decode(ids, false)), dec_skip: hex(await tok.decode(ids, true)) };
  if (streamAll || allIds.length % 3 === 0) { // HF stream costs 2 async decodes per token
    const st = await stream(ids, false);
    o.stream = hex(st.out);
    o.stream_flush = hex(st.out + (st.flush || ''));
    if (st.err) o.stream_err = true;
  }
  if (ns) o.ids_ns = (await ns.encode(text, null, { addSpecialTokens: false })).getIds();
  out.push(JSON.stringify(o));
  allIds.push(ids);
}
for (let k = 0; k < Math.min(400, maxLines); k++) {
  const src = allIds[Math.floor(rnd() * allIds.length)];
  const a = Math.floor(rnd() * (src.length + 1)), b = a + Math.floor(rnd() * 12);
  const ids = src.slice(a, b);
  for (let j = Math.floor(rnd() * 4); j > 0; j--) {
    const r = rnd();
    const id = r < 0.6 ? Math.floor(rnd() * (maxId + 1)) : r < 0.8 ? maxId + 1 + Math.floor(rnd() * 64) : Math.floor(rnd() * 512);
    ids.splice(Math.floor(rnd() * (ids.length + 1)), 0, id);
  }
  const st = await stream(ids, false);
  const o = { decode_ids: ids, dec: hex(await tok.decode(ids, false)), dec_skip: hex(await tok.decode(ids, true)), stream: hex(st.out), stream_flush: hex(st.out + (st.flush || '')) };
  if (st.err) o.stream_err = true;
  out.push(JSON.stringify(o));
}
fs.writeFileSync(outPath, out.join('\n') + '\n');
console.error(`${tokPath}: ${lines.length} lines, vocab ${vocabSize}, max id ${maxId}`);
