// server_deploy.mjs — what orchestrators and balancers need from `onnxllm serve`
// (docs/deploy.md): /livez 200 while /health is 503 (loading) and when ready;
// --drain-timeout bounds the drain (a stream longer than it is cut with an error event and
// the process still exits 0; a short one finishes); bad values are usage errors; the
// session key is echoed as x-session-id from each header and body source, in the order
// deploy/nginx/onnxllm.conf reads them, never when it cannot be a header value.
//   node tests/deploy/server_deploy.mjs ONNXLLM MODEL_DIR
import { spawnSync } from "node:child_process";
import { args, check, deadline, readSSE, sleep, startServer, stopServer, summary } from "../server/lib.mjs";

const [bin, model] = args;
deadline(240000, "server_deploy");

try {
  // --- liveness vs readiness while loading
  const srv = await startServer(bin, model, ["--ctx", "2048", "--drain-timeout", "1",
    "--test-output", Array.from({ length: 4000 }, (_, i) => `t${i}`).join(" ")], { wait: false });
  let live = null, health = null, liveReady = null;
  for (let i = 0; i < 4000; i++) {
    const h = await fetch(`${srv.url}/health`).catch(() => null);
    if (h && h.status === 503 && !live) {
      health = 503;
      const l = await fetch(`${srv.url}/livez`);
      live = { status: l.status, body: await l.json() };
    }
    if (h && h.status === 200) {
      const l = await fetch(`${srv.url}/livez`);
      liveReady = { status: l.status, body: await l.json() };
      break;
    }
    await sleep(5);
  }
  check("livez_200_while_loading", health === 503 && live?.status === 200 && live.body.state === "loading", live);
  check("livez_200_when_ready", liveReady?.status === 200 && liveReady.body.status === "alive" && liveReady.body.state === "ready", liveReady);

  // --- x-session-id: headers, then body fields, first source wins
  const post = (path, body, headers = {}) => fetch(`${srv.url}${path}`, {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
  });
  const msg = [{ role: "user", content: "hi" }];
  const cases = [
    ["x-session-id header", "/v1/chat/completions", { messages: msg, max_tokens: 1, user: "u1" }, { "x-session-id": "s-explicit", "X-Claude-Code-Session-Id": "cc" }, "s-explicit"],
    ["Claude Code header", "/v1/messages", { messages: msg, max_tokens: 1, metadata: { user_id: '{"session_id":"body"}' } }, { "X-Claude-Code-Session-Id": "a4ed6ff8-76cc", "session-id": "x" }, "a4ed6ff8-76cc"],
    ["Codex window header", "/v1/responses", { input: "hi", max_output_tokens: 1, prompt_cache_key: "pck" }, { "x-codex-window-id": "01a2:0", "session-id": "01a2" }, "01a2:0"],
    ["Codex session-id header", "/v1/responses", { input: "hi", max_output_tokens: 1 }, { "session-id": "01a2" }, "01a2"],
    ["prompt_cache_key", "/v1/responses", { input: "hi", max_output_tokens: 1, prompt_cache_key: "pck-1", user: "u" }, {}, "pck-1"],
    ["Claude Code metadata.user_id session_id", "/v1/messages", { messages: msg, max_tokens: 1, metadata: { user_id: '{"device_id":"d","session_id":"sess-9"}' } }, {}, "sess-9"],
    ["plain metadata.user_id", "/v1/messages", { messages: msg, max_tokens: 1, metadata: { user_id: "user-7" } }, {}, "user-7"],
    ["OpenAI user", "/v1/chat/completions", { messages: msg, max_tokens: 1, user: "alice" }, {}, "alice"],
    ["safety_identifier", "/v1/chat/completions", { messages: msg, max_tokens: 1, safety_identifier: "sid" }, {}, "sid"],
    ["completions user", "/v1/completions", { prompt: "hi", max_tokens: 1, user: "bob" }, {}, "bob"],
    ["streamed", "/v1/chat/completions", { messages: msg, max_tokens: 1, stream: true, user: "carol" }, {}, "carol"],
    ["count_tokens", "/v1/messages/count_tokens", { messages: msg, metadata: { user_id: "u-ct" } }, {}, "u-ct"],
    ["none", "/v1/chat/completions", { messages: msg, max_tokens: 1 }, {}, null],
    ["space in value: not echoed, next source", "/v1/chat/completions", { messages: msg, max_tokens: 1, user: "bad value" }, { "x-session-id": "ok-id" }, "ok-id"],
    ["unusable body value: none", "/v1/chat/completions", { messages: msg, max_tokens: 1, user: "x".repeat(200) }, {}, null],
    ["non-ASCII: next source", "/v1/chat/completions", { messages: msg, max_tokens: 1, prompt_cache_key: "café", user: "dave" }, {}, "dave"],
    ["not a string: next source", "/v1/chat/completions", { messages: msg, max_tokens: 1, prompt_cache_key: 5, user: "erin" }, {}, "erin"],
    ["error reply still echoes", "/v1/chat/completions", { messages: [], max_tokens: 1 }, { "x-session-id": "err-s" }, "err-s"],
  ];
  for (const [name, path, body, headers, want] of cases) {
    const r = await post(path, body, headers);
    await r.text();
    const got = r.headers.get("x-session-id");
    const okStatus = name.startsWith("error") ? r.status === 400 : r.status === 200;
    check(`session_${name.replace(/[^a-z0-9]+/gi, "_")}`, okStatus && got === want, { status: r.status, got, want });
  }

  // --- --drain-timeout 1: a stream longer than that is cut (error event), exit 0, promptly
  const res = await post("/v1/chat/completions", { messages: msg, stream: true, max_tokens: 1500 });
  const reader = res.body.getReader();
  let raw = new TextDecoder().decode((await reader.read()).value);
  const t0 = Date.now();
  srv.proc.kill("SIGTERM");
  for (;;) { const { done, value } = await reader.read().catch(() => ({ done: true })); if (done) break; raw += new TextDecoder().decode(value); }
  const ex = await srv.exitedPromise;
  const ms = Date.now() - t0;
  const ev = (await readSSE(new Response(raw))).events;
  const errEv = ev.find((e) => typeof e.data === "object" && e.data.error);
  check("drain_timeout_cuts_long_stream", errEv && /shutting down/.test(errEv.data.error.message), ev.slice(-2));
  check("drain_timeout_exit_0", ex.code === 0, ex);
  check("drain_timeout_bounded", ms >= 900 && ms < 8000, `${ms} ms (default grace is 10 s)`);
  await stopServer(srv, "drain1");

  // --- --drain-timeout 30: a short stream in progress finishes
  const srv2 = await startServer(bin, model, ["--ctx", "2048", "--drain-timeout", "30", "--test-output", Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ")]);
  const res2 = await fetch(`${srv2.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ messages: msg, stream: true }) });
  const reader2 = res2.body.getReader();
  let raw2 = new TextDecoder().decode((await reader2.read()).value);
  srv2.proc.kill("SIGTERM");
  for (;;) { const { done, value } = await reader2.read().catch(() => ({ done: true })); if (done) break; raw2 += new TextDecoder().decode(value); }
  const ev2 = (await readSSE(new Response(raw2))).events;
  const text = ev2.filter((e) => typeof e.data === "object").map((e) => e.data.choices?.[0]?.delta?.content ?? "").join("");
  check("drain_timeout_30_finishes", text.trim().endsWith("w29") && ev2[ev2.length - 1].data === "[DONE]", text.slice(-30));
  await stopServer(srv2, "drain30"); // exit 0, no sanitizer report

  // --- usage errors
  for (const bad of ["-1", "x", "90000", ""]) {
    const r = spawnSync(bin, ["serve", "-m", model, "--drain-timeout", bad], { encoding: "utf8", timeout: 10000 });
    check(`drain_timeout_usage_${bad || "empty"}`, r.status === 2 && /--drain-timeout/.test(r.stderr), [r.status, r.stderr]);
  }
  const h = spawnSync(bin, ["serve", "--help"], { encoding: "utf8", timeout: 10000 });
  check("help_mentions_drain_and_livez", h.status === 0 && /--drain-timeout S/.test(h.stdout) && /\/livez/.test(h.stdout));
} catch (e) {
  check("no_exception", false, e.stack || String(e));
}
summary("server_deploy");
