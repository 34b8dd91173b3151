// agent_clis.mjs — the real agent CLIs against `onnxllm serve`, unchanged:
//   Claude Code (`claude -p … --model onnx-local`, ANTHROPIC_BASE_URL at the server;
//   its request is ~11k tokens with 12 tools, so --ctx 16384) — twice: the second
//   run's prompt must come mostly from the KV cache (its per-request billing header
//   is kept out of the prompt);
//   Codex CLI (`codex exec` with a model_providers entry, wire_api = "responses").
// Each must print the model's answer and exit 0. Everything stays on 127.0.0.1;
// telemetry / update checks are off; every process has a timeout.
//   node tests/server/agent_clis.mjs ONNXLLM MODEL_DIR
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { args, check, deadline, requireClient, root, startServer, stopServer, summary } from "./lib.mjs";

const [bin, model] = args;
deadline(420000, "agent_clis");
const TEXT = "Hello from onnxllm! Everything works.";
const srv = await startServer(bin, model, ["--ctx", "16384", "--test-output", TEXT]);
const tmp = mkdtempSync(path.join(tmpdir(), "onnxllm-agents-"));

function run(cmd, argv, { env, cwd, timeoutMs }) {
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => { p.kill("SIGKILL"); err += `\n(killed after ${timeoutMs} ms)`; }, timeoutMs);
    p.on("close", (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

const claudeBin = path.join(path.dirname(requireClient.resolve("@anthropic-ai/claude-code-linux-x64/package.json")), "claude");
const codexBin = path.join(path.dirname(requireClient.resolve("@openai/codex-linux-x64/package.json")), "vendor/x86_64-unknown-linux-musl/bin/codex");
const baseEnv = { PATH: "/usr/bin:/bin", LANG: "C.UTF-8", NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };

try {
  // --- Claude Code
  const home = path.join(tmp, "claude-home"), work = path.join(tmp, "work");
  mkdirSync(home, { recursive: true });
  mkdirSync(work, { recursive: true });
  const cenv = { ...baseEnv, HOME: home, ANTHROPIC_BASE_URL: srv.url, ANTHROPIC_API_KEY: "sk-local",
    DISABLE_AUTOUPDATER: "1", DISABLE_TELEMETRY: "1", DISABLE_ERROR_REPORTING: "1", DISABLE_BUG_COMMAND: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "0" };
  const logAt = srv.stderr.length;
  const c1 = await run(claudeBin, ["-p", "Say hi", "--model", "onnx-local"], { env: cenv, cwd: work, timeoutMs: 180000 });
  check("claude_exit_0", c1.code === 0, `code ${c1.code}\n${c1.err.slice(-2000)}`);
  check("claude_prints_answer", c1.out.trim() === TEXT, JSON.stringify(c1.out));
  const c2 = await run(claudeBin, ["-p", "Say hi again", "--model", "onnx-local"], { env: cenv, cwd: work, timeoutMs: 180000 });
  check("claude_second_run", c2.code === 0 && c2.out.trim() === TEXT, `code ${c2.code} ${JSON.stringify(c2.out)}\n${c2.err.slice(-1000)}`);
  const lines = srv.stderr.slice(logAt).split("\n").filter((l) => / POST \/v1\/messages 200 /.test(l));
  const nums = lines.map((l) => ({ prompt: +/prompt=(\d+)/.exec(l)?.[1], cached: +/cached=(\d+)/.exec(l)?.[1] }));
  check("claude_request_size", nums.length >= 2 && nums[0].prompt > 8000, nums);
  const last = nums[nums.length - 1] ?? { prompt: 1, cached: 0 };
  check("claude_prefix_reused", last.cached > 0.9 * last.prompt, nums);

  // --- Codex CLI
  const chome = path.join(tmp, "codex-home");
  mkdirSync(chome, { recursive: true });
  writeFileSync(path.join(chome, "config.toml"), `model = "onnx-local"
model_provider = "onnxllm"
[model_providers.onnxllm]
name = "onnxllm"
base_url = "${srv.url}/v1"
wire_api = "responses"
env_key = "ONNXLLM_API_KEY"
request_max_retries = 0
stream_max_retries = 0
[analytics]
enabled = false
`);
  const xenv = { ...baseEnv, HOME: chome, CODEX_HOME: chome, ONNXLLM_API_KEY: "sk-local" };
  const x = await run(codexBin, ["exec", "--skip-git-repo-check", "Say hi"], { env: xenv, cwd: work, timeoutMs: 180000 });
  check("codex_exit_0", x.code === 0, `code ${x.code}\n${x.err.slice(-2000)}`);
  check("codex_prints_answer", x.out.trim() === TEXT || x.out.includes(TEXT), JSON.stringify(x.out.slice(-500)));
  check("codex_used_responses", / POST \/v1\/responses 200 /.test(srv.stderr), srv.stderr.slice(-500));
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
await stopServer(srv);
rmSync(tmp, { recursive: true, force: true });
summary("agent_clis");
