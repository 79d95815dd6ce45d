// Downloads that go wrong: a connection dropped halfway (resumed with Range), a stall past
// HF_HUB_DOWNLOAD_TIMEOUT (resumed), wrong bytes (sha256: fetched once more, then an error),
// a 503, a partial file left by a killed run (resumed, never mistaken for a whole one), and
// two downloads at once on a cold cache (the lock: each blob fetched once, both succeed).
'use strict';
const fs = require('fs');
const path = require('path');
const { startHub, sandbox, lantern, checkCache, main, assert } = require('./hub_harness.js');

let hub;
const WEIGHTS = 'model.safetensors';

function weightsEntry() {
  const commit = hub.repos.get('org/tiny').commits.get(hub.commitOf('org/tiny'));
  return commit.files[WEIGHTS];
}

function blobsDir(box) { return path.join(box.cache, 'models--org--tiny', 'blobs'); }

main([
  ['start the fake Hub', async () => { hub = await startHub(); }],
  ['a connection dropped halfway through a file is resumed with a Range request', async () => {
    const box = sandbox(hub);
    try {
      hub.requests.length = 0;
      const size = weightsEntry().size;
      hub.misbehave.push({ path: WEIGHTS, kind: 'drop', at: size >> 1, times: 1 });
      const r = await lantern(['download', 'org/tiny'], box.env());
      assert.strictEqual(r.code, 0, r.out);
      checkCache(hub, box.cache, 'org/tiny');
      const lfs = hub.lfsRequests();
      assert.strictEqual(lfs.length, 2, JSON.stringify(lfs));
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(lfs[1].range)[1]);
      assert.ok(resumedAt > 0 && resumedAt <= size >> 1, `resumed at ${resumedAt}`);
      assert.match(r.stderr, /download of model\.safetensors broke off .*resuming/);
    } finally {
      box.remove();
    }
  }],
  ['a stall longer than HF_HUB_DOWNLOAD_TIMEOUT is resumed', async () => {
    const box = sandbox(hub);
    try {
      hub.requests.length = 0;
      hub.misbehave.push({ path: WEIGHTS, kind: 'stall', at: 1 << 20, ms: 8000, times: 1 });
      const r = await lantern(['download', 'org/tiny'], box.env({ HF_HUB_DOWNLOAD_TIMEOUT: '1' }));
      assert.strictEqual(r.code, 0, r.out);
      checkCache(hub, box.cache, 'org/tiny');
      assert.strictEqual(hub.lfsRequests()[1].range, `bytes=${1 << 20}-`);
    } finally {
      box.remove();
    }
  }],
  ['a 503 from the storage host is retried', async () => {
    const box = sandbox(hub);
    try {
      hub.misbehave.push({ path: WEIGHTS, kind: 'status', code: 503, times: 1 });
      const r = await lantern(['download', 'org/tiny'], box.env());
      assert.strictEqual(r.code, 0, r.out);
      checkCache(hub, box.cache, 'org/tiny');
    } finally {
      box.remove();
    }
  }],
  ['wrong bytes once: removed and fetched once more', async () => {
    const box = sandbox(hub);
    try {
      hub.misbehave.push({ path: WEIGHTS, kind: 'corrupt', times: 1 });
      const r = await lantern(['download', 'org/tiny'], box.env());
      assert.strictEqual(r.code, 0, r.out);
      assert.match(r.stderr, /sha256 of model\.safetensors does not match.*fetching it once more/);
      checkCache(hub, box.cache, 'org/tiny');
    } finally {
      box.remove();
    }
  }],
  ['wrong bytes twice: an error, and nothing of the file left', async () => {
    const box = sandbox(hub);
    try {
      hub.misbehave.push({ path: WEIGHTS, kind: 'corrupt', times: 2 });
      const r = await lantern(['download', 'org/tiny'], box.env());
      assert.strictEqual(r.code, 1, r.out);
      assert.match(r.stderr, /error: sha256 of model\.safetensors is [0-9a-f]{64}, the Hub lists [0-9a-f]{64}, again after fetching it once more: the file was removed/);
      assert.deepStrictEqual(fs.readdirSync(blobsDir(box)).filter((b) => b.startsWith(weightsEntry().sha256)), []);
      const snapshot = path.join(box.cache, 'models--org--tiny', 'snapshots', hub.commitOf('org/tiny'));
      assert.ok(!fs.existsSync(path.join(snapshot, WEIGHTS)), 'no link to a bad file');
      assert.ok(!fs.existsSync(path.join(box.cache, 'models--org--tiny', 'refs', 'main')), 'no ref to an incomplete snapshot');
    } finally {
      box.remove();
    }
  }],
  ['a killed download leaves only a .incomplete file, and the next run resumes it', async () => {
    const box = sandbox(hub);
    try {
      hub.throttle = 16 * 1024;  // ~1.6 MB/s: the kill lands mid-file
      const partial = path.join(blobsDir(box), weightsEntry().sha256 + '.incomplete');
      const killed = await lantern(['download', 'org/tiny'], box.env(), {
        onStart: (proc) => {
          const timer = setInterval(() => {
            if (fs.existsSync(partial) && fs.statSync(partial).size > 1 << 20) {
              clearInterval(timer);
              proc.kill('SIGKILL');
            }
          }, 20);
        },
      });
      hub.throttle = 0;
      assert.strictEqual(killed.signal, 'SIGKILL', killed.out);
      const kept = fs.statSync(partial).size;
      assert.ok(kept > 0 && kept < weightsEntry().size);
      assert.ok(!fs.existsSync(path.join(blobsDir(box), weightsEntry().sha256)), 'no whole-looking blob');
      hub.requests.length = 0;
      const r = await lantern(['download', 'org/tiny'], box.env());
      assert.strictEqual(r.code, 0, r.out);
      checkCache(hub, box.cache, 'org/tiny');
      assert.deepStrictEqual(hub.lfsRequests().map((x) => x.range), [`bytes=${kept}-`]);
    } finally {
      hub.throttle = 0;
      box.remove();
    }
  }],
  ['two downloads at once on a cold cache: both succeed, each blob fetched once', async () => {
    const box = sandbox(hub);
    try {
      hub.requests.length = 0;
      hub.throttle = 64 * 1024;  // slow enough for the two runs to overlap
      const [a, b] = await Promise.all([lantern(['download', 'org/tiny'], box.env()), lantern(['download', 'org/tiny'], box.env())]);
      hub.throttle = 0;
      assert.strictEqual(a.code, 0, a.out);
      assert.strictEqual(b.code, 0, b.out);
      assert.strictEqual(a.stdout, b.stdout);
      checkCache(hub, box.cache, 'org/tiny');
      assert.strictEqual(hub.lfsRequests().length, 1, 'the weights were fetched once');
    } finally {
      hub.throttle = 0;
      box.remove();
    }
  }],
  ['stop the fake Hub', async () => { hub.close(); }],
]);
