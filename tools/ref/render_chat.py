#!/usr/bin/env python3
"""render_chat.py — expected chat-template renderings with real Jinja2 (the reference).

Renders each case of tests/chat/template_cases.json with the chat_template of
tests/chat/models/<model>/tokenizer_config.json the way Hugging Face transformers'
apply_chat_template does (jinja2 ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks; eos_token from the config) and prints a JSON list of
{"name", "text"} or {"name", "error"}. The API-level `tools` of a case are first
turned into what a Phi-4 user passes by hand, as documented in onnxllm.h:
json.dumps([{"name", "description", "parameters"}]) on the first system
message (a new empty one first when there is none).

    python3 tools/ref/render_chat.py tests/chat > tests/chat/fixtures/template_expected.json
(needs python3-jinja2; tools/ref/render_chat.mjs cross-checks with @huggingface/jinja.)
"""
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment

base = sys.argv[1] if len(sys.argv) > 1 else "tests/chat"
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

def load(model):
    cfg = json.load(open(f"{base}/models/{model}/tokenizer_config.json"))
    eos = cfg.get("eos_token", "")
    if isinstance(eos, dict): eos = eos["content"]
    return env.from_string(cfg["chat_template"]), eos

def tool_def(t):
    f = t["function"] if isinstance(t.get("function"), dict) else t
    d = {"name": f["name"]}
    if "description" in f: d["description"] = f["description"]
    if "parameters" in f: d["parameters"] = f["parameters"]
    elif "input_schema" in f: d["parameters"] = f["input_schema"]
    return d

out = []
for c in json.load(open(f"{base}/template_cases.json")):
    msgs = [dict(m) if isinstance(m, dict) else m for m in c["messages"]]
    r = {"name": c["name"]}
    try:
        if c.get("tools"):
            if c["model"] != "phi4": raise ValueError("api: template without tool support")
            s = json.dumps([tool_def(t) for t in c["tools"]])
            sys_i = next((i for i, m in enumerate(msgs) if isinstance(m, dict) and m.get("role") == "system"), None)
            if sys_i is None: msgs.insert(0, {"role": "system", "content": "", "tools": s})
            elif msgs[sys_i].get("tools") is not None: raise ValueError("api: tools given twice")
            else: msgs[sys_i]["tools"] = s
        tmpl, eos = load(c["model"])
        r["text"] = tmpl.render(messages=msgs, add_generation_prompt=c["add_generation_prompt"], eos_token=eos)
    except Exception as e:
        r["error"] = f"{type(e).__name__}: {e}"
    out.append(r)
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
print()
