'use strict';
// What the real `lantern serve` pushes over OTLP metrics (issue 17), decoded by the
// independent receiver (OpenTelemetry's generated code): the GenAI server metrics and
// http.server.request.duration with the semantic conventions' names, units, attributes and
// advised buckets; counts equal to the requests served, token sums equal to the responses'
// usage; cumulative by default, delta on request; exemplars that name received traces; a
// stream the client leaves is a failed request (error.type).
const nodeHttp = require('http');
const path = require('path');
const crypto = require('crypto');
const { startServer, request, waitFor, run, assert } = require('./harness');
const { SignalsReceiver, metricsOf } = require(
    path.resolve(__dirname, '../telemetry/otlp_signals_receiver.js'));

const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24,
  20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5,
  5, 7.5, 10];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
  16777216, 67108864];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const K = 3;  // plain completions

function attrs(point) {
  const out = {};
  for (const a of point.attributes || []) {
    const v = a.value;
    out[a.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
  }
  return out;
}

// Per metric name: its unit, type, temporalities and series (by attribute set). Cumulative
// series keep their latest point; delta series are summed over the exports.
function collect(receiver) {
  const out = {};
  for (const m of metricsOf(receiver.signal('metrics'))) {
    const entry = out[m.name] ??= { units: new Set(), types: new Set(), temporalities: new Set(),
      series: new Map() };
    entry.units.add(m.unit);
    entry.types.add(m.type);
    entry.temporalities.add(m.data.aggregationTemporality);
    for (const p of m.data.dataPoints || []) {
      const a = attrs(p);
      const key = JSON.stringify(Object.keys(a).sort().map((k) => [k, a[k]]));
      const prev = entry.series.get(key);
      const delta = m.data.aggregationTemporality === 1;
      const point = { attributes: a, count: Number(p.count), sum: p.sum ?? 0,
        bounds: p.explicitBounds, exemplars: p.exemplars || [] };
      if (delta && prev) {
        point.count += prev.count;
        point.sum += prev.sum;
        point.exemplars = prev.exemplars.concat(point.exemplars);
      } else if (prev) {
        point.exemplars = prev.exemplars.concat(point.exemplars);
      }
      entry.series.set(key, point);
    }
  }
  return out;
}

function traceIdsOf(receiver) {
  const ids = new Set();
  for (const r of receiver.signal('traces')) {
    for (const rs of r.body.resourceSpans || []) {
      for (const ss of rs.scopeSpans || []) for (const s of ss.spans || []) ids.add(s.traceId);
    }
  }
  return ids;
}

// The usage of a streamed response: its last chunk with `usage`.
function streamedUsage(body) {
  let usage;
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice(6));
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(usage, 'streamed usage');
  return usage;
}

// Starts a long stream and leaves after its first chunk: the server aborts it.
function abandonStream(base, traceparent) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify({ model: 'tiny', prompt: 'Once', max_tokens: 500, ignore_eos: true,
      stream: true });
    const req = nodeHttp.request(new URL('/v1/completions', base), { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data),
        traceparent } },
    (res) => res.once('data', () => { req.destroy(); resolve(); }));
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end(data);
  });
}

// Serves K completions, 2 chats, 2 streamed completions and 1 streamed chat (each with a
// sampled traceparent), one failing request and one abandoned stream; returns the expected totals.
async function traffic(base) {
  const expected = { text_completion: { n: 0, input: 0, output: 0 },
    chat: { n: 0, input: 0, output: 0 }, traceIds: new Set() };
  const traceparent = () => {
    const traceId = crypto.randomBytes(16).toString('hex');
    expected.traceIds.add(traceId);
    return `00-${traceId}-${crypto.randomBytes(8).toString('hex')}-01`;
  };
  const send = async (op, stream) => {
    const headers = { traceparent: traceparent() };
    const body = { model: 'tiny', max_tokens: 6, ...(stream ? { stream: true,
      stream_options: { include_usage: true } } : {}) };
    if (op === 'chat') body.messages = [{ role: 'user', content: 'Say hello' }];
    else body.prompt = 'The quick brown fox';
    const route = op === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    const res = await request(base, 'POST', route, { body, headers });
    assert.strictEqual(res.status, 200, res.body);
    const usage = stream ? streamedUsage(res.body) : JSON.parse(res.body).usage;
    expected[op].n++;
    expected[op].input += usage.prompt_tokens;
    expected[op].output += usage.completion_tokens;
  };
  for (let i = 0; i < K; i++) await send('text_completion', false);
  for (let i = 0; i < 2; i++) await send('chat', false);
  for (let i = 0; i < 2; i++) await send('text_completion', true);
  await send('chat', true);
  const failed = await request(base, 'POST', '/v1/completions',
      { body: { model: 'no-such-model', prompt: 'x', max_tokens: 2 } });
  assert.strictEqual(failed.status, 404);
  await abandonStream(base, traceparent());
  return expected;
}

function seriesOf(metrics, name, match) {
  const entry = metrics[name];
  if (!entry) return [];
  return [...entry.series.values()].filter((p) =>
    Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

function countOf(metrics, name, match) {
  return seriesOf(metrics, name, match).reduce((n, p) => n + p.count, 0);
}

async function scenario(protocol, temporality) {
  const receiver = new SignalsReceiver();
  const port = protocol === 'grpc' ? await receiver.startGrpc() : await receiver.startHttp();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: protocol === 'grpc' ? base : `${base}/v1/metrics`,
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: protocol === 'grpc' ? base : `${base}/v1/traces`,
    OTEL_EXPORTER_OTLP_INSECURE: 'true', OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  };
  if (temporality) env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE = temporality;
  const server = await startServer([], { env });
  try {
    const expected = await traffic(server.base);
    const common = { 'gen_ai.provider.name': 'lantern', 'gen_ai.request.model': 'tiny',
      'gen_ai.response.model': 'tiny' };
    const ok = { 'error.type': undefined };  // the attribute absent
    const cancelled = { 'gen_ai.operation.name': 'text_completion', 'error.type': 'cancelled' };
    const served = (m) => ['text_completion', 'chat'].every((op) =>
      countOf(m, 'gen_ai.server.request.duration', { 'gen_ai.operation.name': op, ...ok }) ===
          expected[op].n) &&
        countOf(m, 'gen_ai.server.request.duration', cancelled) === 1 &&
        countOf(m, 'http.server.request.duration', { 'error.type': 'client_disconnected' }) === 1 &&
        countOf(m, 'http.server.request.duration', { 'http.response.status_code': 404 }) === 1;
    await waitFor(() => served(collect(receiver)), 'metrics of every request served');
    await waitFor(() => [...expected.traceIds].every((id) => traceIdsOf(receiver).has(id)),
        'the spans of every request');
    const metrics = collect(receiver);
    const spans = traceIdsOf(receiver);

    const histograms = [
      ['gen_ai.server.request.duration', 's', DURATION_BUCKETS],
      ['gen_ai.server.time_to_first_token', 's', TTFT_BUCKETS],
      ['gen_ai.server.time_per_output_token', 's', TPOT_BUCKETS],
      ['gen_ai.server.token.usage', '{token}', TOKEN_BUCKETS],
      ['lantern.request.queue.duration', 's', DURATION_BUCKETS],
      ['http.server.request.duration', 's', HTTP_BUCKETS],
    ];
    const want = temporality === 'delta' ? 1 : 2;
    let exemplars = 0;
    for (const [name, unit, bounds] of histograms) {
      const entry = metrics[name];
      assert.ok(entry, `${name} exported`);
      assert.deepStrictEqual([...entry.units], [unit], `${name} unit`);
      assert.deepStrictEqual([...entry.types], ['histogram'], `${name} type`);
      assert.deepStrictEqual([...entry.temporalities], [want], `${name} temporality`);
      for (const p of entry.series.values()) {
        assert.deepStrictEqual(p.bounds, bounds, `${name} bucket boundaries`);
        for (const e of p.exemplars) {
          exemplars++;
          assert.ok(spans.has(e.traceId), `${name} exemplar ${e.traceId} among the spans`);
          assert.ok(expected.traceIds.has(e.traceId), `${name} exemplar in a request's trace`);
        }
      }
      if (!name.startsWith('gen_ai.')) continue;
      for (const p of entry.series.values()) {
        const keys = Object.keys(p.attributes).filter((k) => k !== 'error.type').sort();
        if ('error.type' in p.attributes) assert.strictEqual(p.attributes['error.type'], 'cancelled');
        const base = ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model',
          'gen_ai.response.model'];
        if (name === 'gen_ai.server.token.usage') base.push('gen_ai.token.type');
        assert.deepStrictEqual(keys, base.sort(), `${name} attribute set`);
        for (const [k, v] of Object.entries(common)) assert.strictEqual(p.attributes[k], v);
      }
    }
    assert.ok(exemplars > 0, 'histogram points of sampled requests carry exemplars');

    for (const op of ['text_completion', 'chat']) {
      const match = { 'gen_ai.operation.name': op, ...ok };
      for (const name of ['gen_ai.server.request.duration', 'gen_ai.server.time_to_first_token',
        'lantern.request.queue.duration']) {
        assert.strictEqual(countOf(metrics, name, match), expected[op].n, `${name} ${op} count`);
      }
      for (const type of ['input', 'output']) {
        const [usage] = seriesOf(metrics, 'gen_ai.server.token.usage',
            { ...match, 'gen_ai.token.type': type });
        assert.ok(usage, `token usage ${op} ${type}`);
        assert.strictEqual(usage.count, expected[op].n, `token usage ${op} ${type} count`);
        assert.strictEqual(usage.sum, expected[op][type], `token usage ${op} ${type} sum`);
      }
    }

    const http = (route, status, error) => countOf(metrics, 'http.server.request.duration',
        { 'http.route': route, 'http.response.status_code': status, 'error.type': error });
    assert.strictEqual(http('/v1/completions', 200), expected.text_completion.n);
    assert.strictEqual(http('/v1/chat/completions', 200), expected.chat.n);
    assert.strictEqual(http('/v1/completions', 404), 1);
    assert.strictEqual(http('/v1/completions', 200, 'client_disconnected'), 1);
    assert.strictEqual(countOf(metrics, 'gen_ai.server.request.duration', cancelled), 1);
    const routeSeries = seriesOf(metrics, 'http.server.request.duration',
        { 'http.route': '/v1/completions', ...ok });
    for (const p of routeSeries) {
      assert.deepStrictEqual(Object.keys(p.attributes).sort(), ['http.request.method',
        'http.response.status_code', 'http.route', 'network.protocol.version', 'url.scheme']);
      assert.strictEqual(p.attributes['http.request.method'], 'POST');
      assert.strictEqual(p.attributes['url.scheme'], 'http');
      assert.strictEqual(p.attributes['network.protocol.version'], '1.1');
    }
    if (protocol !== 'grpc') {
      assert.ok(receiver.signal('metrics').every((r) => r.path === '/v1/metrics' && !r.json));
    }
    assert.ok(receiver.signal('metrics').every((r) => !r.error), 'every export decodes');
  } finally {
    await server.stop();
    receiver.close();
  }
}

run([
  ['grpc, cumulative', () => scenario('grpc')],
  ['http/protobuf, cumulative', () => scenario('http/protobuf')],
  ['grpc, delta (sum of deltas = totals)', () => scenario('grpc', 'delta')],
]).then((failed) => process.exit(failed ? 1 : 0));
