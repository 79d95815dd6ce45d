// Heavy requests never stall the server: prompts are parsed, rendered and tokenized on a
// bounded preprocessing queue, not on the I/O threads. Against the real server under
// `ulimit -v`: /health stays fast while a second process sends four requests with
// multi-megabyte prompts and two chat templates that run until their budget stops them; a
// full queue answers 503 with Retry-After; a prompt whose bytes
// cannot fit the context is refused before tokenizing; a prompt list that can never be
// queued is a 400; a client that half-closes after its request still gets its answer. Every
// case checks that the server still serves a normal completion afterwards.
'use strict';
const net = require('net');
const { spawn } = require('child_process');
const { startServer, request, run, assert } = require('./harness');

const MEMORY_LIMIT_KIB = 4 * 1024 * 1024;
// Words the GPT-2 tokenizer splits into many tokens: a few MB take it seconds.
const bigText = (bytes) => 'lorem ipsum dolor sit amet, consectetur 12345 '.repeat(Math.ceil(bytes / 46)).slice(0, bytes);

// Load mode: this file run by a second process, sending heavy requests until they finish.
async function load(base, count, bytes) {
  const prompt = bigText(bytes);
  const bodies = Array.from({ length: count }, (_, i) => (i % 2
    ? ['/tokenize', { prompt }]
    : ['/v1/completions', { prompt, max_tokens: 1, truncate_prompt_tokens: 8 }]));
  // And two templates that run until their budget stops them (a 400 each).
  const bomb = '{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}';
  for (let i = 0; i < 2; ++i) {
    bodies.push(['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], chat_template: bomb }]);
  }
  const results = await Promise.all(bodies.map(([route, body]) => request(base, 'POST', route, { body })));
  process.stdout.write(JSON.stringify(results.map((r) => r.status)));
}

function runLoad(base, count, bytes) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--load', base, String(count), String(bytes)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`))));
  });
}

async function stillServes(server) {
  const c = await request(server.base, 'POST', '/v1/completions', { body: { prompt: 'Hello', max_tokens: 2 } });
  assert.strictEqual(c.status, 200, c.body);
}

// Sends raw bytes, half-closes (as `nc -N` does) and reads the whole answer.
function halfClosedExchange(port, raw) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      socket.end(raw);
    });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => { answer += d; });
    socket.on('end', () => { socket.destroy(); resolve(answer); });
    socket.on('error', reject);
    socket.setTimeout(20000, () => { socket.destroy(); reject(new Error('no answer: ' + answer)); });
  });
}

async function main() {
  const server = await startServer(['--disable-log-requests', '--trust-request-chat-template'],
    { memoryLimitKiB: MEMORY_LIMIT_KIB });
  const small = await startServer(['--disable-log-requests', '--preprocess-threads', '1',
    '--max-pending-preprocess', '1', '--max-queued-requests', '4'], { memoryLimitKiB: MEMORY_LIMIT_KIB });
  const failed = await run([
    ['/health stays fast while four multi-megabyte prompts and two template bombs run', async () => {
      const loading = runLoad(server.base, 4, 3 << 20);
      let done = false;
      loading.finally(() => { done = true; });
      const latencies = [];
      await new Promise((r) => setTimeout(r, 300));  // the bodies are in, tokenizing runs
      while (!done) {
        const start = process.hrtime.bigint();
        const h = await request(server.base, 'GET', '/health');
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        assert.strictEqual(h.status, 200);
        await new Promise((r) => setTimeout(r, 20));
      }
      const statuses = await loading;
      assert.deepStrictEqual(statuses, [200, 200, 200, 200, 400, 400]);
      latencies.sort((a, b) => a - b);
      const median = latencies[Math.floor(latencies.length / 2)];
      const worst = latencies[latencies.length - 1];
      console.log(`  /health during the load: ${latencies.length} probes, median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`);
      assert.ok(latencies.length >= 5, 'the load ended before /health could be probed');
      // Before the queue /health waited for tokenizing: seconds. Generous for shared CI.
      assert.ok(median < 100, `median /health ${median} ms`);
      assert.ok(worst < 1000, `worst /health ${worst} ms`);
      await stillServes(server);
    }],
    ['a full preprocessing queue answers 503 with Retry-After', async () => {
      const prompt = bigText(3 << 20);
      const results = await Promise.all(Array.from({ length: 4 },
        () => request(small.base, 'POST', '/tokenize', { body: { prompt } })));
      const statuses = results.map((r) => r.status).sort();
      assert.ok(statuses.includes(200), statuses.join());
      const busy = results.find((r) => r.status === 503);
      assert.ok(busy, `one request past the queue is refused: ${statuses}`);
      assert.strictEqual(busy.headers['retry-after'], '1');
      assert.match(JSON.parse(busy.body).error.message, /busy/);
      await stillServes(small);
    }],
    ['a prompt whose bytes cannot fit the context is refused before tokenizing', async () => {
      const start = Date.now();
      const r = await request(server.base, 'POST', '/v1/completions', { body: { prompt: bigText(15 << 20), max_tokens: 1 } });
      assert.strictEqual(r.status, 400, r.body);
      const error = JSON.parse(r.body).error;
      assert.strictEqual(error.param, 'prompt');
      assert.match(error.message, /maximum context length is \d+ tokens.*bytes/);
      console.log(`  refused in ${Date.now() - start} ms`);
      const chat = await request(server.base, 'POST', '/v1/chat/completions',
        { body: { messages: [{ role: 'user', content: bigText(15 << 20) }], max_tokens: 1 } });
      assert.strictEqual(chat.status, 400, chat.body);
      assert.strictEqual(JSON.parse(chat.body).error.param, 'messages');
      await stillServes(server);
    }],
    ['a prompt list longer than --max-queued-requests is a 400 that says why', async () => {
      const r = await request(small.base, 'POST', '/v1/completions',
        { body: { prompt: ['a', 'b', 'c', 'd', 'e'], max_tokens: 1 } });
      assert.strictEqual(r.status, 400, r.body);
      const error = JSON.parse(r.body).error;
      assert.strictEqual(error.param, 'prompt');
      assert.match(error.message, /5 prompts.*at most 4.*--max-queued-requests/);
      const fits = await request(small.base, 'POST', '/v1/completions',
        { body: { prompt: ['a', 'b', 'c', 'd'], max_tokens: 1 } });
      assert.strictEqual(fits.status, 200, fits.body);
      await stillServes(small);
    }],
    ['a client that half-closes after its request gets the answer', async () => {
      const body = JSON.stringify({ prompt: 'Hello', max_tokens: 3 });
      const raw = `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const answer = await halfClosedExchange(server.port, raw);
      assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(answer, /Connection: close/);
      assert.match(answer, /"text_completion"/);
      const streamBody = JSON.stringify({ prompt: 'Hello', max_tokens: 3, stream: true });
      const streamed = await halfClosedExchange(server.port,
        `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(streamBody)}\r\n\r\n${streamBody}`);
      assert.match(streamed, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(streamed, /data: \[DONE\]/);
      const health = await halfClosedExchange(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(health, /^HTTP\/1\.1 200 OK\r\n/);
      await stillServes(server);
    }],
  ]);
  await server.stop();
  await small.stop();
  process.exit(failed ? 1 : 0);
}

if (process.argv[2] === '--load') {
  load(process.argv[3], Number(process.argv[4]), Number(process.argv[5]))
    .catch((e) => { console.error(e); process.exit(1); });
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}
