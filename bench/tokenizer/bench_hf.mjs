// bench_hf.mjs TOKENIZER.json CORPUS.jsonl BIG.txt [SECONDS] — HF tokenizers (npm
// `tokenizers`, Rust) on the same inputs as bench_tokenizer.c. Run with
// RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false (single thread). Encodes with
// `encode` one call per line/chunk (awaited one at a time), and also reports
// `encodeBatch` over all inputs at once (one thread), which removes the per-call
// Node promise overhead; the better of the two is HF's figure.
import fs from 'node:fs';
import { createRequire } from 'node:module';
// resolve npm packages from tools/ref (where setup-deps installs them)
const require = createRequire(new URL('../../tools/ref/package.json', import.meta.url));
const { Tokenizer } = require('tokenizers');

const [tokPath, corpusPath, bigPath, secsArg] = process.argv.slice(2);
const secs = Number(secsArg || 3);
const now = () => Number(process.hrtime.bigint()) / 1e9;
// CPU time of the whole Node process (all threads; with RAYON_NUM_THREADS=1 that is
// the one encoding thread plus Node's own), steadier than wall time on a busy machine
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

const rss0 = process.memoryUsage().rss;
let t0 = now();
const tok = Tokenizer.fromFile(tokPath);
const loads = [now() - t0];
const rss1 = process.memoryUsage().rss;
const cloads = [];
for (let i = 1; i < 5; i++) { t0 = now(); const c0 = cpu(); Tokenizer.fromFile(tokPath); loads.push(now() - t0); cloads.push(cpu() - c0); }
loads.sort((a, b) => a - b);
cloads.sort((a, b) => a - b);

const lines = fs.readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
const big = fs.readFileSync(bigPath);
const chunks = [];
for (let i = 0; i < big.length;) {
  let j = Math.min(i + 4096, big.length);
  while (j < big.length && big[j - 1] !== 0x0a) j++;
  chunks.push(big.subarray(i, j).toString('utf8'));
  i = j;
}
const bytes = (a) => a.reduce((s, x) => s + Buffer.byteLength(x, 'utf8'), 0);

async function one(inputs) {
  let reps = 0, toks = 0, el;
  const t = now(), c0 = cpu();
  do {
    for (const s of inputs) toks += (await tok.encode(s, null, { addSpecialTokens: false })).getIds().length;
    reps++;
    el = now() - t;
  } while (el < secs);
  return { mbs: bytes(inputs) * reps / el / 1e6, tps: toks / el, ntok: toks / reps, mbsCpu: bytes(inputs) * reps / (cpu() - c0) / 1e6 };
}
async function batch(inputs) {
  let reps = 0, toks = 0, el;
  const t = now(), c0 = cpu();
  do {
    for (const e of await tok.encodeBatch(inputs, { addSpecialTokens: false })) toks += e.getIds().length;
    reps++;
    el = now() - t;
  } while (el < secs);
  return { mbs: bytes(inputs) * reps / el / 1e6, tps: toks / el, mbsCpu: bytes(inputs) * reps / (cpu() - c0) / 1e6 };
}
const c = await one(lines), b = await one(chunks), cb = await batch(lines), bb = await batch(chunks);
console.log(JSON.stringify({
  impl: 'hf-tokenizers', load_ms_best: +(loads[0] * 1e3).toFixed(1), load_ms_median: +(loads[2] * 1e3).toFixed(1),
  load_cpu_ms_median: +(cloads[1] * 1e3).toFixed(1),
  rss_mb: +((rss1 - rss0) / 1048576).toFixed(1),
  corpus_bytes: bytes(lines), corpus_tokens: c.ntok, corpus_mb_s: +c.mbs.toFixed(2), corpus_tok_s: Math.round(c.tps),
  corpus_batch_mb_s: +cb.mbs.toFixed(2), corpus_mb_s_cpu: +c.mbsCpu.toFixed(2), corpus_batch_mb_s_cpu: +cb.mbsCpu.toFixed(2),
  big_bytes: bytes(chunks), big_tokens: b.ntok, big_mb_s: +b.mbs.toFixed(2), big_tok_s: Math.round(b.tps),
  big_batch_mb_s: +bb.mbs.toFixed(2), big_mb_s_cpu: +b.mbsCpu.toFixed(2), big_batch_mb_s_cpu: +bb.mbsCpu.toFixed(2),
}));
