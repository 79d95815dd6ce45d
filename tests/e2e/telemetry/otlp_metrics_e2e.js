'use strict';
// One OTLP metrics end-to-end scenario: starts the independent receiver
// (otlp_signals_receiver.js), runs the C++ driver (metrics configured from OTEL_* only, as
// in the server), and checks what arrived: names, units, types, attributes, values, bucket
// boundaries, temporality and exemplars.
//
//   node otlp_metrics_e2e.js <scenario> <driver>
const assert = require('assert');
const {spawn} = require('child_process');
const path = require('path');
const {SignalsReceiver, metricsOf} = require('./otlp_signals_receiver.js');

const [scenarioName, driver] = process.argv.slice(2);
const DRIVER_LIMIT_MS = 60000;

function runDriver(env, rounds = 2) {
  const cleanEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  return new Promise((resolve, reject) => {
    const lsan = `suppressions=${path.join(__dirname, 'lsan_suppressions.txt')}`;
    const child = spawn(driver, ['--rounds', String(rounds)], {
      env: {...cleanEnv, LSAN_OPTIONS: lsan, OTEL_METRIC_EXPORT_INTERVAL: '600000', ...env},
      stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`driver hung; stderr:\n${stderr}`));
    }, DRIVER_LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`driver exited ${code}; stderr:\n${stderr}`));
      process.stderr.write(stderr);
      resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

const attr = (point, key) => {
  const found = (point.attributes || []).find((a) => a.key === key);
  return found && (found.value.stringValue ?? found.value.intValue ?? found.value.boolValue);
};
const byName = (metrics, name) => metrics.filter((m) => m.name === name);
const hex = (byte) => byte.toString(16).padStart(2, '0');

// What every scenario's requests have in common: the resource, the scope, the units.
function assertShape(metrics) {
  assert.ok(metrics.length > 0, 'no metrics arrived');
  for (const m of metrics) {
    const service = m.resource.attributes.find((a) => a.key === 'service.name');
    assert.strictEqual(service.value.stringValue, 'metrics-e2e');
    assert.deepStrictEqual([m.scope.name, m.scope.version], ['lantern.e2e', '1.0.0']);
    assert.strictEqual(m.request.error, undefined);
  }
  const units = {'test.requests': '{request}', 'test.running': '{request}',
                 'test.duration': 's', 'test.round': '1'};
  for (const m of metrics) assert.strictEqual(m.unit, units[m.name], m.name);
}

// Round r of the driver: requests +1 (/a) +2 (/b), running ±1, duration 0.05 (exemplar,
// trace id r repeated) and 0.5·r, gauge = r. One export per round, one at shutdown.
function assertCumulative(receiver, rounds) {
  const requests = receiver.signal('metrics');
  assert.strictEqual(requests.length, rounds + 1);
  const metrics = metricsOf(requests);
  assertShape(metrics);
  const last = metricsOf([requests[rounds - 1]]);
  const counter = byName(last, 'test.requests')[0];
  assert.strictEqual(counter.type, 'sum');
  assert.strictEqual(counter.description, 'requests served');
  assert.strictEqual(counter.data.isMonotonic, true);
  assert.strictEqual(counter.data.aggregationTemporality, 2);
  const values = Object.fromEntries(counter.data.dataPoints.map((p) => [attr(p, 'route'),
                                                                          p.asInt]));
  assert.deepStrictEqual(values, {'/a': String(rounds), '/b': String(2 * rounds)});
  const running = byName(last, 'test.running')[0];
  assert.ok(!running.data.isMonotonic);
  assert.strictEqual(running.data.dataPoints[0].asDouble ?? 0, rounds % 2);
  const duration = byName(last, 'test.duration')[0];
  assert.strictEqual(duration.type, 'histogram');
  assert.strictEqual(duration.data.aggregationTemporality, 2);
  const point = duration.data.dataPoints[0];
  assert.deepStrictEqual(point.explicitBounds, [0.01, 0.1, 1]);
  assert.strictEqual(point.count, String(2 * rounds));
  assert.strictEqual(attr(point, 'error.type'), 'none');
  const expected = [0, rounds, 0, 0];
  for (let r = 1; r <= rounds; ++r) expected[0.5 * r <= 1 ? 2 : 3] += 1;
  assert.deepStrictEqual(point.bucketCounts, expected.map(String));
  // The exemplar of each round's sampled measurement, in that round's export.
  for (let r = 1; r <= rounds; ++r) {
    const p = byName(metricsOf([requests[r - 1]]), 'test.duration')[0].data.dataPoints[0];
    assert.strictEqual(p.exemplars.length, 1);
    assert.strictEqual(p.exemplars[0].traceId, hex(r).repeat(16));
    assert.strictEqual(p.exemplars[0].spanId, hex(0x80 + r).repeat(8));
    assert.strictEqual(p.exemplars[0].asDouble, 0.05);
  }
  const gauge = byName(last, 'test.round')[0];
  assert.strictEqual(gauge.type, 'gauge');
  assert.strictEqual(gauge.data.dataPoints[0].asDouble, rounds);
  assert.strictEqual(attr(gauge.data.dataPoints[0], 'kind'), 'gauge');
  // Cumulative points of one series share their start time.
  const starts = new Set(byName(metrics, 'test.requests').flatMap(
      (m) => m.data.dataPoints.map((p) => p.startTimeUnixNano)));
  assert.strictEqual(starts.size, 1);
}

const scenarios = {
  async grpc_cumulative() {
    const r = new SignalsReceiver();
    const port = await r.startGrpc();
    const report = await runDriver({OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
                                    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'tenant=acme'}, 3);
    assert.deepStrictEqual(report.exporters, ['otlp']);  // zero-config: the endpoint alone
    assert.strictEqual(report.flushed, true);
    assertCumulative(r, 3);
    assert.strictEqual(r.requests[0].metadata.tenant, 'acme');
    return r;
  },
  async http_protobuf_cumulative() {
    const r = new SignalsReceiver();
    const port = await r.startHttp();
    await runDriver({OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
                     OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
                     OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip'});
    assertCumulative(r, 2);
    assert.strictEqual(r.requests[0].path, '/v1/metrics');
    assert.strictEqual(r.requests[0].headers['content-type'], 'application/x-protobuf');
    assert.strictEqual(r.requests[0].headers['content-encoding'], 'gzip');
    return r;
  },
  async http_json_cumulative() {
    const r = new SignalsReceiver();
    const port = await r.startHttp();
    await runDriver({OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
                     OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}/custom/v1/metrics`});
    assertCumulative(r, 2);
    assert.strictEqual(r.requests[0].path, '/custom/v1/metrics');
    assert.strictEqual(r.requests[0].headers['content-type'], 'application/json');
    // OTLP/JSON: 64-bit integers as strings, ids as hex.
    const raw = r.requests[0].raw.resourceMetrics[0].scopeMetrics[0].metrics;
    const hist = raw.find((m) => m.name === 'test.duration').histogram.dataPoints[0];
    assert.strictEqual(typeof hist.count, 'string');
    assert.match(hist.exemplars[0].traceId, /^[0-9a-f]{32}$/);
    return r;
  },
  async http_protobuf_delta() {
    const r = new SignalsReceiver();
    const port = await r.startHttp();
    await runDriver({OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
                     OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
                     OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta'}, 3);
    const requests = r.signal('metrics');
    assert.strictEqual(requests.length, 4);
    assertShape(metricsOf(requests));
    for (let round = 1; round <= 3; ++round) {
      const metrics = metricsOf([requests[round - 1]]);
      const counter = byName(metrics, 'test.requests')[0];
      assert.strictEqual(counter.data.aggregationTemporality, 1);
      const a = counter.data.dataPoints.find((p) => attr(p, 'route') === '/a');
      assert.strictEqual(a.asInt, '1');  // this round's only
      const duration = byName(metrics, 'test.duration')[0];
      assert.strictEqual(duration.data.aggregationTemporality, 1);
      assert.strictEqual(duration.data.dataPoints[0].count, '2');
      // Up-down counters stay cumulative under the delta preference.
      assert.strictEqual(byName(metrics, 'test.running')[0].data.aggregationTemporality, 2);
    }
    // Consecutive delta points tile time: each starts where the previous ended.
    const points = [0, 1].map((i) => byName(metricsOf([requests[i]]), 'test.duration')[0]
        .data.dataPoints[0]);
    assert.strictEqual(points[1].startTimeUnixNano, points[0].timeUnixNano);
    // Nothing recorded after the last round: the shutdown export has no counter points.
    assert.deepStrictEqual(byName(metricsOf([requests[3]]), 'test.requests'), []);
    return r;
  },
  async grpc_exponential() {
    const r = new SignalsReceiver();
    const port = await r.startGrpc();
    await runDriver({OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
                     OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION:
                         'base2_exponential_bucket_histogram'}, 2);
    const duration = byName(metricsOf([r.signal('metrics')[1]]), 'test.duration')[0];
    assert.strictEqual(duration.type, 'exponentialHistogram');
    const p = duration.data.dataPoints[0];
    assert.strictEqual(p.count, '4');
    const counts = p.positive.bucketCounts.map(Number);
    assert.strictEqual(counts.reduce((a, b) => a + b, 0), 4);
    // Every value lies in its bucket: (base^(offset+i), base^(offset+i+1)].
    const base = Math.pow(2, Math.pow(2, -p.scale));
    const offset = p.positive.offset || 0;
    for (const v of [0.05, 0.5, 1.0]) {
      const i = counts.findIndex((c, k) => c > 0 && Math.pow(base, offset + k) < v * (1 + 1e-9) &&
                                           v <= Math.pow(base, offset + k + 1) * (1 + 1e-9));
      assert.ok(i >= 0, `no bucket holds ${v}`);
    }
    assert.strictEqual(p.exemplars[0].traceId, hex(2).repeat(16));
    return r;
  },
  // Transient failures are retried within the export timeout (the traces' retry policy).
  async http_retry() {
    const r = new SignalsReceiver([{httpStatus: 503, retryAfter: 0}, {httpStatus: 429}]);
    const port = await r.startHttp();
    const report = await runDriver({OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
                                    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`}, 1);
    assert.strictEqual(report.flushed, true);
    assert.strictEqual(r.signal('metrics').length, 4);  // 2 retried + flush + shutdown
    return r;
  },
  async grpc_retry() {
    const r = new SignalsReceiver([{grpcCode: 14}]);  // UNAVAILABLE
    const port = await r.startGrpc();
    await runDriver({OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`}, 1);
    assert.strictEqual(r.signal('metrics').length, 3);
    return r;
  },
};

(async () => {
  const scenario = scenarios[scenarioName];
  if (!scenario) throw new Error(`unknown scenario ${scenarioName}`);
  const receiver = await scenario();
  if (receiver) receiver.close();
  console.log(`${scenarioName}: OK`);
  process.exit(0);
})().catch((e) => {
  console.error(`${scenarioName}: FAILED\n${e.stack || e}`);
  process.exit(1);
});
