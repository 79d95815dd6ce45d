// 256 concurrent streaming clients get the same text as one client alone; clients that
// leave mid-stream are aborted and leave no KV blocks behind (read from /metrics).
'use strict';
const http = require('http');
const { startServer, request, metric, waitFor, run, assert } = require('./harness');

// Streams one completion over its own connection; resolves {text, finish, events}.
// With `leaveAfter`, destroys the connection after that many events.
function stream(base, body, { leaveAfter = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify({ ...body, stream: true });
    const req = http.request(new URL('/v1/completions', base), {
      method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      if (res.statusCode !== 200) return reject(new Error('status ' + res.statusCode));
      let buffer = '';
      let text = '';
      let finish = null;
      let events = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          events++;
          if (event === 'data: [DONE]') continue;
          const parsed = JSON.parse(event.slice(6));
          for (const c of parsed.choices) {
            text += c.text;
            if (c.finish_reason) finish = c.finish_reason;
          }
          if (leaveAfter && events >= leaveAfter) {
            req.destroy();
            return resolve({ text, finish, events, left: true });
          }
        }
      });
      res.on('end', () => resolve({ text, finish, events }));
      res.on('error', reject);
    });
    req.on('error', (e) => (leaveAfter ? resolve({ left: true }) : reject(e)));
    req.write(data);
    req.end();
  });
}

async function main() {
  const server = await startServer(['--max-num-seqs', '256', '--disable-log-requests', '--max-model-len', '512']);
  const prompts = ['alpha beta', 'gamma delta epsilon', 'one two three four', 'The cat', 'Lorem ipsum dolor', 'x y z', 'Hello, world!', 'Streams'];
  const body = (i) => ({ model: 'tiny', prompt: prompts[i % prompts.length], max_tokens: 16, temperature: 0, ignore_eos: true });

  const failed = await run([
    ['256 concurrent streams all finish with the single-client text', async () => {
      const reference = [];
      for (let i = 0; i < prompts.length; i++) {
        const r = await request(server.base, 'POST', '/v1/completions', { body: body(i) });
        reference.push(JSON.parse(r.body).choices[0].text);
      }
      const results = await Promise.all(Array.from({ length: 256 }, (_, i) => stream(server.base, body(i))));
      let mismatches = 0;
      results.forEach((r, i) => {
        assert.strictEqual(r.finish, 'length');
        if (r.text !== reference[i % prompts.length]) mismatches++;
      });
      assert.strictEqual(mismatches, 0, `${mismatches} streams differ from the single-client text`);
    }],
    ['clients leaving mid-stream free their KV blocks', async () => {
      const before = await request(server.base, 'GET', '/metrics');
      const abortsBefore = metric(before.body.split('\n').filter((l) => l.includes('finished_reason="abort"')).join('\n'), 'lantern:request_success_total') || 0;
      const long = { model: 'tiny', prompt: 'never ending story', max_tokens: 400, temperature: 0.8, ignore_eos: true };
      await Promise.all(Array.from({ length: 32 }, () => stream(server.base, long, { leaveAfter: 2 })));
      await waitFor(async () => {
        const m = (await request(server.base, 'GET', '/metrics')).body;
        return metric(m, 'lantern:kv_cache_blocks_used') === 0 && metric(m, 'lantern:num_requests_running') === 0;
      }, 'KV blocks to be released');
      const after = (await request(server.base, 'GET', '/metrics')).body;
      const aborts = metric(after.split('\n').filter((l) => l.includes('finished_reason="abort"')).join('\n'), 'lantern:request_success_total');
      assert.ok(aborts - abortsBefore >= 32, `aborted ${aborts - abortsBefore} of 32`);
    }],
    ['/metrics exposes the lantern:* set', async () => {
      const m = (await request(server.base, 'GET', '/metrics')).body;
      for (const name of ['lantern:time_to_first_token_seconds_count', 'lantern:e2e_request_latency_seconds_count',
        'lantern:request_queue_time_seconds_count', 'lantern:request_prefill_time_seconds_count',
        'lantern:request_decode_time_seconds_count', 'lantern:request_inference_time_seconds_count',
        'lantern:inter_token_latency_seconds_count', 'lantern:request_time_per_output_token_seconds_count',
        'lantern:prompt_tokens_total', 'lantern:generation_tokens_total', 'lantern:request_prompt_tokens_count',
        'lantern:request_generation_tokens_count', 'lantern:num_requests_running', 'lantern:num_requests_waiting',
        'lantern:kv_cache_usage_perc', 'lantern:prefix_cache_queries_total', 'lantern:prefix_cache_hits_total',
        'lantern:num_preemptions_total', 'lantern:request_success_total']) {
        assert.notStrictEqual(metric(m, name), undefined, name);
      }
      assert.ok(metric(m, 'lantern:e2e_request_latency_seconds_count') >= 256 + 8);
      assert.match(m, /lantern:time_to_first_token_seconds_bucket\{model_name="tiny",le="\+Inf"\}/);
    }],
  ]);
  const code = await server.stop();
  assert.strictEqual(code, 0);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
