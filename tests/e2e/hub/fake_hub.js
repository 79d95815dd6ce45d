// A fake Hugging Face Hub for the tests: it serves model repos built from local folders as
// the real Hub answers (the API JSON with ?blobs=true, /resolve/ with ETag, X-Repo-Commit,
// LFS files redirected with X-Linked-Etag/X-Linked-Size to a signed URL on a second port,
// Range requests, the Hub's X-Error-Code errors for private, gated and missing repos) and
// misbehaves on request: a connection dropped halfway, wrong bytes, a stall, an error status.
// Every request is recorded (port, path, Range, whether it carried Authorization).
//
//   node fake_hub.js DIR [ORG/NAME]   serves DIR as ORG/NAME (default org/tiny), for manual use
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const LFS_PATTERN = /\.(safetensors|bin|pth|pt|gguf|onnx|png|msgpack|h5)$/;
const sha1 = (b) => crypto.createHash('sha1').update(b).digest('hex');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const gitBlobId = (b) => sha1(Buffer.concat([Buffer.from(`blob ${b.length}\0`), b]));

// Reads a folder into {relative path: Buffer}.
function readTree(dir, prefix = '') {
  const files = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) Object.assign(files, readTree(path.join(dir, entry.name), rel + '/'));
    else files[rel] = fs.readFileSync(path.join(dir, entry.name));
  }
  return files;
}

// One commit of a repo: its files with the metadata the Hub lists.
function makeCommit(files) {
  const entries = {};
  const digest = crypto.createHash('sha1');
  for (const name of Object.keys(files).sort()) {
    const data = files[name];
    const entry = { data, size: data.length };
    if (LFS_PATTERN.test(name)) {
      entry.sha256 = sha256(data);
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${entry.sha256}\nsize ${data.length}\n`;
      entry.blobId = gitBlobId(Buffer.from(pointer));
      entry.pointerSize = pointer.length;
    } else {
      entry.blobId = gitBlobId(data);
    }
    entries[name] = entry;
    digest.update(name).update(entry.blobId);
  }
  return { sha: digest.digest('hex'), files: entries };
}

class FakeHub {
  constructor() {
    this.repos = new Map();   // id -> {commits: Map(sha -> commit), refs: {name: sha}, access}
    this.blobs = new Map();   // sha256 -> {data, path}
    this.tokens = new Map([['hf_alice_can_read', 'alice'], ['hf_bob_no_access', 'bob']]);
    this.requests = [];
    this.misbehave = [];      // {path, kind: drop|corrupt|stall|status, at, ms, code, times}
    this.throttle = 0;        // bytes per 10 ms on LFS downloads (0: as fast as possible)
  }

  // `revisions`: {branch or tag: {path: Buffer}}; `access`: 'public' | 'private' | 'gated'
  // (alice's token reads private and gated repos, bob's reads neither).
  addRepo(id, revisions, { access = 'public', renamedFrom } = {}) {
    const repo = { commits: new Map(), refs: {}, access };
    for (const [ref, files] of Object.entries(revisions)) {
      const commit = makeCommit(files);
      repo.commits.set(commit.sha, commit);
      repo.refs[ref] = commit.sha;
      for (const [name, f] of Object.entries(commit.files)) {
        if (f.sha256) this.blobs.set(f.sha256, { data: f.data, path: name });
      }
    }
    this.repos.set(id, repo);
    if (renamedFrom) this.repos.set(renamedFrom, { movedTo: id });
    return repo;
  }

  commitOf(id, ref = 'main') { return this.repos.get(id).refs[ref]; }
  hubRequests() { return this.requests.filter((r) => r.port === 'hub'); }
  lfsRequests() { return this.requests.filter((r) => r.port === 'lfs'); }

  async start() {
    this.hub = http.createServer((req, res) => this.onHub(req, res));
    this.lfs = http.createServer((req, res) => this.onLfs(req, res));
    for (const server of [this.hub, this.lfs]) {
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    this.endpoint = `http://127.0.0.1:${this.hub.address().port}`;
    this.lfsBase = `http://127.0.0.1:${this.lfs.address().port}`;
    return this;
  }

  close() {
    for (const server of [this.hub, this.lfs]) {
      if (server) { server.closeAllConnections(); server.close(); }
    }
  }

  record(port, req) {
    this.requests.push({ port, method: req.method, url: req.url, range: req.headers.range || '',
      authorization: req.headers.authorization || '' });
  }

  // The first matching misbehaviour, used up once.
  take(file) {
    const m = this.misbehave.find((x) => x.path === file && (x.times === undefined || x.times > 0));
    if (m && m.times !== undefined) m.times--;
    return m;
  }

  // The Hub's verdict on who may read `repo`: null (allowed) or [status, code, message].
  deny(id, repo, req, forFile) {
    const auth = req.headers.authorization || '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (token && !this.tokens.has(token)) return [401, null, 'Invalid credentials in Authorization header'];
    const user = this.tokens.get(token);
    if (!repo || (repo.access === 'private' && user !== 'alice')) {
      return [user ? 404 : 401, 'RepoNotFound', 'Repository not found'];
    }
    if (repo.access === 'gated' && forFile && user !== 'alice') {
      return user
        ? [403, 'GatedRepo', `Access to model ${id} is restricted and you are not in the authorized list. Visit ${this.endpoint}/${id} to ask for access.`]
        : [401, 'GatedRepo', `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`];
    }
    return null;
  }

  fail(res, [status, code, message]) {
    const headers = { 'Content-Type': 'application/json', 'X-Error-Message': message };
    if (code) headers['X-Error-Code'] = code;
    res.writeHead(status, headers);
    res.end(JSON.stringify({ error: message }));
  }

  onHub(req, res) {
    this.record('hub', req);
    const url = new URL(req.url, this.endpoint);
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const api = parts[0] === 'api' && parts[1] === 'models';
    const id = api ? `${parts[2]}/${parts[3]}` : `${parts[0]}/${parts[1]}`;
    const rest = api ? parts.slice(4) : parts.slice(2);
    const repo = this.repos.get(id);
    if (repo && repo.movedTo) {  // a renamed repo: a relative redirect, as the Hub sends
      res.writeHead(307, { Location: req.url.replace(`/${id}/`, `/${repo.movedTo}/`) });
      return res.end();
    }
    const denied = this.deny(id, repo, req, !api);
    if (denied) return this.fail(res, denied);
    const revision = rest[1];
    const sha = repo.commits.has(revision) ? revision : repo.refs[revision];
    if (!sha || (api ? rest[0] !== 'revision' : rest[0] !== 'resolve')) {
      return this.fail(res, [404, 'RevisionNotFound', `Invalid rev id: ${revision}`]);
    }
    const commit = repo.commits.get(sha);
    if (api) return this.sendInfo(res, id, repo, commit, url.searchParams.get('blobs') === 'true');
    const file = rest.slice(2).join('/');
    const entry = commit.files[file];
    if (!entry) return this.fail(res, [404, 'EntryNotFound', `${file} does not exist on "${revision}"`]);
    const common = { 'X-Repo-Commit': sha, 'Accept-Ranges': 'bytes' };
    if (entry.sha256) {  // LFS: a redirect to a signed URL on the storage host
      const expires = Math.floor(Date.now() / 1000) + 3600;
      res.writeHead(302, { ...common, ETag: `"${entry.blobId}"`, 'X-Linked-Etag': `"${entry.sha256}"`,
        'X-Linked-Size': String(entry.size),
        Location: `${this.lfsBase}/repos/${sha.slice(0, 2)}/${entry.sha256}?X-Amz-Expires=${expires}&X-Amz-Signature=${sha1(entry.sha256 + expires)}` });
      return res.end();
    }
    this.sendBytes(req, res, entry.data, file, { ...common, ETag: `"${entry.blobId}"` });
  }

  sendInfo(res, id, repo, commit, blobs) {
    const siblings = Object.entries(commit.files).map(([name, f]) => (!blobs ? { rfilename: name } : {
      rfilename: name, blobId: f.blobId, size: f.size,
      ...(f.sha256 ? { lfs: { sha256: f.sha256, size: f.size, pointerSize: f.pointerSize } } : {}),
    }));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({
      _id: sha1(id).slice(0, 24), id, modelId: id, author: id.split('/')[0], sha: commit.sha,
      lastModified: '2024-11-21T00:00:00.000Z', private: repo.access === 'private',
      gated: repo.access === 'gated' ? 'manual' : false, disabled: false, downloads: 0, likes: 0,
      library_name: 'transformers', tags: ['transformers', 'safetensors'], pipeline_tag: 'text-generation',
      siblings, spaces: [], createdAt: '2024-11-21T00:00:00.000Z',
    }));
  }

  onLfs(req, res) {
    this.record('lfs', req);
    const url = new URL(req.url, this.lfsBase);
    const blob = this.blobs.get(url.pathname.split('/').pop());
    if (!blob || !url.searchParams.get('X-Amz-Signature')) {
      res.writeHead(403, { 'Content-Type': 'application/xml' });
      return res.end('<Error><Code>AccessDenied</Code></Error>');
    }
    this.sendBytes(req, res, blob.data, blob.path, { 'Content-Type': 'binary/octet-stream', ETag: `"${sha1(blob.data)}"` });
  }

  // The bytes of a file, honouring Range, with any misbehaviour asked for this file.
  sendBytes(req, res, data, file, headers) {
    const m = this.take(file);
    if (m && m.kind === 'status') {
      res.writeHead(m.code, { 'Content-Type': 'text/plain' });
      return res.end('misbehaving on request');
    }
    let start = 0;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (range) start = Number(range[1]);
    if (start >= data.length && data.length > 0) {
      res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
      return res.end();
    }
    let body = data.subarray(start);
    if (m && m.kind === 'corrupt') { body = Buffer.from(body); body[body.length >> 1] ^= 0xff; }
    res.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': String(body.length),
      ...(range ? { 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
    if (!m || (m.kind !== 'drop' && m.kind !== 'stall')) return this.stream(res, body);
    const at = Math.min(m.at === undefined ? body.length >> 1 : m.at, body.length);
    res.write(body.subarray(0, at));
    if (m.kind === 'drop') return setTimeout(() => res.destroy(), 20);
    setTimeout(() => { if (!res.destroyed) this.stream(res, body.subarray(at)); }, m.ms || 5000);
  }

  stream(res, body) {
    if (!this.throttle) return res.end(body);
    let at = 0;
    const step = () => {
      if (res.destroyed) return;
      if (at >= body.length) return res.end();
      res.write(body.subarray(at, at + this.throttle));
      at += this.throttle;
      setTimeout(step, 10);
    };
    step();
  }
}

module.exports = { FakeHub, readTree, makeCommit, sha256 };

if (require.main === module) {
  const hub = new FakeHub();
  hub.addRepo(process.argv[3] || 'org/tiny', { main: readTree(process.argv[2]) });
  hub.start().then(() => console.log(`fake hub on ${hub.endpoint} (LFS on ${hub.lfsBase})`));
}
