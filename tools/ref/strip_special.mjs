// strip_special.mjs IN.json OUT.json — copy of a tokenizer.json without its special
// added tokens. When those tokens are also in model.vocab (GPT-4o, Phi-4-mini), HF
// encoding with this file equals HF encode_special_tokens=true with the original
// (special strings tokenized as text), which the Node binding cannot set.
import fs from 'node:fs';
const t = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
t.added_tokens = t.added_tokens.filter((a) => !a.special);
fs.writeFileSync(process.argv[3], JSON.stringify(t));
