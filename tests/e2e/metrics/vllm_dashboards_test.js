// vLLM's Grafana dashboards against lantern, unchanged (issue 16) and exemplars on /metrics
// (issue 17): the real `lantern serve --metrics-names vllm` (default KV pool) exporting its
// traces to the independent OTLP receiver, a real Prometheus scraping it every second in
// OpenMetrics with exemplar storage on, load from the official `openai` client and plain
// HTTP (completions, chat, streams, n=2, a prefix-cache hit), then every PromQL query of
// the dashboards (vllm_dashboard_queries.json) through Prometheus' HTTP API: each returns
// data. Exemplars Prometheus stored name traces this test started and the receiver got.
'use strict';
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const OpenAI = require('openai');
const { request, metric, waitFor, run, assert } = require('../server/harness.js');
const { startCollector, spans } = require('../tracing/tracing_harness.js');

const LANTERN = process.env.LANTERN;
const MODEL = process.env.LANTERN_TEST_MODEL;
const PROMETHEUS = process.env.PROMETHEUS || '/usr/bin/prometheus';
const FIXTURE = require('./vllm_dashboard_queries.json');
const RATE_INTERVAL = '5s';  // what Grafana's $__rate_interval is for a 1 s scrape, and a margin

const children = new Set();
process.on('exit', () => children.forEach((p) => p.kill('SIGKILL')));

function freePort() {
  return new Promise((resolve) => {
    const server = require('net').createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// `lantern serve` with its default KV pool (no --kv-cache-memory): what a user gets.
function startLantern(args, env) {
  return new Promise((resolve, reject) => {
    const all = ['serve', MODEL, '--host', '127.0.0.1', '--port', '0', '--served-model-name', 'tiny',
      '--disable-log-requests', ...args];
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const proc = spawn(LANTERN, all, { env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    let log = '';
    let started = false;
    const timer = setTimeout(() => { if (!started) reject(new Error('lantern start timed out:\n' + log)); }, 60000);
    const onData = (data) => {
      log += data.toString();
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({ port, base: `http://127.0.0.1:${port}`, logs: () => log,
          stop: () => new Promise((res) => { proc.once('exit', (code) => res(code)); proc.kill('SIGTERM'); }) });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => { children.delete(proc); if (!started) reject(new Error(`lantern exited ${code}:\n${log}`)); });
  });
}

async function startPrometheus(dir, target) {
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
    'scrape_configs:', '  - job_name: lantern', '    scrape_interval: 1s', '    scrape_timeout: 1s',
    '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'));
  const proc = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--enable-feature=exemplar-storage', '--log.level=warn'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(proc);
  let log = '';
  proc.stderr.on('data', (d) => { log += d.toString(); });
  proc.once('exit', () => children.delete(proc));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    try { return (await request(base, 'GET', '/-/ready')).status === 200; } catch { return false; }
  }, 'Prometheus to be ready:\n' + log, 30000);
  return { base, logs: () => log, stop: () => proc.kill('SIGTERM') };
}

async function api(prom, pathAndQuery) {
  const res = await request(prom.base, 'GET', pathAndQuery);
  const body = JSON.parse(res.body);
  assert.strictEqual(body.status, 'success', `${pathAndQuery}: ${res.body}`);
  return body.data;
}

const qs = (params) => Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
const hex = (n) => crypto.randomBytes(n).toString('hex');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-dashboards-'));
  const collector = await startCollector('grpc');
  const server = await startLantern(['--metrics-names', 'vllm', '--max-num-seqs', '16', ...collector.args],
    collector.env);
  const prom = await startPrometheus(dir, `127.0.0.1:${server.port}`);
  const client = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: 'unused', maxRetries: 0 });
  const sentTraces = new Set();
  const traced = () => {
    const traceId = hex(16);
    sentTraces.add(traceId);
    return { traceparent: `00-${traceId}-${hex(8)}-01` };
  };
  let loadStart = 0;
  let loadEnd = 0;
  let kvDuringLoad = 0;

  const failed = await run([
    ['/metrics speaks Prometheus text by default and OpenMetrics when asked', async () => {
      const text = await request(server.base, 'GET', '/metrics');
      assert.strictEqual(text.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(text.body, /^# TYPE vllm:request_success_total counter$/m);
      assert.match(text.body, /^vllm:num_requests_running\{model_name="tiny",engine="0"\} 0\.0$/m);
      assert.match(text.body, /^vllm:cache_config_info\{block_size="\d+",.*engine="0"\} 1\.0$/m);
      assert.match(text.body, /^process_resident_memory_bytes \d/m);
      assert.doesNotMatch(text.body, /^lantern:e2e_request_latency_seconds/m);
      const om = await request(server.base, 'GET', '/metrics', { headers: { accept: 'application/openmetrics-text;version=1.0.0' } });
      assert.strictEqual(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      assert.match(om.body, /^# TYPE vllm:request_success counter$/m);
      assert.match(om.body, /^# UNIT vllm:e2e_request_latency_seconds seconds$/m);
      assert.ok(om.body.endsWith('# EOF\n'));
    }],
    ['n=2 counts as two finished requests, as vLLM counts its child requests', async () => {
      const before = (await request(server.base, 'GET', '/metrics')).body;
      const sum = (text, name) => text.split('\n').filter((l) => l.startsWith(name + '{'))
        .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      const res = await client.completions.create({ model: 'tiny', prompt: 'two at once', max_tokens: 4, n: 2 },
        { headers: traced() });
      assert.strictEqual(res.choices.length, 2);
      await waitFor(async () => sum((await request(server.base, 'GET', '/metrics')).body,
        'vllm:e2e_request_latency_seconds_count') >= sum(before, 'vllm:e2e_request_latency_seconds_count') + 2 &&
        sum((await request(server.base, 'GET', '/metrics')).body, 'vllm:request_success_total') >=
        sum(before, 'vllm:request_success_total') + 2, 'the n=2 request to be counted');
      const after = (await request(server.base, 'GET', '/metrics')).body;
      const delta = (name) => sum(after, name) - sum(before, name);
      assert.strictEqual(delta('vllm:request_success_total'), 2);
      for (const h of ['e2e_request_latency_seconds', 'time_to_first_token_seconds', 'request_queue_time_seconds',
        'request_prompt_tokens', 'request_generation_tokens']) {
        assert.strictEqual(delta(`vllm:${h}_count`), 2, h);
      }
      assert.strictEqual(delta('vllm:request_params_n_count'), 1);
      assert.strictEqual(delta('vllm:request_params_n_sum'), 2);
      assert.strictEqual(delta('vllm:request_max_num_generation_tokens_count'), 1);
    }],
    ['load: completions, chat, streams, n=2 and a prefix-cache hit, with sampled traceparents', async () => {
      await waitFor(async () => (await api(prom, '/api/v1/query?query=up')).result.some((r) => r.value[1] === '1'),
        'Prometheus to scrape lantern', 30000);
      loadStart = Date.now() / 1000;
      const longPrompt = 'The quick brown fox jumps over the lazy dog. '.repeat(30);
      const deadline = Date.now() + 15000;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const v = metric((await request(server.base, 'GET', '/metrics')).body, 'vllm:kv_cache_usage_perc');
          kvDuringLoad = Math.max(kvDuringLoad, v || 0);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const worker = async (i) => {
        for (let round = 0; Date.now() < deadline; round++) {
          const kind = (i + round) % 4;
          if (kind === 0) {
            await client.completions.create({ model: 'tiny', prompt: `${longPrompt} ${i} ${round}`, max_tokens: 24 },
              { headers: traced() });
          } else if (kind === 1) {
            await client.chat.completions.create({ model: 'tiny', max_tokens: 16,
              messages: [{ role: 'user', content: `chat ${i} ${round}` }] }, { headers: traced() });
          } else if (kind === 2) {
            const stream = await client.chat.completions.create({ model: 'tiny', max_tokens: 16, stream: true,
              messages: [{ role: 'user', content: `stream ${i} ${round}` }] }, { headers: traced() });
            for await (const chunk of stream) assert.ok(chunk.choices);
          } else {
            // The same long prompt every time: its blocks come from the prefix cache.
            await client.completions.create({ model: 'tiny', prompt: longPrompt, max_tokens: 8, n: 2 },
              { headers: traced() });
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, i) => worker(i)));
      sampling = false;
      await sampler;
      loadEnd = Date.now() / 1000;
      assert.ok(kvDuringLoad > 0, `kv_cache_usage_perc stayed ${kvDuringLoad} under load`);
      console.log(`     peak vllm:kv_cache_usage_perc sampled during load: ${kvDuringLoad}`);
      const m = (await request(server.base, 'GET', '/metrics')).body;
      assert.ok(metric(m, 'vllm:prefix_cache_hits_total') > 0, 'no prefix-cache hit');
      // Three more scrapes after the load, so the last rates are in the TSDB.
      await new Promise((r) => setTimeout(r, 3500));
    }],
    ['every query of the vLLM dashboards returns data from Prometheus', async () => {
      const end = Date.now() / 1000;
      const range = `${Math.ceil(end - loadStart) + 5}s`;
      let checked = 0;
      const empty = [];
      for (const dashboard of FIXTURE.dashboards) {
        // Template variables first, as Grafana resolves them: each must offer lantern's value.
        const values = {};
        const substitute = (expr) => expr
          .replace(/\$__rate_interval/g, RATE_INTERVAL).replace(/\$__range/g, range)
          .replace(/\$(\w+)/g, (all, name) => (name in values ? values[name] : all));
        for (const [name, spec] of Object.entries(dashboard.variables)) {
          if (spec.value !== undefined) { values[name] = spec.value; continue; }
          const [label, selector] = spec.label_values;
          const q = selector ? `?${qs({ 'match[]': substitute(selector), start: loadStart, end })}` : '';
          const offered = await api(prom, `/api/v1/label/${label}/values${q}`);
          const want = { job: 'lantern', model_name: 'tiny', instance: `127.0.0.1:${server.port}`, engine: '0' }[label];
          assert.ok(offered.includes(want), `${dashboard.title}: $${name} offers ${JSON.stringify(offered)}`);
          values[name] = want;
        }
        for (const query of dashboard.queries) {
          if (query.not_applicable) continue;
          const expr = substitute(query.expr);
          assert.doesNotMatch(expr, /\$/, `unsubstituted variable in ${expr}`);
          let series;
          if (query.instant) {
            series = (await api(prom, `/api/v1/query?${qs({ query: expr, time: end })}`)).result
              .map((r) => [r.value]);
          } else {
            series = (await api(prom, `/api/v1/query_range?${qs({ query: expr, start: loadStart, end, step: 1 })}`)).result
              .map((r) => r.values);
          }
          const finite = series.some((values) => values.some(([, v]) => Number.isFinite(Number(v))));
          if (!finite) empty.push(`${dashboard.title} / ${query.panel}: ${expr}`);
          checked++;
        }
      }
      assert.deepStrictEqual(empty, [], 'queries without data');
      console.log(`     ${checked} dashboard queries returned data`);
      const peak = await api(prom, `/api/v1/query?${qs({ query: `max_over_time(vllm:kv_cache_usage_perc[${range}])`, time: end })}`);
      assert.ok(Number(peak.result[0].value[1]) > 0, 'Prometheus saw the KV cache empty throughout');
    }],
    ['exemplars in Prometheus name the traces of requests this test made', async () => {
      const found = new Map();
      for (const name of ['vllm:e2e_request_latency_seconds_bucket', 'vllm:time_to_first_token_seconds_bucket',
        'vllm:inter_token_latency_seconds_bucket']) {
        const data = await api(prom, `/api/v1/query_exemplars?${qs({ query: name, start: loadStart - 60, end: Date.now() / 1000 })}`);
        for (const s of data) {
          for (const e of s.exemplars) {
            assert.match(e.labels.trace_id, /^[0-9a-f]{32}$/);
            assert.match(e.labels.span_id, /^[0-9a-f]{16}$/);
            found.set(e.labels.trace_id, name);
          }
        }
        assert.ok([...found.values()].includes(name), `no exemplar on ${name}`);
      }
      for (const traceId of found.keys()) assert.ok(sentTraces.has(traceId), `exemplar trace ${traceId} is not one the test sent`);
      await waitFor(() => {
        const received = new Set(spans(collector.receiver).map((s) => s.traceId));
        return [...found.keys()].every((id) => received.has(id));
      }, 'the exemplars\' traces at the OTLP receiver', 30000);
      console.log(`     ${found.size} exemplar traces, all sent by the test and received as spans`);
    }],
  ]);
  prom.stop();
  const code = await server.stop();
  collector.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (code !== 0) console.log(`lantern exited ${code}:\n${server.logs()}`);
  process.exit(failed || code !== 0 ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
