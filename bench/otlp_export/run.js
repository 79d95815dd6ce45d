'use strict';
// Runs otlp_export_bench against the Node OTLP receiver of the end-to-end tests (gRPC and
// HTTP; every request fully decoded with OpenTelemetry's generated decoders, every span
// counted) for each protocol, and checks the receiver got every span the exporter counted.
//
//   node bench/otlp_export/run.js <path to otlp_export_bench> [seconds] [--no-decode]
const {spawn} = require('child_process');
const path = require('path');
const {Receiver} = require('../../tests/e2e/telemetry/otlp_receiver.js');

const [bench, seconds = '5', ...flags] = process.argv.slice(2);
const decode = !flags.includes('--no-decode');

(async () => {
  const receiver = new Receiver([], {bench: true, decode});
  let received = 0;
  receiver.onRequest = (entry) => (received += entry.spanCount || 0);
  const grpcPort = await receiver.startGrpc();
  const httpPort = await receiver.startHttp();
  const runs = [
    {OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${grpcPort}`},
    {OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${httpPort}`},
    {OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${httpPort}`},
    {OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${grpcPort}`,
     OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip'},
  ];
  for (const env of runs) {
    const before = received;
    const out = await new Promise((resolve, reject) => {
      const child = spawn(path.resolve(bench), ['--seconds', seconds],
                          {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'inherit']});
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`bench exited ${code}`))));
    });
    const result = JSON.parse(out.trim());
    // The warm-up batch is received but not counted by the bench.
    result.receiver_spans = decode ? received - before - result.batch : null;
    result.receiver_decoded = decode;
    console.log(JSON.stringify(result));
    if (decode && result.receiver_spans !== result.spans) {
      throw new Error(`receiver got ${result.receiver_spans} spans, exporter counted ${result.spans}`);
    }
  }
  receiver.close();
  process.exit(0);
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
