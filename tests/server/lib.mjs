// lib.mjs — shared by the server's end-to-end tests: start `onnxllm serve` on a free
// port, wait for /health, stop it with SIGTERM and check that it exited 0 without a
// sanitizer report; checks and a hard deadline so that no test can hang.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import net from "node:net";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const requireClient = createRequire(path.join(root, "tools/clients/package.json"));
export const requireRef = createRequire(path.join(root, "tools/ref/package.json"));

let passed = 0, failed = 0;
const servers = new Set();
export function check(name, ok, info = "") {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${name}${info ? " " + (typeof info === "string" ? info : JSON.stringify(info)) : ""}`);
  }
  return ok;
}

/* Whole-test deadline: kill what we started and fail. */
export function deadline(ms, what) {
  setTimeout(() => {
    console.log(`FAIL ${what}: deadline of ${ms} ms passed`);
    for (const s of servers) s.proc.kill("SIGKILL");
    process.exit(1);
  }, ms).unref();
}

export function summary(suite) {
  console.log(`${suite}: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function withTimeout(p, ms, what) {
  let t;
  const timer = new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms); });
  try { return await Promise.race([p, timer]); } finally { clearTimeout(t); }
}

/* Starts the server; resolves once it listens (and, unless wait:false, is ready). */
export async function startServer(bin, model, args = [], { wait = true, timeoutMs = 120000, env = {} } = {}) {
  const proc = spawn(bin, ["serve", "-m", model, "--port", "0", ...args], {
    stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env },
  });
  const s = { proc, stderr: "", port: 0, exited: null };
  servers.add(s);
  proc.stderr.on("data", (d) => { s.stderr += d.toString(); });
  const exited = new Promise((res) => proc.on("exit", (code, signal) => { s.exited = { code, signal }; res(s.exited); }));
  s.exitedPromise = exited;
  const t0 = Date.now();
  while (!s.port) {
    const m = /listening on http:\/\/[^ ]*:(\d+)/.exec(s.stderr);
    if (m) s.port = +m[1];
    else if (s.exited) throw new Error(`server exited early: ${JSON.stringify(s.exited)}\n${s.stderr}`);
    else if (Date.now() - t0 > timeoutMs) throw new Error(`server did not listen:\n${s.stderr}`);
    else await sleep(20);
  }
  s.url = `http://127.0.0.1:${s.port}`;
  if (wait) {
    for (;;) {
      try {
        const r = await fetch(`${s.url}/health`, { signal: AbortSignal.timeout(5000) });
        if (r.status === 200) break;
      } catch { /* not yet */ }
      if (s.exited) throw new Error(`server exited: ${JSON.stringify(s.exited)}\n${s.stderr}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`server not ready after ${timeoutMs} ms:\n${s.stderr}`);
      await sleep(50);
    }
  }
  return s;
}

const SANITIZER = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)/;

/* SIGTERM, then checks exit 0 and no sanitizer report. Returns the exit status. */
export async function stopServer(s, name = "server", { signal = "SIGTERM", timeoutMs = 60000 } = {}) {
  if (!s.exited) s.proc.kill(signal);
  let ex;
  try { ex = await withTimeout(s.exitedPromise, timeoutMs, `${name} exit`); }
  catch (e) { s.proc.kill("SIGKILL"); ex = await s.exitedPromise; check(`${name}_exits`, false, e.message); }
  servers.delete(s);
  check(`${name}_exit_0`, ex.code === 0, `${JSON.stringify(ex)}\n${s.stderr.slice(-3000)}`);
  check(`${name}_no_sanitizer_report`, !SANITIZER.test(s.stderr), s.stderr.slice(s.stderr.search(SANITIZER), s.stderr.search(SANITIZER) + 4000));
  return ex;
}

/* One raw HTTP exchange over a socket: send `data` (Buffer/string, or an array of
 * [bytes, delayMs] pieces), read until the server closes or `idleMs` passes. */
export function rawExchange(port, data, { idleMs = 3000, totalMs = 20000, end = false } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks = [];
    let done = false, idle;
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(total);
      sock.destroy();
      const buf = Buffer.concat(chunks), text = buf.toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? +m[1] : 0, text, why });
    };
    const total = setTimeout(() => finish("total-timeout"), totalMs);
    const arm = () => { clearTimeout(idle); idle = setTimeout(() => finish("idle"), idleMs); };
    sock.on("data", (d) => { chunks.push(d); arm(); });
    sock.on("end", () => finish("closed"));
    sock.on("error", () => finish("error"));
    sock.on("connect", async () => {
      arm();
      const pieces = Array.isArray(data) ? data : [[data, 0]];
      for (const [bytes, delay] of pieces) {
        if (delay) await sleep(delay);
        if (done) return;
        sock.write(bytes);
      }
      if (end) sock.end();
    });
  });
}

/* Server-sent events of a fetch Response: [{event, data}] (data parsed when JSON). */
export async function readSSE(res) {
  const text = await res.text();
  const out = [];
  for (const block of text.split("\n\n")) {
    if (!block.trim()) continue;
    let event = null, data = [], comment = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) comment = true;
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (!data.length) { if (comment) out.push({ comment: true }); continue; }
    const d = data.join("\n");
    let parsed = d;
    try { parsed = JSON.parse(d); } catch { /* [DONE] */ }
    out.push({ event, data: parsed });
  }
  return { events: out, raw: text };
}

export const args = process.argv.slice(2); // BIN MODEL_DIR
