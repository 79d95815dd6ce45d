'use strict';
// A gRPC export over TLS to a collector that speaks plaintext (a local collector with
// OTEL_EXPORTER_OTLP_ENDPOINT=https://...): the real `lantern serve` says once per signal
// what to set instead, logs the later identical failures at debug level only, and keeps
// serving (issue 16).
const path = require('path');
const { startServer, request, waitFor, run, assert } = require('./harness');
const { SignalsReceiver } = require(path.resolve(__dirname, '../telemetry/otlp_signals_receiver.js'));

const SIGNALS = ['TRACES', 'METRICS', 'LOGS'];
const count = (text, re) => (text.match(new RegExp(re.source, 'gm')) || []).length;

async function complete(base) {
  const res = await request(base, 'POST', '/v1/completions',
    { body: { model: 'tiny', prompt: 'Hello', max_tokens: 2 } });
  assert.strictEqual(res.status, 200, res.body);
}

run([
  ['https:// to a plaintext gRPC collector: one hint per signal, then debug only', async () => {
    const receiver = new SignalsReceiver();
    const port = await receiver.startGrpc();
    const server = await startServer([], { env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_TRACES_SAMPLER: 'always_on', OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100', OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000', LANTERN_LOG_LEVEL: 'debug',
    } });
    try {
      const hint = (signal) => new RegExp(`WARNING .*the TLS handshake failed .*plaintext gRPC\\. ` +
        `For a plaintext collector use an http:// endpoint \\(OTEL_EXPORTER_OTLP_${signal}_ENDPOINT=` +
        `http://HOST:PORT\\), or a grpc:// one with OTEL_EXPORTER_OTLP_${signal}_INSECURE=true`);
      await complete(server.base);
      await waitFor(() => SIGNALS.every((s) => count(server.logs(), hint(s)) >= 1),
        'the hint for traces, metrics and logs', 60000);
      // More exports fail the same way: each shows up at debug level, never as a warning.
      const after = server.logs().length;
      const dropped = /DEBUG otlp: OTLP\/gRPC to 127\.0\.0\.1:\d+ \(TLS\): dropped \d+ spans/;
      for (let i = 0; i < 3; ++i) await complete(server.base);
      await waitFor(async () => {
        await complete(server.base);  // the server keeps serving
        return count(server.logs().slice(after), dropped) >= 2;
      }, 'later span exports failing at debug level', 60000);
      const logs = server.logs();
      for (const s of SIGNALS) assert.strictEqual(count(logs, hint(s)), 1, `one ${s} hint:\n${logs}`);
      assert.strictEqual(count(logs, /WARNING otlp: OTLP\/gRPC .*: dropped /), 0, logs);
      assert.strictEqual(receiver.requests.length, 0, 'a TLS client cannot reach a plaintext receiver');
    } finally {
      await server.stop();
      receiver.servers.forEach((s) => s.close());
    }
  }],
]).then((failed) => process.exit(failed ? 1 : 0));
