// --dtype and --quantization: the real server keeps the weights in the type asked for and
// says so in /metrics (lantern:weights_bytes{dtype}) and its log; 16-bit weights take half
// the bytes of float32 ones, int8 about a quarter, and both still serve completions; an
// unknown type is a start-up error.
'use strict';
const { spawnSync } = require('child_process');
const { startServer, request, metric, run, assert } = require('./harness');

async function weights(dtype, extra = []) {
  const server = await startServer(['--dtype', dtype, '--disable-log-requests', ...extra]);
  try {
    const c = await request(server.base, 'POST', '/v1/completions',
      { body: { prompt: 'Hello', max_tokens: 4, temperature: 0 } });
    assert.strictEqual(c.status, 200, c.body);
    const text = (await request(server.base, 'GET', '/metrics')).body;
    const line = text.split('\n').find((l) => l.startsWith('lantern:weights_bytes{'));
    assert.ok(line, 'lantern:weights_bytes is exported');
    assert.match(line, /dtype="(\w+)"/);
    assert.match(server.logs(), /weights: \w+, \d+ MiB in memory/);
    return { dtype: /dtype="(\w+)"/.exec(line)[1], bytes: metric(text, 'lantern:weights_bytes') };
  } finally {
    await server.stop();
  }
}

async function main() {
  const failed = await run([
    ['16-bit weights take about half the bytes of float32 and serve', async () => {
      const f32 = await weights('float32');
      assert.strictEqual(f32.dtype, 'float32');
      for (const [flag, name] of [['bfloat16', 'bfloat16'], ['half', 'float16']]) {
        const w = await weights(flag);
        assert.strictEqual(w.dtype, name);
        const ratio = w.bytes / f32.bytes;
        // Matrices halve; norms, biases and position tables stay float32.
        assert.ok(ratio > 0.45 && ratio < 0.6, `${name}: ${w.bytes} / ${f32.bytes} = ${ratio}`);
      }
      const q8 = await weights('auto', ['--quantization', 'int8']);
      assert.strictEqual(q8.dtype, 'int8');
      // A byte a value and a 4-byte scale per 32; norms, biases and positions stay float32.
      const ratio = q8.bytes / f32.bytes;
      assert.ok(ratio > 0.25 && ratio < 0.4, `int8: ${q8.bytes} / ${f32.bytes} = ${ratio}`);
      // auto keeps the test checkpoint's own type (float32).
      assert.strictEqual((await weights('auto')).dtype, 'float32');
    }],
    ['an unknown --dtype or --quantization is a start-up error naming the choices', async () => {
      for (const [flag, value] of [['--dtype', 'int4'], ['--quantization', 'awq']]) {
        const r = spawnSync(process.env.LANTERN, ['serve', process.env.LANTERN_TEST_MODEL, flag, value],
          { encoding: 'utf8', timeout: 30000 });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr + r.stdout, new RegExp(`${flag}.*not in`, 's'));
      }
    }],
  ]);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
