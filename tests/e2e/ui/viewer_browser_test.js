// The built-in trace viewer in a real browser. `lantern serve --ui` on the tiny model with a
// tiny KV pool; requests of every kind (plain, streamed, failing, aborted, preempted); then
// headless Chromium (Debian's, driven by playwright-core) opens /ui/ and the test reads
// what the page shows: the list's numbers against the responses' usage and the spans'
// attributes, the waterfall's geometry against the span times, the trace-id search, a
// prompt with <script> rendered as text, the start-up trace, the key prompt with
// --api-key. Screenshots go to UI_ARTIFACT_DIR.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');
const assert = require('assert');

const LANTERN = process.env.LANTERN;
const MODEL = process.env.LANTERN_TEST_MODEL;
const ARTIFACTS = process.env.UI_ARTIFACT_DIR || path.join(require('os').tmpdir(), 'lantern-ui-artifacts');
const CHROMIUM = '/usr/bin/chromium';

function startServer(extra) {
  return new Promise((resolve, reject) => {
    // 128-token sequences need 8 blocks of 16 tokens; 160 KiB holds 10 of the tiny model's:
    // six long requests at once must preempt each other.
    const args = ['serve', MODEL, '--host', '127.0.0.1', '--port', '0', '--served-model-name', 'tiny',
      '--kv-cache-memory', '160KiB', '--max-model-len', '128', '--no-enable-prefix-caching',
      '--disable-log-requests', '--ui', ...extra];
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
    const proc = spawn(LANTERN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let started = false;
    const onData = (d) => {
      log += d.toString();
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m && !started) {
        started = true;
        const base = `http://127.0.0.1:${m[1]}`;
        resolve({ base, logs: () => log, stop: () => new Promise((res) => {
          if (proc.exitCode !== null) return res(proc.exitCode);
          proc.once('exit', res);
          proc.kill('SIGTERM');
        }) });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { if (!started) reject(new Error(`lantern exited ${code}:\n${log}`)); });
  });
}

// {status, headers, body (parsed when JSON), text}; `abortAfterFirstChunk` closes the socket.
function call(base, method, p, { body, headers = {}, abortAfterFirstChunk = false } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(new URL(p, base), { method, headers: {
      ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers } },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
        if (abortAfterFirstChunk && text.includes('data: ')) {
          req.destroy();
          resolve({ status: res.statusCode, headers: res.headers, text });
        }
      });
      res.on('end', () => {
        let parsed;
        try { parsed = JSON.parse(text); } catch (e) { /* SSE or text */ }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', (e) => (abortAfterFirstChunk ? resolve({ status: 0 }) : reject(e)));
    if (data) req.write(data);
    req.end();
  });
}

const traceIdOf = (response) => {
  const m = /^00-([0-9a-f]{32})-/.exec(response.headers.traceresponse || '');
  assert.ok(m, 'no traceresponse header: ' + JSON.stringify(response.headers));
  return m[1];
};
const sseUsage = (text) => {
  let usage = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6));
    if (chunk.usage) usage = chunk.usage;
  }
  return usage;
};
function attrs(span) {
  const out = {};
  for (const a of span.attributes || []) {
    const v = a.value;
    out[a.key] = 'intValue' in v ? Number(v.intValue) : 'doubleValue' in v ? v.doubleValue
      : 'stringValue' in v ? v.stringValue : 'boolValue' in v ? v.boolValue : v;
  }
  return out;
}
async function traceSpans(base, id, headers = {}) {
  const r = await call(base, 'GET', '/ui/api/traces/' + id, { headers });
  assert.strictEqual(r.status, 200, r.text);
  return r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

async function launch() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
}

async function waitForRow(page, id) {
  await page.waitForSelector(`#trace-rows tr[data-trace-id="${id}"]`, { timeout: 20000 });
  return page.$eval(`#trace-rows tr[data-trace-id="${id}"]`, (tr) => {
    const cell = (c) => tr.querySelector('.' + c);
    return {
      request: cell('c-request').textContent, model: cell('c-model').textContent,
      status: cell('c-status').textContent,
      prompt: cell('c-prompt').dataset.value, completion: cell('c-completion').dataset.value,
      ttft: cell('c-ttft').dataset.value, e2e: cell('c-e2e').dataset.value,
      marks: [...cell('c-marks').querySelectorAll('.mark')].map((m) => m.textContent),
    };
  });
}

// Checks the waterfall now shown: bars nest in their parents' and are as wide as their
// spans' durations on the trace's time axis. Returns the rows.
async function checkWaterfall(page, spans) {
  const rows = await page.$$eval('#waterfall .row', (list) => list.map((row) => {
    const track = row.querySelector('.track').getBoundingClientRect();
    const bar = row.querySelector('.bar').getBoundingClientRect();
    return { id: row.dataset.spanId, parent: row.dataset.parentSpanId, name: row.dataset.name,
      depth: Number(row.dataset.depth), trackLeft: track.left, trackWidth: track.width,
      left: bar.left, right: bar.right, width: bar.width };
  }));
  assert.strictEqual(rows.length, spans.length, 'one waterfall row per span');
  const byId = new Map(rows.map((r) => [r.id, r]));
  let t0 = null;
  let t1 = null;
  for (const s of spans) {
    const start = BigInt(s.startTimeUnixNano);
    const end = BigInt(s.endTimeUnixNano);
    if (t0 === null || start < t0) t0 = start;
    if (t1 === null || end > t1) t1 = end;
  }
  const total = Number(t1 - t0);
  for (const s of spans) {
    const row = byId.get(s.spanId);
    assert.ok(row, 'no row for span ' + s.name);
    const expected = row.trackWidth * Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / total;
    // A bar is at least 1 px wide (CSS min-width) so that instants stay visible.
    assert.ok(Math.abs(row.width - Math.max(expected, 1)) <= 1.01,
      `${s.name}: bar ${row.width} px, span ${expected} px`);
    const parent = byId.get(row.parent);
    if (parent) {
      assert.strictEqual(row.depth, parent.depth + 1, `${s.name} is not indented under its parent`);
      assert.ok(row.left >= parent.left - 1 && row.right <= parent.right + 1,
        `${s.name} [${row.left}, ${row.right}] is outside ${parent.name} [${parent.left}, ${parent.right}]`);
    }
  }
  return rows;
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startServer(['--trace-content', '--collect-detailed-traces', 'all',
    '--ui-trace-url', 'http://localhost:16686/trace/{trace_id}']);
  const browser = await launch();
  let failed = false;
  const step = async (name, fn) => {
    const start = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${Date.now() - start} ms)`);
    } catch (e) {
      failed = true;
      console.log(`FAIL ${name}: ${e && e.stack || e}`);
    }
  };
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  try {
    const sent = {};
    await step('the page is served from the binary with strict headers', async () => {
      const r = await call(server.base, 'GET', '/ui/');
      assert.strictEqual(r.status, 200);
      assert.match(r.headers['content-type'], /^text\/html/);
      assert.match(r.headers['content-security-policy'], /default-src 'self'/);
      assert.strictEqual(r.headers['x-content-type-options'], 'nosniff');
      const js = await call(server.base, 'GET', '/ui/app.js');
      assert.strictEqual(js.status, 200);
      assert.match(js.headers['content-type'], /^text\/javascript/);
      assert.ok(!/innerHTML/.test(js.text), 'the page script must not use innerHTML');
      assert.strictEqual((await call(server.base, 'GET', '/ui/nope.js')).status, 404);
      await page.goto(server.base + '/ui/');
      await page.waitForSelector('#nav-requests.active');
    });

    await step('requests of every kind', async () => {
      const prompt = '<script>window.__xss = 1</script><img src=x onerror="window.__xss=2"> tell';
      const plain = await call(server.base, 'POST', '/v1/completions', { body: { model: 'tiny', prompt, max_tokens: 5 } });
      assert.strictEqual(plain.status, 200, plain.text);
      sent.plain = { id: traceIdOf(plain), usage: plain.body.usage, prompt };
      const streamed = await call(server.base, 'POST', '/v1/chat/completions', { body: { model: 'tiny',
        messages: [{ role: 'user', content: 'hello there' }], max_tokens: 7, stream: true,
        stream_options: { include_usage: true } } });
      assert.strictEqual(streamed.status, 200);
      sent.streamed = { id: traceIdOf(streamed), usage: sseUsage(streamed.text) };
      assert.ok(sent.streamed.usage, 'no usage chunk');
      const failing = await call(server.base, 'POST', '/v1/completions', { body: { model: 'tiny', prompt: 'x', max_tokens: -1 } });
      assert.strictEqual(failing.status, 400);
      sent.failing = { id: traceIdOf(failing) };
      const aborted = await call(server.base, 'POST', '/v1/completions', { abortAfterFirstChunk: true,
        body: { model: 'tiny', prompt: 'a long story', max_tokens: 100, ignore_eos: true, stream: true } });
      sent.aborted = { id: traceIdOf(aborted) };
      const req = (i) => ({ model: 'tiny', prompt: `Request number ${i} tells a long story about`, max_tokens: 100,
        temperature: 0.8, ignore_eos: true });
      const many = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => call(server.base, 'POST', '/v1/completions', { body: req(i) })));
      sent.many = many.map((r) => ({ id: traceIdOf(r), usage: r.body.usage }));
    });

    await step('the list shows each request with its numbers (usage, span attributes)', async () => {
      for (const [kind, s] of [['plain', sent.plain], ['streamed', sent.streamed]]) {
        const row = await waitForRow(page, s.id);
        assert.strictEqual(Number(row.prompt), s.usage.prompt_tokens, `${kind} prompt tokens`);
        assert.strictEqual(Number(row.completion), s.usage.completion_tokens, `${kind} completion tokens`);
        assert.strictEqual(row.status, '200');
        assert.strictEqual(row.model, 'tiny');
        const spans = await traceSpans(server.base, s.id);
        const llm = attrs(spans.find((x) => x.name === 'llm_request'));
        const httpSpan = spans.find((x) => x.kind === 2);
        assert.strictEqual(Number(row.ttft), llm['gen_ai.latency.time_to_first_token'], `${kind} TTFT`);
        assert.strictEqual(Number(row.e2e),
          Number(BigInt(httpSpan.endTimeUnixNano) - BigInt(httpSpan.startTimeUnixNano)) / 1e9, `${kind} e2e`);
      }
      assert.strictEqual((await waitForRow(page, sent.plain.id)).request, 'POST /v1/completions');
      assert.strictEqual((await waitForRow(page, sent.streamed.id)).request, 'POST /v1/chat/completions');
      const failing = await waitForRow(page, sent.failing.id);
      assert.strictEqual(failing.status, '400');
      // The abort reaches the engine after the client left: wait for the mark.
      await page.waitForSelector(`#trace-rows tr[data-trace-id="${sent.aborted.id}"] .mark.aborted`, { timeout: 20000 });
      let preempted = 0;
      for (const s of sent.many) {
        const row = await waitForRow(page, s.id);
        assert.strictEqual(Number(row.completion), s.usage.completion_tokens);
        const spans = await traceSpans(server.base, s.id);
        const count = attrs(spans.find((x) => x.name === 'llm_request'))['lantern.request.preemptions'];
        if (count > 0) {
          preempted++;
          assert.ok(row.marks.includes('preempted ×' + count), JSON.stringify(row.marks));
        } else {
          assert.ok(!row.marks.some((m) => m.startsWith('preempted')));
        }
      }
      assert.ok(preempted > 0, 'nothing was preempted: the KV pool is no longer tiny enough');
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-list.png'), fullPage: true });
    });

    await step('filters: route, status, minimum latency', async () => {
      // Every row shown matches, and the request expected is among them.
      const shows = (id, cell, prefix) => page.waitForFunction(([want, c, start]) => {
        const rows = [...document.querySelectorAll('#trace-rows tr')];
        return rows.some((r) => r.dataset.traceId === want) &&
          rows.every((r) => r.querySelector('.' + c).textContent.startsWith(start));
      }, [id, cell, prefix], { timeout: 10000 });
      try {
        await page.selectOption('#f-status', '4xx');
        await shows(sent.failing.id, 'c-status', '4');
        await page.selectOption('#f-status', '');
        await page.selectOption('#f-route', '/v1/chat/completions');
        await shows(sent.streamed.id, 'c-request', 'POST /v1/chat/completions');
        await page.selectOption('#f-route', '');
        await page.fill('#f-min', '100000000');
        await page.waitForFunction(() => document.querySelectorAll('#trace-rows tr').length === 0, null, { timeout: 10000 });
      } finally {
        await page.selectOption('#f-status', '');
        await page.selectOption('#f-route', '');
        await page.fill('#f-min', '');
      }
    });

    await step('the search finds a trace by its id', async () => {
      const target = sent.many[3].id;
      try {
        await page.fill('#f-q', target.slice(4, 20));
        await page.waitForFunction((id) => {
          const rows = [...document.querySelectorAll('#trace-rows tr')];
          return rows.length === 1 && rows[0].dataset.traceId === id;
        }, target, { timeout: 10000 });
      } finally {
        await page.fill('#f-q', '');
      }
    });

    await step('the waterfall of a preempted request: bars nest, widths are durations, events shown', async () => {
      let target = null;
      for (const s of sent.many) {
        const spans = await traceSpans(server.base, s.id);
        if (attrs(spans.find((x) => x.name === 'llm_request'))['lantern.request.preemptions'] > 0) {
          target = { id: s.id, spans };
          break;
        }
      }
      await page.click(`#trace-rows tr[data-trace-id="${target.id}"]`);
      await page.waitForSelector('#waterfall .row');
      const own = target.spans.filter((s) => s.traceId === target.id);
      const rows = await checkWaterfall(page, own);
      const names = rows.map((r) => r.name);
      assert.strictEqual(await page.getAttribute('#trace-link', 'href'), 'http://localhost:16686/trace/' + target.id);
      for (const name of ['POST /v1/completions', 'llm_request', 'queue', 'prefill', 'decode']) {
        assert.ok(names.includes(name), `no ${name} row in ${names}`);
      }
      assert.ok(names.filter((n) => n === 'queue').length >= 2, 'a preempted request has several queue spans');
      const events = await page.$$eval('#waterfall .event', (list) => list.map((e) => e.dataset.event));
      for (const name of ['first_token', 'preempted', 'resumed']) assert.ok(events.includes(name), `no ${name} event`);
      // Detailed traces: the engine steps that ran this request are linked below.
      const steps = await page.$$eval('#steps .row', (list) => list.length);
      assert.ok(steps > 0, 'no engine_step linked');
      await page.click('#waterfall .row[data-name="llm_request"]');
      const shown = await page.$$eval('#details td', (tds) => tds.map((td) => td.textContent));
      assert.ok(shown.includes('lantern.request.preemptions'));
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-waterfall.png'), fullPage: true });
      // The view as a user first sees it (docs/images/ui-waterfall.png is one of these).
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-waterfall-view.png') });
    });

    await step('a prompt with <script> renders as text (--trace-content)', async () => {
      await page.goto(server.base + '/ui/#/trace/' + sent.plain.id);
      await page.waitForSelector('#waterfall .row[data-name="llm_request"]');
      await checkWaterfall(page, (await traceSpans(server.base, sent.plain.id)).filter((x) => x.traceId === sent.plain.id));
      await page.click('#waterfall .row[data-name="llm_request"]');
      await page.waitForSelector('#details td');
      const texts = await page.$$eval('#details td', (tds) => tds.map((td) => td.textContent));
      assert.ok(texts.includes(sent.plain.prompt), 'the prompt is not shown as text');
      assert.strictEqual(await page.$$eval('#details script, #details img', (l) => l.length), 0);
      assert.strictEqual(await page.evaluate(() => window.__xss), undefined);
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-details.png'), fullPage: true });
    });

    await step('the start-up trace', async () => {
      await page.click('#nav-startup');
      await page.waitForSelector('#waterfall .row[data-name="load_weights"]');
      const names = await page.$$eval('#waterfall .row', (l) => l.map((r) => r.dataset.name));
      for (const n of ['lantern.startup', 'load_config', 'load_tokenizer', 'init_kv_cache', 'listen']) {
        assert.ok(names.includes(n), `no ${n} in ${names}`);
      }
      const config = (await call(server.base, 'GET', '/ui/api/config')).body;
      await checkWaterfall(page, await traceSpans(server.base, config.startup_trace_id));
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-startup.png'), fullPage: true });
    });

    await step('the metrics snapshot reads the same measurements as /metrics', async () => {
      const snapshot = (await call(server.base, 'GET', '/ui/api/metrics')).body.metrics;
      const text = (await call(server.base, 'GET', '/metrics')).text;
      const value = (name) => Number(/\n?lantern:generation_tokens_total\{[^}]*\} (\S+)/.exec(text)[1]);
      assert.strictEqual(snapshot['lantern:generation_tokens_total'].value, value());
      assert.ok(snapshot['lantern:time_to_first_token_seconds'].count >= 8);
      await page.click('#nav-metrics');
      await page.waitForSelector('#view-metrics:not([hidden])');
      await page.waitForFunction(() => document.querySelector('#c-rps').toDataURL().length > 3000, null, { timeout: 10000 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-metrics.png'), fullPage: true });
    });

    await step('the page ran without script errors (CSP violations included)', async () => {
      assert.deepStrictEqual(pageErrors, []);
    });
  } finally {
    await page.close();
    await server.stop();
  }

  // With --api-key: the API needs the key, the page asks for it once.
  const keyed = await startServer(['--api-key', 'sekrit']);
  try {
    await step('with --api-key the API needs the key and the page asks for it', async () => {
      assert.strictEqual((await call(keyed.base, 'GET', '/ui/api/traces')).status, 401);
      const wrong = await call(keyed.base, 'GET', '/ui/api/traces', { headers: { Authorization: 'Bearer nope' } });
      assert.strictEqual(wrong.status, 401);
      const done = await call(keyed.base, 'POST', '/v1/completions', { headers: { Authorization: 'Bearer sekrit' },
        body: { model: 'tiny', prompt: 'hi', max_tokens: 2 } });
      const id = traceIdOf(done);
      const keyPage = await browser.newPage();
      await keyPage.goto(keyed.base + '/ui/');
      await keyPage.waitForSelector('#key-panel:not([hidden])');
      await keyPage.fill('#key-input', 'sekrit');
      await keyPage.click('#key-form button');
      await keyPage.waitForSelector(`#trace-rows tr[data-trace-id="${id}"]`, { timeout: 20000 });
      assert.strictEqual(await keyPage.evaluate(() => sessionStorage.getItem('lantern-api-key')), 'sekrit');
      await keyPage.close();
    });
  } finally {
    await keyed.stop();
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
