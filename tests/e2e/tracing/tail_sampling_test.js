// OTEL_TRACES_SAMPLER=lantern_tail (issue 17) against the independent OTLP receiver: at
// ratio 0, of 200 fast requests and one slow one only the slow one arrives, with the one
// whose client left, the ones refused with 503, a caller's sampled one and the one that
// asked for the detailed level with `x-lantern-trace-detail` (which alone gets engine_step
// spans and token events). The slow request is slow by construction (hundreds of tokens
// against one); latency_ms is set between the two, from a first server that measures them.
// "Did not arrive" is checked after the server has exited: exit flushes.
'use strict';
const {
  KIND, STATUS, startServer, startCollector, spans, waitForTrace, children, one, assertAttr, hex,
  traceparent, parseTraceresponse, stream, post, request, metric, metricSum, waitFor, main, assert,
} = require('./tracing_harness.js');

const FAST = { model: 'tiny', prompt: 'fast', max_tokens: 1 };
const SLOW = { model: 'tiny', prompt: 'slow', max_tokens: 480, temperature: 0.7, ignore_eos: true };
const LONG = { model: 'tiny', prompt: 'overload', max_tokens: 200, temperature: 0.5, ignore_eos: true };

let collector;
let server;
let latencyMs;
const fastIds = [];
const keptIds = {};  // what -> trace ids that must arrive

const traceIdOf = (r) => parseTraceresponse(r.headers.traceresponse).traceId;

async function timed(fn) {
  const start = process.hrtime.bigint();
  const r = await fn();
  return { r, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

// A first server (tail sampling, latency off) measures the two kinds of requests; the
// threshold sits at their geometric mean, as far (in ratio) from either.
async function calibrate() {
  const c = await startCollector('grpc');
  const s = await startServer([...c.args, '--disable-log-requests'], { env: { ...c.env,
    OTEL_TRACES_SAMPLER: 'lantern_tail', OTEL_TRACES_SAMPLER_ARG: 'ratio=0,latency_ms=0' } });
  try {
    let fastMax = 0;
    for (let i = 0; i < 20; i++) {
      const { r, ms } = await timed(() => post(s.base, '/v1/completions', FAST));
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      fastMax = Math.max(fastMax, ms);
    }
    const { r, ms: slowMs } = await timed(() => post(s.base, '/v1/completions', SLOW));
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.ok(slowMs > 8 * fastMax, `the slow request (${slowMs} ms) is not much slower than the fast ones (${fastMax} ms)`);
    latencyMs = Math.round(Math.sqrt(fastMax * slowMs));
    console.log(`fast requests <= ${fastMax.toFixed(1)} ms, slow ${slowMs.toFixed(1)} ms: latency_ms=${latencyMs}`);
  } finally {
    await s.stop();
    c.close();
  }
}

const tests = [
  ['200 fast requests, none sampled by ratio 0', async () => {
    for (let i = 0; i < 200; i++) {
      const r = await post(server.base, '/v1/completions', FAST);
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(parseTraceresponse(r.headers.traceresponse).flags, '00');
      fastIds.push(traceIdOf(r));
    }
  }],
  ['the slow request', async () => {
    const r = await post(server.base, '/v1/completions', SLOW);
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    keptIds.slow = [traceIdOf(r)];
  }],
  ['a caller that sampled its trace', async () => {
    const parent = { traceId: hex(16), spanId: hex(8) };
    const r = await post(server.base, '/v1/completions', FAST, { traceparent: traceparent(parent.traceId, parent.spanId) });
    assert.strictEqual(r.status, 200);
    assert.strictEqual(traceIdOf(r), parent.traceId);
    keptIds.sampledParent = [parent.traceId];
  }],
  ['a client that leaves mid-stream', async () => {
    const r = await stream(server.base, '/v1/completions', SLOW, { leaveAfter: 1 });
    assert.ok(r.left && r.headers, 'left after the first chunk');
    keptIds.aborted = [traceIdOf(r)];
  }],
  ['requests refused with 503', async () => {
    // --max-queued-requests 2: of six at once, some are refused.
    const rs = await Promise.all(Array.from({ length: 6 }, () => post(server.base, '/v1/completions', LONG)));
    const statuses = rs.map((r) => r.status);
    assert.ok(statuses.includes(503), `statuses ${statuses}`);
    keptIds.failed = rs.filter((r) => r.status === 503).map(traceIdOf);
  }],
  ['a request that asks for the detailed level', async () => {
    // After the 503 burst and the abort: an idle engine, so this one is not refused.
    await waitFor(async () => metric((await request(server.base, 'GET', '/metrics')).body,
        'lantern:num_requests_running') === 0, 'an idle engine');
    const r = await post(server.base, '/v1/completions', { ...FAST, max_tokens: 6, ignore_eos: true },
        { 'x-lantern-trace-detail': 'detailed' });
    assert.strictEqual(r.status, 200);
    keptIds.detailed = [traceIdOf(r)];
  }],
  ['the kept traces arrive whole; the detailed one alone has engine_step spans', async () => {
    const complete = (t) => t.some((s) => s.kind === KIND.SERVER);
    for (const [what, ids] of Object.entries(keptIds)) {
      for (const id of ids) {
        const t = await waitForTrace(collector.receiver, id, (x) => complete(x) &&
            (what === 'failed' || x.some((s) => s.name === 'llm_request')), `the ${what} trace`);
        const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
        if (what === 'failed') {
          assertAttr(httpSpan, 'http.response.status_code', 'int', 503);
          assert.strictEqual(httpSpan.status.code, STATUS.ERROR);
        }
        if (what === 'aborted') {
          const llm = one(children(t, httpSpan, 'llm_request'), 'llm_request');
          assertAttr(llm, 'error.type', 'string', 'aborted');
        }
      }
    }
    const detailed = keptIds.detailed[0];
    const t = await waitForTrace(collector.receiver, detailed, (x) => x.some((s) => s.name === 'decode'));
    const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
    assertAttr(httpSpan, 'lantern.trace.detail', 'string', 'detailed');
    const llm = one(children(t, httpSpan, 'llm_request'), 'llm_request');
    assertAttr(llm, 'gen_ai.latency.time_in_model_forward', 'double');
    const decode = one(children(t, llm, 'decode'), 'decode');
    assert.ok(decode.events.some((e) => e.name === 'token'), 'token events on the detailed request');
    await server.stop();  // flushes the rest
    const all = spans(collector.receiver);
    const steps = all.filter((s) => s.name === 'engine_step');
    assert.ok(steps.length >= 1, 'engine_step spans of the detailed request');
    for (const step of steps) {
      assert.ok(step.links.length >= 1, 'an engine_step without a detailed request');
      for (const link of step.links) {
        assert.deepStrictEqual([link.traceId, link.spanId], [detailed, llm.spanId], 'engine_step links only the detailed request');
      }
    }
    for (const s of all.filter((x) => x.name === 'llm_request' && x.traceId !== detailed)) {
      assert.ok(!(s.events || []).some((e) => e.name === 'token'), 'token events on a request that did not ask');
    }
    const received = new Set(all.map((s) => s.traceId));
    const fastKept = fastIds.filter((id) => received.has(id));
    assert.deepStrictEqual(fastKept, [], 'fast requests at ratio 0 are not kept');
  }],
];

(async () => {
  await calibrate();
  collector = await startCollector('grpc');
  server = await startServer([...collector.args, '--disable-log-requests', '--max-queued-requests', '2'], {
    env: { ...collector.env, OTEL_TRACES_SAMPLER: 'lantern_tail',
      OTEL_TRACES_SAMPLER_ARG: `ratio=0,latency_ms=${latencyMs},errors=1` },
  });
  // The sampler's counters in /metrics, read before the last test stops the server.
  tests.splice(tests.length - 1, 0, ['/metrics counts the decisions', async () => {
    const text = (await request(server.base, 'GET', '/metrics')).body;
    assert.ok(metricSum(text, 'lantern:tracing_tail_traces_total', 'decision="dropped"') >= 200, text);
    assert.ok(metricSum(text, 'lantern:tracing_tail_traces_total', 'decision="kept"') >= 4, text);
    assert.strictEqual(metricSum(text, 'lantern:tracing_tail_early_decisions_total'), 0);
  }]);
  await main(tests, async () => {
    await server.stop();
    collector.close();
  });
})().catch((e) => { console.error(e); process.exit(1); });
