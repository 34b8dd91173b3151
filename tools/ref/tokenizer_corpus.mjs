// tokenizer_corpus.mjs OUT.jsonl — writes the tokenizer test corpus: one JSON string
// per line, deterministic (fixed-seed PRNG), ~3000 lines covering code in many
// languages, CJK/Arabic/Hebrew/Hindi/Thai/Cyrillic/Greek, emoji with ZWJ and skin
// tones, combining marks, whitespace runs and odd Unicode spaces, \r\n, long digit
// runs and Unicode digits, contractions in every case (incl. U+017F), special-token
// strings and near misses inside text, very long words, invalid-looking sequences.
import fs from 'node:fs';

let seed = 0x12345678;
const rnd = () => { // xorshift32
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

const code = [
  'int main(int argc, char **argv) {\n    printf("hello, %s\\n", argv[0]);\n    return 0;\n}',
  'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
  'const x = await fetch(`https://api.example.com/v1/items?id=${id}&q=${encodeURIComponent(q)}`);\nconsole.log(x?.status ?? -1);',
  'fn main() { let v: Vec<u32> = (0..10).map(|x| x * x).collect(); println!("{:?}", v); }',
  'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("héllo, 世界")\n}\n',
  'public static void main(String[] args) throws IOException { Map<String, List<Integer>> m = new HashMap<>(); }',
  'SELECT u.id, COUNT(*) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.created_at >= \'2024-01-01\' GROUP BY u.id HAVING n > 3;',
  '<!DOCTYPE html>\r\n<html lang="en">\r\n<head><meta charset="utf-8"><title>Test &amp; more</title></head>\r\n<body><p class="x">Hi</p></body>\r\n</html>\r\n',
  '#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do wc -l "$f" | awk \'{print $1}\'; done 2>/dev/null || echo "none"',
  '{"name": "onnxllm", "version": "0.1.0", "deps": {"cjson": ">=1.7"}, "list": [1, 2.5, -3e10, null, true]}',
  'server:\n  port: 8080\n  hosts:\n    - "a.example.com"\n    - b.example.com\n  tls: {enabled: false}\n',
  'main :: IO ()\nmain = mapM_ print $ takeWhile (< 100) $ map (^2) [1..]',
  '(defun fact (n) (if (<= n 1) 1 (* n (fact (- n 1)))))',
  'template<typename T> constexpr auto sq(T x) -> decltype(x*x) { return x*x; } // C++17',
  '    if (x != NULL && *x == \'\\0\') { x++; } /* comment */\t\t// trailing\n',
  '\\documentclass{article}\\begin{document}$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$\\end{document}',
  'matrix = [[1, 2, 3],\n          [4, 5, 6]]\nprint(f"{matrix[1][2]:>10.3f}")',
  'local t = {} for i=1,10 do t[#t+1] = i*i end print(table.concat(t, ","))',
  '<?php echo htmlspecialchars($_GET["q"] ?? "", ENT_QUOTES); ?>',
  'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT \'\');',
  'x := []int{1,2,3}; for i, v := range x { _ = i; _ = v }',
  'diff --git a/src/x.c b/src/x.c\n@@ -1,3 +1,4 @@\n-int a;\n+int a = 0;\n+int b;\n',
  'https://example.com/path/to/page.html?query=string&x=1#frag //comment /* x */',
  'C:\\Users\\Admin\\AppData\\Local\\Temp\\file_001.tmp',
  'regex: ^(?:[a-z0-9!#$%&\'*+/=?^_`{|}~-]+)@(?:[a-z0-9-]+\\.)+[a-z]{2,}$',
];
const prose = [
  'The quick brown fox jumps over the lazy dog.',
  "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
  "I'M SURE THEY'RE HERE, AREN'T THEY? WE'LL SEE; YOU'VE GOT IT, HAVEN'T YOU'D",
  "she'll they've we'd I'm you're it's don't can't won't shouldn't y'all o'clock rock'n'roll",
  "IT'S it'S iT's It'ſ it'ſ IT'Ll we'lL THEY'rE you'Ve I'M i'm I'D 'S 's 'T",
  "don’t it’s they’re (curly apostrophes are not contractions)",
  'HELLOWorld iPhone eBay McDonald\'s XMLHttpRequest getElementById ÉTAT ÉtatS ǅungla ǈubljana',
  'Mr. Smith paid $1,234,567.89 on 2024-03-15 at 10:30:00 UTC (+0.5%)!',
  'Numbers: 1 12 123 1234 12345 123456 1234567 12345678901234567890 3.14159265358979',
  '   leading spaces, trailing spaces   ',
  'tabs\there\t\tand\t\t\tthere\n\nnewlines\n\n\nand\r\nCRLF\r\n\r\nlines',
  'x  \n\n  y   ',
  'a!\n/b ?//\n x',
  '12345678 3.14159',
  'Ünïcödé wörds: naïve café résumé coöperate façade jalapeño São Paulo Ærøskøbing',
  'İstanbul ıi Iı Straße STRASSE ß ẞ ﬁ ﬂ ﬀ Ω Å K',
];
const scripts = [
  '你好，世界！这是一个测试。中文没有空格分词，所以很有意思。',
  '日本語のテキスト：ひらがな、カタカナ、漢字が混在しています。「引用」と『二重引用』。',
  '한국어 텍스트입니다. 띄어쓰기가 있습니다! 안녕하세요?',
  'مرحبا بالعالم! هذا نص عربي مع أرقام ١٢٣٤٥٦٧ وعلامات تشكيل: مُحَمَّد',
  'שלום עולם! זה טקסט בעברית עם ניקוד: שָׁלוֹם',
  'नमस्ते दुनिया! यह हिंदी पाठ है। संख्याएँ: १२३४५६',
  'สวัสดีชาวโลก นี่คือข้อความภาษาไทยที่ไม่มีช่องว่างระหว่างคำ',
  'Привет, мир! Это русский текст. ЁЛКА ёлка, Щука.',
  'Γειά σου Κόσμε! Ελληνικό κείμενο με τόνους: άέήίόύώ ΐΰ',
  'Tiếng Việt có dấu: Xin chào thế giới, ngữ pháp đơn giản.',
  'ქართული ენა — Հայերեն — አማርኛ — ᏣᎳᎩ — ᠮᠣᠩᠭᠣᠯ',
  'தமிழ் తెలుగు ಕನ್ನಡ മലയാളം ગુજરાતી ਪੰਜਾਬੀ বাংলা ଓଡ଼ିଆ සිංහල',
  'ཀ་ཁ་ག། မြန်မာ ខ្មែរ ລາວ',
];
const emoji = [
  'Family: 👨‍👩‍👧‍👦 couple: 👩‍❤️‍💋‍👨 flags: 🇺🇸🇯🇵🇩🇪 🏴󠁧󠁢󠁳󠁣󠁴󠁿',
  'Skin tones: 👍🏻👍🏼👍🏽👍🏾👍🏿 🧑🏽‍💻 👩🏿‍🚀 keycaps 1️⃣ #️⃣ *️⃣',
  'Mixed 😀😃😄😁😆😅🤣😂🙂🙃😉 text 🎉🎊 ❤️ ♥ ☺️ ✔️ ©️ ®️ ™',
  '🏳️‍🌈 🏳️‍⚧️ 🐻‍❄️ ❤️‍🔥 🫠🫡🫥 🪿 𝕳𝖊𝖑𝖑𝖔 𝓦𝓸𝓻𝓵𝓭 𝟙𝟚𝟛',
];
const combining = [
  'e\u0301 vs \u00e9; n\u0303 vs \u00f1; A\u030a vs \u00c5 vs \u212b',
  'Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333',
  '\u0915\u094d\u0937 \u0e01\u0e34\u0e4a \u05e9\u05c1\u05b8 \u1100\u1161\u11a8 (conjoining jamo) \u0301leading mark',
  'ḍ̇ q̣̇ ǭ ȫ ṩ x̴̢͙ ͅ a\u200db\u200cc\u2060d',
];
const spaces = ['\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007',
  '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u0085', '\u000b', '\u000c',
  '\u200b', '\ufeff', '\u180e', '\u001c', '\u001d', '\u001e', '\u001f', '\t', '\n', '\r', ' ', '\r\n'];
const specials = ['<|endoftext|>', '<|endofprompt|>', '<|end|>', '<|user|>', '<|assistant|>', '<|system|>',
  '<|tool|>', '<|/tool|>', '<|tool_call|>', '<|/tool_call|>', '<|tool_response|>', '<|tag|>',
  '<s>', '</s>', '<unk>', '<pad>', '<bos>', '<eos>', '<start_of_turn>', '<end_of_turn>', '<mask>', '<unused0>', '<unused99>',
  '<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_5|>',
  '<|im_start|>', '<|im_end|>', '<tool_call>', '</tool_call>', '<think>', '</think>', '<|fim_prefix|>', '<|file_sep|>',
  '<|END|>', '<|end|', '|end|>', '<||>', '< |end|>', '<<|end|>>', '<|endoftext|><|endoftext|>'];
const digits = ['0123456789', '٠١٢٣٤٥٦٧٨٩', '۰۱۲۳۴۵۶۷۸۹', '０１２３４５６７８９', '¹²³⁴⁵', '½¾⅓⅞', 'ⅠⅡⅢⅫ', '①②③', '𝟎𝟏𝟐', '߀߁߂'];
const odd = ['\u0000', '\u0001', '\u007f', '\u0080', '\u009f', '\ufffd', '\uffff', '\ufffe', '\u{10ffff}', '\u{e0001}',
  '\u{1f600}', '\u{20000}', '\u{2ebe0}', '\u{f0000}', '\u00ad', '\u0600', '\u06dd', '\u{110bd}'];
const words = ['the', 'of', 'and', 'to', 'in', 'is', 'you', 'that', 'it', 'he', 'was', 'for', 'on', 'are', 'as',
  'with', 'his', 'they', 'I', 'at', 'be', 'this', 'have', 'from', 'or', 'one', 'had', 'by', 'word', 'but', 'not',
  'what', 'all', 'were', 'we', 'when', 'your', 'can', 'said', 'there', 'use', 'an', 'each', 'which', 'she', 'do',
  'tokenization', 'internationalization', 'antidisestablishmentarianism', 'Pneumonoultramicroscopicsilicovolcanoconiosis',
  'function', 'return', 'undefined', 'null', 'self', 'println', 'std::vector', '__init__', 'CamelCaseWord', 'snake_case_word'];

const lines = [];
const all = [code, prose, scripts, emoji, combining];
for (const group of all) for (const s of group) lines.push(s);
for (const s of specials) { lines.push(s); lines.push(`x ${s} y`); lines.push(`Hello${s}world`); lines.push(` ${s}\n${s} `); }
for (const d of digits) { lines.push(d); lines.push(d.repeat(3) + ' ' + d.slice(0, 4)); }
for (const sp of spaces) { lines.push(`a${sp}b`); lines.push(`a${sp}${sp}${sp}b`); lines.push(`${sp}x${sp}`); lines.push(`word${sp}\n${sp}word`); }
for (const o of odd) { lines.push(`x${o}y`); lines.push(o); }
lines.push('', ' ', '  ', '\n', '\r\n', '\t', '\n\n\n', ' \n ', 'a', 'A', "'", "'s", '\u017f');
// very long words and runs
lines.push('a'.repeat(1000), 'ab'.repeat(700), 'x'.repeat(5000), '9'.repeat(1001), ' '.repeat(300) + 'x',
  '\n'.repeat(200), '=-'.repeat(400), 'ü'.repeat(500), '字'.repeat(700), '😀'.repeat(150),
  'Supercalifragilisticexpialidocious'.repeat(30), words.join('').repeat(5));

// random mixtures
const fragments = () => {
  switch (int(0, 11)) {
  case 0: return pick(code);
  case 1: return pick(prose);
  case 2: return pick(scripts);
  case 3: return pick(emoji);
  case 4: return pick(combining);
  case 5: return pick(spaces).repeat(int(1, 4));
  case 6: return pick(specials);
  case 7: { const d = pick(digits); let s = ''; for (let i = int(1, 12); i > 0; i--) s += pick([...d]); return s; }
  case 8: return pick(odd);
  case 9: { let s = ''; for (let i = int(1, 12); i > 0; i--) s += (rnd() < 0.8 ? ' ' : pick(spaces)) + (rnd() < 0.2 ? pick(words).toUpperCase() : pick(words)); return s; }
  case 10: return pick(["'s", "'S", "'t", "'re", "'RE", "'Ve", "'m", "'ll", "'LL", "'d", "'D", "'ſ", '’s', "''"]);
  default: { // random code points from assorted blocks
    const blocks = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f],
      [0xe00, 0xe7f], [0x1100, 0x11ff], [0x1e00, 0x1eff], [0x2000, 0x206f], [0x2100, 0x22ff], [0x3000, 0x30ff],
      [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xfb00, 0xfdff], [0xfe00, 0xffef], [0x1f300, 0x1faff], [0x10000, 0x1ffff], [0x0, 0x1f]];
    let s = '';
    for (let i = int(1, 10); i > 0; i--) { const b = pick(blocks); s += String.fromCodePoint(int(b[0], b[1])); }
    return s;
  }
  }
};
const target = 3000;
while (lines.length < target) {
  let s = '';
  for (let i = int(1, 6); i > 0; i--) s += fragments() + (rnd() < 0.5 ? ' ' : '');
  lines.push(s);
}
fs.writeFileSync(process.argv[2], lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
