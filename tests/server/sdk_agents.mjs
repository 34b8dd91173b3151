// sdk_agents.mjs — agent frameworks that drive the tool loop themselves, against
// `onnxllm serve`: the OpenAI Agents SDK (@openai/agents; Responses API, then Chat
// Completions) and the Vercel AI SDK (`ai` + @ai-sdk/openai-compatible; generateText
// with a tool, streamText). Each run must call the tool with the model's arguments,
// send the result back, and finish with the model's text.
//   node tests/server/sdk_agents.mjs ONNXLLM MODEL_DIR
// Test mode answers requests in turn: a call, then text (the agent loop's order).
import { args, check, deadline, requireClient, startServer, stopServer, summary } from "./lib.mjs";

const [bin, model] = args;
deadline(240000, "sdk_agents");
const agents = await import(requireClient.resolve("@openai/agents"));
const core = await import(requireClient.resolve("@openai/agents-core"));
const OpenAI = (await import(requireClient.resolve("openai"))).default;
const ai = await import(requireClient.resolve("ai"));
const { createOpenAICompatible } = await import(requireClient.resolve("@ai-sdk/openai-compatible"));
const { z } = await import(requireClient.resolve("zod"));

const TEXT = "It is 21 degrees in Paris.";
const CALL = `<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]<|/tool_call|>`;
const srv = await startServer(bin, model, ["--ctx", "4096", "--test-output", CALL, "--test-output", TEXT]);
const client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "none", timeout: 60000, maxRetries: 0 });
core.setTracingDisabled(true);

try {
  for (const api of ["responses", "chat_completions"]) {
    const calls = [];
    const getWeather = agents.tool({
      name: "get_weather", description: "Current weather in a city",
      parameters: z.object({ city: z.string(), unit: z.string() }),
      execute: async ({ city, unit }) => { calls.push({ city, unit }); return `21 ${unit} in ${city}`; },
    });
    const m = api === "responses" ? new agents.OpenAIResponsesModel(client, "onnx-local") : new agents.OpenAIChatCompletionsModel(client, "onnx-local");
    const agent = new agents.Agent({ name: "weather", instructions: "Answer with the weather.", model: m, tools: [getWeather] });
    const result = await agents.run(agent, "What is the weather in Paris?", { maxTurns: 4 });
    check(`agents_${api}_tool_called`, calls.length === 1 && calls[0].city === "Paris" && calls[0].unit === "celsius", calls);
    check(`agents_${api}_final`, result.finalOutput === TEXT, result.finalOutput);
  }

  const provider = createOpenAICompatible({ name: "onnxllm", baseURL: `${srv.url}/v1`, apiKey: "none", includeUsage: true });
  const seen = [];
  const r = await ai.generateText({
    model: provider("onnx-local"), prompt: "What is the weather in Paris?", maxRetries: 0,
    tools: { get_weather: ai.tool({ description: "Current weather", inputSchema: z.object({ city: z.string(), unit: z.string() }), execute: async (a) => { seen.push(a); return { temp: 21 }; } }) },
    stopWhen: ai.stepCountIs(3),
  });
  check("ai_sdk_tool_called", seen.length === 1 && seen[0].city === "Paris", seen);
  check("ai_sdk_text", r.text === TEXT && r.steps.length === 2, { text: r.text, steps: r.steps.length });
  check("ai_sdk_usage", r.totalUsage.inputTokens > 10 && r.totalUsage.outputTokens > 5, r.totalUsage);

  const seen2 = [];
  const st = ai.streamText({
    model: provider("onnx-local"), prompt: "What is the weather in Paris?", maxRetries: 0,
    tools: { get_weather: ai.tool({ description: "Current weather", inputSchema: z.object({ city: z.string(), unit: z.string() }), execute: async (a) => { seen2.push(a); return { temp: 21 }; } }) },
    stopWhen: ai.stepCountIs(3),
  });
  let streamed = "";
  for await (const t of st.textStream) streamed += t;
  check("ai_sdk_stream", streamed === TEXT && seen2.length === 1 && seen2[0].unit === "celsius", { streamed, seen2 });
} catch (e) {
  check("unexpected_exception", false, e.stack || String(e));
}
await stopServer(srv);
summary("sdk_agents");
