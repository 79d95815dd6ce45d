// Errors of `lantern download` / `lantern serve` with a repo id: each names what is wrong
// and what to do, exits 1, and never shows the token.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startHub, sandbox, lantern, checkCache, main, assert } = require('./hub_harness.js');

let hub;

// Runs `lantern download ARGS`; expects exit 1 and an error matching every pattern.
async function expectError(args, env, patterns, { token } = {}) {
  const r = await lantern(['download', ...args], env);
  assert.strictEqual(r.code, 1, r.out);
  const error = /lantern download: error: ([\s\S]*)/.exec(r.stderr);
  assert.ok(error, r.out);
  for (const p of patterns) assert.match(error[1], p);
  if (token) assert.ok(!r.out.includes(token), 'the token is not printed: ' + r.out);
  return error[1];
}

async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

main([
  ['start the fake Hub', async () => { hub = await startHub(); }],
  ['a repo that does not exist (or is private, without a token)', async () => {
    const box = sandbox(hub);
    try {
      await expectError(['org/missing'], box.env(), [/model 'org\/missing' not found on http:\/\/127\.0\.0\.1:\d+ \(HTTP 401\)/, /set HF_TOKEN/]);
      await expectError(['org/private'], box.env(), [/not found/, /if the model is private, set HF_TOKEN/]);
      const token = 'hf_bob_no_access';
      await expectError(['org/private'], box.env({ HF_TOKEN: token }), [/HTTP 404/, /the token from HF_TOKEN cannot read it/], { token });
    } finally {
      box.remove();
    }
  }],
  ['a revision that does not exist', async () => {
    const box = sandbox(hub);
    try {
      await expectError(['org/tiny', '--revision', 'nope'], box.env(), [/revision 'nope' of org\/tiny not found/, /--revision/]);
    } finally {
      box.remove();
    }
  }],
  ['a gated model: accept the conditions, set HF_TOKEN', async () => {
    const box = sandbox(hub);
    try {
      await expectError(['org/gated'], box.env(), [/org\/gated is a gated model/, /accept its conditions at http:\/\/127\.0\.0\.1:\d+\/org\/gated/, /set HF_TOKEN/]);
      const token = 'hf_bob_no_access';
      await expectError(['org/gated'], box.env({ HF_TOKEN: token }), [/gated/, /the token from HF_TOKEN has no access/, /HTTP 403/], { token });
      const ok = await lantern(['download', 'org/gated'], box.env({ HF_TOKEN: 'hf_alice_can_read' }));
      assert.strictEqual(ok.code, 0, ok.out);
    } finally {
      box.remove();
    }
  }],
  ['a token the Hub does not know', async () => {
    const box = sandbox(hub);
    try {
      const token = 'hf_not_a_real_token_123';
      await expectError(['org/tiny'], box.env({ HF_TOKEN: token }), [/was refused/, /invalid credentials/, /HF_TOKEN/], { token });
    } finally {
      box.remove();
    }
  }],
  ['no network: names the endpoint, HF_HUB_OFFLINE=1 and the cache', async () => {
    const box = sandbox(hub);
    try {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      await expectError(['org/tiny'], box.env({ HF_ENDPOINT: endpoint }), [
        new RegExp(`cannot reach the Hugging Face Hub at ${endpoint.replace(/\./g, '\\.')}`),
        /HF_HUB_OFFLINE=1/, new RegExp(`cache: ${box.cache}`)]);
      // With the model in the cache, an unreachable Hub is a warning and the cache serves.
      assert.strictEqual((await lantern(['download', 'org/tiny'], box.env())).code, 0);
      const cached = await lantern(['download', 'org/tiny'], box.env({ HF_ENDPOINT: endpoint }));
      assert.strictEqual(cached.code, 0, cached.out);
      assert.match(cached.stderr, /cannot reach the Hugging Face Hub.*using the cached snapshot/);
      assert.strictEqual(cached.stdout.trim(), checkCache(hub, box.cache, 'org/tiny'));
    } finally {
      box.remove();
    }
  }],
  ['HF_HUB_OFFLINE=1 and the model not in the cache', async () => {
    const box = sandbox(hub);
    try {
      hub.requests.length = 0;
      await expectError(['org/tiny'], box.env({ HF_HUB_OFFLINE: '1' }), [/HF_HUB_OFFLINE is set/, /not in the local Hugging Face cache/,
        new RegExp(path.join(box.cache, 'models--org--tiny')), /lantern download org\/tiny/]);
      assert.deepStrictEqual(hub.requests, [], 'no request offline');
    } finally {
      box.remove();
    }
  }],
  ['lantern serve with a repo id says the same, before loading anything', async () => {
    const box = sandbox(hub);
    try {
      const r = await lantern(['serve', 'org/gated', '--port', '0'], box.env());
      assert.strictEqual(r.code, 1, r.out);
      assert.match(r.stderr, /lantern serve: error: org\/gated is a gated model/);
      assert.ok(!fs.existsSync(path.join(box.cache, 'models--org--gated', 'snapshots')));
    } finally {
      box.remove();
    }
  }],
  ['stop the fake Hub', async () => { hub.close(); }],
]);
