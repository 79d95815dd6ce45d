'use strict';
// One set of measurements behind /metrics and OTLP (issue 17): the real `lantern serve`
// with OTLP metrics on and vLLM's names on /metrics. After sequential completions, the
// request timings and the HTTP duration OTLP received (decoded by OpenTelemetry's generated
// code) and what /metrics shows are the same recordings: equal counts and bit-for-bit equal
// sums. Then one request with n=2: OTLP counts it once, /metrics twice (vLLM's counting).
const path = require('path');
const { startServer, request, waitFor, run, assert } = require('./harness');
const { SignalsReceiver, metricsOf } = require(
    path.resolve(__dirname, '../telemetry/otlp_signals_receiver.js'));

const PAIRS = [  // OTLP name, /metrics name (vLLM's)
  ['gen_ai.server.request.duration', 'vllm:e2e_request_latency_seconds'],
  ['gen_ai.server.time_to_first_token', 'vllm:time_to_first_token_seconds'],
  ['lantern.request.queue.duration', 'vllm:request_queue_time_seconds'],
  ['lantern.request.prefill.duration', 'vllm:request_prefill_time_seconds'],
  ['lantern.request.decode.duration', 'vllm:request_decode_time_seconds'],
];
const HTTP_PAIR = ['http.server.request.duration', 'http_request_duration_seconds'];

// The latest cumulative point of `name` whose attributes include `match`: {count, sum}.
function otlpPoint(receiver, name, match) {
  let latest = null;
  for (const m of metricsOf(receiver.signal('metrics'))) {
    if (m.name !== name) continue;
    for (const p of m.data.dataPoints || []) {
      const a = {};
      for (const kv of p.attributes || []) {
        a[kv.key] = kv.value.stringValue ?? Number(kv.value.intValue);
      }
      if (!Object.entries(match).every(([k, v]) => a[k] === v)) continue;
      if (!latest || Number(p.timeUnixNano) >= Number(latest.timeUnixNano)) latest = p;
    }
  }
  return latest ? { count: Number(latest.count), sum: latest.sum } : { count: 0, sum: 0 };
}

// A /metrics sample: `family_suffix{labels}` -> value, labels given as text.
function sample(text, series) {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function scenario() {
  const receiver = new SignalsReceiver();
  const port = await receiver.startGrpc();
  const server = await startServer(['--metrics-names', 'vllm'], { env: {
    OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_INSECURE: 'true', OTEL_METRIC_EXPORT_INTERVAL: '300',
    OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none',
  } });
  try {
    const ok = { 'gen_ai.operation.name': 'text_completion' };
    const completion = async (n) => {
      const res = await request(server.base, 'POST', '/v1/completions',
          { body: { model: 'tiny', prompt: 'The quick brown fox', max_tokens: 5, n } });
      assert.strictEqual(res.status, 200, res.body);
    };
    // Sequential, so that both sides add the same values in the same order.
    for (let i = 0; i < 3; i++) await completion(1);
    await waitFor(() => otlpPoint(receiver, PAIRS[0][0], ok).count === 3 &&
        otlpPoint(receiver, HTTP_PAIR[0], { 'http.route': '/v1/completions' }).count === 3,
    'the OTLP export of three requests');
    // Exports are cumulative: wait for one more so every instrument's latest point is in.
    const exports = receiver.signal('metrics').length;
    await waitFor(() => receiver.signal('metrics').length > exports + 1, 'two more exports');
    let text = (await request(server.base, 'GET', '/metrics')).body;
    const labels = '{model_name="tiny",engine="0"}';
    for (const [otlpName, name] of PAIRS) {
      const otlp = otlpPoint(receiver, otlpName, ok);
      assert.strictEqual(otlp.count, 3, otlpName);
      assert.strictEqual(sample(text, `${name}_count${labels}`), 3, name);
      assert.ok(otlp.sum > 0, otlpName);
      // Bit for bit: one recording, aggregated twice, not two measurements.
      assert.strictEqual(sample(text, `${name}_sum${labels}`), otlp.sum, `${name} vs ${otlpName}`);
    }
    const http = otlpPoint(receiver, HTTP_PAIR[0], { 'http.route': '/v1/completions' });
    const httpSeries = '{handler="/v1/completions",method="POST"}';
    assert.strictEqual(sample(text, `${HTTP_PAIR[1]}_count${httpSeries}`), 3);
    assert.strictEqual(sample(text, `${HTTP_PAIR[1]}_sum${httpSeries}`), http.sum,
        'the HTTP exchange timed once for both');

    // n=2: one request to the GenAI conventions, two to vLLM's dashboards.
    await completion(2);
    await waitFor(() => otlpPoint(receiver, PAIRS[0][0], ok).count === 4, 'the n=2 request');
    text = (await request(server.base, 'GET', '/metrics')).body;
    for (const [otlpName, name] of PAIRS) {
      await waitFor(() => otlpPoint(receiver, otlpName, ok).count === 4, otlpName);
      assert.strictEqual(sample(text, `${name}_count${labels}`), 5, name);
    }
  } finally {
    await server.stop();
    receiver.close();
  }
}

run([
  ['one recording feeds /metrics and OTLP', scenario],
]).then((failed) => process.exit(failed ? 1 : 0));
