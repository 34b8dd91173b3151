// bench_server.mjs — what `onnxllm serve` costs on top of the engine, and how fast
// count_tokens is. Prints numbers; BENCHMARKS.md keeps them (scripts/bench-server.sh
// runs it on the full-size model under the bench lock).
//
//   node bench/server/bench_server.mjs ONNXLLM MODEL_DIR [--threads 2] [--ctx 4096]
//        [--max-tokens 64] [--repeat 3] [--count-seconds 10] [--prompt TEXT]
//
// 1. One streaming request, HTTP vs CLI, same prompt, greedy, each in a fresh process
//    (the CLI runs first, then the servers: never two full-size models in memory):
//    `onnxllm run --json` reports its own time to first token and decode rate; the
//    server's are measured by this client from the bytes on the wire (request sent →
//    first token's chunk; first → last token), on the first request after its load.
// 2. POST /v1/messages/count_tokens with the captured Claude Code 2.1.328 request
//    (~11k tokens, 12 tools): requests/s over a keep-alive connection, 1 and 2 clients.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const [bin, model, ...rest] = process.argv.slice(2);
const opt = (k, d) => { const i = rest.indexOf(k); return i >= 0 ? rest[i + 1] : d; };
const threads = +opt("--threads", 2), ctx = +opt("--ctx", 4096), maxTokens = +opt("--max-tokens", 64);
const repeat = +opt("--repeat", 3), countSeconds = +opt("--count-seconds", 10);
const prompt = opt("--prompt", "Explain, in a few paragraphs, how a CPU cache hierarchy works and why memory bandwidth limits the speed of large language model inference on laptops.");
if (!bin || !model) { console.error("usage: node bench_server.mjs ONNXLLM MODEL_DIR [options]"); process.exit(2); }
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const now = () => performance.now();
console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);

function cliOnce() {
  const r = spawnSync(bin, ["run", "-m", model, "-p", prompt, "-n", String(maxTokens), "--temperature", "0", "--threads", String(threads), "--max-length", String(ctx), "--json"], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`onnxllm run failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  return { ttft: j.timings.ttft_ms, decode: j.timings.decode_tok_s, n: j.usage.completion_tokens, text: j.text };
}

// --- CLI runs first: one full-size model in memory at a time (the server is not up yet)
const cli = [];
for (let k = 0; k < repeat; k++) cli.push(cliOnce());

// --- the server (started fresh for each measured request, as the CLI process is)
let srv = null, log = "", stopping = false, url = "";
async function startServer() {
  srv = spawn(bin, ["serve", "-m", model, "--port", "0", "--threads", String(threads), "--ctx", String(ctx), "--quiet"], { stdio: ["ignore", "ignore", "pipe"] });
  log = "";
  stopping = false;
  srv.stderr.on("data", (d) => (log += d));
  srv.on("exit", (code) => { if (!stopping) { console.error(`the server exited (${code}):\n${log}`); process.exit(1); } });
  let port = 0;
  const tLoad = now();
  while (!port) { const m = /:(\d+) \(loading/.exec(log); if (m) port = +m[1]; else await new Promise((r) => setTimeout(r, 20)); }
  url = `http://127.0.0.1:${port}`;
  for (;;) {
    const r = await fetch(`${url}/health`).catch(() => null);
    if (r?.status === 200) break;
    const b = r ? await r.json().catch(() => ({})) : {};
    if (b.status === "failed") { console.error(`the server could not load the model: ${b.error?.message}`); srv.kill(); process.exit(1); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return (now() - tLoad) / 1000;
}
async function stopServer() {
  stopping = true;
  const exited = new Promise((r) => srv.on("exit", r));
  srv.kill("SIGTERM");
  await exited;
}

async function streamOnce(p) {
  const t0 = now();
  const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, stream_options: { include_usage: true }, temperature: 0, max_tokens: maxTokens, messages: [{ role: "user", content: p }] }) });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "", tFirst = 0, tLast = 0, usage = null, text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const t = now();
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!ev.startsWith("data: {")) continue;
      const d = JSON.parse(ev.slice(6));
      const delta = d.choices?.[0]?.delta;
      if (delta?.content) { text += delta.content; if (!tFirst) tFirst = t; tLast = t; }
      if (d.choices?.[0]?.finish_reason) tLast = t;
      if (d.usage && !d.choices?.length) usage = d.usage;
    }
  }
  return { ttft: tFirst - t0, decode: (usage.completion_tokens - 1) / ((tLast - tFirst) / 1000), n: usage.completion_tokens, text };
}

const http = [];
for (let k = 0; k < repeat; k++) {
  const loadS = await startServer();
  http.push(await streamOnce(prompt));
  console.log(`   (server run ${k + 1}: ready in ${loadS.toFixed(1)} s)`);
  if (k < repeat - 1) await stopServer();
}
const same = http.every((h) => h.n === cli[0].n) && cli.every((c) => c.n === cli[0].n);
console.log(`\n1. one streaming request, ${threads} threads, ctx ${ctx}, ${cli[0].n} generated tokens, ${repeat} repeats (median)`);
console.log(`   CLI  (onnxllm run):   TTFT ${median(cli.map((x) => x.ttft)).toFixed(1)} ms   decode ${median(cli.map((x) => x.decode)).toFixed(3)} tok/s   [${cli.map((x) => `${x.ttft.toFixed(0)}ms/${x.decode.toFixed(2)}`).join(", ")}]`);
console.log(`   HTTP (serve, client): TTFT ${median(http.map((x) => x.ttft)).toFixed(1)} ms   decode ${median(http.map((x) => x.decode)).toFixed(3)} tok/s   [${http.map((x) => `${x.ttft.toFixed(0)}ms/${x.decode.toFixed(2)}`).join(", ")}]`);
console.log(`   decode ratio HTTP/CLI: ${(median(http.map((x) => x.decode)) / median(cli.map((x) => x.decode))).toFixed(3)}   TTFT difference HTTP-CLI: ${(median(http.map((x) => x.ttft)) - median(cli.map((x) => x.ttft))).toFixed(1)} ms`);
console.log(`   same tokens in every run: ${same}${same ? "" : " (counts " + [...cli, ...http].map((x) => x.n).join(",") + ")"}`);

// --- count_tokens on the captured Claude Code request
const cc = readFileSync(path.join(here, "../../tests/server/fuzz/requests/claude_code")).subarray(1);
const first = await (await fetch(`${url}/v1/messages/count_tokens?beta=true`, { method: "POST", body: cc })).json();
console.log(`\n2. count_tokens, captured Claude Code 2.1.328 request (${cc.length} bytes, ${first.input_tokens} tokens)`);
for (const clients of [1, 2]) {
  let n = 0;
  const tEnd = now() + countSeconds * 1000, t0 = now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (now() < tEnd) {
      const r = await fetch(`${url}/v1/messages/count_tokens?beta=true`, { method: "POST", body: cc });
      await r.arrayBuffer();
      n++;
    }
  }));
  const s = (now() - t0) / 1000;
  console.log(`   ${clients} client${clients > 1 ? "s" : " "}: ${(n / s).toFixed(1)} requests/s (${(1000 * s / n * clients).toFixed(2)} ms each)`);
}
await stopServer();
console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
