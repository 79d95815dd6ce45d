// Shared pieces of the Hub end-to-end suite: the fake Hub with the test repos (the tiny
// test model with decoys a server must not fetch, a sharded copy, private and gated
// copies), a clean environment per test (its own HOME and HF_HOME, no HF_* or OTEL_* of
// ours), `lantern` runs, and checks of the cache layout huggingface_hub writes.
'use strict';
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { FakeHub, readTree, sha256 } = require('./fake_hub.js');

const LANTERN = process.env.LANTERN;
const MODEL = process.env.LANTERN_TEST_MODEL;
if (!LANTERN || !MODEL) throw new Error('LANTERN and LANTERN_TEST_MODEL must be set');

// The files `lantern download` must fetch for the tiny model, and no others.
const NEEDED = ['config.json', 'generation_config.json', 'merges.txt', 'model.safetensors',
  'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json'].sort();
// What real repos also hold, which serving does not need.
const DECOYS = {
  'README.md': Buffer.from('# tiny\n'),
  '.gitattributes': Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n'),
  'pytorch_model.bin': crypto.randomBytes(4096),
  'model.gguf': crypto.randomBytes(2048),
  'onnx/model.onnx': crypto.randomBytes(2048),
  'original/consolidated.00.pth': crypto.randomBytes(2048),
  'original/params.json': Buffer.from('{}'),
  'assets/logo.png': crypto.randomBytes(1024),
};

// Splits a safetensors file in two shards plus the index that names them.
function shard(data) {
  const n = Number(data.readBigUInt64LE(0));
  const header = JSON.parse(data.subarray(8, 8 + n).toString());
  const body = data.subarray(8 + n);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const files = {};
  const weightMap = {};
  [names.slice(0, names.length >> 1), names.slice(names.length >> 1)].forEach((group, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const out = {};
    const parts = [];
    let offset = 0;
    for (const name of group) {
      const [begin, end] = header[name].data_offsets;
      out[name] = { ...header[name], data_offsets: [offset, offset + end - begin] };
      parts.push(body.subarray(begin, end));
      offset += end - begin;
      weightMap[name] = file;
    }
    const json = Buffer.from(JSON.stringify(out));
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(json.length));
    files[file] = Buffer.concat([size, json, ...parts]);
  });
  files['model.safetensors.index.json'] = Buffer.from(JSON.stringify(
      { metadata: { total_size: body.length }, weight_map: weightMap }, null, 1));
  return files;
}

function repoFiles() {
  const model = readTree(MODEL);
  const dev = { ...model, 'config.json': Buffer.from(model['config.json'].toString().replace('{', '{"_dev": true,')) };
  const { 'model.safetensors': weights, ...rest } = model;
  return { main: { ...model, ...DECOYS }, dev, sharded: { ...rest, ...shard(weights), ...DECOYS } };
}

// A fake Hub with org/tiny (main, dev, tag v1), org/sharded, org/private, org/gated and
// old-org/tiny (renamed to org/tiny).
async function startHub() {
  const files = repoFiles();
  const hub = new FakeHub();
  hub.addRepo('org/tiny', { main: files.main, v1: files.main, dev: files.dev }, { renamedFrom: 'old-org/tiny' });
  hub.addRepo('org/sharded', { main: files.sharded });
  hub.addRepo('org/private', { main: files.main }, { access: 'private' });
  hub.addRepo('org/gated', { main: files.main }, { access: 'gated' });
  return hub.start();
}

// A fresh home for one test: {root, home, hfHome, cache, env(extra)}.
function sandbox(hub) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-hub-e2e-'));
  const home = path.join(root, 'home');
  const hfHome = path.join(root, 'hf');
  fs.mkdirSync(home);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
    !k.startsWith('HF_') && !k.startsWith('HUGGING') && !k.startsWith('OTEL_') && k !== 'XDG_CACHE_HOME' &&
    k !== 'TRANSFORMERS_OFFLINE' && k !== 'TRACEPARENT'));
  return {
    root, home, hfHome, cache: path.join(hfHome, 'hub'),
    env: (extra = {}) => ({ ...base, HOME: home, HF_HOME: hfHome, ...(hub ? { HF_ENDPOINT: hub.endpoint } : {}), ...extra }),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

const children = new Set();
process.on('exit', () => children.forEach((p) => p.kill('SIGKILL')));

// Runs `lantern ARGS`; resolves {code, stdout, stderr, out} (out: both).
function lantern(args, env, { onStart } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(LANTERN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    if (onStart) onStart(proc);
    proc.on('close', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal, stdout, stderr, out: stdout + stderr });
    });
  });
}

// Checks the cache holds `files` of repo `id` at `commit` in huggingface_hub's layout:
// refs/<ref>, snapshot entries that are relative symlinks into blobs/, blobs named by git
// sha1 (sha256 for LFS files) whose contents are the Hub's. Returns the snapshot path.
function checkCache(hub, cache, id, { ref = 'main', files = NEEDED } = {}) {
  const repoDir = path.join(cache, 'models--' + id.replace('/', '--'));
  const commit = hub.commitOf(id, ref);
  assert.strictEqual(fs.readFileSync(path.join(repoDir, 'refs', ref), 'utf8'), commit, `refs/${ref}`);
  const snapshot = path.join(repoDir, 'snapshots', commit);
  const listed = [];
  const walk = (dir, prefix) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name), prefix + e.name + '/');
      else listed.push(prefix + e.name);
    }
  };
  walk(snapshot, '');
  assert.deepStrictEqual(listed.sort(), [...files].sort(), 'files in the snapshot');
  const commitFiles = hub.repos.get(id).commits.get(commit).files;
  for (const name of files) {
    const link = path.join(snapshot, name);
    const target = fs.readlinkSync(link);
    assert.ok(!path.isAbsolute(target) && target.startsWith('../'), `${name} -> ${target} is relative`);
    const entry = commitFiles[name];
    assert.strictEqual(path.basename(target), entry.sha256 || entry.blobId, `blob name of ${name}`);
    assert.strictEqual(path.resolve(path.dirname(link), target), path.join(repoDir, 'blobs', path.basename(target)));
    assert.strictEqual(sha256(fs.readFileSync(link)), sha256(entry.data), `contents of ${name}`);
  }
  const leftovers = fs.readdirSync(path.join(repoDir, 'blobs')).filter((b) => /incomplete|tmp/.test(b));
  assert.deepStrictEqual(leftovers, [], 'no partial files left in blobs/');
  return snapshot;
}

// Runs named async tests in order; exits non-zero when any failed.
async function main(tests) {
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
  process.exit(failed ? 1 : 0);
}

module.exports = { startHub, sandbox, lantern, checkCache, main, assert, NEEDED, DECOYS, LANTERN, MODEL };
