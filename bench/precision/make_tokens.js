#!/usr/bin/env node
// GPT-2 token ids of the licence texts Debian ships, for train_tiny_llama.py (training) and
// agreement.js (held out: MPL-2.0). Uses gpt-3-encoder from tests/node_modules.
//   node bench/precision/make_tokens.js OUT_DIR   -> OUT_DIR/train.json, OUT_DIR/held.json
'use strict';
const fs = require('fs');
const path = require('path');
const { encode } = require(path.join(__dirname, '../../tests/node_modules/gpt-3-encoder'));

const out = process.argv[2] || '.';
fs.mkdirSync(out, { recursive: true });
const dir = '/usr/share/common-licenses';
const EOT = 50256;
let train = [];
let held = [];
for (const name of fs.readdirSync(dir).sort()) {
  const file = path.join(dir, name);
  if (fs.lstatSync(file).isSymbolicLink()) continue;
  const ids = encode(fs.readFileSync(file, 'utf8'));
  if (name === 'MPL-2.0') held = ids;
  else train = train.concat(ids, [EOT]);
}
fs.writeFileSync(path.join(out, 'train.json'), JSON.stringify(train));
fs.writeFileSync(path.join(out, 'held.json'), JSON.stringify(held));
console.log(`train ${train.length} tokens, held out ${held.length}`);
