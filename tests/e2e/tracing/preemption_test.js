// Preemption under a tiny KV pool: with room for barely more than one sequence of the
// maximum length, several long requests at once preempt each other; a preempted request's
// trace shows one queue span per stay in the queue and preempted/resumed events.
'use strict';
const {
  startServer, startCollector, spans, waitForSpans, children, duration, assertAttr, assertClose,
  post, request, metric, main, assert,
} = require('./tracing_harness.js');
const { checkLlmRequest } = require('./request_checks.js');

const US = 1e-6;
const REQUESTS = 6;

(async () => {
  const collector = await startCollector('grpc');
  // 128-token sequences need 8 blocks of 16 tokens; the pool holds 10 (the tiny model's KV
  // block is 16 KiB in float32), so six 120-token requests cannot all stay resident.
  const server = await startServer([...collector.args, '--disable-log-requests', '--no-enable-prefix-caching',
    '--kv-cache-dtype', 'float32'], {
    env: collector.env, kvCacheMemory: '160KiB', maxModelLen: 128,
  });
  await main([
    ['a preempted request has several queue spans and preempted/resumed events', async () => {
      const blocks = Number(/(\d+) KV blocks/.exec(server.logs())[1]);
      assert.ok(blocks >= 8 && blocks < 16, `pool of ${blocks} blocks is not tiny`);
      const req = (i) => ({ model: 'tiny', prompt: `Request number ${i} tells a long story about`, max_tokens: 100,
        temperature: 0.8, ignore_eos: true });
      const responses = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => post(server.base, '/v1/completions', req(i))));
      for (const r of responses) {
        assert.strictEqual(r.status, 200, JSON.stringify(r.body));
        assert.strictEqual(r.body.usage.completion_tokens, 100);
      }
      const preemptions = metric((await request(server.base, 'GET', '/metrics')).body, 'lantern:num_preemptions_total');
      assert.ok(preemptions > 0, 'the engine preempted nothing: the test no longer forces preemption');
      const ids = new Set(responses.map((r) => r.body.id));
      await waitForSpans(collector.receiver, (s) => s.filter((x) => x.name === 'llm_request' &&
          ids.has(x.attrs['gen_ai.response.id']?.value)).length === REQUESTS, `${REQUESTS} llm_request spans`);
      await server.stop();  // exit flushes: every span of these requests has arrived now
      const all = spans(collector.receiver);
      const llms = all.filter((x) => x.name === 'llm_request' && ids.has(x.attrs['gen_ai.response.id']?.value));
      let total = 0;
      let seen = 0;
      for (const llm of llms) {
        const count = assertAttr(llm, 'lantern.request.preemptions', 'int');
        total += count;
        const r = responses.find((x) => x.body.id === llm.attrs['gen_ai.response.id'].value);
        const { queues, prefill } = checkLlmRequest(all, llm, { req: req(0), operation: 'text_completion',
          usage: r.body.usage, responseId: r.body.id, preempted: count > 0 });
        assert.strictEqual(queues.length, 1 + count, `${queues.length} queue spans for ${count} preemptions`);
        for (let i = 1; i < queues.length; i++) {
          assert.ok(queues[i].start >= queues[i - 1].end, 'queue spans overlap');
        }
        assert.ok(queues[0].end <= prefill.start, 'first queue span ends after prefill starts');
        const preempted = llm.events.filter((e) => e.name === 'preempted');
        const resumed = llm.events.filter((e) => e.name === 'resumed');
        assert.strictEqual(preempted.length, count, 'one preempted event per preemption');
        assert.strictEqual(resumed.length, count, 'one resumed event per later queue exit');
        if (count === 0) continue;
        seen++;
        for (let i = 1; i < queues.length; i++) {
          assertClose(Number(preempted[i - 1].time - queues[i].start) / 1e9, 0, US, 'preempted event = queue re-entry');
          assertClose(Number(resumed[i - 1].time - queues[i].end) / 1e9, 0, US, 'resumed event = queue exit');
        }
        const queueSum = queues.reduce((s, q) => s + duration(q), 0);
        assertClose(llm.attrs['gen_ai.latency.time_in_queue'].value, queueSum, US * queues.length, 'time_in_queue');
        assert.strictEqual(children(all, llm, 'prefill').length, 1, 'one prefill span despite recomputation');
      }
      assert.ok(seen > 0, 'no traced request was preempted');
      assert.strictEqual(total, preemptions, 'preemptions on the spans = lantern:num_preemptions_total');
    }],
  ], async () => {
    const code = await server.stop();
    collector.close();
    if (code !== 0) console.log(`server exited ${code}:\n${server.logs()}`);
  });
})().catch((e) => { console.error(e); process.exit(1); });
