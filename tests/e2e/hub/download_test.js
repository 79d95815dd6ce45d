// `lantern download ORG/NAME` against the fake Hub: the cache layout huggingface_hub writes,
// only the files serving needs, a warm cache costing one revision lookup (none offline),
// --revision, --download-dir, sharded weights, the token sent to the Hub alone.
'use strict';
const fs = require('fs');
const path = require('path');
const { startHub, sandbox, lantern, checkCache, main, assert, NEEDED } = require('./hub_harness.js');

let hub;

function resolvedFiles() {
  return hub.hubRequests().filter((r) => r.url.includes('/resolve/'))
      .map((r) => decodeURIComponent(r.url.split('/resolve/')[1].split('/').slice(1).join('/')));
}

main([
  ['start the fake Hub', async () => { hub = await startHub(); }],
  ['downloads only what serving needs, in the Hugging Face cache layout', async () => {
    const box = sandbox(hub);
    try {
      const r = await lantern(['download', 'org/tiny'], box.env());
      assert.strictEqual(r.code, 0, r.out);
      const snapshot = checkCache(hub, box.cache, 'org/tiny');
      assert.strictEqual(r.stdout.trim(), snapshot, 'stdout is the snapshot path');
      assert.deepStrictEqual(resolvedFiles().sort(), NEEDED, 'files requested from the Hub');
      const api = hub.hubRequests().filter((r) => r.url.startsWith('/api/'));
      assert.deepStrictEqual(api.map((r) => r.url), ['/api/models/org/tiny/revision/main?blobs=true']);
      // The LFS file came from the storage host through the redirect, without a token.
      const lfs = hub.lfsRequests();
      assert.strictEqual(lfs.length, 1, JSON.stringify(lfs));
      assert.ok(hub.requests.every((x) => x.authorization === ''), 'no token, no Authorization');
      // Not a terminal: one line per file as it completes.
      for (const name of NEEDED) assert.match(r.stderr, new RegExp(`downloaded ${name.replace('.', '\\.')} \\(`));
      assert.strictEqual((r.stderr.match(/downloaded /g) || []).length, NEEDED.length, r.stderr);
    } finally {
      box.remove();
    }
  }],
  ['a warm cache costs one revision lookup, and HF_HUB_OFFLINE=1 none', async () => {
    const box = sandbox(hub);
    try {
      assert.strictEqual((await lantern(['download', 'org/tiny'], box.env())).code, 0);
      hub.requests.length = 0;
      const warm = await lantern(['download', 'org/tiny'], box.env());
      assert.strictEqual(warm.code, 0, warm.out);
      assert.deepStrictEqual(hub.requests.map((r) => r.url), ['/api/models/org/tiny/revision/main?blobs=true']);
      assert.match(warm.stderr, /is in the cache: nothing to download/);
      hub.requests.length = 0;
      const offline = await lantern(['download', 'org/tiny'], box.env({ HF_HUB_OFFLINE: '1' }));
      assert.strictEqual(offline.code, 0, offline.out);
      assert.strictEqual(offline.stdout, warm.stdout);
      assert.deepStrictEqual(hub.requests, [], 'no request offline');
    } finally {
      box.remove();
    }
  }],
  ['--revision (branch, tag, commit) and --download-dir', async () => {
    const box = sandbox(hub);
    try {
      const dir = path.join(box.root, 'models');
      const dev = await lantern(['download', 'org/tiny', '--revision', 'dev', '--download-dir', dir], box.env());
      assert.strictEqual(dev.code, 0, dev.out);
      const snapshot = checkCache(hub, dir, 'org/tiny', { ref: 'dev' });
      assert.ok(JSON.parse(fs.readFileSync(path.join(snapshot, 'config.json'), 'utf8'))._dev);
      assert.ok(!fs.existsSync(box.cache), 'nothing in the default cache');
      const tag = await lantern(['download', 'org/tiny', '--revision', 'v1', '--download-dir', dir], box.env());
      assert.strictEqual(tag.code, 0, tag.out);
      checkCache(hub, dir, 'org/tiny', { ref: 'v1' });
      const commit = hub.commitOf('org/tiny', 'main');
      hub.requests.length = 0;
      const byHash = await lantern(['download', 'org/tiny', '--revision', commit, '--download-dir', dir], box.env());
      assert.strictEqual(byHash.code, 0, byHash.out);
      assert.strictEqual(byHash.stdout.trim(), tag.stdout.trim(), 'v1 and its commit are one snapshot');
      assert.strictEqual(hub.lfsRequests().length, 0, 'the blobs of v1 served the commit');
    } finally {
      box.remove();
    }
  }],
  ['sharded safetensors: the index and the shards it names, nothing else', async () => {
    const box = sandbox(hub);
    try {
      const r = await lantern(['download', 'org/sharded'], box.env());
      assert.strictEqual(r.code, 0, r.out);
      checkCache(hub, box.cache, 'org/sharded', { files: [...NEEDED.filter((f) => f !== 'model.safetensors'),
        'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'] });
    } finally {
      box.remove();
    }
  }],
  ['HF_HUB_CACHE, and HF_TOKEN / the token file sent to the Hub only, never shown', async () => {
    for (const how of ['HF_TOKEN', 'token file']) {
      const box = sandbox(hub);
      try {
        hub.requests.length = 0;
        const token = 'hf_alice_can_read';
        const cache = path.join(box.root, 'hub-cache');
        const extra = { HF_HUB_CACHE: cache };
        if (how === 'HF_TOKEN') {
          extra.HF_TOKEN = token;
        } else {
          fs.mkdirSync(box.hfHome, { recursive: true });
          fs.writeFileSync(path.join(box.hfHome, 'token'), token + '\n');
        }
        const r = await lantern(['download', 'org/private'], box.env(extra));
        assert.strictEqual(r.code, 0, `${how}: ${r.out}`);
        checkCache(hub, cache, 'org/private');
        assert.ok(!r.out.includes(token), 'the token is not printed');
        assert.ok(hub.hubRequests().every((x) => x.authorization === `Bearer ${token}`), `${how}: token on every Hub request`);
        assert.ok(hub.lfsRequests().length > 0 && hub.lfsRequests().every((x) => x.authorization === ''),
            `${how}: never to the storage host`);
      } finally {
        box.remove();
      }
    }
  }],
  ['a renamed repo: the relative redirect keeps the token (same host)', async () => {
    const box = sandbox(hub);
    try {
      hub.requests.length = 0;
      const r = await lantern(['download', 'old-org/tiny'], box.env({ HF_TOKEN: 'hf_alice_can_read' }));
      assert.strictEqual(r.code, 0, r.out);
      const moved = hub.hubRequests().filter((x) => x.url.includes('/org/tiny/'));
      assert.ok(moved.length > 0 && moved.every((x) => x.authorization !== ''), JSON.stringify(hub.requests));
    } finally {
      box.remove();
    }
  }],
  ['stop the fake Hub', async () => { hub.close(); }],
]);
