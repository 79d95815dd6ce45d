// One request's trace over each OTLP transport, configured as the seeds do
// (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL + --otlp-traces-endpoint), and with zero
// configuration (only OTEL_EXPORTER_OTLP_ENDPOINT, as the Kubernetes operator injects).
//
//   node protocols_test.js grpc|http_protobuf|http_json|zero_config_grpc|zero_config_http
'use strict';
const {
  KIND, startServer, startCollector, waitForTrace, children, one, hex, traceparent,
  parseTraceresponse, post, main, assert,
} = require('./tracing_harness.js');
const { checkHttpSpan, checkLlmRequest, requestComplete } = require('./request_checks.js');

const SCENARIOS = {
  grpc: { protocol: 'grpc' },
  http_protobuf: { protocol: 'http/protobuf', contentType: 'application/x-protobuf' },
  http_json: { protocol: 'http/json', contentType: 'application/json' },
  zero_config_grpc: { protocol: 'grpc', zeroConfig: true },
  zero_config_http: { protocol: 'http/protobuf', contentType: 'application/x-protobuf', zeroConfig: true },
};
const name = process.argv[2];
const scenario = SCENARIOS[name];
if (!scenario) throw new Error(`unknown scenario '${name}'`);

(async () => {
  const collector = await startCollector(scenario.protocol);
  const serviceName = scenario.zeroConfig ? 'lantern' : `lantern-${name}`;
  let args = collector.args;
  let env = { ...collector.env, OTEL_SERVICE_NAME: serviceName };
  if (scenario.zeroConfig) {
    // No flag, no service name: the endpoint variable alone turns tracing on (the
    // exporter adds /v1/traces for HTTP), and service.name defaults to "lantern".
    args = [];
    env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`, OTEL_BSP_SCHEDULE_DELAY: '100' };
    if (scenario.protocol !== 'grpc') env.OTEL_EXPORTER_OTLP_PROTOCOL = scenario.protocol;
  }
  const server = await startServer([...args, '--disable-log-requests'], { env });
  await main([
    [`${name}: a request's trace arrives whole`, async () => {
      const parent = { traceId: hex(16), spanId: hex(8) };
      const req = { model: 'tiny', prompt: 'Over the wire', max_tokens: 5, temperature: 0, ignore_eos: true };
      const r = await post(server.base, '/v1/completions', req, { traceparent: traceparent(parent.traceId, parent.spanId) });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      const tr = parseTraceresponse(r.headers.traceresponse);
      assert.strictEqual(tr.traceId, parent.traceId);
      const t = await waitForTrace(collector.receiver, parent.traceId, (x) => requestComplete(x));
      const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
      assert.strictEqual(httpSpan.spanId, tr.spanId);
      assert.strictEqual(httpSpan.parentSpanId, parent.spanId);
      checkHttpSpan(httpSpan, { route: '/v1/completions', port: server.port });
      const llm = one(children(t, httpSpan, 'llm_request'), 'llm_request');
      checkLlmRequest(t, llm, { req, operation: 'text_completion', usage: r.body.usage, responseId: r.body.id,
        finishReasons: r.body.choices.map((c) => c.finish_reason) });
      for (const s of t) assert.strictEqual(s.resource['service.name'].value, serviceName, 'service.name');
    }],
    [`${name}: transport details`, async () => {
      const entries = collector.receiver.requests;
      assert.ok(entries.length > 0);
      for (const e of entries) {
        if (scenario.protocol === 'grpc') {
          assert.strictEqual(e.transport, 'grpc');
        } else {
          assert.strictEqual(e.transport, 'http');
          assert.strictEqual(e.method, 'POST');
          assert.strictEqual(e.path, '/v1/traces');
          assert.ok(e.headers['content-type'].startsWith(scenario.contentType), e.headers['content-type']);
        }
      }
    }],
    [`${name}: the start-up log says tracing is on and where it exports`, async () => {
      const log = server.logs();
      assert.match(log, /tracing/i);
      assert.ok(log.includes(`127.0.0.1:${collector.port}`), `endpoint not in the log:\n${log}`);
    }],
  ], async () => {
    const code = await server.stop();
    collector.close();
    if (code !== 0) console.log(`server exited ${code}:\n${server.logs()}`);
  });
})().catch((e) => { console.error(e); process.exit(1); });
