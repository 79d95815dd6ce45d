// The collector down during load: requests are served as if tracing were off, and the
// lost spans are counted in /metrics (export failures, spans dropped). Once with no
// collector at all (gRPC), once with one that goes away midway (HTTP).
'use strict';
const {
  startServer, startCollector, exportConfig, freePort, waitForSpans, stream, post, request,
  metricSum, waitFor, main, assert,
} = require('./tracing_harness.js');

// Small batch delay and export timeout so failures show up soon; the waits below are
// deadlines only.
const FAST = { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_TIMEOUT: '500', OTEL_SERVICE_NAME: 'lantern-down' };

async function load(base, count) {
  const body = (i) => ({ model: 'tiny', prompt: `load ${i}`, max_tokens: 6, temperature: 0.5, ignore_eos: true });
  const results = await Promise.all(Array.from({ length: count }, (_, i) => (i % 2 ?
    stream(base, '/v1/completions', body(i)).then((r) => ({ status: r.status, ok: r.events.length > 0 })) :
    post(base, '/v1/completions', body(i)).then((r) => ({ status: r.status, ok: r.body.choices?.length === 1 })))));
  for (const r of results) {
    assert.strictEqual(r.status, 200);
    assert.ok(r.ok, 'a response without its choices');
  }
}

const metrics = async (base) => (await request(base, 'GET', '/metrics')).body;
const losses = (text) => (metricSum(text, 'lantern:tracing_export_failures_total') || 0) +
    (metricSum(text, 'lantern:tracing_spans_dropped_total') || 0);

// The tracing counters exist, with the model_name label like the rest of /metrics.
function assertCounters(text) {
  for (const name of ['lantern:tracing_spans_started_total', 'lantern:tracing_spans_exported_total',
    'lantern:tracing_export_failures_total']) {
    assert.match(text, new RegExp(`^${name}\\{[^}]*model_name="tiny"[^}]*\\} `, 'm'), `${name} missing`);
  }
  assert.match(text, /^lantern:tracing_spans_dropped_total\{[^}]*reason="export_failed"[^}]*\} /m,
      'lantern:tracing_spans_dropped_total{reason="export_failed"} missing');
}

main([
  ['no collector at all: requests served, export failures counted', async () => {
    const port = await freePort();
    const config = exportConfig('grpc', port);
    const server = await startServer([...config.args, '--disable-log-requests'], { env: { ...config.env, ...FAST } });
    try {
      await load(server.base, 16);
      await waitFor(async () => losses(await metrics(server.base)) > 0, 'export failures in /metrics', 30000);
      const text = await metrics(server.base);
      assertCounters(text);
      assert.ok(metricSum(text, 'lantern:tracing_spans_started_total') > 0);
      assert.strictEqual(metricSum(text, 'lantern:tracing_spans_exported_total'), 0);
      await load(server.base, 4);  // still served after failures
    } finally {
      assert.strictEqual(await server.stop(), 0, server.logs());
    }
  }],
  ['the collector goes away midway: later requests served, drops counted', async () => {
    const collector = await startCollector('http/protobuf');
    const server = await startServer([...collector.args, '--disable-log-requests'], { env: { ...collector.env, ...FAST } });
    try {
      await load(server.base, 4);
      await waitForSpans(collector.receiver, (all) => all.filter((s) => s.name === 'llm_request').length >= 4,
          'the first spans');
      await waitFor(async () => metricSum(await metrics(server.base), 'lantern:tracing_spans_exported_total') > 0,
          'exported spans counted');
      const before = losses(await metrics(server.base));
      collector.close();
      await load(server.base, 16);
      await waitFor(async () => losses(await metrics(server.base)) > before, 'losses after the collector left', 30000);
      assertCounters(await metrics(server.base));
    } finally {
      collector.close();
      assert.strictEqual(await server.stop(), 0, server.logs());
    }
  }],
  ['a collector that never answers: the full queue drops spans, counted by reason', async () => {
    const collector = await startCollector('grpc');
    const hole = await collector.receiver.startBlackhole();  // accepts, never answers
    const config = exportConfig('http/protobuf', hole);
    const server = await startServer([...config.args, '--disable-log-requests'], { env: { ...config.env, ...FAST,
      OTEL_BSP_MAX_QUEUE_SIZE: '4', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2' } });
    try {
      // While an export hangs, 16 requests' spans (several each) cannot fit a queue of 4.
      await load(server.base, 16);
      await waitFor(async () => metricSum(await metrics(server.base), 'lantern:tracing_spans_dropped_total',
          'reason="queue_full"') > 0, 'queue_full drops in /metrics', 30000);
      const text = await metrics(server.base);
      const started = metricSum(text, 'lantern:tracing_spans_started_total');
      const done = metricSum(text, 'lantern:tracing_spans_exported_total') + metricSum(text, 'lantern:tracing_spans_dropped_total');
      assert.ok(started >= done, `${started} spans started but ${done} exported or dropped`);
      assert.ok(started >= 16 * 5, `only ${started} spans started for 16 requests`);
    } finally {
      collector.close();
      assert.strictEqual(await server.stop(), 0, server.logs());
    }
  }],
]);
