'use strict';
// What metrics, exemplars and logs cost `lantern serve` (issue 17): the same model served
// twice at once, both traced alike (OTLP/gRPC to the independent Node receiver of the e2e
// tests, so that requests are sampled and histogram exemplars have a trace to name), and
// loaded in turn by `lantern bench serve` in ABBA order so that drift in the machine's load
// hits both alike.
//
//   off: OTEL_METRICS_EXPORTER=none, OTEL_LOGS_EXPORTER=none, text logs,
//        --disable-log-requests, nobody scrapes /metrics.
//   on:  OTLP metrics every --interval ms (default 1000; the specification's default is
//        60000) to the receiver, /metrics scraped once a second as OpenMetrics (with
//        exemplars, as a Prometheus with exemplar storage asks for it), --log-format json
//        with the access log on (a line per request, carrying its trace id) and
//        OTEL_LOGS_EXPORTER=otlp sending the same records to the receiver.
//
// Reports output throughput (tokens over wall time, all rounds) and the median of the
// rounds' p50 TTFT, their on/off ratios, the median over the ABBA pairs of each pair's
// ratio (the figure drift disturbs least), the server CPU per 1000 output tokens, what the
// receiver got of each signal and how many scrapes the on arm answered.
//
// --pin gives the servers the last CPU to themselves and runs this script (with the
// receiver and the scraper) and the load generator on the others.
//
//   NODE_PATH=tests/node_modules node bench/signals_overhead/run.js <lantern> <model dir>
//        [rounds] [prompts] [concurrency] [--pin] [--interval=MS]
const {spawn, execFileSync} = require('child_process');
const http = require('http');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {Receiver} = require('../../tests/e2e/telemetry/otlp_receiver.js');

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const pin = process.argv.includes('--pin');
const intervalFlag = process.argv.find((a) => a.startsWith('--interval='));
const exportIntervalMs = intervalFlag ? Number(intervalFlag.split('=')[1]) : 1000;
const [lantern, model, rounds = '8', prompts = '256', concurrency = '16'] = args;
if (!lantern || !model) {
  console.error('usage: run.js <lantern> <model dir> [rounds] [prompts] [concurrency] [--pin] ' +
                '[--interval=MS]');
  process.exit(2);
}
const cpus = os.cpus().length;
if (pin && cpus < 2) {
  console.error('--pin needs at least 2 CPUs');
  process.exit(2);
}
const serverCpus = String(cpus - 1);
const clientCpus = cpus === 2 ? '0' : `0-${cpus - 2}`;
const pinned = (cpuList, command, commandArgs) =>
    pin ? ['taskset', ['-c', cpuList, command, ...commandArgs]] : [command, commandArgs];

function serve(extra, env) {
  return new Promise((resolve, reject) => {
    const serveArgs = ['serve', model, '--host', '127.0.0.1', '--port', '0',
                       '--served-model-name', 'tiny', '--kv-cache-memory', '64MiB', ...extra];
    const [command, commandArgs] = pinned(serverCpus, path.resolve(lantern), serveArgs);
    const base = {...process.env};
    for (const k of Object.keys(base)) if (k.startsWith('OTEL_') || k.startsWith('LANTERN_LOG')) delete base[k];
    const proc = spawn(command, commandArgs, {env: {...base, ...env},
                                              stdio: ['ignore', 'pipe', 'pipe']});
    let log = '';
    let lines = 0;
    let ready = false;
    const onData = (d) => {
      const text = String(d);
      for (const c of text) if (c === '\n') lines += 1;
      if (ready) return;  // the access log is not kept: only counted
      log += text;
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m) {
        ready = true;
        resolve({proc, port: Number(m[1]), logLines: () => lines});
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
  });
}

function bench(port, seed) {
  const out = path.join(os.tmpdir(), `signals_overhead_${process.pid}_${port}.json`);
  const benchArgs = ['bench', 'serve', '--port', String(port), '--model', 'tiny', '--num-prompts',
                     prompts, '--max-concurrency', concurrency, '--random-input-len', '32',
                     '--random-output-len', '32', '--seed', String(seed), '--result-json', out];
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = pinned(clientCpus, path.resolve(lantern), benchArgs);
    const child = spawn(command, commandArgs, {stdio: ['ignore', 'ignore', 'inherit']});
    // A run with failed requests exits 1 but still writes its figures; failures are reported.
    child.on('exit', () => {
      try {
        const result = JSON.parse(fs.readFileSync(out, 'utf8'));
        fs.unlinkSync(out);
        resolve(result);
      } catch (e) {
        reject(e);
      }
    });
  });
}

// One OpenMetrics scrape, as Prometheus with exemplar storage makes it; resolves with the
// number of exemplars in the answer.
function scrape(port) {
  return new Promise((resolve, reject) => {
    http.get({host: '127.0.0.1', port, path: '/metrics', headers: {
      accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'}},
    (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve((text.match(/ # \{trace_id="/g) || []).length));
    }).on('error', reject);
  });
}

// CPU seconds a server's threads have run so far, by role (thread names, the scheduler's
// nanosecond counters): the engine (its thread and compute pool), the HTTP I/O threads
// (requests, the access log's lines, /metrics scrapes), the metric reader, the log and span
// batch processors, gRPC's threads (every OTLP export), and the rest.
const ROLES = ['engine', 'http', 'metric_reader', 'log_processor', 'span_processor', 'grpc', 'other'];
function threadRole(name) {
  if (name === 'lantern-engine' || name.startsWith('compute-')) return 'engine';
  if (name.startsWith('lantern-http')) return 'http';
  if (name === 'telemetry-pmr') return 'metric_reader';
  if (name === 'telemetry-blrp') return 'log_processor';
  if (name === 'telemetry-bsp') return 'span_processor';
  if (/^(grpc|event_engine|timer_manager|default-executo|resolver-execut)/.test(name)) return 'grpc';
  return 'other';
}
function cpuByRole(pid) {
  const out = Object.fromEntries(ROLES.map((r) => [r, 0]));
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      out[threadRole(name)] += ns / 1e9;
    } catch (e) {
      // the thread exited meanwhile
    }
  }
  return out;
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

(async () => {
  if (pin) {
    execFileSync('taskset', ['-a', '-p', '-c', clientCpus, String(process.pid)],
                 {stdio: 'ignore'});
  }
  const loadBefore = os.loadavg().map((x) => Number(x.toFixed(2)));
  const receiver = new Receiver([], {bench: true, decode: false});
  const receiverPort = await receiver.startGrpc();
  const endpoint = `http://127.0.0.1:${receiverPort}`;
  const off = await serve(['--otlp-traces-endpoint', endpoint, '--disable-log-requests'],
                          {OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none'});
  const on = await serve(['--otlp-traces-endpoint', endpoint, '--log-format', 'json'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_METRIC_EXPORT_INTERVAL: String(exportIntervalMs),
    OTEL_LOGS_EXPORTER: 'otlp',
  });
  let scrapes = 0;
  let exemplarsSeen = 0;
  const scraper = setInterval(() => {
    scrape(on.port).then((n) => {
      scrapes += 1;
      exemplarsSeen = Math.max(exemplarsSeen, n);
    }).catch(() => {});
  }, 1000);
  const newArm = (server) => ({server, tokens: 0, seconds: 0, ttft: [], failed: 0, cpu: 0,
                                roles: Object.fromEntries(ROLES.map((r) => [r, 0]))});
  const arms = {off: newArm(off), on: newArm(on)};
  await bench(off.port, 99);  // warm-up, both
  await bench(on.port, 99);
  const otherSignalsBefore = receiver.otherSignals || 0;
  const order = [];
  const pairs = [];
  for (let r = 0; r < Number(rounds); ++r) order.push(...(r % 2 ? ['on', 'off'] : ['off', 'on']));
  for (const [i, name] of order.entries()) {
    const cpuBefore = cpuByRole(arms[name].server.proc.pid);
    const result = await bench(arms[name].server.port, Math.floor(i / 2));
    const cpuAfter = cpuByRole(arms[name].server.proc.pid);
    for (const role of ROLES) {
      arms[name].roles[role] += cpuAfter[role] - cpuBefore[role];
      arms[name].cpu += cpuAfter[role] - cpuBefore[role];
    }
    arms[name].failed += result.failed_requests;
    arms[name].tokens += result.total_output_tokens;
    arms[name].seconds += result.duration_s;
    arms[name].ttft.push(result.p50_ttft_ms);
    if (i % 2 === 0) pairs.push({});
    pairs[pairs.length - 1][name] = result;
  }
  clearInterval(scraper);
  await new Promise((r) => setTimeout(r, Math.max(2000, exportIntervalMs + 500)));
  const report = {
    load_average_before: loadBefore,
    load_average_after: os.loadavg().map((x) => Number(x.toFixed(2))),
    rounds: Number(rounds), prompts: Number(prompts), concurrency: Number(concurrency),
    pinned: pin, metric_export_interval_ms: exportIntervalMs,
    // Metrics and logs exports the receiver acked during the measured rounds (only the on
    // arm sends them), trace exports in all (both arms send them).
    metrics_and_logs_exports: (receiver.otherSignals || 0) - otherSignalsBefore,
    trace_exports: receiver.count,
    scrapes, most_exemplars_in_a_scrape: exemplarsSeen,
    on_log_lines: on.logLines(), off_log_lines: off.logLines(),
  };
  for (const [name, arm] of Object.entries(arms)) {
    report[`${name}_output_tok_s`] = Number((arm.tokens / arm.seconds).toFixed(2));
    report[`${name}_p50_ttft_ms`] = Number(median(arm.ttft).toFixed(2));
    report[`${name}_failed_requests`] = arm.failed;
    report[`${name}_server_cpu_ms_per_1k_tokens`] =
        Number((arm.cpu / arm.tokens * 1e6).toFixed(1));
    report[`${name}_server_cpu_ms_per_1k_tokens_by_role`] = Object.fromEntries(
        ROLES.map((r) => [r, Number((arm.roles[r] / arm.tokens * 1e6).toFixed(2))]));
  }
  // The threads that exist only for the signals (metric reader, log processor) as a share
  // of the on server's CPU: measured on their own threads, so the machine's noise does not
  // blur it. (gRPC's threads serve the traces of both arms too.)
  report.on_signal_threads_cpu_share = Number(((arms.on.roles.metric_reader +
      arms.on.roles.log_processor) / arms.on.cpu).toFixed(5));
  report.throughput_ratio = Number((report.on_output_tok_s / report.off_output_tok_s).toFixed(4));
  report.p50_ttft_ratio = Number((report.on_p50_ttft_ms / report.off_p50_ttft_ms).toFixed(4));
  report.server_cpu_ratio = Number((report.on_server_cpu_ms_per_1k_tokens /
                                    report.off_server_cpu_ms_per_1k_tokens).toFixed(4));
  const throughput = (r) => r.total_output_tokens / r.duration_s;
  const pairRatios = (f) => pairs.map((p) => Number((f(p.on) / f(p.off)).toFixed(4)));
  report.pair_throughput_ratios = pairRatios(throughput);
  report.pair_p50_ttft_ratios = pairRatios((r) => r.p50_ttft_ms);
  report.median_pair_throughput_ratio = Number(median(report.pair_throughput_ratios).toFixed(4));
  report.median_pair_p50_ttft_ratio = Number(median(report.pair_p50_ttft_ratios).toFixed(4));
  console.log(JSON.stringify(report, null, 1));
  for (const arm of Object.values(arms)) arm.server.proc.kill('SIGTERM');
  receiver.close();
  if (report.metrics_and_logs_exports === 0) throw new Error('the on arm exported no metrics/logs');
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
