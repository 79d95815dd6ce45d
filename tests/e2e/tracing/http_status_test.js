// HTTP outcomes on the spans: a 503 (overload) is an ERROR with error.type "503", a 401 is
// recorded without an error status, and requests aborted by shutdown end ERROR/"aborted"
// and still reach the collector (exit flushes after the engine aborted them).
'use strict';
const {
  KIND, STATUS, startServer, startCollector, spans, waitForTrace, children, one, assertAttr, hex,
  traceparent, stream, post, main, assert,
} = require('./tracing_harness.js');
const { checkHttpSpan, checkLlmRequest } = require('./request_checks.js');

const KEY = 'sk-tracing-e2e';
const auth = { Authorization: `Bearer ${KEY}` };
let collector;
let server;
const parent = () => ({ traceId: hex(16), spanId: hex(8) });
const header = (p) => traceparent(p.traceId, p.spanId);
const httpSpanOf = async (p) => one((await waitForTrace(collector.receiver, p.traceId,
    (t) => t.some((s) => s.kind === KIND.SERVER))).filter((s) => s.kind === KIND.SERVER), 'HTTP span');

const tests = [
  ['401: recorded, no error status', async () => {
    const p = parent();
    const r = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 2 }, { traceparent: header(p) });
    assert.strictEqual(r.status, 401);
    const span = await httpSpanOf(p);
    checkHttpSpan(span, { route: '/v1/completions', status: 401, port: server.port });
    assert.strictEqual(span.attrs['error.type'], undefined);
  }],
  ['503 under overload: ERROR with error.type "503"', async () => {
    const long = { model: 'tiny', prompt: 'overload', max_tokens: 200, temperature: 0.5, ignore_eos: true };
    const ps = Array.from({ length: 4 }, parent);
    const rs = await Promise.all(ps.map((p) => post(server.base, '/v1/completions', long, { ...auth, traceparent: header(p) })));
    const statuses = rs.map((r) => r.status);
    assert.ok(statuses.includes(503) && statuses.includes(200), `statuses ${statuses}`);
    for (let i = 0; i < ps.length; i++) {
      checkHttpSpan(await httpSpanOf(ps[i]), { route: '/v1/completions', status: statuses[i], port: server.port });
    }
  }],
  ['shutdown aborts a running stream: llm_request ERROR "aborted", exported at exit', async () => {
    const p = parent();
    const req = { model: 'tiny', prompt: 'interrupted', max_tokens: 480, temperature: 0.7, ignore_eos: true };
    // Once the first chunk is out the request is running; then SIGTERM with no grace.
    let started;
    const first = new Promise((resolve) => { started = resolve; });
    const streaming = stream(server.base, '/v1/completions', req,
        { headers: { ...auth, traceparent: header(p) }, onEvent: () => started() }).catch((e) => ({ error: e }));
    await first;
    assert.strictEqual(await server.stop(), 0, server.logs());
    await streaming;
    const t = spans(collector.receiver).filter((s) => s.traceId === p.traceId);
    const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
    const llm = one(children(t, httpSpan, 'llm_request'), 'llm_request');
    checkLlmRequest(t, llm, { req, operation: 'text_completion', stream: true, aborted: true });
    assert.strictEqual(llm.status.code, STATUS.ERROR);
    assertAttr(llm, 'error.type', 'string', 'aborted');
  }],
];

(async () => {
  collector = await startCollector('grpc');
  server = await startServer([...collector.args, '--disable-log-requests', '--api-key', KEY,
    '--max-queued-requests', '1', '--shutdown-timeout', '0'], { env: collector.env });
  await main(tests, async () => {
    await server.stop();
    collector.close();
  });
})().catch((e) => { console.error(e); process.exit(1); });
