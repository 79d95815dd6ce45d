// Shared pieces of the tracing end-to-end suite: `lantern serve` with a clean OTEL_*
// environment, the independent OTLP receiver (tests/e2e/telemetry/otlp_receiver.js) per
// protocol, span decoding into plain objects, waiting for spans, and tree/attribute checks.
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const net = require('net');
const path = require('path');
const assert = require('assert');
const { Receiver } = require('../telemetry/otlp_receiver.js');
const { metric, waitFor, run } = require('../server/harness.js');

const LANTERN = process.env.LANTERN;
const MODEL = process.env.LANTERN_TEST_MODEL;
const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };
const STATUS = { UNSET: 0, OK: 1, ERROR: 2 };
// Spans reach the receiver within a few batch delays; this is a deadline, not a timing.
const SPAN_DEADLINE_MS = 30000;

// The environment a server gets: ours without any OTEL_*/TRACEPARENT, plus `env`.
function cleanEnv(env = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(
      ([k]) => !k.startsWith('OTEL_') && k !== 'TRACEPARENT' && k !== 'TRACESTATE'));
  return { ...base, ...env };
}

// Servers still running when the script exits (a failed start-up, an exception) go with it.
const servers = new Set();
process.on('exit', () => servers.forEach((p) => p.kill('SIGKILL')));

// Starts `lantern serve` on the test model; resolves {proc, port, base, logs(), stop()}
// once it logs that it serves. `args` come after the defaults (later flags win).
function startServer(args = [], { env = {}, kvCacheMemory = '16MiB', maxModelLen = 512 } = {}) {
  return new Promise((resolve, reject) => {
    const all = ['serve', MODEL, '--host', '127.0.0.1', '--port', '0', '--served-model-name', 'tiny',
      '--kv-cache-memory', kvCacheMemory, '--max-model-len', String(maxModelLen), ...args];
    const proc = spawn(LANTERN, all, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    servers.add(proc);
    proc.once('exit', () => servers.delete(proc));
    let log = '';
    let started = false;
    const timer = setTimeout(() => {
      if (!started) { proc.kill('SIGKILL'); reject(new Error('server start timed out:\n' + log)); }
    }, 60000);
    const onData = (data) => {
      log += data.toString();
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          proc, port, base: `http://127.0.0.1:${port}`, logs: () => log,
          stop: () => new Promise((res) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return res(proc.exitCode);
            proc.once('exit', (code) => res(code));
            proc.kill('SIGTERM');
          }),
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`lantern serve exited with ${code} before serving:\n${log}`));
    });
  });
}

// A port nothing listens on (yet).
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// The server's flags and environment for exporting to 127.0.0.1:port over `protocol`
// ('grpc', 'http/protobuf', 'http/json'), as the seeds configure vLLM.
function exportConfig(protocol, port) {
  const url = protocol === 'grpc' ? `grpc://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1/traces`;
  return {
    url,
    args: ['--otlp-traces-endpoint', url],
    env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_TRACES_INSECURE: 'true',
      OTEL_BSP_SCHEDULE_DELAY: '100' },
  };
}

// Starts the independent receiver for one protocol; {receiver, port, args, env, close()}.
async function startCollector(protocol = 'grpc', { port = 0 } = {}) {
  const receiver = new Receiver();
  const bound = protocol === 'grpc' ? await receiver.startGrpc({ port }) : await receiver.startHttp({ port });
  return { receiver, port: bound, ...exportConfig(protocol, bound), close: () => receiver.close() };
}

function anyValue(v) {
  if (v === undefined || v === null) return { type: 'empty', value: undefined };
  if ('stringValue' in v) return { type: 'string', value: v.stringValue };
  if ('boolValue' in v) return { type: 'bool', value: v.boolValue };
  if ('intValue' in v) return { type: 'int', value: Number(v.intValue) };
  if ('doubleValue' in v) return { type: 'double', value: Number(v.doubleValue) };
  if ('arrayValue' in v) {
    const values = (v.arrayValue.values || []).map(anyValue);
    return { type: values.length && values.every((x) => x.type === values[0].type) ?
      `${values[0].type}[]` : 'array', value: values.map((x) => x.value) };
  }
  return { type: 'other', value: v };
}

function attributeMap(list) {
  const out = {};
  for (const a of list || []) out[a.key] = anyValue(a.value);
  return out;
}

// A received span as a plain object; times are BigInt nanoseconds.
function decodeSpan({ resource, scope, span }) {
  return {
    traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || '',
    traceState: span.traceState || '', name: span.name, kind: span.kind || 0,
    start: BigInt(span.startTimeUnixNano || 0), end: BigInt(span.endTimeUnixNano || 0),
    attrs: attributeMap(span.attributes),
    events: (span.events || []).map((e) => ({ name: e.name, time: BigInt(e.timeUnixNano || 0),
      attrs: attributeMap(e.attributes) })),
    // canonical() already turned every traceId/spanId, links' too, into hex.
    links: (span.links || []).map((l) => ({ traceId: l.traceId || '', spanId: l.spanId || '',
      traceState: l.traceState || '', attrs: attributeMap(l.attributes) })),
    status: { code: (span.status && span.status.code) || 0, message: (span.status && span.status.message) || '' },
    resource: attributeMap(resource.attributes), scope: scope.name || '',
  };
}

// Every span the receiver has decoded so far. Export requests that failed to decode, or
// OTLP/JSON that breaks the encoding rules, fail the test here.
function spans(receiver) {
  const out = [];
  for (const entry of receiver.requests) {
    assert.strictEqual(entry.decodeError, undefined, `undecodable export: ${entry.decodeError}`);
    if (entry.jsonViolations) assert.deepStrictEqual(entry.jsonViolations, [], 'OTLP/JSON violations');
    for (const s of entry.canonical.spans) out.push(decodeSpan(s));
  }
  return out;
}

// Waits until `predicate(allSpans)` returns something truthy; returns that.
async function waitForSpans(receiver, predicate, what, timeoutMs = SPAN_DEADLINE_MS) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const all = spans(receiver);
    const found = predicate(all);
    if (found) return found;
    if (Date.now() > end) {
      const names = all.map((s) => `${s.name}(${s.traceId.slice(0, 8)})`).join(', ');
      throw new Error(`timed out waiting for ${what}; received ${all.length} spans: ${names}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The spans of one trace once `isComplete(traceSpans)` holds.
function waitForTrace(receiver, traceId, isComplete, what) {
  return waitForSpans(receiver, (all) => {
    const t = all.filter((s) => s.traceId === traceId);
    return isComplete(t) ? t : null;
  }, what || `trace ${traceId}`);
}

const children = (all, parent, name) => all.filter((s) => s.parentSpanId === parent.spanId &&
    (name === undefined || s.name === name));
const one = (list, what) => {
  assert.strictEqual(list.length, 1, `expected one ${what}, got ${list.length}`);
  return list[0];
};
const seconds = (a, b) => Number(b - a) / 1e9;
const duration = (s) => seconds(s.start, s.end);

// attrs[key] has `type` (and `value` when given).
function assertAttr(span, key, type, value) {
  const a = span.attrs[key];
  assert.ok(a, `${span.name}: attribute ${key} missing (has ${Object.keys(span.attrs).join(', ')})`);
  assert.strictEqual(a.type, type, `${span.name}: ${key} is ${a.type}, expected ${type}`);
  if (value !== undefined) assert.deepStrictEqual(a.value, value, `${span.name}: ${key}`);
  return a.value;
}

function assertWithin(child, parent) {
  assert.ok(child.start >= parent.start && child.end <= parent.end && child.start <= child.end,
      `${child.name} [${child.start}, ${child.end}] is not inside ${parent.name} [${parent.start}, ${parent.end}]`);
}

// |a - b| <= tol seconds.
function assertClose(a, b, tol, what) {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);
}

const hex = (bytes) => require('crypto').randomBytes(bytes).toString('hex');
const traceparent = (traceId, spanId, flags = '01') => `00-${traceId}-${spanId}-${flags}`;

// Parses a traceresponse header: {traceId, spanId, flags}.
function parseTraceresponse(value) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value || '');
  assert.ok(m, `traceresponse header '${value}' is not 00-<trace>-<span>-<flags>`);
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}

// Streams a completion or chat; resolves {status, headers, events (parsed JSON chunks)}.
// With leaveAfter = k, destroys the connection after k data events ({left: true});
// onEvent(chunk) sees each chunk as it comes.
function stream(base, path, body, { headers = {}, leaveAfter = 0, onEvent = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify({ ...body, stream: true });
    const req = http.request(new URL(path, base), {
      method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers },
    }, (res) => {
      let buffer = '';
      const events = [];
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (event.startsWith('data: ') && event !== 'data: [DONE]') {
            events.push(JSON.parse(event.slice(6)));
            onEvent(events[events.length - 1]);
          }
          if (leaveAfter && events.length >= leaveAfter) {
            req.destroy();
            return resolve({ status: res.statusCode, headers: res.headers, events, left: true });
          }
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, events }));
      res.on('error', (e) => (leaveAfter ? null : reject(e)));
      res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, events, aborted: true }));
    });
    req.on('error', (e) => (leaveAfter ? resolve({ left: true, events: [] }) : reject(e)));
    req.write(data);
    req.end();
  });
}

// One HTTP request on its own connection: Node's global agent keeps connections alive,
// and reusing one just as the server closes it for idleness fails the request on the
// client side ("socket hang up"), which is no server fault. Resolves {status, headers, body}.
function request(base, method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(new URL(path, base), {
      method, agent: false,
      headers: { ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers },
    }, (res) => {
      let chunks = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { chunks += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: chunks }));
    });
    req.on('error', (e) => reject(new Error(`${method} ${path}: ${e.message}`)));
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// POST JSON; resolves {status, headers, body (parsed when JSON)}.
async function post(base, path, body, headers = {}) {
  const r = await request(base, 'POST', path, { body, headers });
  let parsed = r.body;
  try { parsed = JSON.parse(r.body); } catch (e) { /* not JSON */ }
  return { status: r.status, headers: r.headers, body: parsed };
}

// Sum of every sample of a counter whose labels contain `labelFilter` (e.g. 'reason="x"').
function metricSum(text, name, labelFilter = '') {
  let sum;
  for (const line of text.split('\n')) {
    if ((line.startsWith(name + '{') || line.startsWith(name + ' ')) && line.includes(labelFilter)) {
      sum = (sum || 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

// Runs `tests` (harness.run) with `cleanup` afterwards and exits with the result.
async function main(tests, cleanup = async () => {}) {
  let failed = 1;
  try {
    failed = await run(tests);
  } finally {
    await cleanup();
  }
  process.exit(failed ? 1 : 0);
}

module.exports = {
  KIND, STATUS, MODEL, startServer, startCollector, exportConfig, freePort, spans, waitForSpans,
  waitForTrace, children, one, duration, seconds, assertAttr, assertWithin, assertClose, hex,
  traceparent, parseTraceresponse, stream, post, request, metric, metricSum, waitFor, main, assert,
  cleanEnv,
};
