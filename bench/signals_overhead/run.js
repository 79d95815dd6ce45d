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
const http = require('http');
const {Receiver} = require('../../tests/e2e/telemetry/otlp_receiver.js');
const overhead = require('../common/overhead.js');

const {positional, flags} = overhead.parseArgs();
const pinning = overhead.pinning(Boolean(flags.pin));
const exportIntervalMs = flags.interval !== undefined ? Number(flags.interval) : 1000;
const [lantern, model, rounds = '8', prompts = '256', concurrency = '16'] = positional;
if (!lantern || !model) {
  console.error('usage: run.js <lantern> <model dir> [rounds] [prompts] [concurrency] [--pin] ' +
                '[--interval=MS]');
  process.exit(2);
}

const serve = (extra, env) => overhead.serve({
  lantern, model, pinning, extra, env: overhead.serverEnv(['OTEL_', 'LANTERN_LOG'], env)});
const bench = (port, seed) =>
  overhead.benchServe({lantern, pinning, port, prompts, concurrency, seed});

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

// A thread's role (from its name): the engine (its thread and compute pool), the HTTP I/O
// threads (requests, the access log's lines, /metrics scrapes), the metric reader, the log
// and span batch processors, gRPC's threads (every OTLP export), and the rest.
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

(async () => {
  pinning.pinSelf();
  const loadBefore = overhead.loadAverage(2);
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
  await bench(off.port, 99);  // warm-up, both
  await bench(on.port, 99);
  const otherSignalsBefore = receiver.otherSignals || 0;
  const {arms, pairs} = await overhead.abba({
    names: ['off', 'on'], arms: {off: {server: off}, on: {server: on}},
    rounds: Number(rounds), key: threadRole, bench,
  });
  clearInterval(scraper);
  await new Promise((r) => setTimeout(r, Math.max(2000, exportIntervalMs + 500)));
  const report = {
    load_average_before: loadBefore,
    load_average_after: overhead.loadAverage(2),
    rounds: Number(rounds), prompts: Number(prompts), concurrency: Number(concurrency),
    pinned: pinning.pin, metric_export_interval_ms: exportIntervalMs,
    // Metrics and logs exports the receiver acked during the measured rounds (only the on
    // arm sends them), trace exports in all (both arms send them).
    metrics_and_logs_exports: (receiver.otherSignals || 0) - otherSignalsBefore,
    trace_exports: receiver.count,
    scrapes, most_exemplars_in_a_scrape: exemplarsSeen,
    on_log_lines: on.logLines(), off_log_lines: off.logLines(),
  };
  for (const [name, arm] of Object.entries(arms)) {
    overhead.armFigures(report, name, arm, {ttftDigits: 2, keys: ROLES});
  }
  // The threads that exist only for the signals (metric reader, log processor) as a share
  // of the on server's CPU: measured on their own threads, so the machine's noise does not
  // blur it. (gRPC's threads serve the traces of both arms too.)
  report.on_signal_threads_cpu_share = overhead.fixed(((arms.on.threads.metric_reader || 0) +
      (arms.on.threads.log_processor || 0)) / arms.on.cpu, 5);
  report.throughput_ratio = overhead.fixed(report.on_output_tok_s / report.off_output_tok_s, 4);
  report.p50_ttft_ratio = overhead.fixed(report.on_p50_ttft_ms / report.off_p50_ttft_ms, 4);
  report.server_cpu_ratio = overhead.fixed(report.on_server_cpu_ms_per_1k_tokens /
                                           report.off_server_cpu_ms_per_1k_tokens, 4);
  overhead.pairFigures(report, pairs, 'on', 'off');
  console.log(JSON.stringify(report, null, 1));
  overhead.stop(off);
  overhead.stop(on);
  receiver.close();
  if (report.metrics_and_logs_exports === 0) throw new Error('the on arm exported no metrics/logs');
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
