// `make run` (scripts/run-default-model): with the Hub reachable it serves the Hub model
// (here the fake Hub's copy of the tiny model under SmolLM2's name); without it, it says so
// in one line and serves the bundled random model.
'use strict';
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const { request } = require('../server/harness.js');
const { FakeHub, readTree } = require('./fake_hub.js');
const { sandbox, main, assert, LANTERN, MODEL } = require('./hub_harness.js');

const SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'run-default-model');
const HUB_MODEL = 'HuggingFaceTB/SmolLM2-135M-Instruct';

// Runs the script until it serves; resolves {log, base}, then stops it.
function makeRun(env) {
  return new Promise((resolve, reject) => {
    const proc = spawn('bash', [SCRIPT, path.dirname(LANTERN)], { env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('make run did not serve:\n' + log)); }, 120000);
    const onData = async (d) => {
      log += d;
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m && timer) {
        clearTimeout(timer);
        proc.stdout.removeAllListeners('data');
        proc.stderr.removeAllListeners('data');
        const base = `http://127.0.0.1:${m[1]}`;
        const r = await request(base, 'POST', '/v1/chat/completions',
            { body: { model: 'default', max_tokens: 4, messages: [{ role: 'user', content: 'Hi' }] } });
        proc.once('exit', () => resolve({ log, status: r.status }));
        proc.kill('SIGTERM');
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); if (!/serving .* on http/.test(log)) reject(new Error(`exited ${code}:\n${log}`)); });
  });
}

async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

main([
  ['the Hub reachable: make run serves the Hub model', async () => {
    const hub = new FakeHub();
    hub.addRepo(HUB_MODEL, { main: readTree(MODEL) });
    await hub.start();
    const box = sandbox(hub);
    try {
      const { log, status } = await makeRun(box.env());
      assert.strictEqual(status, 200, log);
      assert.match(log, new RegExp(`make run: serving ${HUB_MODEL} \\(${box.cache}/models--HuggingFaceTB--SmolLM2-135M-Instruct/snapshots/`));
      assert.doesNotMatch(log, /bundled random model/);
    } finally {
      hub.close();
      box.remove();
    }
  }],
  ['the Hub unreachable: one line, then the bundled model', async () => {
    const box = sandbox(null);
    try {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const { log, status } = await makeRun(box.env({ HF_ENDPOINT: endpoint }));
      assert.strictEqual(status, 200, log);
      const lines = log.split('\n').filter((l) => /Hugging Face Hub|cannot be reached|make run:/.test(l) &&
        !/^make run: trace viewer at /.test(l));
      assert.strictEqual(lines.length, 1, 'one line about the Hub:\n' + log);
      assert.match(lines[0], new RegExp(`^make run: the Hugging Face Hub at ${endpoint.replace(/\./g, '\\.')} cannot be reached: .*; serving the bundled random model instead`));
      assert.match(log, /models\/default-opt/);
    } finally {
      box.remove();
    }
  }],
]);
