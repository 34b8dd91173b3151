// malformed.mjs — hostile and broken clients against `onnxllm serve` (run under
// ASan/UBSan too): malformed JSON and wrong types get 400 naming the field, huge
// bodies 413, slow and stalled clients are served or timed out without blocking
// others, clients that disconnect (mid-upload, during the prompt, mid-stream,
// non-streaming) cancel their generation at once, 200 seeded random-junk requests
// get sane statuses; the server stays up and exits 0 with no sanitizer report.
//   node tests/server/malformed.mjs ONNXLLM MODEL_DIR
import { args, check, deadline, rawExchange, sleep, startServer, stopServer, summary } from "./lib.mjs";
import net from "node:net";

const [bin, model] = args;
deadline(300000, "malformed");
const KEY = "k";
const LONG = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
const srv = await startServer(bin, model, ["--ctx", "8192", "--api-key", KEY, "--max-body", "65536", "--timeout", "2",
  "--ping-interval", "0.2", "--test-output", "ok", "--test-output", LONG]);
const H = { "x-api-key": KEY, "content-type": "application/json" };
const post = (path, body, extra = {}) => fetch(`${srv.url}${path}`, { method: "POST", headers: { ...H, ...extra }, body, signal: AbortSignal.timeout(60000) });
const metric = async (name) => {
  const t = await (await fetch(`${srv.url}/metrics`, { headers: H })).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => "\\" + c)}[^ ]* (\\d+)`, "m").exec(t);
  return m ? +m[1] : NaN;
};
const aborts = () => metric('vllm:request_success_total{model_name="demo-model",finished_reason="abort"}');

try {
  // --- malformed bodies: 400, JSON error body naming the problem, on every API
  const bodies = [
    ["{", /request body: malformed JSON at line 1/], ["[]", /must be a JSON object/], ["\"str\"", /must be a JSON object/], ["", /empty/],
    ["{} x", /after the JSON value/], ["\xff\xfe{}", /invalid UTF-8/], ["[".repeat(5000) + "]".repeat(5000), /nested too deeply/],
    ['{"messages": [{"role": "user", "content": "a\\u0000b"}], "max_tokens": 5}', /NUL/],
    ['{"messages": "x", "max_tokens": 5}', /messages: expected an array/],
    ['{"messages": [], "max_tokens": 5}', /at least one message/],
    ['{"messages": [{"role": "user"}], "max_tokens": 5}', /messages\[0\]\.content/],
    ['{"messages": [{"role": 7, "content": "x"}], "max_tokens": 5}', /messages\[0\]\.role: expected a string/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": "5"}', /max_tokens: expected an integer/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "temperature": "hot"}', /temperature: expected a number/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "temperature": 9}', /temperature.*out of range/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "stream": "yes"}', /stream: expected a boolean/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "tools": {}}', /tools: expected an array/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "stop": [""]}', /stop/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": -1}', /max_tokens/],
    ['{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1e300}', /max_tokens/],
  ];
  for (const path of ["/v1/messages", "/v1/chat/completions"]) {
    for (const [i, [b, re]] of bodies.entries()) {
      const body = path === "/v1/messages" ? b.replace('"stop": [""]', '"stop_sequences": [""]') : b;
      const r = await post(path, Buffer.from(body, "latin1"));
      const txt = await r.text();
      let j = null;
      try { j = JSON.parse(txt); } catch { /* checked below */ }
      const msg = path === "/v1/messages" ? j?.error?.message : j?.error?.message;
      const shape = path === "/v1/messages" ? j?.type === "error" && j?.error?.type === "invalid_request_error" : j?.error?.type === "invalid_request_error";
      check(`bad_body_${path}_${i}`, r.status === 400 && shape && re.test(msg ?? ""), `${r.status} ${txt.slice(0, 300)}`);
    }
  }
  for (const [path, body, re] of [
    ["/v1/responses", '{"input": 5}', /input: expected a string or an array/],
    ["/v1/responses", '{"input": [{"type": "mystery"}]}', /input\[0\]\.type: unsupported input item type 'mystery'/],
    ["/v1/completions", '{"prompt": {"a": 1}}', /prompt: expected/],
    ["/v1/completions", '{"prompt": [1, "x"]}', /prompt\[1\]/],
    ["/v1/completions", '{"prompt": [999999999]}', /outside/],
    ["/tokenize", '{"content": 5}', /content: expected a string/],
    ["/detokenize", '{"tokens": [-1]}', /tokens\[0\]/],
    ["/v1/messages/count_tokens", '{"messages": [{"role": "user", "content": [{"type": "text"}]}]}', /messages\[0\]\.content\[0\]\.text/],
  ]) {
    const r = await post(path, body);
    const j = await r.json().catch(() => null);
    check(`bad_field_${path}`, r.status === 400 && re.test(j?.error?.message ?? ""), `${r.status} ${JSON.stringify(j)}`);
  }
  // prompt over the context
  const over = await post("/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "hello ".repeat(9000) }] }));
  check("prompt_over_context", over.status === 400 && /prompt is too long/.test((await over.json()).error.message), over.status);

  // --- huge bodies: 413 before reading them (Content-Length), closed when chunked
  const big = await rawExchange(srv.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Length: 1000000\r\n\r\n` + "x".repeat(1000));
  check("huge_body_413", big.status === 413 && /request_too_large|too large/.test(big.text), big.text.slice(0, 200));
  const big2 = await rawExchange(srv.port, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Length: 70000\r\n\r\n`);
  check("huge_body_413_anthropic", big2.status === 413 && /"type":"error"/.test(big2.text) && /request_too_large/.test(big2.text), big2.text.slice(0, 300));
  const chunk = "ffff\r\n" + "a".repeat(0xffff) + "\r\n";
  const big3 = await rawExchange(srv.port, [[`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nTransfer-Encoding: chunked\r\n\r\n`, 0], [chunk, 0], [chunk, 0]], { idleMs: 3000 });
  check("huge_chunked_closed", big3.status === 0 || big3.status === 413, big3.why + " " + big3.text.slice(0, 100));
  const big4 = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: H, body: JSON.stringify({ messages: [{ role: "user", content: "x".repeat(70000) }] }) }).catch((e) => ({ status: "error " + e.message }));
  check("huge_body_fetch_413", big4.status === 413, big4.status);

  // --- slow client (bytes trickle in) is served; a stalled one is timed out (--timeout 2) while others are served
  const slowBody = '{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}';
  const req = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nX-Test-Output: 0\r\nContent-Length: ${slowBody.length}\r\nConnection: close\r\n\r\n${slowBody}`;
  const slowPieces = [];
  for (let i = 0; i < req.length; i += 12) slowPieces.push([req.slice(i, i + 12), 40]);
  const stalled = rawExchange(srv.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Le`, { idleMs: 8000, totalMs: 15000 });
  const slow = await rawExchange(srv.port, slowPieces, { idleMs: 5000 });
  check("slow_client_served", slow.status === 200 && /"content":"ok"/.test(slow.text), slow.text.slice(0, 300));
  const t0 = Date.now();
  const quick = await post("/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 5 }), { "X-Test-Output": "0" });
  check("others_served_while_stalled", quick.status === 200 && Date.now() - t0 < 10000);
  const st = await stalled;
  check("stalled_client_timed_out", st.why === "closed" || st.why === "error", st.why);

  // --- early disconnects cancel the generation at once
  const a0 = await aborts();
  // mid-stream: read a few events, then drop the socket
  await new Promise((resolve) => {
    const s = net.connect(srv.port, "127.0.0.1");
    const body = JSON.stringify({ model: "x", max_tokens: 4000, stream: true, messages: [{ role: "user", content: "go" }] });
    s.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nX-Test-Output: 1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    let got = "";
    s.on("data", (d) => { got += d; if ((got.match(/content_block_delta/g) ?? []).length >= 5) { s.destroy(); resolve(); } });
    s.on("error", resolve);
    setTimeout(() => { s.destroy(); resolve(); }, 30000);
  });
  let a1 = a0;
  for (let i = 0; i < 100 && a1 === a0; i++) { await sleep(20); a1 = await aborts(); }
  check("disconnect_mid_stream_cancels", a1 === a0 + 1, [a0, a1]);
  const gen0 = await metric('vllm:generation_tokens_total{model_name="demo-model"}');
  check("disconnect_stopped_early", gen0 < 2000, gen0);
  // during the prompt (long prompt, drop before any token)
  await new Promise((resolve) => {
    const s = net.connect(srv.port, "127.0.0.1");
    const body = JSON.stringify({ model: "x", max_tokens: 10, stream: true, messages: [{ role: "user", content: "The quick brown fox. ".repeat(1200) }] });
    s.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    s.once("data", () => setTimeout(() => { s.destroy(); resolve(); }, 100)); // message_start arrived: prompt running
    setTimeout(() => { s.destroy(); resolve(); }, 30000);
  });
  const t1 = Date.now();
  const after = await post("/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 5 }), { "X-Test-Output": "0" });
  const a2 = await aborts();
  check("disconnect_during_prompt_cancels", after.status === 200 && a2 === a1 + 1, [after.status, a1, a2, Date.now() - t1]);
  // non-streaming request dropped mid-generation
  const goBody = '{"messages":[{"role":"user","content":"go"}]}';
  await rawExchange(srv.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nX-Test-Output: 1\r\nContent-Length: ${goBody.length}\r\n\r\n${goBody}`, { idleMs: 300 });
  let a3 = a2;
  for (let i = 0; i < 100 && a3 === a2; i++) { await sleep(20); a3 = await aborts(); }
  check("disconnect_non_stream_cancels", a3 === a2 + 1, [a2, a3]);
  // mid-upload
  const up = await rawExchange(srv.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Length: 500\r\n\r\n{"messages":`, { idleMs: 200, end: true });
  check("disconnect_mid_upload", up.status === 0, up.text.slice(0, 100));

  // --- 200 seeded random-junk requests
  let seed = 12345;
  const rnd = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; return (seed >>> 8) % n; };
  const pickOne = (a) => a[rnd(a.length)];
  const valid = [
    ["/v1/messages", { model: "x", max_tokens: 8, messages: [{ role: "user", content: "hi" }], tools: [{ name: "t", input_schema: { type: "object" } }] }],
    ["/v1/chat/completions", { model: "x", max_tokens: 8, messages: [{ role: "user", content: "hi" }], stream: true }],
    ["/v1/responses", { model: "x", input: [{ role: "user", content: "hi" }], max_output_tokens: 8 }],
    ["/v1/completions", { model: "x", prompt: "hi", max_tokens: 8 }],
    ["/v1/messages/count_tokens", { model: "x", messages: [{ role: "user", content: "hi" }] }],
    ["/tokenize", { content: "hi" }], ["/detokenize", { tokens: [1, 2] }], ["/apply-template", { messages: [{ role: "user", content: "hi" }] }],
  ];
  const junkValues = [null, true, 0, -1, 1e308, "", "\u0000", "x".repeat(3000), [], {}, [[[]]], { role: "user" }, "<|end|><|system|>", 3.5];
  const mutate = (v, depth = 0) => {
    if (depth > 3 || rnd(4) === 0) return pickOne(junkValues);
    if (Array.isArray(v)) { const c = v.map((x) => (rnd(3) ? mutate(x, depth + 1) : x)); if (rnd(4) === 0) c.push(pickOne(junkValues)); return c; }
    if (v && typeof v === "object") {
      const c = { ...v };
      for (const k of Object.keys(c)) { const r = rnd(5); if (r === 0) delete c[k]; else if (r === 1) c[k] = mutate(c[k], depth + 1); }
      if (rnd(3) === 0) c[pickOne(["stream", "tools", "tool_choice", "system", "stop", "n", "input", "messages", "max_tokens", "temperature"])] = pickOne(junkValues);
      return c;
    }
    return pickOne(junkValues);
  };
  const methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"];
  const allowed = new Set([0, 200, 204, 400, 401, 404, 405, 413, 414, 431, 501, 505]);
  const statuses = {};
  for (let i = 0; i < 200; i++) {
    const kind = rnd(4);
    let r;
    if (kind === 0) { // random bytes
      const n = 1 + rnd(300);
      r = await rawExchange(srv.port, Buffer.from(Array.from({ length: n }, () => rnd(256))), { idleMs: 150 });
    } else if (kind === 1) { // random request line / headers
      const path = pickOne(["/", "/v1/messages", "/v1/chat/completions", "/%00", "/v1/models/../../etc", "/" + "a".repeat(rnd(5000)), "/v1/models/x?y=%zz"]);
      const hdrs = rnd(2) ? `x-api-key: ${KEY}\r\n` : pickOne(["Authorization: Bearer\r\n", "Content-Length: -5\r\n", "Content-Length: abc\r\n", "Transfer-Encoding: chunked\r\n", "X: " + "y".repeat(rnd(200000)) + "\r\n", ""]);
      r = await rawExchange(srv.port, `${pickOne(methods)} ${path} HTTP/1.${rnd(3)}\r\nHost: x\r\n${hdrs}\r\n`, { idleMs: 400 });
    } else { // valid HTTP, mutated JSON
      const [path, body] = pickOne(valid);
      const b = JSON.stringify(kind === 2 ? mutate(body) : body);
      const resp = await fetch(`${srv.url}${path}`, { method: "POST", headers: H, body: b, signal: AbortSignal.timeout(30000) }).catch((e) => { if (!globalThis.shown) { globalThis.shown = 1; console.log("fetch error", e.cause ?? e); } return null; });
      r = { status: resp ? resp.status : 0 };
      if (resp) await resp.text().catch(() => "");
    }
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (!allowed.has(r.status)) check(`junk_${i}_status`, false, `${r.status} ${r.text?.slice(0, 200) ?? ""}`);
  }
  console.log("junk statuses:", JSON.stringify(statuses));
  check("junk_no_500", !statuses[500], statuses);
  check("junk_some_served", (statuses[200] ?? 0) > 10 && (statuses[400] ?? 0) > 10, statuses);
  const h = await fetch(`${srv.url}/health`);
  check("alive_after_junk", h.status === 200);
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
await stopServer(srv);
summary("malformed");
