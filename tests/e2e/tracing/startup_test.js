// The start-up trace: `lantern.startup` with its phases in order, a child of TRACEPARENT
// from the environment, exported before the server logs that it is ready.
'use strict';
const { spawn } = require('child_process');
const {
  KIND, STATUS, startServer, startCollector, spans, waitForSpans, children, assertAttr, assertWithin, hex,
  traceparent, request, main, assert, cleanEnv, waitFor,
} = require('./tracing_harness.js');

const PHASES = ['load_config', 'load_tokenizer', 'load_weights', 'init_kv_cache', 'warmup', 'listen'];

// Starts a server with `env`; returns {server, collector, startup spans seen when it said
// it was ready}.
async function start(env) {
  const collector = await startCollector('grpc');
  const server = await startServer([...collector.args, '--disable-log-requests'], { env: { ...collector.env, ...env } });
  // The receiver records a request before answering it and the server logs "serving" only
  // after its flush was answered, so the spans are here now, with no waiting. The flush is
  // bounded: on a machine too loaded to export within the bound the server says so, and
  // then the spans must still come (later).
  let atReady = spans(collector.receiver);
  if (!atReady.some((x) => x.name === 'lantern.startup') && /start-up trace was not exported within/.test(server.logs())) {
    console.log('note: the start-up flush ran past its bound; waiting for the spans');
    atReady = await waitForSpans(collector.receiver, (all) => all.filter((x) => x.name !== 'lantern.startup').length >= 6 &&
        all.some((x) => x.name === 'lantern.startup') && all, 'the start-up trace');
  }
  // The summary line follows the "serving" line that startServer waits for.
  await waitFor(() => /summary: /.test(server.logs()), 'the start-up summary line');
  return { server, collector, atReady };
}

async function stop({ server, collector }) {
  const code = await server.stop();
  collector.close();
  assert.strictEqual(code, 0, server.logs());
}

function checkStartup(all, server) {
  const roots = all.filter((s) => s.name === 'lantern.startup');
  assert.strictEqual(roots.length, 1, `${roots.length} lantern.startup spans when the server said it was ready ` +
      `(received: ${all.map((s) => s.name).join(', ')})`);
  const root = roots[0];
  assert.strictEqual(root.kind, KIND.INTERNAL);
  assertAttr(root, 'gen_ai.request.model', 'string', 'tiny');
  assertAttr(root, 'lantern.version', 'string');
  const phases = children(all, root).sort((a, b) => (a.start < b.start ? -1 : 1));
  assert.deepStrictEqual(phases.map((s) => s.name), PHASES, 'start-up phases in order');
  for (let i = 0; i < phases.length; i++) {
    assertWithin(phases[i], root);
    assert.strictEqual(phases[i].traceId, root.traceId);
    if (i > 0) assert.ok(phases[i].start >= phases[i - 1].end, `${phases[i].name} overlaps ${phases[i - 1].name}`);
  }
  const by = Object.fromEntries(phases.map((s) => [s.name, s]));
  assert.ok(assertAttr(by.load_weights, 'lantern.weights.bytes', 'int') > 0);
  assert.ok(assertAttr(by.load_weights, 'lantern.weights.tensors', 'int') > 0);
  assertAttr(by.load_weights, 'lantern.weights.format', 'string', 'safetensors');
  const blocks = Number(/(\d+) KV blocks/.exec(server.logs())[1]);
  assertAttr(by.init_kv_cache, 'lantern.kv.blocks', 'int', blocks);
  assert.ok(assertAttr(by.init_kv_cache, 'lantern.kv.bytes', 'int') > 0);
  // --kv-cache-dtype auto: the tiny model's weights are float32, so the cache is bfloat16.
  assertAttr(by.init_kv_cache, 'lantern.kv.dtype', 'string', 'bfloat16');
  assert.match(server.logs(), /KV cache \d+ tokens \(bfloat16, /);
  assertAttr(by.listen, 'server.address', 'string', '127.0.0.1');
  assertAttr(by.listen, 'server.port', 'int', server.port);
  return root;
}

main([
  ['a failed start-up exports the failed phase and the root with status ERROR and the error', async () => {
    const collector = await startCollector('grpc');
    try {
      const missing = '/nonexistent/lantern-test-model';
      const proc = spawn(process.env.LANTERN, ['serve', missing, ...collector.args],
          { env: cleanEnv(collector.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      proc.stdout.on('data', (d) => { log += d; });
      proc.stderr.on('data', (d) => { log += d; });
      const code = await new Promise((resolve) => proc.once('exit', resolve));
      assert.strictEqual(code, 1, log);
      const error = /lantern serve: error: (.*)/.exec(log);
      assert.ok(error, log);
      const all = await waitForSpans(collector.receiver,
          (found) => found.some((x) => x.name === 'lantern.startup') && found, 'the failed start-up trace');
      const root = all.find((x) => x.name === 'lantern.startup');
      const phases = children(all, root);
      assert.deepStrictEqual(phases.map((x) => x.name), ['load_config']);
      assert.strictEqual(phases[0].status.code, STATUS.ERROR);
      assert.strictEqual(root.status.code, STATUS.ERROR);
      // The error the server printed, not a generic "did not complete".
      assert.ok(phases[0].status.message.startsWith(error[1]), phases[0].status.message);
      assert.ok(root.status.message.startsWith(`load_config: ${error[1]}`), root.status.message);
    } finally {
      collector.close();
    }
  }],
  ['TRACEPARENT/TRACESTATE from the environment parent lantern.startup', async () => {
    const traceId = hex(16);
    const spanId = hex(8);
    const s = await start({ TRACEPARENT: traceparent(traceId, spanId), TRACESTATE: 'deploy=blue' });
    try {
      const root = checkStartup(s.atReady, s.server);
      assert.strictEqual(root.traceId, traceId);
      assert.strictEqual(root.parentSpanId, spanId);
      assert.strictEqual(root.traceState, 'deploy=blue');
      assert.strictEqual((await request(s.server.base, 'GET', '/health')).status, 200);
    } finally {
      await stop(s);
    }
  }],
  ['no TRACEPARENT (or an invalid one): lantern.startup is a root', async () => {
    for (const env of [{}, { TRACEPARENT: 'not-a-traceparent' }]) {
      const s = await start(env);
      try {
        const root = checkStartup(s.atReady, s.server);
        assert.strictEqual(root.parentSpanId, '', `parent with ${JSON.stringify(env)}`);
        assert.match(root.traceId, /^[0-9a-f]{32}$/);
        assert.notStrictEqual(root.traceId, '0'.repeat(32));
      } finally {
        await stop(s);
      }
    }
  }],
]);
