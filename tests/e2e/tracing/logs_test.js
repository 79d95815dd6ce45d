// Logs that carry the trace (issue 17), end to end: the real `lantern serve` exports its
// log lines as OTLP log records (gRPC, HTTP/protobuf, HTTP/JSON) to the independent
// receiver of tests/e2e/telemetry (decoded by OpenTelemetry's generated code), beside its
// spans; a request's records carry the trace and span id its spans arrived with, the
// severity, and the traces' resource. `--log-format json` writes lines that parse as JSON
// with the same ids. A collector that is down costs nothing but the dropped records.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {
  startServer, freePort, hex, traceparent, post, request, waitFor, main, assert,
} = require('./tracing_harness.js');
const { SignalsReceiver, metricsOf } = require('../telemetry/otlp_signals_receiver.js');

const DEADLINE_MS = 30000;
const API_KEY = 'sk-logs-secret-' + hex(8);
const FAST = { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BLRP_SCHEDULE_DELAY: '100' };

function value(v) {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('boolValue' in v) return v.boolValue;
  if ('doubleValue' in v) return Number(v.doubleValue);
  return v;
}
const attrs = (list) => Object.fromEntries((list || []).map((a) => [a.key, value(a.value)]));

function decoded(receiver, signal) {
  const entries = receiver.signal(signal);
  for (const e of entries) assert.strictEqual(e.error, undefined, `undecodable ${signal} export: ${e.error}`);
  return entries;
}

// Every log record received: {body, severity, severityText, traceId, spanId, flags, attrs, resource}.
function logRecords(receiver) {
  const out = [];
  for (const entry of decoded(receiver, 'logs')) {
    for (const rl of entry.body.resourceLogs || []) {
      for (const sl of rl.scopeLogs || []) {
        for (const r of sl.logRecords || []) {
          out.push({ body: value(r.body), severity: r.severityNumber || 0, severityText: r.severityText || '',
            traceId: r.traceId || '', spanId: r.spanId || '', flags: r.flags || 0, attrs: attrs(r.attributes),
            time: BigInt(r.timeUnixNano || 0), observed: BigInt(r.observedTimeUnixNano || 0),
            resource: attrs(rl.resource && rl.resource.attributes), scope: (sl.scope && sl.scope.name) || '',
            transport: entry.transport, json: !!entry.json });
        }
      }
    }
  }
  return out;
}

function spans(receiver) {
  const out = [];
  for (const entry of decoded(receiver, 'traces')) {
    for (const rs of entry.body.resourceSpans || []) {
      for (const ss of rs.scopeSpans || []) {
        for (const s of ss.spans || []) {
          out.push({ name: s.name, traceId: s.traceId, spanId: s.spanId, kind: s.kind,
            resource: attrs(rs.resource && rs.resource.attributes) });
        }
      }
    }
  }
  return out;
}

async function waitForRecords(receiver, predicate, what) {
  let found;
  await waitFor(() => { found = predicate(logRecords(receiver)); return found; }, what, DEADLINE_MS);
  return found;
}

const accessLine = (r, status) => new RegExp(`"POST /v1/completions" ${status} `).test(r.body || '');
const completion = (extra = {}) => ({ model: 'tiny', prompt: 'hello logs', max_tokens: 3, temperature: 0, ...extra });

// No record, line or attribute anywhere names the API key or the Authorization header.
function assertNoSecrets(texts) {
  for (const text of texts) {
    assert.ok(!text.includes(API_KEY), `the API key was logged: ${text.slice(0, 300)}`);
    assert.ok(!/bearer/i.test(text), `an Authorization header was logged: ${text.slice(0, 300)}`);
  }
}

// A request with a caller's traceparent and a field the server ignores (a warning), and
// one with the caller's sampled flag off; returns their trace ids.
async function requests(base) {
  const sampled = { traceId: hex(16), spanId: hex(8) };
  const field = `logs_test_field_${hex(4)}`;
  const r1 = await post(base, '/v1/completions', completion({ [field]: 1 }), {
    traceparent: traceparent(sampled.traceId, sampled.spanId, '01'), Authorization: `Bearer ${API_KEY}` });
  assert.strictEqual(r1.status, 200, JSON.stringify(r1.body));
  const unsampled = { traceId: hex(16), spanId: hex(8) };
  const r2 = await post(base, '/v1/completions', completion(), {
    traceparent: traceparent(unsampled.traceId, unsampled.spanId, '00'), Authorization: `Bearer ${API_KEY}` });
  assert.strictEqual(r2.status, 200, JSON.stringify(r2.body));
  const denied = await post(base, '/v1/completions', completion(), { Authorization: `Bearer ${API_KEY}-wrong` });
  assert.strictEqual(denied.status, 401);
  return { sampled, unsampled, field };
}

// The records of one server against its spans: one scenario per protocol.
async function checkRecordsAgainstSpans(receiver, server, ids) {
  const { sampled, unsampled, field } = ids;
  // The access-log line of the sampled request: its trace id, the HTTP server span's id.
  const access = await waitForRecords(receiver, (all) => all.find((r) => accessLine(r, 200) &&
      r.traceId === sampled.traceId), 'the access-log record of the traced request');
  let serverSpan;
  await waitFor(() => {
    serverSpan = spans(receiver).find((s) => s.traceId === sampled.traceId && s.kind === 2);
    return serverSpan;
  }, 'the HTTP server span', DEADLINE_MS);
  assert.strictEqual(access.spanId, serverSpan.spanId, 'the record names the span of its request');
  assert.strictEqual(access.flags & 0xff, 1, 'W3C sampled flag on the record');
  assert.strictEqual(access.severity, 9);  // SEVERITY_NUMBER_INFO
  assert.strictEqual(access.severityText, 'INFO');
  assert.strictEqual(access.attrs.logger, 'http');
  assert.match(access.attrs['code.file.path'], /^src\/server\/.+\.cc$/);
  assert.ok(access.attrs['code.line.number'] > 0);
  assert.ok(access.time > 0n && access.observed >= access.time);
  assert.strictEqual(access.scope, 'lantern');
  // The same resource as the spans, attribute for attribute.
  assert.deepStrictEqual(access.resource, serverSpan.resource);
  assert.strictEqual(access.resource['service.name'], 'lantern-logs');

  // The warning about the ignored field, written on the preprocessing thread, names the
  // same trace and span.
  const warning = await waitForRecords(receiver, (all) => all.find((r) => (r.body || '').includes(field)),
      'the unknown-field warning');
  assert.strictEqual(warning.severity, 13);  // SEVERITY_NUMBER_WARN
  assert.strictEqual(warning.traceId, sampled.traceId);
  assert.strictEqual(warning.spanId, serverSpan.spanId);

  // The unsampled request: no spans, but its lines still name its trace (flags 00).
  const quiet = await waitForRecords(receiver, (all) => all.find((r) => accessLine(r, 200) &&
      r.traceId === unsampled.traceId), 'the access-log record of the unsampled request');
  assert.strictEqual(quiet.flags & 0xff, 0);
  assert.match(quiet.spanId, /^[0-9a-f]{16}$/);
  assert.ok(!spans(receiver).some((s) => s.traceId === unsampled.traceId), 'an unsampled span was exported');

  // Start-up lines: outside any request, no trace id.
  const serving = logRecords(receiver).find((r) => /^serving tiny on /.test(r.body || ''));
  assert.ok(serving, 'the start-up line "serving ..." was exported');
  assert.strictEqual(serving.traceId, '');
  assert.strictEqual(serving.attrs.logger, 'serve');

  // The refused request's access line (401) is there, and nothing names the key.
  await waitForRecords(receiver, (all) => all.find((r) => accessLine(r, 401)), 'the 401 access-log record');
  assertNoSecrets(logRecords(receiver).map((r) => JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? String(v) : v))));
  assertNoSecrets([server.logs()]);
}

async function protocolScenario(protocol) {
  const receiver = new SignalsReceiver();
  const port = protocol === 'grpc' ? await receiver.startGrpc() : await receiver.startHttp();
  const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1/logs`;
  const tracesEndpoint = protocol === 'grpc' ? `grpc://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1/traces`;
  const server = await startServer(['--otlp-traces-endpoint', tracesEndpoint, '--api-key', API_KEY], {
    env: { ...FAST, OTEL_SERVICE_NAME: 'lantern-logs', OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol === 'grpc' ? 'grpc' : 'http/protobuf',
      OTEL_EXPORTER_OTLP_INSECURE: 'true', OTEL_TRACES_SAMPLER: 'parentbased_always_on' } });
  try {
    assert.match(server.logs(), /log export on: exporter otlp/);
    const ids = await requests(server.base);
    await checkRecordsAgainstSpans(receiver, server, ids);
    if (protocol !== 'grpc') {
      const logsRequests = receiver.signal('logs');
      assert.ok(logsRequests.every((r) => r.path === '/v1/logs'));
      assert.ok(logsRequests.every((r) => r.json === (protocol === 'http/json')), 'content type of the protocol');
    }
  } finally {
    const code = await server.stop();
    receiver.close();
    assert.strictEqual(code, 0, server.logs());
  }
  // The last lines ("stopped") left before the process did.
  assert.ok(logRecords(receiver).some((r) => r.body === 'stopped'), 'the shutdown line was exported');
}

// The stderr lines of a server as parsed JSON objects (every line must parse).
function jsonLines(text) {
  return text.split('\n').filter((l) => l.length > 0).map((line) => {
    try {
      return JSON.parse(line);
    } catch (e) {
      throw new Error(`not a JSON line: ${line}`);
    }
  });
}

main([
  ['OTLP/gRPC log records carry their request\'s trace and span ids, severity and resource',
    () => protocolScenario('grpc')],
  ['OTLP/HTTP protobuf log records', () => protocolScenario('http/protobuf')],
  ['OTLP/HTTP JSON log records', () => protocolScenario('http/json')],
  ['--log-format json: every line is a JSON object; request lines carry the caller\'s trace id', async () => {
    // Tracing off: the lines name the caller's trace and span (its traceparent).
    const server = await startServer(['--log-format', 'json', '--api-key', API_KEY]);
    try {
      const ids = await requests(server.base);
      await waitFor(() => jsonLines(server.logs()).filter((l) => /"POST \/v1\/completions"/.test(l.message)).length >= 3,
          'three access-log lines');
      const lines = jsonLines(server.logs());
      for (const line of lines) {
        assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, `time of ${JSON.stringify(line)}`);
        assert.ok(['DEBUG', 'INFO', 'WARNING', 'ERROR'].includes(line.level), line.level);
        assert.strictEqual(typeof line.logger, 'string');
        assert.strictEqual(typeof line.message, 'string');
      }
      const access = lines.find((l) => l.trace_id === ids.sampled.traceId && / 200 /.test(l.message));
      assert.ok(access, 'the access-log line with the caller\'s trace id');
      assert.strictEqual(access.logger, 'http');
      assert.strictEqual(access.span_id, ids.sampled.spanId);
      assert.strictEqual(access.trace_flags, '01');
      const warning = lines.find((l) => l.message.includes(ids.field));
      assert.ok(warning, 'the unknown-field warning');
      assert.strictEqual(warning.level, 'WARNING');
      assert.strictEqual(warning.trace_id, ids.sampled.traceId);
      assert.ok(lines.some((l) => l.trace_id === ids.unsampled.traceId && l.trace_flags === '00'));
      const denied = lines.find((l) => / 401 /.test(l.message));
      assert.ok(denied && denied.trace_id === undefined, 'a request without traceparent and tracing off has no ids');
      assert.ok(lines.some((l) => /^serving tiny on /.test(l.message) && l.trace_id === undefined));
      assertNoSecrets([server.logs()]);
    } finally {
      assert.strictEqual(await server.stop(), 0, server.logs());
    }
  }],
  ['json from --config YAML (over LANTERN_LOG_FORMAT=text), trace ids of the HTTP span', async () => {
    const receiver = new SignalsReceiver();
    const port = await receiver.startGrpc();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-logs-'));
    const config = path.join(dir, 'config.yaml');
    fs.writeFileSync(config, 'log_format: json\n');
    const server = await startServer(['--config', config, '--otlp-traces-endpoint', `grpc://127.0.0.1:${port}`],
        { env: { ...FAST, LANTERN_LOG_FORMAT: 'text', OTEL_EXPORTER_OTLP_TRACES_INSECURE: 'true' } });
    try {
      const caller = { traceId: hex(16), spanId: hex(8) };
      const r = await post(server.base, '/v1/completions', completion(),
          { traceparent: traceparent(caller.traceId, caller.spanId) });
      assert.strictEqual(r.status, 200);
      const isAccess = (l) => l.trace_id === caller.traceId && /"POST \/v1\/completions" 200 /.test(l.message);
      await waitFor(() => jsonLines(server.logs()).some(isAccess), 'the access line');
      const access = jsonLines(server.logs()).find(isAccess);
      let serverSpan;
      await waitFor(() => {
        serverSpan = spans(receiver).find((s) => s.traceId === caller.traceId && s.kind === 2);
        return serverSpan;
      }, 'the HTTP server span', DEADLINE_MS);
      assert.strictEqual(access.span_id, serverSpan.spanId, 'the line names the server span, not the caller\'s');
    } finally {
      const code = await server.stop();
      receiver.close();
      fs.rmSync(dir, { recursive: true, force: true });
      assert.strictEqual(code, 0, server.logs());
    }
  }],
  ['text format: request lines end with trace_id=... span_id=...', async () => {
    const server = await startServer([]);
    try {
      const caller = { traceId: hex(16), spanId: hex(8) };
      const r = await post(server.base, '/v1/completions', completion(),
          { traceparent: traceparent(caller.traceId, caller.spanId) });
      assert.strictEqual(r.status, 200);
      // (The warning that tracing is off names the request's trace too: wait for the access line.)
      const access = new RegExp(`INFO http: .*"POST /v1/completions" 200 .* trace_id=${caller.traceId} span_id=${caller.spanId}\\n`);
      await waitFor(() => access.test(server.logs()), 'the access line with its trace id');
      assert.match(server.logs(), /INFO serve: serving tiny on [^\n]*\(max_model_len[^\n]*\)\n/, 'start-up lines have no ids');
    } finally {
      assert.strictEqual(await server.stop(), 0, server.logs());
    }
  }],
  ['a logs collector that is down: requests served, records dropped and counted, not waited for', async () => {
    const metricsReceiver = new SignalsReceiver();
    const metricsPort = await metricsReceiver.startHttp();
    const dead = await freePort();
    const server = await startServer(['--disable-log-stats'], { env: { ...FAST,
      OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${dead}`,
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '300', OTEL_BLRP_MAX_QUEUE_SIZE: '4', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '2',
      OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${metricsPort}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: '200' } });
    try {
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) =>
        post(server.base, '/v1/completions', completion({ prompt: `down ${i}` }))));
      for (const r of results) assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      const dropped = () => {
        let total = 0;
        for (const m of metricsOf(decoded(metricsReceiver, 'metrics')).filter((x) => x.name === 'lantern.logs.dropped')) {
          for (const p of m.data.dataPoints || []) total = Math.max(total, Number(p.asInt || p.asDouble || 0));
        }
        return total;
      };
      await waitFor(() => dropped() > 0, 'lantern.logs.dropped > 0 over OTLP metrics', DEADLINE_MS);
      const health = await request(server.base, 'GET', '/health');
      assert.strictEqual(health.status, 200);
    } finally {
      const code = await server.stop();
      metricsReceiver.close();
      assert.strictEqual(code, 0, server.logs());
    }
  }],
]);
