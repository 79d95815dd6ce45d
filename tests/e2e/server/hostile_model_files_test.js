// Hostile tokenizer files in a model directory: the real `lantern serve`, under `ulimit -v`,
// must refuse to start with one line naming the file (and the token), fast, instead of
// sizing a table by a token id of 10^9 and dying of std::bad_alloc. A control directory
// that differs only in that id serves, so each refusal is the id's doing.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startServer, request, run, assert, MODEL } = require('./harness');

// 4 GiB of address space: plenty to serve the tiny model, an eighth of the 32 GB that a
// table of 10^9 token strings would take.
const MEMORY_LIMIT_KIB = 4 * 1024 * 1024;
const REFUSAL_MS = 10000;
const HUGE_ID = 1000000000;
const EOT = '<|endoftext|>';

const dirs = [];

// A copy of the test model (weights linked, not copied) with `files` written over it and
// `remove` taken out.
function modelWith(files, remove = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-hostile-model-'));
  dirs.push(dir);
  for (const name of fs.readdirSync(MODEL)) {
    if (remove.includes(name)) continue;
    if (name.endsWith('.safetensors')) fs.symlinkSync(path.join(MODEL, name), path.join(dir, name));
    else fs.copyFileSync(path.join(MODEL, name), path.join(dir, name));
  }
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

// The model's GPT-2 tokenizer as one tokenizer.json, as Hugging Face would save it;
// `edit` changes its parsed form first.
function tokenizerJson(edit = () => {}) {
  const vocab = JSON.parse(fs.readFileSync(path.join(MODEL, 'vocab.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(MODEL, 'merges.txt'), 'utf8').split('\n')
    .filter((line) => line && !line.startsWith('#version'));
  const tokenizer = {
    version: '1.0',
    added_tokens: [{ id: vocab[EOT], content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  edit(tokenizer);
  return JSON.stringify(tokenizer);
}

// Starts the server on `model`, which must refuse; resolves with its exit code, log and time.
async function refusal(model) {
  const start = Date.now();
  try {
    const server = await startServer([], { model, memoryLimitKiB: MEMORY_LIMIT_KIB });
    await server.stop();
  } catch (e) {
    const message = String(e.message);
    const code = /exited with (\S+) before serving/.exec(message);
    return { code: code ? code[1] : 'none', log: message, ms: Date.now() - start };
  }
  throw new Error('the server started');
}

// The refusal exits non-zero (not killed by a signal), fast, with exactly one line naming
// `file` that matches `pattern`, and says nothing of bad_alloc.
async function expectRefusal(model, file, pattern) {
  const { code, log, ms } = await refusal(model);
  assert.match(code, /^[1-9]\d*$/, `exit code ${code}:\n${log}`);
  assert.ok(ms < REFUSAL_MS, `${ms} ms`);
  const lines = log.split('\n').filter((line) => line.includes(file));
  assert.strictEqual(lines.length, 1, log);
  assert.match(lines[0], pattern);
  assert.ok(!/bad_alloc/.test(log), log);
}

async function main() {
  const failed = await run([
    ['control: the same model with a sane tokenizer.json serves', async () => {
      const server = await startServer(['--disable-log-requests'], { model: modelWith({ 'tokenizer.json': tokenizerJson() }), memoryLimitKiB: MEMORY_LIMIT_KIB });
      try {
        const r = await request(server.base, 'POST', '/v1/completions', { body: { prompt: 'Hello', max_tokens: 2 } });
        assert.strictEqual(r.status, 200, r.body);
      } finally {
        await server.stop();
      }
    }],
    [`tokenizer.json: a vocabulary id of ${HUGE_ID} is refused, naming the file and token`, async () => {
      const model = modelWith({ 'tokenizer.json': tokenizerJson((t) => { t.model.vocab.hostile = HUGE_ID; }) });
      await expectRefusal(model, 'tokenizer.json',
        new RegExp(`tokenizer\\.json: model\\.vocab: token id ${HUGE_ID} of "hostile" is outside \\[0, \\d+\\)`));
    }],
    [`tokenizer.json: an added token id of ${HUGE_ID} is refused, naming the file and token`, async () => {
      const model = modelWith({ 'tokenizer.json': tokenizerJson((t) => { t.added_tokens.push({ id: HUGE_ID, content: '<hostile>', special: true }); }) });
      await expectRefusal(model, 'tokenizer.json',
        new RegExp(`tokenizer\\.json: added_tokens\\[1\\]: token id ${HUGE_ID} of "<hostile>" is outside`));
    }],
    [`vocab.json: an id of ${HUGE_ID} is refused, naming the file and token`, async () => {
      const vocab = JSON.parse(fs.readFileSync(path.join(MODEL, 'vocab.json'), 'utf8'));
      vocab.hostile = HUGE_ID;
      const model = modelWith({ 'vocab.json': JSON.stringify(vocab) });
      await expectRefusal(model, 'vocab.json', new RegExp(`vocab\\.json: token id ${HUGE_ID} of "hostile" is outside`));
    }],
    ['merges.txt: a merge of an unknown token is refused, naming the file and line', async () => {
      const merges = fs.readFileSync(path.join(MODEL, 'merges.txt'), 'utf8').split('\n');
      merges.splice(2, 0, 'Ġthe hostile');
      const model = modelWith({ 'merges.txt': merges.join('\n') });
      await expectRefusal(model, 'merges.txt', /merges\.txt:3: the merge "Ġthe hostile" needs "hostile", which is not in vocab\.json/);
    }],
  ]);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
