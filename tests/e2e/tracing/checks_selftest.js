// The suite's checks can fail: a real trace from the server passes checkHttpSpan and
// checkLlmRequest, and each single corruption of it (an attribute missing or mistyped, a
// latency off its span, a child outside its parent, usage not the response's) fails them.
'use strict';
const {
  KIND, startServer, startCollector, waitForTrace, children, one, hex, traceparent, post, main, assert,
} = require('./tracing_harness.js');
const { checkHttpSpan, checkLlmRequest, requestComplete } = require('./request_checks.js');

const clone = (spans) => spans.map((s) => ({ ...s, attrs: { ...s.attrs }, events: s.events.map((e) => ({ ...e })) }));

(async () => {
  const collector = await startCollector('grpc');
  const server = await startServer([...collector.args, '--disable-log-requests'], { env: collector.env });
  const parent = { traceId: hex(16), spanId: hex(8) };
  const req = { model: 'tiny', prompt: 'self test', max_tokens: 6, temperature: 0, top_k: 5, ignore_eos: true };
  const ua = 'selftest/1';
  let trace;
  let res;
  const check = (t) => {
    const http = one(t.filter((s) => s.kind === KIND.SERVER), 'HTTP span');
    checkHttpSpan(http, { route: '/v1/completions', port: server.port, userAgent: ua });
    checkLlmRequest(t, one(children(t, http, 'llm_request'), 'llm_request'), { req, operation: 'text_completion',
      usage: res.usage, responseId: res.id, finishReasons: res.choices.map((c) => c.finish_reason) });
  };
  // Applies `mutate(copy, byName)` to a copy of the trace; the checks must throw.
  const mustFail = (what, mutate) => {
    const t = clone(trace);
    const byName = (n) => t.find((s) => s.name === n || (n === 'http' && s.kind === KIND.SERVER));
    mutate(t, byName);
    assert.throws(() => check(t), undefined, `the checks accept a trace with ${what}`);
  };
  await main([
    ['a real trace passes the checks', async () => {
      const r = await post(server.base, '/v1/completions', req, { traceparent: traceparent(parent.traceId, parent.spanId), 'User-Agent': ua });
      assert.strictEqual(r.status, 200);
      res = r.body;
      trace = await waitForTrace(collector.receiver, parent.traceId, (t) => requestComplete(t));
      check(trace);
    }],
    ['every attribute of llm_request and the HTTP span is required and typed', async () => {
      for (const name of ['llm_request', 'http', 'prefill', 'decode']) {
        const keys = Object.keys(trace.find((s) => s.name === name || (name === 'http' && s.kind === KIND.SERVER)).attrs);
        assert.ok(keys.length > 0, name);
        for (const key of keys) {
          if (key === 'client.port' || key === 'server.address') continue;  // value not knowable; type still checked below
          mustFail(`${name} without ${key}`, (t, by) => { delete by(name).attrs[key]; });
        }
        for (const key of keys) {
          mustFail(`${name} ${key} mistyped`, (t, by) => {
            const a = by(name).attrs[key];
            by(name).attrs[key] = a.type === 'string' ? { type: 'int', value: 1 } : { type: 'string', value: String(a.value) };
          });
        }
      }
    }],
    ['latencies, nesting and usage are checked', async () => {
      const shift = (span, field, ns) => { span[field] += BigInt(ns); };
      mustFail('e2e off by 10 µs', (t, by) => { by('llm_request').attrs['gen_ai.latency.e2e'].value += 1e-5; });
      mustFail('queue starting before its parent', (t, by) => shift(by('queue'), 'start', -(by('queue').start - by('llm_request').start) - 1000n));
      mustFail('decode ending after its parent', (t, by) => shift(by('decode'), 'end', by('llm_request').end - by('decode').end + 1000n));
      mustFail('prefill longer than time_in_model_prefill', (t, by) => shift(by('prefill'), 'start', -10000));
      mustFail('TTFT beyond the first token', (t, by) => { by('llm_request').attrs['gen_ai.latency.time_to_first_token'].value += 1e-5; });
      mustFail('inference != prefill + decode', (t, by) => { by('llm_request').attrs['gen_ai.latency.time_in_model_inference'].value += 1e-5; });
      mustFail('usage not the response\'s', (t, by) => { by('llm_request').attrs['gen_ai.usage.completion_tokens'].value += 1; });
      mustFail('a second queue span', (t, by) => t.push({ ...by('queue'), spanId: hex(8) }));
      mustFail('no first_token event', (t, by) => { by('llm_request').events = []; });
      mustFail('an error status', (t, by) => { by('llm_request').status = { code: 2, message: 'x' }; });
      mustFail('an HTTP span of another kind', (t, by) => { by('http').kind = 1; });
    }],
  ], async () => {
    await server.stop();
    collector.close();
  });
})().catch((e) => { console.error(e); process.exit(1); });
