// `lantern serve ORG/NAME` through the fake Hub: it downloads, serves, and traces a
// `download` phase under lantern.startup; again with HF_HUB_OFFLINE=1 and the Hub gone, the
// cache alone serves (read back by lantern's cache lookup); two servers starting at once on
// a cold cache both serve; the token appears in no log line and no exported span.
'use strict';
const path = require('path');
const { spawn } = require('child_process');
const { startCollector, spans, waitForSpans, children, request } = require('../tracing/tracing_harness.js');
const { startHub, sandbox, checkCache, main, assert, LANTERN } = require('./hub_harness.js');

const TOKEN = 'hf_alice_can_read';
const PHASES = ['download', 'load_config', 'load_tokenizer', 'load_weights', 'init_kv_cache', 'warmup', 'listen'];
let hub;

// Starts `lantern serve MODEL`; resolves {proc, base, logs(), stop()} once it serves.
function serve(model, env, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(LANTERN, ['serve', model, '--host', '127.0.0.1', '--port', '0', '--served-model-name', 'tiny',
      '--kv-cache-memory', '16MiB', '--max-model-len', '256', '--disable-log-requests', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('start timed out:\n' + log)); }, 120000);
    const onData = (d) => {
      log += d;
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        proc.stdout.removeAllListeners('data');
        proc.stdout.on('data', (x) => { log += x; });
        proc.stderr.removeAllListeners('data');
        proc.stderr.on('data', (x) => { log += x; });
        resolve({ proc, base: `http://127.0.0.1:${m[1]}`, logs: () => log,
          stop: () => new Promise((res) => { proc.once('exit', res); proc.kill('SIGTERM'); }) });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}:\n${log}`)); });
  });
}

async function complete(server) {
  const r = await request(server.base, 'POST', '/v1/completions', { body: { model: 'tiny', prompt: 'Hello', max_tokens: 4 } });
  assert.strictEqual(r.status, 200, r.body);
  return r;
}

// The start-up trace's phases and the download span, once exported.
async function startupTrace(collector) {
  const all = await waitForSpans(collector.receiver, (found) => found.some((s) => s.name === 'lantern.startup') && found, 'lantern.startup');
  const root = all.find((s) => s.name === 'lantern.startup');
  const phases = children(all, root).sort((a, b) => (a.start < b.start ? -1 : 1));
  assert.deepStrictEqual(phases.map((s) => s.name), PHASES);
  return { all, download: phases[0] };
}

function attr(span, key) { return span.attrs[key] && span.attrs[key].value; }

main([
  ['start the fake Hub', async () => { hub = await startHub(); }],
  ['serve ORG/NAME downloads it, serves, and traces the download; offline, the cache alone serves', async () => {
    const box = sandbox(hub);
    let collector = await startCollector('grpc');
    try {
      const env = box.env({ ...collector.env, HF_TOKEN: TOKEN });
      let server = await serve('org/private', env, collector.args);
      await complete(server);
      assert.match(server.logs(), /downloaded model\.safetensors/);
      let { all, download } = await startupTrace(collector);
      assert.strictEqual(attr(download, 'lantern.download.repo_id'), 'org/private');
      assert.strictEqual(attr(download, 'lantern.download.commit'), hub.commitOf('org/private'));
      assert.strictEqual(attr(download, 'lantern.download.cache_hit'), false);
      assert.strictEqual(attr(download, 'lantern.download.fetched_files'), 7);
      assert.ok(attr(download, 'lantern.download.bytes') > 13e6);
      await server.stop();
      assert.ok(!server.logs().includes(TOKEN), 'no token in the logs');
      const exported = JSON.stringify(all, (k, v) => (typeof v === 'bigint' ? String(v) : v));
      assert.ok(!exported.includes(TOKEN), 'no token in a span');
      assert.ok(!exported.includes('X-Amz-Signature'), 'no signed URL in a span');
      checkCache(hub, box.cache, 'org/private');

      // Offline, with the Hub gone: the cache lookup finds what the download wrote.
      hub.close();
      collector.close();
      collector = await startCollector('grpc');
      server = await serve('org/private', box.env({ ...collector.env, HF_TOKEN: TOKEN, HF_HUB_OFFLINE: '1' }), collector.args);
      await complete(server);
      ({ all, download } = await startupTrace(collector));
      assert.strictEqual(attr(download, 'lantern.download.cache_hit'), true);
      assert.strictEqual(attr(download, 'lantern.download.offline'), true);
      assert.match(server.logs(), new RegExp(`model org/private at ${path.join(box.cache, 'models--org--private', 'snapshots')}`));
      await server.stop();
      assert.ok(!server.logs().includes(TOKEN));
    } finally {
      collector.close();
      box.remove();
    }
  }],
  ['two servers starting at once on a cold cache both serve', async () => {
    hub = await startHub();
    const box = sandbox(hub);
    try {
      hub.throttle = 64 * 1024;
      const servers = await Promise.all([serve('org/tiny', box.env()), serve('org/tiny', box.env())]);
      hub.throttle = 0;
      for (const s of servers) await complete(s);
      for (const s of servers) await s.stop();
      checkCache(hub, box.cache, 'org/tiny');
      assert.strictEqual(hub.lfsRequests().length, 1, 'the weights were fetched once');
    } finally {
      hub.throttle = 0;
      box.remove();
    }
  }],
  ['stop the fake Hub', async () => { hub.close(); }],
]);
