// OTEL_TRACES_SAMPLER: always_off and traceidratio 0 record nothing but serve every request
// (traceresponse flags 00); traceidratio 1 records; parentbased_traceidratio follows a
// sampled caller. "Nothing arrived" is checked after the server has exited, since exit
// flushes whatever was recorded: no waiting for a time.
'use strict';
const {
  KIND, startServer, startCollector, spans, waitForTrace, hex, traceparent, parseTraceresponse, post,
  request, main, assert,
} = require('./tracing_harness.js');

// Starts a receiver and a server with `env`, runs fn(server, collector), stops both.
async function withServer(env, fn) {
  const collector = await startCollector('grpc');
  const server = await startServer([...collector.args, '--disable-log-requests'], { env: { ...collector.env, ...env } });
  try {
    await fn(server, collector);
  } finally {
    const code = await server.stop();
    collector.close();
    assert.strictEqual(code, 0, `server exited ${code}:\n${server.logs()}`);
  }
}

const body = { model: 'tiny', prompt: 'sampled or not', max_tokens: 3 };

// Sends requests with and without a sampled parent; every one must be served with flags 00.
async function sendUnsampled(server) {
  const parent = { traceId: hex(16), spanId: hex(8) };
  const headerSets = [{}, { traceparent: traceparent(parent.traceId, parent.spanId) }];
  for (const headers of headerSets) {
    const r = await post(server.base, '/v1/completions', body, headers);
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.choices.length, 1);
    const tr = parseTraceresponse(r.headers.traceresponse);
    assert.strictEqual(tr.flags, '00', 'traceresponse of an unsampled request');
    if (headers.traceparent) assert.strictEqual(tr.traceId, parent.traceId);
  }
  const s = await request(server.base, 'GET', '/health');
  assert.strictEqual(s.status, 200);
}

async function assertNothingExported(server, collector) {
  await server.stop();  // exit flushes: anything recorded has arrived once it has exited
  assert.deepStrictEqual(spans(collector.receiver).map((s) => s.name), []);
}

main([
  ['always_off: no spans, requests served', () => withServer({ OTEL_TRACES_SAMPLER: 'always_off' }, async (server, collector) => {
    await sendUnsampled(server);
    const metrics = await request(server.base, 'GET', '/metrics');
    assert.strictEqual(metrics.status, 200);
    await assertNothingExported(server, collector);
  })],
  ['traceidratio 0: no spans, requests served', () => withServer(
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, async (server, collector) => {
        await sendUnsampled(server);
        await assertNothingExported(server, collector);
      })],
  ['traceidratio 1: every request traced', () => withServer(
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' }, async (server, collector) => {
        const ids = [];
        for (let i = 0; i < 3; i++) {
          const r = await post(server.base, '/v1/completions', body);
          assert.strictEqual(r.status, 200);
          const tr = parseTraceresponse(r.headers.traceresponse);
          assert.strictEqual(tr.flags, '01');
          ids.push(tr.traceId);
        }
        for (const id of ids) {
          await waitForTrace(collector.receiver, id, (t) => t.some((s) => s.kind === KIND.SERVER) &&
              t.some((s) => s.name === 'llm_request'));
        }
      })],
  ['parentbased_traceidratio 0: a sampled caller is followed, a root is not', () => withServer(
      { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, async (server, collector) => {
        const root = await post(server.base, '/v1/completions', body);
        assert.strictEqual(root.status, 200);
        const rootTrace = parseTraceresponse(root.headers.traceresponse);
        assert.strictEqual(rootTrace.flags, '00');
        const parent = { traceId: hex(16), spanId: hex(8) };
        const r = await post(server.base, '/v1/completions', body, { traceparent: traceparent(parent.traceId, parent.spanId) });
        assert.strictEqual(r.status, 200);
        assert.strictEqual(parseTraceresponse(r.headers.traceresponse).flags, '01');
        const t = await waitForTrace(collector.receiver, parent.traceId,
            (x) => x.some((s) => s.kind === KIND.SERVER) && x.some((s) => s.name === 'llm_request'));
        assert.strictEqual(t.find((s) => s.kind === KIND.SERVER).parentSpanId, parent.spanId);
        await server.stop();
        assert.deepStrictEqual(spans(collector.receiver).filter((s) => s.traceId === rootTrace.traceId), []);
      })],
]);
