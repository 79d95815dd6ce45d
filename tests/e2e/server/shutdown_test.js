// SIGTERM under load: the server drains (the port stays open, /health and new generation
// requests get 503, the requests in flight run on) up to --shutdown-timeout, aborts the rest
// and exits 0.
'use strict';
const http = require('http');
const { startServer, request, run, assert } = require('./harness');

function streamUntilEnd(base, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify({ ...body, stream: true });
    const req = http.request(new URL('/v1/completions', base), {
      method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      let all = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { all += c; });
      res.on('end', () => resolve({ status: res.statusCode, all }));
      res.on('error', () => resolve({ status: res.statusCode, all, error: true }));
    });
    req.on('error', () => resolve({ error: true }));
    req.write(data);
    req.end();
  });
}

async function main() {
  const failed = await run([
    ['SIGTERM under load exits 0 within the deadline', async () => {
      const server = await startServer(['--shutdown-timeout', '2', '--disable-log-requests']);
      const long = { model: 'tiny', prompt: 'keep going', max_tokens: 480, temperature: 0.7, ignore_eos: true };
      const short = { model: 'tiny', prompt: 'short', max_tokens: 4, temperature: 0 };
      const streams = [
        ...Array.from({ length: 24 }, () => streamUntilEnd(server.base, long)),
        ...Array.from({ length: 8 }, () => streamUntilEnd(server.base, short)),
      ];
      await new Promise((r) => setTimeout(r, 300));
      const start = Date.now();
      const exited = server.stop();
      const code = await exited;
      const seconds = (Date.now() - start) / 1000;
      assert.strictEqual(code, 0, server.logs());
      assert.ok(seconds < 2 + 5, `took ${seconds} s`);
      const results = await Promise.all(streams);
      // Every stream ended (completed, or cut at the deadline); none hangs.
      assert.strictEqual(results.length, 32);
      assert.match(server.logs(), /draining/);
    }],
    ['while draining the port stays open: /health and new requests get 503, running ones finish', async () => {
      const server = await startServer(['--shutdown-timeout', '20', '--disable-log-requests']);
      const long = { model: 'tiny', prompt: 'keep going', max_tokens: 480, temperature: 0.7, ignore_eos: true };
      const streams = Array.from({ length: 8 }, () => streamUntilEnd(server.base, long));
      await new Promise((r) => setTimeout(r, 200));
      const exited = server.stop();
      await new Promise((r) => setTimeout(r, 50));
      const health = await request(server.base, 'GET', '/health');
      assert.strictEqual(health.status, 503, health.body);
      assert.match(JSON.parse(health.body).error.message, /shutting down/);
      const refused = await request(server.base, 'POST', '/v1/completions', { body: { prompt: 'late', max_tokens: 2 } });
      assert.strictEqual(refused.status, 503, refused.body);
      assert.ok(refused.headers['retry-after'], 'a 503 says when to retry');
      const results = await Promise.all(streams);
      for (const r of results) {
        assert.strictEqual(r.status, 200);
        assert.match(r.all, /"finish_reason":"length"/, 'a stream in flight ran to its end');
        assert.match(r.all, /data: \[DONE\]/);
      }
      assert.strictEqual(await exited, 0, server.logs());
    }],
    ['SIGINT on an idle server exits 0', async () => {
      const server = await startServer();
      assert.strictEqual((await request(server.base, 'GET', '/health')).status, 200);
      const code = await new Promise((res) => { server.proc.once('exit', res); server.proc.kill('SIGINT'); });
      assert.strictEqual(code, 0);
    }],
  ]);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
