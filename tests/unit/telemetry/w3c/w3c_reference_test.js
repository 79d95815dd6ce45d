// Differential test of Lantern's W3C traceparent/tracestate/baggage handling against the
// OpenTelemetry JS SDK (@opentelemetry/core), the reference implementation.
//   node w3c_reference_test.js <path to telemetry_w3c_probe>
// Where the JS SDK is more lenient than the W3C recommendation (it skips an invalid
// tracestate member instead of discarding the header, accepts up to 512 characters of
// tracestate, and keeps a baggage header of any size on extract), the cases say so and
// only the W3C-defined part is compared.
'use strict';
const path = require('path');
const { execFileSync } = require('child_process');
const modules = path.join(__dirname, '..', '..', '..', 'node_modules');
const api = require(path.join(modules, '@opentelemetry/api'));
const core = require(path.join(modules, '@opentelemetry/core'));

const probe = process.argv[2];
if (!probe) throw new Error('usage: node w3c_reference_test.js <telemetry_w3c_probe>');

const T = '0af7651916cd43dd8448eb211c80319c';
const S = 'b7ad6b7169203331';
const traceparents = [
  `00-${T}-${S}-01`, `00-${T}-${S}-00`, `00-${T}-${S}-09`, `00-${T}-${S}-ff`,
  `ff-${T}-${S}-01`, `01-${T}-${S}-01`, `cc-${T}-${S}-01-future`, `cc-${T}-${S}-01future`,
  `00-${T}-${S}-01-`, `00-${T}-${S}-01-extra`, `00-${'0'.repeat(32)}-${S}-01`,
  `00-${T}-${'0'.repeat(16)}-01`, `00-${T.toUpperCase()}-${S}-01`, `00-${T}-${S.toUpperCase()}-01`,
  `0A-${T}-${S}-01`, `00-${T}-${S}-0A`, `00-${T.slice(1)}-${S}-01`, `00-${T}0-${S}-01`,
  `00-${T}-${S}0-01`, `00-${T}-${S}-1`, `00_${T}_${S}_01`, '', 'garbage',
  ` 00-${T}-${S}-01`, `00-${T}-${S}-01 `, `00-${T.slice(0, 31)}g-${S}-01`,
];
// Valid by W3C: both implementations must keep every member, in order.
const validTracestates = [
  'rojo=00f067aa0ba902b7', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  'a=1, b=2 ,\tc=3', 'tenant@vendor=x', '1tenant@vendor=x', 'k=v with spaces',
  'foo_bar-baz*qux/1=~!#', Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','),
];
// Invalid by W3C: Lantern must discard the whole header (JS keeps the valid members).
const invalidTracestates = [
  'foo=1,BAR=2', 'foo=1,bar', 'foo=1,foo=2', 'foo=1,bar=x=y', '=1', 'Upper=1',
  Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), `k=${'v'.repeat(257)}`,
  'tenant@1vendor=x', `${'t'.repeat(242)}@v=1`,
];
const baggages = [
  'key1=value1', 'key1=value1;property1;property2, key2 = value2',
  'userId=alice,serverNode=DF%2028,isProduction=false', 'emoji=%F0%9F%98%80',
  'k=a%2Cb%3Bc', 'k=v;ttl=10', Array.from({ length: 20 }, (_, i) => `k${i}=v${i}`).join(','),
];

const cases = [];
for (const tp of traceparents) cases.push({ traceparent: tp });
for (const ts of validTracestates) cases.push({ traceparent: `00-${T}-${S}-01`, tracestate: ts, tsValid: true });
for (const ts of invalidTracestates) cases.push({ traceparent: `00-${T}-${S}-01`, tracestate: ts, tsValid: false });
for (const b of baggages) cases.push({ baggage: b });

const input = cases.map(c => JSON.stringify({ traceparent: c.traceparent, tracestate: c.tracestate, baggage: c.baggage })).join('\n') + '\n';
const outputs = execFileSync(probe, { input }).toString().trim().split('\n').map(l => JSON.parse(l));
if (outputs.length !== cases.length) throw new Error(`probe answered ${outputs.length} of ${cases.length}`);

const propagator = new core.CompositePropagator({
  propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
});
function jsExtract(headers) {
  const carrier = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) carrier[k] = v;
  return propagator.extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter);
}
function jsBaggage(ctx) {
  const baggage = api.propagation.getBaggage(ctx);
  if (!baggage) return [];
  return baggage.getAllEntries().map(([key, e]) => [key, e.value, e.metadata ? e.metadata.toString() : '']);
}
const ourBaggage = (entries) => entries.map(e => [e.key, e.value, e.metadata]);

let failures = 0;
function check(ok, what, c, ours, theirs) {
  if (ok) return;
  failures++;
  console.error(`MISMATCH ${what}: case ${JSON.stringify(c)}\n  lantern: ${JSON.stringify(ours)}\n  js:      ${JSON.stringify(theirs)}`);
}

cases.forEach((c, i) => {
  const ours = outputs[i];
  const ctx = jsExtract({ traceparent: c.traceparent, tracestate: c.tracestate, baggage: c.baggage });
  const sc = api.trace.getSpanContext(ctx);
  const jsValid = !!sc && api.isSpanContextValid(sc);
  check(ours.valid === jsValid, 'traceparent validity', c, ours.valid, jsValid);
  if (ours.valid && jsValid) {
    check(ours.trace_id === sc.traceId && ours.span_id === sc.spanId, 'ids', c, ours, sc);
    check(ours.sampled === ((sc.traceFlags & 1) === 1), 'sampled flag', c, ours.sampled, sc.traceFlags);
  }
  if (c.tracestate !== undefined && ours.valid) {
    const jsState = sc && sc.traceState ? sc.traceState.serialize() : '';
    if (c.tsValid) {
      check(ours.tracestate === jsState, 'tracestate', c, ours.tracestate, jsState);
    } else {
      check(ours.tracestate === '', 'invalid tracestate discarded', c, ours.tracestate, '(W3C: discard)');
    }
  }
  if (c.baggage !== undefined) {
    const theirs = jsBaggage(ctx);
    check(JSON.stringify(ourBaggage(ours.baggage)) === JSON.stringify(theirs), 'baggage', c, ours.baggage, theirs);
  }
  // What Lantern injects must read back, with the JS SDK, as what Lantern extracted.
  if (ours.inject && Object.keys(ours.inject).length > 0) {
    const back = jsExtract(ours.inject);
    const bsc = api.trace.getSpanContext(back);
    if (ours.valid) {
      check(!!bsc && bsc.traceId === ours.trace_id && bsc.spanId === ours.span_id &&
            ((bsc.traceFlags & 1) === 1) === ours.sampled, 'inject round trip', c, ours.inject, bsc);
      check((bsc.traceState ? bsc.traceState.serialize() : '') === ours.tracestate,
            'inject tracestate round trip', c, ours.inject, bsc.traceState);
    }
    check(JSON.stringify(jsBaggage(back)) === JSON.stringify(ourBaggage(ours.baggage)), 'inject baggage round trip', c,
          ours.inject, jsBaggage(back));
  }
});

console.log(`${cases.length} cases, ${failures} mismatches`);
process.exit(failures === 0 ? 0 : 1);
