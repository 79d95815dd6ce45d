// Tracing off (no OTEL_* variables, no flag): a request carrying a traceparent is served
// normally, gets no traceresponse, and the log warns "tracing is disabled" once per process.
// OTEL_SDK_DISABLED=true turns off tracing that the environment would otherwise turn on.
'use strict';
const {
  startServer, startCollector, spans, hex, traceparent, post, stream, main, assert,
} = require('./tracing_harness.js');

const body = { model: 'tiny', prompt: 'untraced', max_tokens: 3 };
const count = (log, re) => (log.match(re) || []).length;

main([
  ['tracing off: served, no traceresponse, one "tracing is disabled" warning', async () => {
    const server = await startServer([]);
    const atStart = count(server.logs(), /tracing is disabled/gi);  // the start-up line may say it too
    try {
      for (let i = 0; i < 2; i++) {
        const r = await post(server.base, '/v1/completions', body, { traceparent: traceparent(hex(16), hex(8)) });
        assert.strictEqual(r.status, 200, JSON.stringify(r.body));
        assert.strictEqual(r.headers.traceresponse, undefined, 'traceresponse with tracing off');
      }
      const s = await stream(server.base, '/v1/chat/completions', { model: 'tiny', messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 3 }, { headers: { traceparent: traceparent(hex(16), hex(8)) } });
      assert.strictEqual(s.status, 200);
    } finally {
      assert.strictEqual(await server.stop(), 0);
    }
    assert.strictEqual(count(server.logs(), /tracing is disabled/gi) - atStart, 1, `log:\n${server.logs()}`);
  }],
  ['OTEL_SDK_DISABLED=true wins over an endpoint in the environment', async () => {
    const collector = await startCollector('grpc');
    const server = await startServer([], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      OTEL_SDK_DISABLED: 'true', OTEL_BSP_SCHEDULE_DELAY: '50' } });
    const atStart = count(server.logs(), /tracing is disabled/gi);
    try {
      const r = await post(server.base, '/v1/completions', body, { traceparent: traceparent(hex(16), hex(8)) });
      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.headers.traceresponse, undefined);
    } finally {
      assert.strictEqual(await server.stop(), 0);
      collector.close();
    }
    assert.deepStrictEqual(spans(collector.receiver).map((s) => s.name), [], 'spans with OTEL_SDK_DISABLED=true');
    assert.strictEqual(count(server.logs(), /tracing is disabled/gi) - atStart, 1);
  }],
]);
