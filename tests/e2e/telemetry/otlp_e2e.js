'use strict';
// One OTLP end-to-end scenario: starts the independent receiver (otlp_receiver.js), runs
// the C++ driver (which exports the fixture's spans with the exporter configured from
// OTEL_EXPORTER_OTLP_*), and checks what arrived against the fixture, field by field.
//
//   node otlp_e2e.js <scenario> <driver> <fixture.json> <work dir>
const assert = require('assert');
const {execFileSync, spawn} = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const {Receiver, canonical, fromOtlpJson, otlpJsonViolations, jsonFlags} =
    require('./otlp_receiver.js');

const [scenarioName, driver, fixturePath, workRoot] = process.argv.slice(2);
const fixture = JSON.parse(fs.readFileSync(fixturePath, 'utf8'));
const expected = canonical(fromOtlpJson(fixture));
const expectedFlags = jsonFlags(fixture);
const SPANS = expected.spans.length;
const DRIVER_LIMIT_MS = 30000;  // a driver still running after this has hung

fs.mkdirSync(workRoot, {recursive: true});
const workDir = fs.mkdtempSync(path.join(workRoot, `${scenarioName}-`));

function makeCertificate(name = 'server') {
  const key = path.join(workDir, `${name}-key.pem`);
  const cert = path.join(workDir, `${name}-cert.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
                           '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext',
                           'subjectAltName=DNS:localhost,IP:127.0.0.1'], {stdio: 'ignore'});
  return {key: fs.readFileSync(key), cert: fs.readFileSync(cert), certPath: cert, keyPath: key};
}

// A port nothing listens on (yet): bind an ephemeral port, then release it.
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runDriver(env, args = ['--fixture', fixturePath]) {
  const cleanEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  return new Promise((resolve, reject) => {
    // In ASan builds: a known leak in c-ares (gRPC's resolver) is not ours.
    const lsan = `suppressions=${path.join(__dirname, 'lsan_suppressions.txt')}`;
    const child = spawn(driver, args, {
      env: {...cleanEnv, LSAN_OPTIONS: lsan, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`driver hung for ${DRIVER_LIMIT_MS} ms; stderr:\n${stderr}`));
    }, DRIVER_LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`driver exited ${code}; stderr:\n${stderr}`));
      process.stderr.write(stderr);
      resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

// Every field of every span arrived as the fixture says, grouped by resource and scope.
function assertRoundTrip(entry) {
  assert.strictEqual(entry.decodeError, undefined, `decode failed: ${entry.decodeError}`);
  if (entry.jsonViolations) assert.deepStrictEqual(entry.jsonViolations, []);
  assert.deepStrictEqual(entry.canonical.spans, expected.spans);
  assert.deepStrictEqual(entry.canonical.shape, expected.shape);
  assert.deepStrictEqual(entry.flags, expectedFlags);
}

function assertDelivered(report, receiver, requests) {
  assert.strictEqual(report.result, 'success', JSON.stringify(report));
  assert.strictEqual(report.stats.spans_exported, SPANS);
  assert.strictEqual(receiver.requests.length, requests);
  assertRoundTrip(receiver.requests[requests - 1]);
}

const HEADERS = 'x-api-key=s3cr%C3%A9t%20value, Tenant = acme ,bad header=1';
function assertHeaders(get) {
  assert.strictEqual(get('x-api-key'), 's3cr\u00e9t value');
  assert.strictEqual(get('tenant'), 'acme');
}
const grpcHeader = (entry) => (name) => {
  const v = entry.metadata[name];
  return Buffer.isBuffer(v) ? v.toString() : v === undefined ? undefined :
      Buffer.from(v, 'latin1').toString('utf8');
};
const grpcEndpoint = (port) => ({OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}`});
const httpEnv = (port, extra = {}) => ({
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, ...extra});

const scenarios = {
  async grpc() {
    const r = new Receiver();
    const port = await r.startGrpc();
    // gRPC metadata values must be printable ASCII: the UTF-8 one is skipped with a warning.
    const report = await runDriver({...grpcEndpoint(port), OTEL_EXPORTER_OTLP_HEADERS:
                                    'x-api-key=s3cret%20value, Tenant = acme ,utf8=%C3%A9'});
    assertDelivered(report, r, 1);
    assert.strictEqual(r.requests[0].encoding, undefined);  // not compressed by default
    const get = grpcHeader(r.requests[0]);
    assert.strictEqual(get('x-api-key'), 's3cret value');
    assert.strictEqual(get('tenant'), 'acme');
    assert.strictEqual(get('utf8'), undefined);
    return r;
  },
  // The form of the vLLM documents: grpc:// scheme and INSECURE=true.
  async grpc_scheme_insecure() {
    const r = new Receiver();
    const port = await r.startGrpc();
    const report = await runDriver({OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `grpc://127.0.0.1:${port}`,
                                    OTEL_EXPORTER_OTLP_TRACES_INSECURE: 'true'});
    assertDelivered(report, r, 1);
    return r;
  },
  async grpc_tls_gzip() {
    const tls = makeCertificate();
    const r = new Receiver();
    const port = await r.startGrpc({tls});
    const report = await runDriver({OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${port}`,
                                    OTEL_EXPORTER_OTLP_CERTIFICATE: tls.certPath,
                                    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip'});
    assertDelivered(report, r, 1);
    assert.strictEqual(r.requests[0].encoding, 'gzip');
    return r;
  },
  async http_protobuf() {
    const r = new Receiver();
    const port = await r.startHttp();
    const report = await runDriver(httpEnv(port, {OTEL_EXPORTER_OTLP_HEADERS: HEADERS}));
    assertDelivered(report, r, 1);
    const entry = r.requests[0];
    assert.strictEqual(entry.path, '/v1/traces');  // appended to the generic endpoint
    assert.strictEqual(entry.method, 'POST');
    assert.strictEqual(entry.headers['content-type'], 'application/x-protobuf');
    assertHeaders((name) => entry.headers[name] &&
                  Buffer.from(entry.headers[name], 'latin1').toString('utf8'));
    return r;
  },
  async http_json() {
    const r = new Receiver();
    const port = await r.startHttp();
    // The per-signal endpoint is used as is, path included.
    const report = await runDriver({
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/custom/traces`});
    assertDelivered(report, r, 1);
    assert.strictEqual(r.requests[0].path, '/custom/traces');
    assert.strictEqual(r.requests[0].headers['content-type'], 'application/json');
    return r;
  },
  async http_tls_gzip() {
    const tls = makeCertificate();
    const r = new Receiver();
    const port = await r.startHttp({tls});
    for (const protocol of ['http/protobuf', 'http/json']) {
      const report = await runDriver({
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `https://localhost:${port}/v1/traces`,
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: tls.certPath,
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip'});
      assert.strictEqual(report.result, 'success');
      const entry = r.requests[r.requests.length - 1];
      assert.strictEqual(entry.headers['content-encoding'], 'gzip');
      assertRoundTrip(entry);
    }
    return r;
  },
  // The whole SDK (Init from OTEL_*, tracer, batch processor, OTLP exporter): every span
  // arrives once, with the service's resource, the tracer's scope and parent links.
  async sdk() {
    const SDK_SPANS = 3000;  // request + child each: several batches of 512
    for (const protocol of ['grpc', 'http/protobuf', 'http/json']) {
      const r = new Receiver();
      const port = protocol === 'grpc' ? await r.startGrpc() : await r.startHttp();
      const report = await runDriver({
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'sdk-e2e',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_QUEUE_SIZE: String(4 * SDK_SPANS),
      }, ['--sdk-spans', String(SDK_SPANS)]);
      assert.strictEqual(report.shutdown_returned, true);
      const spans = r.requests.flatMap((entry) => {
        assert.strictEqual(entry.decodeError, undefined);
        if (entry.jsonViolations) assert.deepStrictEqual(entry.jsonViolations, []);
        return entry.canonical.spans;
      });
      assert.strictEqual(spans.length, 2 * SDK_SPANS, protocol);
      assert.strictEqual(report.health.spans_exported, 2 * SDK_SPANS);
      const bySpanId = new Map(spans.map((s) => [s.span.spanId, s.span]));
      assert.strictEqual(bySpanId.size, 2 * SDK_SPANS);  // no duplicates
      const indices = new Set();
      for (const {resource, scope, span} of spans) {
        const service = resource.attributes.find((a) => a.key === 'service.name');
        assert.strictEqual(service.value.stringValue, 'sdk-e2e');
        assert.deepStrictEqual(scope, {name: 'lantern.e2e', version: '1.0.0'});
        if (span.name === 'request') {
          assert.strictEqual(span.kind, 2);
          indices.add(span.attributes.find((a) => a.key === 'request.index').value.intValue);
        } else {
          const parent = bySpanId.get(span.parentSpanId);
          assert.strictEqual(parent.name, 'request');
          assert.strictEqual(parent.traceId, span.traceId);
        }
      }
      assert.strictEqual(indices.size, SDK_SPANS);
      r.close();
    }
    return null;
  },
  // Mutual TLS: the receivers demand a client certificate (OTEL_EXPORTER_OTLP_CLIENT_*);
  // without one the export fails.
  async mtls() {
    const server = makeCertificate('server');
    const client = makeCertificate('client');
    const r = new Receiver();
    const tls = {...server, clientCa: client.cert};
    const grpcPort = await r.startGrpc({tls});
    const httpPort = await r.startHttp({tls});
    const endpoints = [{OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${grpcPort}`},
                       {OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
                        OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${httpPort}`}];
    for (const endpoint of endpoints) {
      const base = {...endpoint, OTEL_EXPORTER_OTLP_CERTIFICATE: server.certPath,
                    OTEL_EXPORTER_OTLP_TIMEOUT: '3000'};
      const withClient = await runDriver({...base,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: client.keyPath,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: client.certPath});
      assert.strictEqual(withClient.result, 'success', JSON.stringify(endpoint));
      assertRoundTrip(r.requests[r.requests.length - 1]);
      const before = r.requests.length;
      const without = await runDriver(base);
      assert.strictEqual(without.result, 'failure', JSON.stringify(endpoint));
      assert.strictEqual(r.requests.length, before);
    }
    return r;
  },
  // The file exporter: one OTLP JSON request per line.
  async file() {
    const out = path.join(workDir, 'spans.jsonl');
    for (let i = 0; i < 2; ++i) {
      const report = await runDriver({}, ['--fixture', fixturePath, '--file-out', out]);
      assert.strictEqual(report.result, 'success');
    }
    const lines = fs.readFileSync(out, 'utf8').split('\n');
    assert.strictEqual(lines.length, 3);
    assert.strictEqual(lines[2], '');
    for (const line of lines.slice(0, 2)) {
      const object = JSON.parse(line);
      assertRoundTrip({jsonViolations: otlpJsonViolations(object),
                       canonical: canonical(fromOtlpJson(object)), flags: jsonFlags(object)});
    }
    return null;
  },

  // Faults.
  async grpc_retry() {
    // UNAVAILABLE, then RESOURCE_EXHAUSTED with a RetryInfo (retryable only with it), then OK.
    const r = new Receiver([{grpcCode: 14}, {grpcCode: 8, retryDelayMs: 200}]);
    const report = await runDriver(grpcEndpoint(await r.startGrpc()));
    assertDelivered(report, r, 3);
    assert.strictEqual(report.stats.retries, 2);
    return r;
  },
  async grpc_not_retried() {
    // RESOURCE_EXHAUSTED without RetryInfo, INVALID_ARGUMENT: dropped, counted, not retried.
    for (const code of [8, 3]) {
      const r = new Receiver([{grpcCode: code}]);
      const report = await runDriver(grpcEndpoint(await r.startGrpc()));
      assert.strictEqual(report.result, 'failure');
      assert.strictEqual(r.requests.length, 1);
      assert.strictEqual(report.stats.retries, 0);
      assert.strictEqual(report.stats.spans_failed, SPANS);
      assert.strictEqual(report.stats.spans_exported, 0);
      r.close();
    }
    return null;
  },
  async http_retry() {
    // 503 with Retry-After: 1, 429 with Retry-After: 0, 502 (backoff), 504 with an
    // HTTP-date Retry-After (one second ahead), then OK.
    const r = new Receiver([{httpStatus: 503, retryAfter: 1}, {httpStatus: 429, retryAfter: 0},
                            {httpStatus: 502},
                            {httpStatus: 504,
                             retryAfter: () => new Date(Date.now() + 1000).toUTCString()}]);
    const report = await runDriver(httpEnv(await r.startHttp()));
    assertDelivered(report, r, 5);
    assert.strictEqual(report.stats.retries, 4);
    return r;
  },
  async http_400() {
    const r = new Receiver([{httpStatus: 400}]);
    const report = await runDriver(httpEnv(await r.startHttp()));
    assert.strictEqual(report.result, 'failure');
    assert.strictEqual(r.requests.length, 1);
    assert.strictEqual(report.stats.retries, 0);
    assert.strictEqual(report.stats.spans_failed, SPANS);
    return r;
  },
  async grpc_partial_success() {
    const r = new Receiver([{partial: {rejected: 2, message: 'two spans too old'}}]);
    const report = await runDriver(grpcEndpoint(await r.startGrpc()));
    assert.strictEqual(report.result, 'success');
    assert.strictEqual(r.requests.length, 1);  // never retried
    assert.strictEqual(report.stats.spans_rejected, 2);
    assert.strictEqual(report.stats.spans_exported, SPANS - 2);
    return r;
  },
  async http_partial_success() {
    for (const protocol of ['http/protobuf', 'http/json']) {
      const r = new Receiver([{partial: {rejected: 3, message: 'three spans too old'}}]);
      const report = await runDriver(httpEnv(await r.startHttp(),
                                             {OTEL_EXPORTER_OTLP_PROTOCOL: protocol}));
      assert.strictEqual(report.result, 'success');
      assert.strictEqual(r.requests.length, 1);
      assert.strictEqual(report.stats.spans_rejected, 3);
      assert.strictEqual(report.stats.spans_exported, SPANS - 3);
      r.close();
    }
    return null;
  },
  // Responses over 4 MiB are refused (and the batch counted as failed, not retried).
  async grpc_huge_response() {
    const r = new Receiver([{hugeResponse: true}]);
    const report = await runDriver(grpcEndpoint(await r.startGrpc()));
    assert.strictEqual(report.result, 'failure');
    assert.strictEqual(r.requests.length, 1);
    assert.strictEqual(report.stats.spans_failed, SPANS);
    return r;
  },
  async http_huge_response() {
    const r = new Receiver([{hugeResponse: true}]);
    const report = await runDriver(httpEnv(await r.startHttp()));
    assert.strictEqual(report.result, 'failure');
    assert.strictEqual(r.requests.length, 1);
    assert.strictEqual(report.stats.spans_failed, SPANS);
    return r;
  },
  async grpc_slow() {
    const r = new Receiver([{delayMs: 4000}, {delayMs: 4000}]);
    const report = await runDriver({...grpcEndpoint(await r.startGrpc()),
                                    OTEL_EXPORTER_OTLP_TIMEOUT: '1000'});
    assert.strictEqual(report.result, 'failure');
    assert.strictEqual(report.stats.spans_timed_out, SPANS);
    return r;
  },
  async http_slow() {
    const r = new Receiver([{delayMs: 4000}, {delayMs: 4000}]);
    const report = await runDriver(httpEnv(await r.startHttp(),
                                           {OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1000'}));
    assert.strictEqual(report.result, 'failure');
    assert.strictEqual(report.stats.spans_timed_out, SPANS);
    return r;
  },
  // The collector is down when the export starts and comes up 1.5 s later.
  async grpc_down_then_up() {
    const port = await freePort();
    const r = new Receiver();
    setTimeout(() => r.startGrpc({port}), 1500);
    // The call waits for the channel to connect (wait-for-ready) rather than retrying.
    const report = await runDriver(grpcEndpoint(port));
    assertDelivered(report, r, 1);
    return r;
  },
  async http_down_then_up() {
    const port = await freePort();
    const r = new Receiver();
    setTimeout(() => r.startHttp({port}), 1500);
    const report = await runDriver(httpEnv(port));
    assertDelivered(report, r, 1);
    assert.ok(report.stats.retries >= 1, JSON.stringify(report));
    return r;
  },
  // Shutdown while an export hangs on a collector that accepts but never answers.
  async grpc_shutdown_dead_collector() {
    const r = new Receiver();
    const port = await r.startBlackhole();
    const report = await runDriver({...grpcEndpoint(port), OTEL_EXPORTER_OTLP_TIMEOUT: '600000'},
                                   ['--fixture', fixturePath, '--shutdown-after-ms', '500']);
    assert.strictEqual(report.result, 'failure');
    assert.strictEqual(report.shutdown_returned, true);
    return r;
  },
  async http_shutdown_dead_collector() {
    const r = new Receiver();
    const port = await r.startBlackhole();
    const report = await runDriver(httpEnv(port, {OTEL_EXPORTER_OTLP_TIMEOUT: '600000'}),
                                   ['--fixture', fixturePath, '--shutdown-after-ms', '500']);
    assert.strictEqual(report.result, 'failure');
    assert.strictEqual(report.shutdown_returned, true);
    return r;
  },
};

(async () => {
  const scenario = scenarios[scenarioName];
  if (!scenario) throw new Error(`unknown scenario ${scenarioName}`);
  const receiver = await scenario();
  if (receiver) receiver.close();
  fs.rmSync(workDir, {recursive: true, force: true});
  console.log(`${scenarioName}: OK`);
  process.exit(0);
})().catch((e) => {
  console.error(`${scenarioName}: FAILED\n${e.stack || e}`);
  process.exit(1);
});
