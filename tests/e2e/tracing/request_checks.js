// The contract's checks on one generation request's spans (docs: notes/tracing-contract.md):
// the HTTP SERVER span, llm_request under it with every attribute typed right and
// consistent with the response, queue/prefill/decode inside it, latencies equal durations.
'use strict';
const {
  KIND, STATUS, children, one, duration, seconds, assertAttr, assertWithin, assertClose, assert,
} = require('./tracing_harness.js');

const US = 1e-6;  // span times are nanoseconds, latencies doubles in seconds: 1 µs agrees

// The HTTP span of a request: `{METHOD} {route}` with the stable HTTP attributes.
function checkHttpSpan(span, { method = 'POST', route, status = 200, port, userAgent, path = route }) {
  assert.strictEqual(span.kind, KIND.SERVER, `${span.name}: kind ${span.kind}`);
  assert.strictEqual(span.name, route ? `${method} ${route}` : method);
  assertAttr(span, 'http.request.method', 'string', method);
  assertAttr(span, 'url.path', 'string', path);
  assertAttr(span, 'url.scheme', 'string', 'http');
  if (route) assertAttr(span, 'http.route', 'string', route);
  else assert.strictEqual(span.attrs['http.route'], undefined, 'http.route on an unmatched route');
  assertAttr(span, 'http.response.status_code', 'int', status);
  assertAttr(span, 'server.address', 'string');
  if (port !== undefined) assertAttr(span, 'server.port', 'int', port);
  assertAttr(span, 'client.address', 'string', '127.0.0.1');
  assertAttr(span, 'client.port', 'int');
  assertAttr(span, 'network.protocol.version', 'string', '1.1');
  if (userAgent) assertAttr(span, 'user_agent.original', 'string', userAgent);
  if (status >= 500) {
    assert.strictEqual(span.status.code, STATUS.ERROR, `${status}: status ${span.status.code}`);
    assertAttr(span, 'error.type', 'string', String(status));
  } else if (status >= 400) {
    assert.notStrictEqual(span.status.code, STATUS.ERROR, `${status} must not be an error status`);
  }
}

const VLLM_INTS = ['gen_ai.request.max_tokens', 'gen_ai.request.n', 'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens', 'gen_ai.usage.num_sequences'];
const VLLM_DOUBLES = ['gen_ai.request.temperature', 'gen_ai.request.top_p', 'gen_ai.latency.e2e',
  'gen_ai.latency.time_to_first_token', 'gen_ai.latency.time_in_queue',
  'gen_ai.latency.time_in_scheduler', 'gen_ai.latency.time_in_model_prefill',
  'gen_ai.latency.time_in_model_decode', 'gen_ai.latency.time_in_model_inference'];
const GENAI_INTS = ['gen_ai.request.choice.count', 'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens', 'gen_ai.usage.cache_read.input_tokens', 'lantern.request.preemptions'];
const GENAI_DOUBLES = ['gen_ai.request.frequency_penalty', 'gen_ai.request.presence_penalty'];

// Checks one llm_request span and its children. `req` is the request body, `usage` what
// the response said for this engine request ({prompt_tokens, completion_tokens}),
// `finishReasons` its choices' reasons, `responseId` the response's id. Returns
// {llm, queues, prefill, decode}.
function checkLlmRequest(all, llm, { req, usage, finishReasons, responseId, operation, stream,
  n = req.n || 1, preempted = false, aborted = false }) {
  assert.strictEqual(llm.kind, KIND.INTERNAL, `llm_request kind ${llm.kind}`);
  for (const k of VLLM_INTS) assertAttr(llm, k, 'int');
  // A request aborted before its first token has no time to first token (the server
  // leaves it out rather than record a made-up value; the contract says "every").
  const noToken = aborted && !llm.events.some((e) => e.name === 'first_token');
  for (const k of VLLM_DOUBLES) {
    if (noToken && k === 'gen_ai.latency.time_to_first_token') continue;
    assertAttr(llm, k, 'double');
  }
  for (const k of GENAI_INTS) assertAttr(llm, k, 'int');
  for (const k of GENAI_DOUBLES) assertAttr(llm, k, 'double');
  assertAttr(llm, 'gen_ai.request.id', 'string');
  assert.ok(llm.attrs['gen_ai.request.id'].value.length > 0, 'empty gen_ai.request.id');
  assertAttr(llm, 'gen_ai.request.model', 'string', 'tiny');
  assertAttr(llm, 'gen_ai.response.model', 'string', 'tiny');
  assertAttr(llm, 'gen_ai.operation.name', 'string', operation);
  assertAttr(llm, 'gen_ai.provider.name', 'string', 'lantern');
  // `json` for a JSON Schema or json_object; a regex, choice or grammar still gives text.
  const json = req.response_format && req.response_format.type !== 'text';
  const guided = req.structured_outputs || req.guided_json || req.guided_regex ||
    req.guided_choice || req.guided_grammar;
  assertAttr(llm, 'gen_ai.output.type', 'string', json ? 'json' : guided ? undefined : 'text');
  assertAttr(llm, 'gen_ai.request.stream', 'bool', Boolean(stream));
  if (responseId !== undefined) assertAttr(llm, 'gen_ai.response.id', 'string', responseId);
  else assertAttr(llm, 'gen_ai.response.id', 'string');
  const reasons = assertAttr(llm, 'gen_ai.response.finish_reasons', 'string[]');
  if (finishReasons) assert.deepStrictEqual([...reasons].sort(), [...finishReasons].sort(), 'finish reasons');
  assert.strictEqual(reasons.length, n, `finish_reasons ${JSON.stringify(reasons)} for n=${n}`);

  // Request parameters, as sent (temperature also when 0).
  if (req.max_tokens !== undefined) assertAttr(llm, 'gen_ai.request.max_tokens', 'int', req.max_tokens);
  if (req.temperature !== undefined) assertAttr(llm, 'gen_ai.request.temperature', 'double', req.temperature);
  if (req.top_p !== undefined) assertAttr(llm, 'gen_ai.request.top_p', 'double', req.top_p);
  if (req.top_k !== undefined) assertAttr(llm, 'gen_ai.request.top_k', 'int', req.top_k);
  else assert.strictEqual(llm.attrs['gen_ai.request.top_k'], undefined, 'top_k when not set');
  if (req.seed !== undefined) assertAttr(llm, 'gen_ai.request.seed', 'int', req.seed);
  else assert.strictEqual(llm.attrs['gen_ai.request.seed'], undefined, 'seed when not set');
  if (req.stop !== undefined) {
    assertAttr(llm, 'gen_ai.request.stop_sequences', 'string[]', [].concat(req.stop));
  }
  if (req.frequency_penalty !== undefined) {
    assertAttr(llm, 'gen_ai.request.frequency_penalty', 'double', req.frequency_penalty);
  }
  if (req.presence_penalty !== undefined) {
    assertAttr(llm, 'gen_ai.request.presence_penalty', 'double', req.presence_penalty);
  }
  assertAttr(llm, 'gen_ai.request.n', 'int', n);
  assertAttr(llm, 'gen_ai.request.choice.count', 'int', n);
  assertAttr(llm, 'gen_ai.usage.num_sequences', 'int', n);

  // Usage equals the response's, in both vocabularies.
  if (usage) {
    assertAttr(llm, 'gen_ai.usage.prompt_tokens', 'int', usage.prompt_tokens);
    assertAttr(llm, 'gen_ai.usage.completion_tokens', 'int', usage.completion_tokens);
  }
  const a = (k) => llm.attrs[k].value;
  assert.strictEqual(a('gen_ai.usage.input_tokens'), a('gen_ai.usage.prompt_tokens'));
  assert.strictEqual(a('gen_ai.usage.output_tokens'), a('gen_ai.usage.completion_tokens'));
  assert.ok(a('gen_ai.usage.cache_read.input_tokens') <= a('gen_ai.usage.prompt_tokens'));

  // time_to_first_chunk on streams only.
  if (stream && !aborted) {
    const ttfc = assertAttr(llm, 'gen_ai.response.time_to_first_chunk', 'double');
    assert.ok(ttfc >= 0, `time_to_first_chunk ${ttfc}`);
  } else if (!stream) {
    assert.strictEqual(llm.attrs['gen_ai.response.time_to_first_chunk'], undefined,
        'time_to_first_chunk on a non-streaming request');
  }

  // Children inside the request; latencies equal the spans they describe.
  const kids = children(all, llm);
  for (const k of kids) {
    assert.ok(['queue', 'prefill', 'decode'].includes(k.name), `unexpected child ${k.name}`);
    assert.strictEqual(k.kind, KIND.INTERNAL, `${k.name} kind`);
    assert.strictEqual(k.traceId, llm.traceId);
    assertWithin(k, llm);
  }
  const queues = kids.filter((k) => k.name === 'queue').sort((x, y) => (x.start < y.start ? -1 : 1));
  const prefills = kids.filter((k) => k.name === 'prefill');
  const decodes = kids.filter((k) => k.name === 'decode');
  assert.ok(queues.length >= 1, 'no queue span');
  assert.ok(decodes.length <= 1, `${decodes.length} decode spans`);
  const e2e = a('gen_ai.latency.e2e');
  assertClose(e2e, duration(llm), US, 'e2e = llm_request duration');
  const queueSum = queues.reduce((sum, q) => sum + duration(q), 0);
  assertClose(a('gen_ai.latency.time_in_queue'), queueSum, US * queues.length, 'time_in_queue = sum of queue spans');
  const ttft = noToken ? undefined : a('gen_ai.latency.time_to_first_token');
  if (!noToken) assert.ok(ttft <= e2e + US, `TTFT ${ttft} > e2e ${e2e}`);
  assert.ok(a('gen_ai.latency.time_in_scheduler') >= 0);
  const events = llm.events.map((e) => e.name);
  for (const e of llm.events) {
    assert.ok(e.time >= llm.start && e.time <= llm.end, `event ${e.name} outside llm_request`);
  }
  if (noToken) {
    // Only waited (or was cut during prefill): no decode, nothing generated.
    assert.strictEqual(decodes.length, 0, 'decode span without a first token');
    assert.strictEqual(a('gen_ai.usage.completion_tokens'), 0);
    assert.strictEqual(llm.status.code, STATUS.ERROR, 'aborted llm_request status');
    assertAttr(llm, 'error.type', 'string', 'aborted');
    assert.ok(events.includes('aborted'), `events ${events}`);
    return { llm, queues, prefill: prefills[0] || null, decode: null };
  }

  const prefill = one(prefills, 'prefill span');
  for (const k of ['lantern.prefill.computed_tokens', 'lantern.prefill.cached_tokens', 'lantern.prefill.chunks']) {
    assertAttr(prefill, k, 'int');
  }
  assert.ok(prefill.attrs['lantern.prefill.chunks'].value >= 1, 'prefill chunks');
  assert.strictEqual(prefill.attrs['lantern.prefill.cached_tokens'].value,
      a('gen_ai.usage.cache_read.input_tokens'), 'prefill cached tokens = cache_read.input_tokens');
  if (!preempted) {
    assert.strictEqual(prefill.attrs['lantern.prefill.computed_tokens'].value + prefill.attrs['lantern.prefill.cached_tokens'].value,
        a('gen_ai.usage.prompt_tokens'), 'prefill computed + cached tokens = prompt tokens');
  }
  assertClose(a('gen_ai.latency.time_in_model_prefill'), duration(prefill), US, 'time_in_model_prefill = prefill span');
  assertClose(ttft, seconds(llm.start, prefill.end), US, 'TTFT = arrival -> end of prefill (first token)');
  const decode = decodes[0] || null;
  if (decode) {
    assertAttr(decode, 'lantern.decode.tokens', 'int');
    assert.ok(decode.start >= prefill.end, 'decode starts before the first token');
    assertClose(a('gen_ai.latency.time_in_model_decode'), duration(decode), US, 'time_in_model_decode = decode span');
  } else {
    assert.ok(a('gen_ai.usage.completion_tokens') <= n, 'no decode span although several tokens per sequence');
    assertClose(a('gen_ai.latency.time_in_model_decode'), 0, US, 'time_in_model_decode without decode');
  }
  const inference = a('gen_ai.latency.time_in_model_inference');
  assertClose(inference, a('gen_ai.latency.time_in_model_prefill') + a('gen_ai.latency.time_in_model_decode'),
      2 * US, 'time_in_model_inference = prefill + decode');
  if (!aborted) assert.ok(events.includes('first_token'), `events ${events}`);
  if (!preempted) {
    // Stays in order: queue, then prefill, then decode; what none covers is the pre- and
    // post-processing, so time_in_queue + inference = e2e minus exactly that.
    assert.strictEqual(queues.length, 1, 'several queue spans without preemption');
    assert.ok(queues[0].end <= prefill.start, 'queue overlaps prefill');
    assert.strictEqual(a('lantern.request.preemptions'), 0);
    const uncovered = seconds(llm.start, queues[0].start) + seconds(queues[0].end, prefill.start) +
        seconds((decode || prefill).end, llm.end) + (decode ? seconds(prefill.end, decode.start) : 0);
    const sum = a('gen_ai.latency.time_in_queue') + inference;
    assert.ok(sum <= e2e + 2 * US, `time_in_queue + inference ${sum} > e2e ${e2e}`);
    assertClose(e2e - sum, uncovered, 4 * US, 'e2e - (queue + inference) = time outside the phase spans');
  }
  if (aborted) {
    assert.strictEqual(llm.status.code, STATUS.ERROR, 'aborted llm_request status');
    assertAttr(llm, 'error.type', 'string', 'aborted');
    assert.ok(reasons.includes('abort'), `finish reasons ${reasons}`);
    assert.ok(events.includes('aborted'), `events ${events}`);
  } else {
    assert.notStrictEqual(llm.status.code, STATUS.ERROR, `llm_request error: ${llm.status.message}`);
    assert.strictEqual(llm.attrs['error.type'], undefined, 'error.type on a successful request');
  }
  return { llm, queues, prefill, decode };
}

// Whether a request's trace `t` has all arrived: its HTTP span and `llmCount` llm_request
// spans, each with the children its events and usage promise (spans may come in separate
// batches, a parent before its children).
function requestComplete(t, llmCount = 1) {
  const llms = t.filter((s) => s.name === 'llm_request');
  if (!t.some((s) => s.kind === KIND.SERVER) || llms.length !== llmCount) return false;
  return llms.every((l) => {
    const kids = t.filter((s) => s.parentSpanId === l.spanId);
    const has = (name) => kids.some((k) => k.name === name);
    if (!has('queue')) return false;
    if (!l.events.some((e) => e.name === 'first_token')) return l.status.code === STATUS.ERROR;
    const tokens = l.attrs['gen_ai.usage.completion_tokens']?.value || 0;
    const n = l.attrs['gen_ai.request.n']?.value || 1;
    return has('prefill') && (has('decode') || tokens <= n);
  });
}

module.exports = { checkHttpSpan, checkLlmRequest, requestComplete };
