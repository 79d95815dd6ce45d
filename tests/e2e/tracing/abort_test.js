// Clients that leave: a non-streaming request whose client goes while it waits in the
// queue, and one whose client goes while it runs, end ERROR "aborted" with finish reason
// abort, and their HTTP spans ERROR "client_disconnected". One sequence slot (--max-num-seqs
// 1) and /metrics tell where each request is when its client leaves: no sleeping.
'use strict';
const http = require('http');
const {
  KIND, STATUS, startServer, startCollector, waitForTrace, children, one, assertAttr, hex, traceparent,
  stream, request, metric, waitFor, main, assert,
} = require('./tracing_harness.js');
const { checkLlmRequest } = require('./request_checks.js');

let collector;
let server;
const LONG = { model: 'tiny', max_tokens: 480, temperature: 0.7, ignore_eos: true };

// Sends a non-streaming request; returns {parent, leave()} (leave destroys the connection).
function send(prompt) {
  const parent = { traceId: hex(16), spanId: hex(8) };
  const data = JSON.stringify({ ...LONG, prompt });
  const req = http.request(new URL('/v1/completions', server.base), { method: 'POST', agent: false,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data),
      traceparent: traceparent(parent.traceId, parent.spanId) } }, () => {});
  req.on('error', () => {});
  req.end(data);
  return { parent, leave: () => req.destroy() };
}

const gauge = async (name) => metric((await request(server.base, 'GET', '/metrics')).body, name);

async function checkAborted(parent, { queued }) {
  const t = await waitForTrace(collector.receiver, parent.traceId, (x) => x.some((s) => s.kind === KIND.SERVER) &&
      x.some((s) => s.name === 'llm_request') && x.some((s) => s.name === 'queue'));
  const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
  assert.strictEqual(httpSpan.status.code, STATUS.ERROR, 'HTTP span of a client that left');
  assertAttr(httpSpan, 'error.type', 'string', 'client_disconnected');
  const llm = one(children(t, httpSpan, 'llm_request'), 'llm_request');
  checkLlmRequest(t, llm, { req: LONG, operation: 'text_completion', stream: false, aborted: true });
  assert.deepStrictEqual(llm.attrs['gen_ai.response.finish_reasons'].value, ['abort']);
  if (queued) {
    assert.deepStrictEqual(children(t, llm).map((s) => s.name), ['queue'], 'a request aborted in the queue has only its queue span');
    assert.strictEqual(llm.attrs['gen_ai.usage.completion_tokens'].value, 0);
  }
}

const tests = [
  ['client gone while queued: aborted in the queue', async () => {
    let first;
    const started = new Promise((resolve) => { first = resolve; });
    const busy = stream(server.base, '/v1/completions', { ...LONG, prompt: 'busy' }, { leaveAfter: 1000, onEvent: () => first() });
    await started;  // the only sequence slot is taken
    const waiting = send('waiting');
    await waitFor(async () => (await gauge('lantern:num_requests_waiting')) === 1, 'the request to wait');
    waiting.leave();
    await checkAborted(waiting.parent, { queued: true });
    await busy.catch(() => {});
  }],
  ['client gone while running: aborted mid-generation', async () => {
    await waitFor(async () => (await gauge('lantern:num_requests_running')) === 0, 'an idle engine');
    const running = send('running');
    await waitFor(async () => (await gauge('lantern:num_requests_running')) === 1, 'the request to run');
    running.leave();
    await checkAborted(running.parent, { queued: false });
  }],
];

(async () => {
  collector = await startCollector('grpc');
  server = await startServer([...collector.args, '--disable-log-requests', '--max-num-seqs', '1'], { env: collector.env });
  await main(tests, async () => {
    await server.stop();
    collector.close();
  });
})().catch((e) => { console.error(e); process.exit(1); });
