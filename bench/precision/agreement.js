#!/usr/bin/env node
// Top-1 agreement of lantern's reduced-precision weights with its own F32 run.
//
// For each configuration (F32, BF16, F16 or int8 weights, F32 or 16-bit KV cache) it serves
// MODEL, scores held-out text with `echo` + `max_tokens: 0` + `logprobs: 1` (the top token
// at every prompt position, as token ids), and counts the positions whose top-1 token equals
// the F32 run's. Also prints each run's accuracy against the text's real next token, which
// says whether the model's distributions are peaked enough for the comparison to mean
// something (train_tiny_llama.py makes such a model).
//
//   node bench/precision/agreement.js --lantern build/src/cli/lantern --model DIR \
//        --tokens held.json [--window 256] [--configs "float32/float32,bfloat16/float32,int8/bfloat16"]
// (each config is WEIGHTS/KV-CACHE types; the first is the baseline)
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const LANTERN = arg('--lantern', 'build/src/cli/lantern');
const MODEL = arg('--model');
const TOKENS = JSON.parse(fs.readFileSync(arg('--tokens'), 'utf8'));
const WINDOW = Number(arg('--window', '256'));
const CONFIGS = arg('--configs', 'float32/float32,bfloat16/float32,float16/float32,int8/float32,' +
  'float32/bfloat16,float32/float16,bfloat16/bfloat16,int8/bfloat16').split(',');

function serve(extra) {
  return new Promise((resolve, reject) => {
    const proc = spawn(LANTERN, ['serve', MODEL, '--host', '127.0.0.1', '--port', '0',
      '--served-model-name', 'm', '--no-enable-prefix-caching', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const onData = (d) => {
      log += d;
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m) { proc.stdout.removeAllListeners('data'); proc.stderr.removeAllListeners('data'); resolve({ proc, port: Number(m[1]) }); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`lantern exited ${code}:\n${log}`)));
  });
}

function post(port, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/completions', method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(text))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

// The top-1 token id at each position 1..n-1 of every window (position i predicts token i).
async function topTokens(port) {
  const top = [];
  for (let start = 0; start + WINDOW <= TOKENS.length; start += WINDOW) {
    const prompt = TOKENS.slice(start, start + WINDOW);
    const r = await post(port, { model: 'm', prompt, echo: true, max_tokens: 0, logprobs: 1,
      return_tokens_as_token_ids: true });
    const tops = r.choices[0].logprobs.top_logprobs;
    for (let i = 1; i < prompt.length; ++i) {
      // top_logprobs[i] is the distribution that predicted prompt token i (entry 0 is null).
      const best = Object.entries(tops[i] || {}).sort((a, b) => b[1] - a[1])[0];
      top.push(best ? Number(best[0].replace('token_id:', '')) : -1);
    }
  }
  return top;
}

function truth() {
  const next = [];
  for (let start = 0; start + WINDOW <= TOKENS.length; start += WINDOW) {
    for (let i = 1; i < WINDOW; ++i) next.push(TOKENS[start + i]);
  }
  return next;
}

(async () => {
  const results = {};
  for (const config of CONFIGS) {
    // WEIGHTS/KV: weights float32|bfloat16|float16|int8 (int8 on float32), KV-cache type.
    const [weights, kv = 'float32'] = config.split('/');
    const extra = weights === 'int8' ? ['--dtype', 'float32', '--quantization', 'int8']
      : ['--dtype', weights];
    extra.push('--kv-cache-dtype', kv);
    const server = await serve(extra);
    try {
      results[config] = await topTokens(server.port);
    } finally {
      server.proc.kill('SIGTERM');
    }
  }
  const next = truth();
  const base = results[CONFIGS[0]];
  for (const config of CONFIGS) {
    const top = results[config];
    const agree = top.filter((t, i) => t === base[i]).length;
    const correct = top.filter((t, i) => t === next[i]).length;
    console.log(`${config.padEnd(18)} positions ${top.length}  top-1 = ${CONFIGS[0]}'s: ` +
      `${(100 * agree / top.length).toFixed(2)}%  next-token accuracy ${(100 * correct / top.length).toFixed(2)}%`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
