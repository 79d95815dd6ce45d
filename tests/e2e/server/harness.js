// Starts `lantern serve` on a free port for a test and stops it; small HTTP helpers.
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const assert = require('assert');

const LANTERN = process.env.LANTERN;
const MODEL = process.env.LANTERN_TEST_MODEL;
if (!LANTERN || !MODEL) throw new Error('LANTERN and LANTERN_TEST_MODEL must be set');

// Resolves with {proc, port, base, logs(), stop()} once the server logs that it serves.
// `memoryLimitKiB` runs it under `ulimit -v`, so that a regression that makes it grow
// without bound fails the test instead of taking the machine down.
function startServer(extraArgs = [], { model = MODEL, env = {}, memoryLimitKiB = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['serve', model, '--host', '127.0.0.1', '--port', '0',
      '--served-model-name', 'tiny', '--kv-cache-memory', '64MiB', ...extraArgs];
    const options = { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] };
    const proc = memoryLimitKiB
      ? spawn('/bin/sh', ['-c', `ulimit -v ${memoryLimitKiB} && exec "$0" "$@"`, LANTERN, ...args], options)
      : spawn(LANTERN, args, options);
    let log = '';
    let started = false;
    const onData = (data) => {
      log += data.toString();
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m && !started) {
        started = true;
        const port = Number(m[1]);
        resolve({
          proc, port, base: `http://127.0.0.1:${port}`,
          logs: () => log,
          stop: () => new Promise((res) => {
            if (proc.exitCode !== null) return res(proc.exitCode);
            proc.once('exit', (code) => res(code));
            proc.kill('SIGTERM');
          }),
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      if (!started) reject(new Error(`lantern serve exited with ${code} before serving:\n${log}`));
    });
    setTimeout(() => { if (!started) { proc.kill('SIGKILL'); reject(new Error('server start timed out:\n' + log)); } }, 60000);
  });
}

// One HTTP request; resolves {status, headers, body}.
function request(base, method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(url, {
      method, headers: { ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers },
    }, (res) => {
      let chunks = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { chunks += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: chunks }));
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// Value of one sample of /metrics, e.g. metric(text, 'lantern:kv_cache_blocks_used').
function metric(text, name) {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + '{') || line.startsWith(name + ' ')) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

async function waitFor(predicate, what, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting for ' + what);
}

// Runs named async tests in order; prints each and exits non-zero on the first failure.
async function run(tests) {
  let failed = 0;
  for (const [name, fn] of tests) {
    const start = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${Date.now() - start} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e && e.stack || e}`);
    }
  }
  return failed;
}

module.exports = { startServer, request, metric, waitFor, run, assert, MODEL };
