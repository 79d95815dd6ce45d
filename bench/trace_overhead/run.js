'use strict';
// Tracing overhead of `lantern serve`: the same model served twice at once, untraced and
// traced (default detail level, OTLP/gRPC to the independent Node receiver, which acks
// every export; --decode makes it decode and count every span too, which costs the shared
// CPU far more than the server's tracing does), loaded in turn by `lantern bench serve` in ABBA order so that
// drift in the machine's load hits both alike. Reports output throughput (tokens over
// wall time, all rounds) and the median of the rounds' p50 TTFT, and their ratios; and, as
// the figures that drift in the machine's load disturbs least, the median over the ABBA
// pairs of each pair's on/off ratio.
//
// --pin gives the servers the last CPU to themselves and runs this script (with the
// receiver) and the load generator on the others, as a deployment would run the collector
// and the clients elsewhere: the traced server's exporter thread still competes with its
// own engine, which is the cost being measured.
//
//   node bench/trace_overhead/run.js <lantern> <model dir> [rounds] [prompts] [concurrency]
//        [--decode] [--http] [--pin]
const http = require('http');
const os = require('os');
const {Receiver} = require('../../tests/e2e/telemetry/otlp_receiver.js');
const overhead = require('../common/overhead.js');

const {positional, flags} = overhead.parseArgs();
const decode = Boolean(flags.decode);
const overHttp = Boolean(flags.http);  // OTLP/HTTP protobuf instead of gRPC
const pinning = overhead.pinning(Boolean(flags.pin));
const [lantern, model, rounds = '4', prompts = '64', concurrency = '16'] = positional;
if (!lantern || !model) {
  console.error('usage: run.js <lantern> <model dir> [rounds] [prompts] [concurrency]');
  process.exit(2);
}

const serve = (extra, env = {}) => overhead.serve({
  lantern, model, pinning, extra: ['--disable-log-requests', ...extra],
  env: {...process.env, ...env}});
const bench = (port, seed) =>
  overhead.benchServe({lantern, pinning, port, prompts, concurrency, seed});

// The server's own tracing counters, from /metrics.
function tracingCounters(port) {
  return new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/metrics`, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const out = {};
        for (const m of text.matchAll(/^lantern:tracing_(\w+)\{[^}]*?(?:reason="(\w+)")?\} (\S+)$/gm)) {
          const key = m[2] ? `${m[1]}_${m[2]}` : m[1];
          if (Number(m[3])) out[key] = Number(m[3]);
        }
        resolve(out);
      });
    }).on('error', reject);
  });
}

// A thread's role (from its name): the engine (its thread and compute pool), the HTTP I/O
// threads (which also build the spans of finished requests), the span exporter (the batch
// processor's thread and gRPC's), and the rest.
const ROLES = ['engine', 'http', 'exporter', 'other'];
function threadRole(name) {
  if (name === 'lantern-engine' || name.startsWith('compute-')) return 'engine';
  if (name.startsWith('lantern-http')) return 'http';
  if (name === 'telemetry-bsp' || /^(grpc|event_engine|timer_manager|default-executo|resolver-execut)/.test(name)) {
    return 'exporter';
  }
  return 'other';
}

(async () => {
  pinning.pinSelf();  // this process hosts the receiver: keep it off the servers' CPU
  const receiver = new Receiver([], {bench: true, decode});
  let spans = 0;
  receiver.onRequest = (entry) => (spans += entry.spanCount || 0);
  const receiverPort = overHttp ? await receiver.startHttp() : await receiver.startGrpc();
  const off = await serve([], {OTEL_SDK_DISABLED: 'true'});
  const on = overHttp ?
      await serve(['--otlp-traces-endpoint', `http://127.0.0.1:${receiverPort}/v1/traces`],
                  {OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf'}) :
      await serve(['--otlp-traces-endpoint', `http://127.0.0.1:${receiverPort}`]);
  const receiverCpuStart = process.cpuUsage();
  await bench(off.port, 99);  // warm-up, both
  await bench(on.port, 99);
  const {arms, pairs} = await overhead.abba({
    names: ['off', 'on'], arms: {off: {server: off}, on: {server: on}},
    rounds: Number(rounds), key: threadRole, bench,
  });
  await new Promise((r) => setTimeout(r, 6000));  // let the batch processor export the last
  const report = {load_average: overhead.loadAverage(1),
                  rounds: Number(rounds), prompts: Number(prompts),
                  concurrency: Number(concurrency), pinned: pinning.pin, receiver_decodes: decode,
                  protocol: overHttp ? 'http/protobuf' : 'grpc',
                  spans_received: decode ? spans : null,
                  export_requests: receiver.count,
                  traced_server_counters: await tracingCounters(on.port)};
  // Server CPU time per 1000 output tokens: the cost that load on the machine inflates
  // least (wall-clock figures share 2 cores with everything else).
  for (const [name, arm] of Object.entries(arms)) {
    overhead.armFigures(report, name, arm, {ttftDigits: 1, ttftRounds: true, keys: ROLES});
  }
  report.throughput_ratio = overhead.fixed(report.on_output_tok_s / report.off_output_tok_s, 4);
  report.server_cpu_ratio = overhead.fixed(report.on_server_cpu_ms_per_1k_tokens /
                                           report.off_server_cpu_ms_per_1k_tokens, 4);
  // The exporter's CPU as a share of the traced server's: measured on its own threads, so
  // the machine's noise does not blur it.
  report.exporter_cpu_share = overhead.fixed((arms.on.threads.exporter || 0) / arms.on.cpu, 5);
  const receiverCpu = process.cpuUsage(receiverCpuStart);
  report.receiver_cpu_s = overhead.fixed((receiverCpu.user + receiverCpu.system) / 1e6, 1);
  report.p50_ttft_ratio = overhead.fixed(report.on_p50_ttft_ms / report.off_p50_ttft_ms, 4);
  overhead.pairFigures(report, pairs, 'on', 'off');
  console.log(JSON.stringify(report, null, 1));
  overhead.stop(off);
  overhead.stop(on);
  receiver.close();
  if (receiver.count === 0) throw new Error('the traced server exported nothing');
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
