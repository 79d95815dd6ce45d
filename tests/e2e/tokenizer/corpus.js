// Deterministic test corpus for the tokenizer comparison: >= 2,000 strings covering
// scripts, emoji, whitespace, numbers, code, URLs, contractions, special tokens written
// in text and invalid UTF-8. Each entry is a Buffer (raw bytes, possibly invalid UTF-8).
'use strict';

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('the of and to in is you that it he was for on are as with his they at be this have ' +
  'from or one had by word but not what all were we when your can said there use an each which she ' +
  'do how their if will up other about out many then them these so some her would make like him into ' +
  'time has look two more write go see number no way could people my than first water been call who ' +
  'Tokenizer Hugging Face OpenTelemetry Kubernetes naïve café résumé coöperate façade São Paulo ' +
  'straße Ärger Œuvre İstanbul ŁÓDŹ Ωmega σοφία ΣΟΦΙΑ Москва привет мир').split(' ');
const CONTRACTIONS = ["don't", "I'm", "we'll", "they've", "she'd", "it's", "you're", "DON'T",
  "I'M", "WE'LL", "They'Re", "o'clock", "rock'n'roll", "'s", "'S", "'t", "'ll", "'ve", "'d", "'m",
  "'re", "can't", "won't", "ma'am", "y'all'd've", "'ſ"];
const SPECIALS = ['<|endoftext|>', '<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>',
  '<|start_header_id|>', '<|end_header_id|>', '<|im_start|>', '<|im_end|>', '<s>', '</s>', '<unk>',
  '<pad>', '<bos>', '<eos>', '<start_of_turn>', '<end_of_turn>', '<｜begin▁of▁sentence｜>',
  '<｜end▁of▁sentence｜>', '<|reserved_special_token_5|>', '<think>', '</think>', '<tool_call>',
  '<mask>', '<|fim_prefix|>', '<|box_start|>', '<|User|>', '<|Assistant|>', '<LSTRIP>', '<RSTRIP>',
  ' <LSTRIP> ', '  <RSTRIP>  ', '\t<BOTH>\n', 'word', 'words', 'a word.', 'Hello', 'HELLO'];
const SPACES = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n', '\n ', '\t\t', '\u00a0',
  '\u3000', '\u2009', '\u200b', '        ', '\n\n\n', ' \t \n', '\u2028', '\u000b', '\f'];
const EMOJI = ['😀', '👍', '👍🏽', '🎉', '❤️', '👨‍👩‍👧‍👦', '👩🏻‍💻', '🏳️‍🌈', '🇺🇸', '🇯🇵', '1️⃣', '#️⃣',
  '🧑‍🤝‍🧑', '😶‍🌫️', '🐈‍⬛', '👁️‍🗨️', '🤷‍♀️', '🙏🏿', '✈️', '©️', '™', '🦀', '🐍'];
const CJK = ['我们今天去北京大学', '東京都の天気は晴れです', 'ひらがなとカタカナ', 'カタカナテキスト',
  '한국어 텍스트입니다', '中华人民共和国', '漢字かな交じり文', '你好，世界！', '「こんにちは」', '㍿㌔',
  '日本語のテキスト、句読点。', '大模型推理服务器'];
const RTL = ['مرحبا بالعالم', 'שלום עולם', 'العربية 123 English', 'עברית, English; ١٢٣',
  'فارسی‌نویسی', 'اَلْعَرَبِيَّةُ'];
const OTHER_SCRIPTS = ['नमस्ते दुनिया', 'สวัสดีชาวโลก', 'გამარჯობა', 'Ελληνικά κείμενα', 'Ẓ̌ȧ̈l̤g̊o', 'ᚠᛇᚻ',
  'Tiếng Việt có dấu', 'ꦲꦤꦕꦫꦏ', 'ⲁⲃⲅ', 'Ɛʋe', 'ŉ ǆ ǈ', 'ﬁﬂ ﬀ', '①②③ ⅫⅣ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛'];
const COMBINING = ['e\u0301', 'a\u0308', 'n\u0303', 'A\u030a', '\u0065\u0301\u0302', 'Å', 'Å',
  'ﷺ', 'ḱ̷', 'o\u0336\u0337', '\u0301abc', '가\u11a8', '\u1100\u1161\u11a8', 'Ω', 'K', 'ǅ'];
const CODE = [
  'def f(x):\n    return x ** 2  # square\n',
  'int main(void) {\n\tprintf("%d\\n", 42);\n\treturn 0;\n}\n',
  '{"key": [1, 2.5e-3, null, true], "nested": {"a": "b"}}',
  'for (let i = 0; i < n; ++i) { sum += a[i] * b[i]; }',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;',
  '#include <vector>\nstd::vector<int32_t> ids{1, 2, 3};',
  'x = [i for i in range(10) if i % 2 == 0]\nprint(x)',
  '    if (a && b || !c) {\n        return;\n    }',
  '$ curl -s -X POST http://localhost:8000/v1/completions -d \'{"prompt": "hi"}\'',
  'fn main() { println!("{:?}", vec![1u8; 4]); }',
  '<div class="a">Hello &amp; welcome</div>',
  'a=1;b=2;c=a+b;;;', '    \n\t\tindented\n  \n'];
const URLS = ['https://example.com/path?q=1&r=two#frag', 'http://localhost:4318/v1/traces',
  'user.name+tag@example.co.uk', 'ftp://ftp.example.org/pub/file-1.2.3.tar.gz',
  'www.Hugging-Face.co/models?sort=downloads', 'file:///home/user/a%20b.txt', '192.168.0.1:8080',
  'git@github.com:org/repo.git'];

function pick(r, list) { return list[Math.floor(r() * list.length)]; }

function number(r) {
  const kind = Math.floor(r() * 8);
  const digits = (n) => { let s = ''; for (let i = 0; i < n; ++i) s += Math.floor(r() * 10); return s; };
  switch (kind) {
    case 0: return digits(1 + Math.floor(r() * 30));
    case 1: return digits(1 + Math.floor(r() * 4)) + '.' + digits(1 + Math.floor(r() * 6));
    case 2: return Number(digits(7)).toLocaleString('en-US');
    case 3: return '+1 (' + digits(3) + ') ' + digits(3) + '-' + digits(4);
    case 4: return '٣٤٥' + digits(2);
    case 5: return '１２３' + digits(3);
    case 6: return '2026-11-24T02:40:32Z';
    default: return '-' + digits(2) + 'e' + digits(2);
  }
}

function randomCodePoints(r, n) {
  const ranges = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x5ff],
    [0x600, 0x6ff], [0x900, 0x97f], [0xe00, 0xe5b], [0x1100, 0x11ff], [0x2000, 0x206f],
    [0x2100, 0x22ff], [0x2500, 0x25ff], [0x3000, 0x30ff], [0x4e00, 0x9fa5], [0xac00, 0xd7a3],
    [0xff00, 0xffef], [0x1f300, 0x1f64f], [0x1d400, 0x1d7ff]];
  let s = '';
  for (let i = 0; i < n; ++i) {
    const [lo, hi] = pick(r, ranges);
    s += String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
  }
  return s;
}

function fragment(r, specials) {
  const kind = Math.floor(r() * 14);
  switch (kind) {
    case 0: case 1: case 2: return pick(r, WORDS);
    case 3: return pick(r, CONTRACTIONS);
    case 4: return pick(r, SPACES);
    case 5: return number(r);
    case 6: return pick(r, EMOJI);
    case 7: return pick(r, CJK);
    case 8: return pick(r, RTL);
    case 9: return pick(r, OTHER_SCRIPTS);
    case 10: return pick(r, COMBINING);
    case 11: return specials ? pick(r, SPECIALS) : pick(r, WORDS);
    case 12: return pick(r, URLS);
    default: return pick(r, ['.', ',', '!', '?', '...', ' - ', '—', '"', '(', ')', ':', ';', '\'', '`',
      '!!', '?!', '«', '»', '…', '@', '#', '$', '%', '&', '*', '~', '^', '|']);
  }
}

// Random bytes around valid text: truncated sequences, stray continuation bytes,
// overlong forms, surrogates encoded in UTF-8, bytes above 0xF4.
function invalidUtf8(r) {
  const bad = [[0xff], [0xc0, 0xaf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80], [0xbf, 0x80],
    [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80],
    [0xfe, 0xfe], [0xc2, 0x41], [0xe3, 0x81, 0x41]];
  const parts = [];
  const n = 1 + Math.floor(r() * 5);
  for (let i = 0; i < n; ++i) {
    parts.push(Buffer.from(fragment(r, false), 'utf8'));
    parts.push(Buffer.from(pick(r, bad)));
  }
  return Buffer.concat(parts);
}

function makeCorpus() {
  const r = rng(20261124);
  const out = [];
  const add = (s) => out.push(Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
  // Fixed edge cases first.
  ['', ' ', '  ', '\n', '\r\n', '\t', 'a', ' a', 'a ', '  leading', 'trailing  ', 'Hello world',
    ' Hello world', 'Hello  world', 'Hello\n\nworld', "I'm don't we'll", "'s'S't", '1234567890',
    '12345678901234567890123', '3.14159', '<|endoftext|>', ' <|endoftext|> ', '<s></s>',
    '<s> hello </s>', 'x<|eot_id|>y', '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    '<bos><start_of_turn>user\nHi<end_of_turn>', '\u3000\u3000全角', 'e\u0301e\u0301', '▁', '▁▁x',
    '<0x41>', '<unk>', '<|reserved_special_token_250|>', String.fromCodePoint(0x1f468, 0x200d, 0x1f469),
    'ſ\'ſ', "'ſ", '\u00a0\u00a0nbsp', 'a\u0000b', '\u0001\u0002\u001f', '\ufeffBOM', '\u200d', '\ufffd'].forEach(add);
  // Single fragments of every kind.
  for (const list of [WORDS, CONTRACTIONS, SPACES, EMOJI, CJK, RTL, OTHER_SCRIPTS, COMBINING, CODE, URLS, SPECIALS]) {
    list.forEach(add);
  }
  // Mixed sentences of increasing length.
  for (let i = 0; i < 1500; ++i) {
    const n = 1 + Math.floor(r() * (i < 1000 ? 12 : 60));
    let s = '';
    for (let k = 0; k < n; ++k) {
      s += fragment(r, i % 3 === 0);
      if (r() < 0.6) s += ' ';
    }
    add(s);
  }
  for (let i = 0; i < 150; ++i) add(randomCodePoints(r, 1 + Math.floor(r() * 40)));
  for (let i = 0; i < 100; ++i) {
    let s = '';
    for (let k = 0; k < 1 + Math.floor(r() * 5); ++k) s += pick(r, CODE) + pick(r, SPACES);
    add(s);
  }
  for (let i = 0; i < 100; ++i) add(invalidUtf8(r));
  // Whitespace runs of every shape.
  for (let i = 0; i < 100; ++i) {
    let s = '';
    for (let k = 0; k < 1 + Math.floor(r() * 6); ++k) s += pick(r, SPACES) + (r() < 0.5 ? pick(r, WORDS) : '');
    add(s);
  }
  // A few long paragraphs.
  for (let i = 0; i < 10; ++i) {
    let s = '';
    for (let k = 0; k < 600; ++k) s += fragment(r, false) + ' ';
    add(s);
  }
  return out;
}

module.exports = { makeCorpus, rng, SPECIALS };
