// Engine throughput with 32 concurrent guided requests against 32 unguided ones on the same
// server: completion tokens per second over the wall time of each batch of requests.
//
//   LANTERN=build/lantern node bench/grammar/throughput.js MODEL_DIR [CONCURRENCY] [MAX_TOKENS]
//
// Guided requests follow a grammar of JSON strings in a list that never closes (so that,
// like the unguided ones, which ignore EOS, they generate MAX_TOKENS tokens each); inside a
// string most of the vocabulary is allowed, the mask's costly case.
'use strict';
const { spawn } = require('child_process');
const http = require('http');

const [model, concurrency = '32', maxTokens = '128'] = process.argv.slice(2);
const LANTERN = process.env.LANTERN || 'build/lantern';

function post(port, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/completions',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let out = '';
      res.on('data', (c) => { out += c; });
      res.on('end', () => resolve(JSON.parse(out)));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function batch(port, extra) {
  const start = process.hrtime.bigint();
  const replies = await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) =>
    post(port, { model: 'm', prompt: `Request ${i}: list some words.`, max_tokens: Number(maxTokens),
      temperature: 1, seed: i, ...extra })));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const tokens = replies.reduce((n, r) => n + r.usage.completion_tokens, 0);
  return { seconds, tokens, rate: tokens / seconds };
}

async function main() {
  const proc = spawn(LANTERN, ['serve', model, '--port', '0', '--served-model-name', 'm',
    '--max-num-seqs', concurrency, '--disable-log-requests'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise((resolve) => {
    let log = '';
    const on = (d) => { log += d; const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log); if (m) resolve(Number(m[1])); };
    proc.stdout.on('data', on);
    proc.stderr.on('data', on);
  });
  const guided = { guided_grammar: 'root ::= "[" ( str ", " )*\nstr ::= "\\"" [^"\\\\]* "\\""' };
  const plain = { ignore_eos: true };
  await batch(port, plain);   // warm-up
  await batch(port, guided);  // warm-up: the grammar's DFA and masks are built once
  const rows = [];
  for (let round = 0; round < 3; round++) {
    rows.push(['unguided', await batch(port, plain)]);
    rows.push(['guided', await batch(port, guided)]);
  }
  for (const [what, r] of rows) {
    console.log(`${what.padEnd(9)} ${r.tokens} tokens in ${r.seconds.toFixed(2)} s: ${r.rate.toFixed(1)} tokens/s`);
  }
  const mean = (w) => rows.filter(([x]) => x === w).reduce((s, [, r]) => s + r.rate, 0) / 3;
  console.log(`guided / unguided: ${(mean('guided') / mean('unguided')).toFixed(3)}`);
  proc.kill('SIGTERM');
}

main().catch((e) => { console.error(e); process.exit(1); });
