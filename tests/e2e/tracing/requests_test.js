// Request traces over gRPC, from one server: the seeds' scenario (an OpenTelemetry JS SDK
// client span -> HTTP span -> llm_request -> queue/prefill/decode), streaming and not, chat
// and completions, n = 2, a prompt list, trace context edge cases, an aborted stream, and
// the HTTP span of non-generation routes.
'use strict';
const api = require('@opentelemetry/api');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
const { Resource } = require('@opentelemetry/resources');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const {
  KIND, STATUS, startServer, startCollector, spans, waitForSpans, waitForTrace, children, one,
  assertAttr, assertWithin, hex, traceparent, parseTraceresponse, stream, post, request, main, assert,
} = require('./tracing_harness.js');
const { checkHttpSpan, checkLlmRequest, requestComplete } = require('./request_checks.js');

let collector;
let server;

// The trace of one generation request once it has all arrived.
function requestTrace(traceId, llmCount = 1) {
  return waitForTrace(collector.receiver, traceId, (t) => requestComplete(t, llmCount),
      `trace ${traceId} with ${llmCount} llm_request`);
}

// Checks HTTP span -> llm_request(s) for one request sent with its own traceparent.
async function checkGeneration({ path, req, res, parent, operation, streamed = false, llmCount = 1 }) {
  const tr = parseTraceresponse(res.headers.traceresponse);
  assert.strictEqual(tr.traceId, parent.traceId, 'traceresponse names another trace');
  assert.strictEqual(tr.flags, '01');
  // The server's spans: all of the trace but the caller's own (the seeds' client span).
  const t = (await requestTrace(parent.traceId, llmCount)).filter((s) => s.spanId !== parent.spanId);
  const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
  assert.strictEqual(httpSpan.spanId, tr.spanId, 'traceresponse names another span than the HTTP span');
  assert.strictEqual(httpSpan.parentSpanId, parent.spanId, 'HTTP span is not a child of the caller');
  checkHttpSpan(httpSpan, { route: path, port: server.port });
  for (const s of t) {
    assert.strictEqual(s.resource['service.name'].value, 'lantern-e2e', 'service.name from OTEL_SERVICE_NAME');
  }
  const llms = children(t, httpSpan, 'llm_request').sort((a, b) => (a.start < b.start ? -1 : 1));
  assert.strictEqual(llms.length, llmCount);
  for (const llm of llms) assertWithin(llm, httpSpan);
  const usage = res.usage;
  const reasons = res.choices.map((c) => c.finish_reason);
  const results = llms.map((llm) => checkLlmRequest(t, llm, {
    req, operation, stream: streamed, responseId: res.id,
    usage: llmCount === 1 ? usage : undefined, finishReasons: llmCount === 1 ? reasons : undefined,
  }));
  if (llmCount > 1) {
    const sum = (k) => llms.reduce((acc, l) => acc + l.attrs[k].value, 0);
    assert.strictEqual(sum('gen_ai.usage.prompt_tokens'), usage.prompt_tokens);
    assert.strictEqual(sum('gen_ai.usage.completion_tokens'), usage.completion_tokens);
    const ids = new Set(llms.map((l) => l.attrs['gen_ai.request.id'].value));
    assert.strictEqual(ids.size, llmCount, 'llm_request spans share a gen_ai.request.id');
  }
  return { t, httpSpan, llms, results };
}

function newParent(flags = '01') {
  const parent = { traceId: hex(16), spanId: hex(8) };
  parent.header = traceparent(parent.traceId, parent.spanId, flags);
  return parent;
}

// Joins a stream's chunks into {id, usage, choices[{finish_reason}]}.
function joinStream(r) {
  assert.strictEqual(r.status, 200);
  const last = r.events[r.events.length - 1];
  const finish = {};
  for (const e of r.events) for (const c of e.choices) if (c.finish_reason) finish[c.index] = c.finish_reason;
  return { id: r.events[0].id, usage: last.usage, headers: r.headers,
    choices: Object.keys(finish).sort().map((i) => ({ finish_reason: finish[i] })) };
}

const tests = [
  ['the seeds scenario: JS SDK client span, HTTP span, llm_request, phases', async () => {
    const provider = new BasicTracerProvider({ resource: new Resource({ 'service.name': 'client-service' }) });
    provider.addSpanProcessor(new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${collector.port}` })));
    const tracer = provider.getTracer('dummy_client');
    const prompt = 'San Francisco is a';
    const span = tracer.startSpan('client-span', { kind: api.SpanKind.CLIENT });
    span.setAttribute('prompt', prompt);
    const headers = { 'User-Agent': 'tracing-e2e/1.0' };
    new W3CTraceContextPropagator().inject(api.trace.setSpan(api.ROOT_CONTEXT, span), headers, api.defaultTextMapSetter);
    const req = { model: 'tiny', prompt, max_tokens: 10, temperature: 0, top_p: 0.9, top_k: 20, seed: 3,
      stop: ['zzzz'], frequency_penalty: 0.5, presence_penalty: 0.25, ignore_eos: true };
    const r = await post(server.base, '/v1/completions', req, headers);
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    const sc = span.spanContext();
    const { t, httpSpan } = await checkGeneration({ path: '/v1/completions', req, res: { ...r.body, headers: r.headers },
      parent: { traceId: sc.traceId, spanId: sc.spanId }, operation: 'text_completion' });
    checkHttpSpan(httpSpan, { route: '/v1/completions', port: server.port, userAgent: 'tracing-e2e/1.0' });
    const client = await waitForSpans(collector.receiver, (all) => all.find((s) => s.name === 'client-span'), 'client-span');
    assert.strictEqual(client.traceId, sc.traceId);
    assert.strictEqual(client.kind, KIND.CLIENT);
    assert.strictEqual(client.parentSpanId, '');
    assertAttr(client, 'prompt', 'string', prompt);
    assert.strictEqual(client.resource['service.name'].value, 'client-service');
    assertAttr({ name: 'resource', attrs: httpSpan.resource }, 'deployment.environment', 'string', 'tracing-e2e');
    assert.ok(t.every((s) => s.traceId === sc.traceId));
  }],
  ['streaming completion', async () => {
    const parent = newParent();
    const req = { model: 'tiny', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, ignore_eos: true,
      stream_options: { include_usage: true } };
    const r = joinStream(await stream(server.base, '/v1/completions', req, { headers: { traceparent: parent.header } }));
    await checkGeneration({ path: '/v1/completions', req, res: r, parent, operation: 'text_completion', streamed: true });
  }],
  ['chat completion', async () => {
    const parent = newParent();
    const req = { model: 'tiny', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 6, temperature: 0.7 };
    const r = await post(server.base, '/v1/chat/completions', req, { traceparent: parent.header });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    await checkGeneration({ path: '/v1/chat/completions', req, res: { ...r.body, headers: r.headers }, parent, operation: 'chat' });
  }],
  ['streaming chat completion', async () => {
    const parent = newParent();
    const req = { model: 'tiny', messages: [{ role: 'user', content: 'Stream to me' }], max_tokens: 6, temperature: 0,
      ignore_eos: true, stream_options: { include_usage: true } };
    const r = joinStream(await stream(server.base, '/v1/chat/completions', req, { headers: { traceparent: parent.header } }));
    await checkGeneration({ path: '/v1/chat/completions', req, res: r, parent, operation: 'chat', streamed: true });
  }],
  ['n = 2: one llm_request with two sequences', async () => {
    const parent = newParent();
    const req = { model: 'tiny', prompt: 'Two ways', n: 2, max_tokens: 5, temperature: 0.9, ignore_eos: true };
    const r = await post(server.base, '/v1/completions', req, { traceparent: parent.header });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.choices.length, 2);
    await checkGeneration({ path: '/v1/completions', req, res: { ...r.body, headers: r.headers }, parent, operation: 'text_completion' });
  }],
  ['a prompt list of 2: two llm_request spans under one HTTP span', async () => {
    const parent = newParent();
    const req = { model: 'tiny', prompt: ['First prompt', 'The second, longer prompt'], max_tokens: 4, temperature: 0 };
    const r = await post(server.base, '/v1/completions', req, { traceparent: parent.header });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    await checkGeneration({ path: '/v1/completions', req, res: { ...r.body, headers: r.headers }, parent,
      operation: 'text_completion', llmCount: 2 });
  }],
  ['prefix cache: a repeated prompt reads cached tokens, on the span and in usage terms', async () => {
    const prompt = 'A prompt long enough to fill more than one KV block of sixteen tokens, so that the prefix cache ' +
        'keeps its first block for the request that repeats it word for word';
    const req = { model: 'tiny', prompt, max_tokens: 3, temperature: 0 };
    let last;
    for (let i = 0; i < 2; i++) {
      const parent = newParent();
      const r = await post(server.base, '/v1/completions', req, { traceparent: parent.header });
      assert.strictEqual(r.status, 200);
      assert.ok(r.body.usage.prompt_tokens > 16, `${r.body.usage.prompt_tokens} prompt tokens`);
      last = await checkGeneration({ path: '/v1/completions', req, res: { ...r.body, headers: r.headers }, parent,
        operation: 'text_completion' });
    }
    const { llm, prefill } = last.results[0];
    assert.ok(llm.attrs['gen_ai.usage.cache_read.input_tokens'].value >= 16, 'the repeat read nothing from the prefix cache');
    assert.ok(prefill.attrs['lantern.prefill.computed_tokens'].value < llm.attrs['gen_ai.usage.prompt_tokens'].value);
  }],
  ['no traceparent: a new root trace', async () => {
    const r = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'root', max_tokens: 3 });
    assert.strictEqual(r.status, 200);
    const tr = parseTraceresponse(r.headers.traceresponse);
    assert.strictEqual(tr.flags, '01');
    const t = await requestTrace(tr.traceId);
    const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
    assert.strictEqual(httpSpan.spanId, tr.spanId);
    assert.strictEqual(httpSpan.parentSpanId, '', 'a root HTTP span has no parent');
  }],
  ['invalid traceparent: a new root trace and no error to the caller', async () => {
    // W3C trace context: lowercase hex only, no all-zero ids, version ff is invalid, and
    // version 00 has exactly four fields.
    for (const bad of ['00-zzzz-0000-01', `00-${'0'.repeat(32)}-${hex(8)}-01`, `00-${hex(16)}-${'0'.repeat(16)}-01`,
      `ff-${hex(16)}-${hex(8)}-01`, `00-${hex(16).toUpperCase()}-${hex(8)}-01`, `00-${hex(16)}-${hex(8)}-01-extra`, 'garbage']) {
      const r = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'bad parent', max_tokens: 2 },
          { traceparent: bad });
      assert.strictEqual(r.status, 200, `traceparent '${bad}': ${r.status}`);
      const tr = parseTraceresponse(r.headers.traceresponse);
      assert.notStrictEqual(tr.traceId, '0'.repeat(32));
      const t = await requestTrace(tr.traceId);
      const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
      assert.strictEqual(httpSpan.parentSpanId, '', `traceparent '${bad}' gave a parent`);
    }
  }],
  ['a future traceparent version is read; an invalid tracestate is dropped, its traceparent kept', async () => {
    const future = newParent();
    const r1 = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'future', max_tokens: 2 },
        { traceparent: `cc-${future.traceId}-${future.spanId}-01-more-fields` });
    assert.strictEqual(r1.status, 200);
    const t1 = await requestTrace(future.traceId);
    assert.strictEqual(one(t1.filter((s) => s.kind === KIND.SERVER), 'HTTP span').parentSpanId, future.spanId);
    const p = newParent();
    const r2 = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'bad state', max_tokens: 2 },
        { traceparent: p.header, tracestate: 'not a valid tracestate!!' });
    assert.strictEqual(r2.status, 200);
    const http2 = one((await requestTrace(p.traceId)).filter((s) => s.kind === KIND.SERVER), 'HTTP span');
    assert.strictEqual(http2.parentSpanId, p.spanId);
    assert.strictEqual(http2.traceState, '');
  }],
  ['tracestate passes through to the HTTP span', async () => {
    const parent = newParent();
    const state = 'vendor=abc,other=1';
    const r = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'state', max_tokens: 2 },
        { traceparent: parent.header, tracestate: state });
    assert.strictEqual(r.status, 200);
    const t = await requestTrace(parent.traceId);
    const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
    assert.strictEqual(httpSpan.parentSpanId, parent.spanId);
    assert.strictEqual(httpSpan.traceState, state, 'trace_state of the HTTP span');
    assert.strictEqual(one(children(t, httpSpan, 'llm_request'), 'llm_request').traceState, state);
  }],
  ['unsampled parent (flags 00): no spans, traceresponse flags 00', async () => {
    const parent = newParent('00');
    const r = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'quiet', max_tokens: 2 },
        { traceparent: parent.header });
    assert.strictEqual(r.status, 200);
    const tr = parseTraceresponse(r.headers.traceresponse);
    assert.strictEqual(tr.traceId, parent.traceId);
    assert.strictEqual(tr.flags, '00');
    // A sampled request after it: once its spans are in, the unsampled ones would be too.
    const marker = newParent();
    await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'loud', max_tokens: 2 }, { traceparent: marker.header });
    await requestTrace(marker.traceId);
    assert.deepStrictEqual(spans(collector.receiver).filter((s) => s.traceId === parent.traceId).map((s) => s.name), []);
  }],
  ['aborted stream: llm_request ERROR, finish reason abort, error.type', async () => {
    const parent = newParent();
    const req = { model: 'tiny', prompt: 'never ending story', max_tokens: 400, temperature: 0.8, ignore_eos: true };
    const r = await stream(server.base, '/v1/completions', req, { headers: { traceparent: parent.header }, leaveAfter: 2 });
    assert.ok(r.left);
    const t = await requestTrace(parent.traceId);
    const httpSpan = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
    const llm = one(children(t, httpSpan, 'llm_request'), 'llm_request');
    checkLlmRequest(t, llm, { req, operation: 'text_completion', stream: true, aborted: true });
    assert.deepStrictEqual(llm.attrs['gen_ai.response.finish_reasons'].value, ['abort']);
    assert.strictEqual(httpSpan.status.code, STATUS.ERROR, 'HTTP span of a client gone mid-stream');
    assertAttr(httpSpan, 'error.type', 'string', 'client_disconnected');
  }],
  ['HTTP spans of /health, an unmatched route and a 400', async () => {
    const parents = [newParent(), newParent(), newParent()];
    assert.strictEqual((await request(server.base, 'GET', '/health', { headers: { traceparent: parents[0].header } })).status, 200);
    assert.strictEqual((await request(server.base, 'GET', '/no/such/route', { headers: { traceparent: parents[1].header } })).status, 404);
    const bad = await post(server.base, '/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: -1 },
        { traceparent: parents[2].header });
    assert.strictEqual(bad.status, 400);
    const get = async (p) => one(await waitForTrace(collector.receiver, p.traceId, (t) => t.length > 0), 'span');
    checkHttpSpan(await get(parents[0]), { method: 'GET', route: '/health', port: server.port });
    checkHttpSpan(await get(parents[1]), { method: 'GET', path: '/no/such/route', status: 404, port: server.port });
    const badSpan = await get(parents[2]);
    checkHttpSpan(badSpan, { route: '/v1/completions', status: 400, port: server.port });
    assert.strictEqual(badSpan.attrs['error.type'], undefined, 'error.type on a 4xx');
  }],
  ['GET /v1/models/{model}: http.route is the template, for a served name and an unknown one', async () => {
    const parents = [newParent(), newParent()];
    assert.strictEqual((await request(server.base, 'GET', '/v1/models/tiny', { headers: { traceparent: parents[0].header } })).status, 200);
    assert.strictEqual((await request(server.base, 'GET', '/v1/models/no-such-model', { headers: { traceparent: parents[1].header } })).status, 404);
    const get = async (p) => one(await waitForTrace(collector.receiver, p.traceId, (t) => t.length > 0), 'span');
    const route = '/v1/models/{model}';
    checkHttpSpan(await get(parents[0]), { method: 'GET', route, path: '/v1/models/tiny', port: server.port });
    checkHttpSpan(await get(parents[1]), { method: 'GET', route, path: '/v1/models/no-such-model', status: 404, port: server.port });
  }],
];

(async () => {
  collector = await startCollector('grpc');
  server = await startServer([...collector.args, '--disable-log-requests'], {
    env: { ...collector.env, OTEL_SERVICE_NAME: 'lantern-e2e', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=tracing-e2e' },
  });
  await main(tests, async () => {
    const code = await server.stop();
    collector.close();
    if (code !== 0) console.log(`server exited ${code}:\n${server.logs()}`);
  });
})().catch((e) => { console.error(e); process.exit(1); });
