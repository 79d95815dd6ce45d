// Chat templates are programs: the real server, under `ulimit -v`, against template bombs.
// A request's own chat_template is refused without --trust-request-chat-template; with it,
// each bomb is stopped by its budget within a second (a 400 naming the budget); a bomb in a
// model's tokenizer_config.json stops start-up with an error naming the file, or, where only
// some conversations set it off, gets those requests a 400 naming the file. Every case checks
// that the server still serves a normal completion afterwards.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startServer, request, run, assert, MODEL } = require('./harness');

const MEMORY_LIMIT_KIB = 4 * 1024 * 1024;  // 4 GiB of address space
const BOMB_MS = 1000;
const user = [{ role: 'user', content: 'hi' }];

const bombs = {
  'nested range(100000) loops': ['{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}',
    /exceeded its budget of \d+ (loop iterations|steps)/],
  'a string doubled 64 times': ["{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    /exceeded its budget of \d+ bytes allocated/],
  'a recursive macro': ['{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}',
    /exceeded its budget of \d+ levels of nesting/],
};

async function post(server, route, body) {
  const start = Date.now();
  const r = await request(server.base, 'POST', route, { body });
  return { ...r, ms: Date.now() - start, error: r.status >= 400 ? JSON.parse(r.body).error : undefined };
}

// A normal completion and a chat completion through the model's template still work.
async function stillServes(server) {
  const c = await post(server, '/v1/completions', { prompt: 'Hello', max_tokens: 2 });
  assert.strictEqual(c.status, 200, c.body);
  const chat = await post(server, '/v1/chat/completions', { messages: user, max_tokens: 2 });
  assert.strictEqual(chat.status, 200, chat.body);
  const h = await request(server.base, 'GET', '/health');
  assert.strictEqual(h.status, 200);
}

// The server's peak resident memory (VmHWM), in MiB.
function peakMiB(server) {
  const status = fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

// A copy of the test model whose tokenizer_config.json has `template` (and, if given, a
// chat_template.jinja holding `jinja`).
function modelWith(template, jinja) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-template-budget-'));
  for (const name of fs.readdirSync(MODEL)) fs.copyFileSync(path.join(MODEL, name), path.join(dir, name));
  const configPath = path.join(dir, 'tokenizer_config.json');
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  config.chat_template = template;
  fs.writeFileSync(configPath, JSON.stringify(config));
  if (jinja !== undefined) fs.writeFileSync(path.join(dir, 'chat_template.jinja'), jinja);
  return dir;
}

// Starts a server that is expected to refuse to start; resolves with its log.
async function failedStart(model, args = []) {
  const start = Date.now();
  try {
    const server = await startServer(args, { model, memoryLimitKiB: MEMORY_LIMIT_KIB });
    await server.stop();
  } catch (e) {
    return { log: String(e.message), ms: Date.now() - start };
  }
  throw new Error('the server started');
}

async function main() {
  let failed = 0;
  const dirs = [];

  // Without the flag: refused before anything runs.
  const plain = await startServer(['--disable-log-requests'], { memoryLimitKiB: MEMORY_LIMIT_KIB });
  failed += await run([
    ...Object.entries(bombs).flatMap(([name, [template]]) => [
      [`untrusted: chat with ${name} is refused`, async () => {
        const r = await post(plain, '/v1/chat/completions', { messages: user, chat_template: template, max_tokens: 2 });
        assert.strictEqual(r.status, 400, r.body);
        assert.strictEqual(r.error.param, 'chat_template');
        assert.match(r.error.message, /--trust-request-chat-template/);
        assert.ok(r.ms < BOMB_MS, `${r.ms} ms`);
        await stillServes(plain);
      }],
      [`untrusted: /tokenize with ${name} is refused`, async () => {
        const r = await post(plain, '/tokenize', { messages: user, chat_template: template });
        assert.strictEqual(r.status, 400, r.body);
        assert.match(r.error.message, /--trust-request-chat-template/);
        await stillServes(plain);
      }],
    ]),
    ['untrusted: a harmless template is refused too', async () => {
      const r = await post(plain, '/v1/chat/completions', { messages: user, chat_template: '{{ messages[0].content }}', max_tokens: 2 });
      assert.strictEqual(r.status, 400, r.body);
      assert.strictEqual(r.error.param, 'chat_template');
      await stillServes(plain);
    }],
  ]);
  await plain.stop();

  // With the flag: each bomb stopped by its budget, fast, with memory bounded.
  const trusted = await startServer(['--disable-log-requests', '--trust-request-chat-template'],
    { memoryLimitKiB: MEMORY_LIMIT_KIB });
  failed += await run([
    ...Object.entries(bombs).flatMap(([name, [template, pattern]]) => [
      [`trusted: chat with ${name} is stopped by the budget`, async () => {
        const r = await post(trusted, '/v1/chat/completions', { messages: user, chat_template: template, max_tokens: 2 });
        assert.strictEqual(r.status, 400, r.body);
        assert.match(r.error.message, pattern);
        assert.match(r.error.message, /the request's chat_template/);
        assert.strictEqual(r.error.param, 'chat_template');
        assert.ok(r.ms < BOMB_MS, `${r.ms} ms`);
        await stillServes(trusted);
      }],
      [`trusted: /tokenize with ${name} is stopped by the budget`, async () => {
        const r = await post(trusted, '/tokenize', { messages: user, chat_template: template });
        assert.strictEqual(r.status, 400, r.body);
        assert.match(r.error.message, pattern);
        assert.ok(r.ms < BOMB_MS, `${r.ms} ms`);
        await stillServes(trusted);
      }],
    ]),
    ['trusted: a template that does not parse names the request', async () => {
      const r = await post(trusted, '/v1/chat/completions', { messages: user, chat_template: '{% for %}', max_tokens: 2 });
      assert.strictEqual(r.status, 400, r.body);
      assert.match(r.error.message, /the request's chat_template: template syntax error at line 1/);
      await stillServes(trusted);
    }],
    ['trusted: raise_exception is the template\'s message', async () => {
      const r = await post(trusted, '/v1/chat/completions', { messages: user, chat_template: "{{ raise_exception('roles must alternate') }}", max_tokens: 2 });
      assert.strictEqual(r.status, 400, r.body);
      assert.match(r.error.message, /roles must alternate/);
      await stillServes(trusted);
    }],
    ['trusted: a good template renders', async () => {
      const r = await post(trusted, '/tokenize', { messages: user, chat_template: '{{ messages[0].content }}!' });
      assert.strictEqual(r.status, 200, r.body);
      assert.ok(JSON.parse(r.body).count >= 2);
    }],
    ['trusted: the bombs left the server small', async () => {
      const peak = peakMiB(trusted);
      assert.ok(peak < 1024, `peak resident memory ${peak} MiB`);
    }],
  ]);
  await trusted.stop();

  // Bombs in the model's own files.
  failed += await run([
    ['a bomb in tokenizer_config.json stops start-up, naming the file', async () => {
      for (const [name, [template, pattern]] of Object.entries(bombs)) {
        const dir = modelWith(template);
        dirs.push(dir);
        const { log, ms } = await failedStart(dir);
        assert.match(log, /tokenizer_config\.json: the chat template 'default': template exceeded its budget/, name);
        assert.match(log, pattern, name);
        assert.ok(ms < 30000, `${name}: ${ms} ms`);
      }
    }],
    ['a template that does not parse stops start-up, naming its file', async () => {
      let dir = modelWith('{% for m in messages %}{{ m.content }');
      dirs.push(dir);
      let { log } = await failedStart(dir);
      assert.match(log, /tokenizer_config\.json: the chat template 'default' does not parse: template syntax error at line 1/);
      dir = modelWith('{{ messages }}', 'line one\n{% if %}');
      dirs.push(dir);
      ({ log } = await failedStart(dir));
      assert.match(log, /chat_template\.jinja: the chat template 'default' does not parse: template syntax error at line 2/);
    }],
    ['a bomb or a syntax error in --chat-template stops start-up, naming it', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-template-budget-'));
      dirs.push(dir);
      const bomb = path.join(dir, 'bomb.jinja');
      fs.writeFileSync(bomb, bombs['a recursive macro'][0]);
      let { log } = await failedStart(MODEL, ['--chat-template', bomb]);
      assert.match(log, /--chat-template \S*bomb\.jinja: template exceeded its budget of \d+ levels of nesting/);
      const broken = path.join(dir, 'broken.jinja');
      fs.writeFileSync(broken, '{% if %}');
      ({ log } = await failedStart(MODEL, ['--chat-template', broken]));
      assert.match(log, /--chat-template \S*broken\.jinja does not parse: template syntax error at line 1/);
    }],
    ['a bomb that only some conversations set off: those get a 400 naming the file', async () => {
      const [loops] = bombs['nested range(100000) loops'];
      const dir = modelWith(`{% if messages | length > 1 %}${loops}{% endif %}{{ messages[-1].content }}`);
      dirs.push(dir);
      const server = await startServer(['--disable-log-requests'], { model: dir, memoryLimitKiB: MEMORY_LIMIT_KIB });
      try {
        const r = await post(server, '/v1/chat/completions', { messages: [...user, { role: 'assistant', content: 'x' }, ...user], max_tokens: 2 });
        assert.strictEqual(r.status, 400, r.body);
        assert.match(r.error.message, /the model's chat template 'default' \(tokenizer_config\.json\): template exceeded its budget of \d+ (loop iterations|steps)/);
        assert.ok(!r.error.message.includes(dir), 'the error shows the server\'s path');
        assert.strictEqual(r.error.param, 'messages');
        assert.ok(r.ms < BOMB_MS, `${r.ms} ms`);
        await stillServes(server);
      } finally {
        await server.stop();
      }
    }],
  ]);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
