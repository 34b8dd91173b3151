// lifecycle.mjs — the server's life: /health 503 while the model loads (generation
// routes 503 too, in the API's shape), 200 when ready; SIGTERM drains (a stream in
// progress finishes, new connections are refused) and the process exits 0; a port
// already in use is a clear failure (exit 1); --help and bad flags (exit 2).
//   node tests/server/lifecycle.mjs ONNXLLM MODEL_DIR
import { spawnSync } from "node:child_process";
import { args, check, deadline, readSSE, sleep, startServer, stopServer, summary } from "./lib.mjs";

const [bin, model] = args;
deadline(240000, "lifecycle");
const LONG = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "); // well within the 10 s grace, even on a loaded machine

try {
  // --- loading: 503 first, then 200
  const srv = await startServer(bin, model, ["--ctx", "4096", "--test-output", LONG], { wait: false });
  const seen = [];
  let early = null;
  for (let i = 0; i < 3000; i++) {
    const r = await fetch(`${srv.url}/health`).catch(() => null);
    if (r) {
      seen.push(r.status);
      const body = await r.json();
      if (r.status === 503 && !early) {
        early = body;
        const g = await fetch(`${srv.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
        const gj = await g.json();
        check("loading_generation_503", g.status === 503 && gj.type === "error" && gj.error.type === "overloaded_error" && g.headers.get("retry-after"), gj);
      }
      if (r.status === 200) break;
    }
    await sleep(5);
  }
  check("health_503_while_loading", seen[0] === 503 && early?.status === "loading", { first: seen[0], early });
  check("health_200_when_ready", seen[seen.length - 1] === 200, seen.slice(-3));

  // --- drain: SIGTERM during a stream; the stream completes, new connections refused, exit 0
  const streaming = fetch(`${srv.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "x", stream: true, messages: [{ role: "user", content: "go" }] }) });
  const res = await streaming;
  const reader = res.body.getReader();
  const first = await reader.read(); // the stream has begun
  srv.proc.kill("SIGTERM");
  await sleep(300);
  const during = await fetch(`${srv.url}/health`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status).catch(() => "refused");
  check("draining_refuses_new", during === "refused" || during === 503, during);
  let rest = new TextDecoder().decode(first.value);
  for (;;) { const { done, value } = await reader.read(); if (done) break; rest += new TextDecoder().decode(value); }
  const { events } = await readSSE(new Response(rest));
  const text = events.filter((e) => typeof e.data === "object").map((e) => e.data.choices?.[0]?.delta?.content ?? "").join("");
  check("drain_finishes_stream", text === LONG && events[events.length - 1].data === "[DONE]", text.slice(-40));
  await stopServer(srv, "drained");

  // --- a second signal stops at once: the stream in progress ends with an error event, not a cut
  const srv2 = await startServer(bin, model, ["--ctx", "4096", "--test-output", Array.from({ length: 3000 }, (_, i) => `x${i}`).join(" ")]);
  const res2 = await fetch(`${srv2.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "x", max_tokens: 4000, stream: true, messages: [{ role: "user", content: "go" }] }) });
  const reader2 = res2.body.getReader();
  let raw2 = new TextDecoder().decode((await reader2.read()).value);
  srv2.proc.kill("SIGTERM");
  await sleep(200);
  srv2.proc.kill("SIGTERM");
  for (;;) { const { done, value } = await reader2.read().catch(() => ({ done: true })); if (done) break; raw2 += new TextDecoder().decode(value); }
  const ev2 = (await readSSE(new Response(raw2))).events;
  const last2 = ev2[ev2.length - 1];
  check("stop_now_error_event", last2?.event === "error" && /shutting down/.test(last2.data?.error?.message), ev2.slice(-2));
  await stopServer(srv2, "stopped_now");

  // --- port in use
  const a = await startServer(bin, model, ["--ctx", "1024"]);
  const b = spawnSync(bin, ["serve", "-m", model, "--port", String(a.port)], { encoding: "utf8", timeout: 60000 });
  check("port_in_use_exit_1", b.status === 1 && /cannot listen on .*:\d+: Address already in use/.test(b.stderr), [b.status, b.stderr]);
  await stopServer(a, "port_owner");

  // --- usage errors and help
  const h = spawnSync(bin, ["serve", "--help"], { encoding: "utf8", timeout: 10000 });
  check("help", h.status === 0 && /--api-key/.test(h.stdout) && /--ctx/.test(h.stdout));
  for (const bad of [["--port", "70000"], ["--ctx", "x"], ["--nope"], []]) {
    const r = spawnSync(bin, ["serve", ...(bad.length ? ["-m", model] : []), ...bad], { encoding: "utf8", timeout: 10000 });
    check(`usage_error_${bad.join("_") || "no_model"}`, r.status === 2 && /onnxllm serve: /.test(r.stderr), [r.status, r.stderr]);
  }
  const nf = spawnSync(bin, ["serve", "-m", "/nonexistent/model"], { encoding: "utf8", timeout: 10000 });
  check("missing_model_exit_1", nf.status === 1 && /model folder not found/.test(nf.stderr), [nf.status, nf.stderr]);
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
summary("lifecycle");
