'use strict';
// The walkthrough of docs/tracing.md with the real pieces: `lantern serve` and the traced
// dummy client (examples/dummy_client.cc) both export to the independent OTLP receiver, as
// they would to Jaeger; the client's span must be the parent of the server's spans. Then
// examples/curl_traceparent.sh: its made-up trace id comes back in `traceresponse` and the
// server's spans carry it.
//   LANTERN, LANTERN_DUMMY_CLIENT, LANTERN_TEST_MODEL, LANTERN_SOURCE_DIR, NODE_PATH
const { execFile } = require('child_process');
const path = require('path');
const {
  KIND, STATUS, startServer, startCollector, waitForSpans, waitForTrace, children, one, assertAttr, main, assert, cleanEnv,
} = require('../tracing/tracing_harness.js');

const CLIENT = process.env.LANTERN_DUMMY_CLIENT;
const ROOT = process.env.LANTERN_SOURCE_DIR || path.join(__dirname, '../../..');

function exec(file, args, env) {
  return new Promise((resolve) => {
    execFile(file, args, { env: cleanEnv(env), timeout: 60000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const field = (text, name) => {
  const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text);
  return m ? m[1] : null;
};

async function withServer(fn) {
  const collector = await startCollector('grpc');
  const server = await startServer(collector.args, {
    env: { ...collector.env, OTEL_SERVICE_NAME: 'lantern-server' },
  });
  try {
    await fn(server, collector);
  } finally {
    const code = await server.stop();
    collector.close();
    assert.strictEqual(code, 0, server.logs());
  }
}

// The server's part of a trace: the HTTP span under `parentSpanId`, llm_request under it.
function serverPart(all, parentSpanId) {
  const httpSpan = one(all.filter((s) => s.name === 'POST /v1/completions' && s.parentSpanId === parentSpanId),
    'POST /v1/completions under the caller');
  assert.strictEqual(httpSpan.kind, KIND.SERVER);
  assert.strictEqual(httpSpan.resource['service.name'].value, 'lantern-server');
  one(children(all, httpSpan, 'llm_request'), 'llm_request under the HTTP span');
  return httpSpan;
}

main([
  ['dummy client: client-span is the parent of the server spans, one trace id', async () => {
    await withServer(async (server, collector) => {
      const result = await exec(CLIENT, ['--url', `${server.base}/v1/completions`, '--model', 'tiny',
        '--prompt', 'San Francisco is a', '--max-tokens', '4'], {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_TRACES_INSECURE: 'true',
        OTEL_SERVICE_NAME: 'client-service',
      });
      assert.strictEqual(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^HTTP 200$/m);
      assert.match(result.stdout, /"object":\s*"text_completion"/);
      const traceparent = field(result.stdout, 'traceparent');
      const traceresponse = field(result.stdout, 'traceresponse');
      assert.match(traceparent || '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, result.stdout);
      const traceId = traceparent.split('-')[1];
      assert.strictEqual((traceresponse || '').split('-')[1], traceId, 'traceresponse carries the trace id');
      // The console exporter printed the client span too.
      assert.match(result.stdout, /"client-span" trace=[0-9a-f]{32} .*kind=CLIENT/);

      const trace = await waitForTrace(collector.receiver, traceId,
        (t) => t.some((s) => s.name === 'client-span') && t.some((s) => s.name === 'llm_request'),
        'the dummy client trace');
      const client = one(trace.filter((s) => s.name === 'client-span'), 'client-span');
      assert.strictEqual(client.kind, KIND.CLIENT);
      assert.strictEqual(client.parentSpanId, '');
      assert.strictEqual(client.spanId, traceparent.split('-')[2]);
      assertAttr(client, 'prompt', 'string', 'San Francisco is a');
      assert.strictEqual(client.resource['service.name'].value, 'client-service');
      const httpSpan = serverPart(trace, client.spanId);
      assert.strictEqual(traceresponse.split('-')[2], httpSpan.spanId, 'traceresponse names the HTTP span');
    });
  }],
  ['dummy client: a server that is down gives exit 1 and an ERROR span', async () => {
    const collector = await startCollector('grpc');
    try {
      const result = await exec(CLIENT, ['--url', 'http://127.0.0.1:1/v1/completions', '--no-console'], {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_TRACES_INSECURE: 'true',
      });
      assert.strictEqual(result.code, 1, result.stdout + result.stderr);
      assert.doesNotMatch(result.stdout, /client-span/, '--no-console prints no spans');
      const span = await waitForSpans(collector.receiver,
        (all) => all.find((s) => s.name === 'client-span'), 'the failed client-span');
      assert.strictEqual(span.status.code, STATUS.ERROR);
      assert.match(span.status.message, /refused/i);
    } finally {
      collector.close();
    }
  }],
  ['dummy client: --no-console and no endpoint (tracing off) still sends its request', async () => {
    await withServer(async (server) => {
      // LANTERN_URL is the base URL, as for curl_traceparent.sh.
      const result = await exec(CLIENT, ['--model', 'tiny', '--max-tokens', '2', '--no-console'],
        { LANTERN_URL: `${server.base}/` });
      assert.strictEqual(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^traceparent: \(none: tracing is off\)$/m);
      assert.match(result.stdout, /^HTTP 200$/m);
    });
  }],
  ['curl_traceparent.sh: the made-up trace id comes back and the server spans carry it', async () => {
    await withServer(async (server, collector) => {
      const result = await exec('bash', [path.join(ROOT, 'examples/curl_traceparent.sh'), 'Hello "world"'], {
        LANTERN_URL: server.base, LANTERN_MODEL: 'tiny', MAX_TOKENS: '3',
      });
      assert.strictEqual(result.code, 0, result.stdout + result.stderr);
      const traceId = field(result.stdout, 'trace id');
      const traceparent = field(result.stdout, 'traceparent');
      const traceresponse = field(result.stdout, 'traceresponse');
      assert.match(traceId || '', /^[0-9a-f]{32}$/, result.stdout);
      assert.strictEqual(traceparent.split('-')[1], traceId);
      assert.match(traceresponse || '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), result.stdout);
      assert.match(result.stdout, /"usage"/);
      const trace = await waitForTrace(collector.receiver, traceId,
        (t) => t.some((s) => s.name === 'llm_request'), 'the curl trace');
      const httpSpan = serverPart(trace, traceparent.split('-')[2]);
      assert.strictEqual(traceresponse.split('-')[2], httpSpan.spanId);
    });
  }],
]);
