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
const {spawn} = require('child_process');
const http = require('http');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {Receiver} = require('../../tests/e2e/telemetry/otlp_receiver.js');

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const decode = process.argv.includes('--decode');
const overHttp = process.argv.includes('--http');  // OTLP/HTTP protobuf instead of gRPC
const pin = process.argv.includes('--pin');
const cpus = os.cpus().length;
if (pin && cpus < 2) {
  console.error('--pin needs at least 2 CPUs');
  process.exit(2);
}
// [command, args] for `lantern ...`, pinned with taskset when asked.
function pinned(cpuList, lanternArgs) {
  return pin ? ['taskset', ['-c', cpuList, path.resolve(lantern), ...lanternArgs]] :
               [path.resolve(lantern), lanternArgs];
}
const serverCpus = String(cpus - 1);
const clientCpus = cpus === 2 ? '0' : `0-${cpus - 2}`;
const [lantern, model, rounds = '4', prompts = '64', concurrency = '16'] = args;
if (!lantern || !model) {
  console.error('usage: run.js <lantern> <model dir> [rounds] [prompts] [concurrency]');
  process.exit(2);
}

function serve(extra, env = {}) {
  return new Promise((resolve, reject) => {
    const args = ['serve', model, '--host', '127.0.0.1', '--port', '0', '--served-model-name',
                  'tiny', '--kv-cache-memory', '64MiB', '--disable-log-requests', ...extra];
    const [command, commandArgs] = pinned(serverCpus, args);
    const proc = spawn(command, commandArgs, {env: {...process.env, ...env},
                                              stdio: ['ignore', 'pipe', 'pipe']});
    let log = '';
    const onData = (d) => {
      log += d;
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m) resolve({proc, port: Number(m[1]), log: () => log});
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
  });
}

// Runs the client asynchronously: the receiver shares this process's event loop and must
// keep answering exports meanwhile.
function bench(port, seed) {
  const out = path.join(os.tmpdir(), `trace_overhead_${process.pid}_${port}.json`);
  const args = ['bench', 'serve', '--port', String(port), '--model', 'tiny', '--num-prompts',
                prompts, '--max-concurrency', concurrency, '--random-input-len', '32',
                '--random-output-len', '32', '--seed', String(seed), '--result-json', out];
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = pinned(clientCpus, args);
    const child = spawn(command, commandArgs, {stdio: ['ignore', 'ignore', 'inherit']});
    // A run with failed requests exits 1 but still writes its figures (over the successful
    // ones); the failures are counted and reported.
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

// CPU seconds a process's threads have run so far, by role (from the thread names and
// the scheduler's nanosecond counters): the engine (its thread and compute pool), the HTTP
// I/O threads (which also build the spans of finished requests), the span exporter (the
// batch processor's thread and gRPC's), and the rest.
function threadRole(name) {
  if (name === 'lantern-engine' || name.startsWith('compute-')) return 'engine';
  if (name.startsWith('lantern-http')) return 'http';
  if (name === 'telemetry-bsp' || /^(grpc|event_engine|timer_manager|default-executo|resolver-execut)/.test(name)) {
    return 'exporter';
  }
  return 'other';
}
function cpuByRole(pid) {
  const out = {engine: 0, http: 0, exporter: 0, other: 0};
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
    // This process hosts the receiver: keep it off the servers' CPU.
    require('child_process').execFileSync('taskset', ['-a', '-p', '-c', clientCpus,
                                                      String(process.pid)], {stdio: 'ignore'});
  }
  const receiver = new Receiver([], {bench: true, decode});
  let spans = 0;
  receiver.onRequest = (entry) => (spans += entry.spanCount || 0);
  const receiverPort = overHttp ? await receiver.startHttp() : await receiver.startGrpc();
  const off = await serve([], {OTEL_SDK_DISABLED: 'true'});
  const on = overHttp ?
      await serve(['--otlp-traces-endpoint', `http://127.0.0.1:${receiverPort}/v1/traces`],
                  {OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf'}) :
      await serve(['--otlp-traces-endpoint', `http://127.0.0.1:${receiverPort}`]);
  const newArm = (server) => ({server, tokens: 0, seconds: 0, ttft: [], failed: 0, cpu: 0,
                                roles: {engine: 0, http: 0, exporter: 0, other: 0}});
  const arms = {off: newArm(off), on: newArm(on)};
  const receiverCpuStart = process.cpuUsage();
  await bench(off.port, 99);  // warm-up, both
  await bench(on.port, 99);
  const order = [];
  const pairs = [];  // per ABBA pair: {on: result, off: result}
  for (let r = 0; r < Number(rounds); ++r) order.push(...(r % 2 ? ['on', 'off'] : ['off', 'on']));
  for (const [i, name] of order.entries()) {
    const cpuBefore = cpuByRole(arms[name].server.proc.pid);
    const result = await bench(arms[name].server.port, Math.floor(i / 2));
    const cpuAfter = cpuByRole(arms[name].server.proc.pid);
    for (const role of Object.keys(cpuAfter)) {
      const used = cpuAfter[role] - cpuBefore[role];
      arms[name].roles[role] += used;
      arms[name].cpu += used;
    }
    arms[name].failed += result.failed_requests;
    arms[name].tokens += result.total_output_tokens;
    arms[name].seconds += result.duration_s;
    arms[name].ttft.push(result.p50_ttft_ms);
    if (i % 2 === 0) pairs.push({});
    pairs[pairs.length - 1][name] = result;
  }
  await new Promise((r) => setTimeout(r, 6000));  // let the batch processor export the last
  const report = {load_average: os.loadavg().map((x) => Number(x.toFixed(1))),
                  rounds: Number(rounds), prompts: Number(prompts),
                  concurrency: Number(concurrency), pinned: pin, receiver_decodes: decode,
                  protocol: overHttp ? 'http/protobuf' : 'grpc',
                  spans_received: decode ? spans : null,
                  export_requests: receiver.count,
                  traced_server_counters: await tracingCounters(on.port)};
  for (const [name, arm] of Object.entries(arms)) {
    report[`${name}_output_tok_s`] = Number((arm.tokens / arm.seconds).toFixed(2));
    report[`${name}_p50_ttft_ms`] = Number(median(arm.ttft).toFixed(1));
    report[`${name}_p50_ttft_rounds_ms`] = arm.ttft.map((x) => Number(x.toFixed(1)));
    report[`${name}_failed_requests`] = arm.failed;
    // Server CPU time per 1000 output tokens: the cost that load on the machine inflates
    // least (wall-clock figures share 2 cores with everything else).
    report[`${name}_server_cpu_ms_per_1k_tokens`] = Number((arm.cpu / arm.tokens * 1e6).toFixed(1));
    report[`${name}_server_cpu_ms_per_1k_tokens_by_role`] = Object.fromEntries(
        Object.entries(arm.roles).map(([role, s]) => [role, Number((s / arm.tokens * 1e6).toFixed(2))]));
  }
  report.throughput_ratio = Number((report.on_output_tok_s / report.off_output_tok_s).toFixed(4));
  report.server_cpu_ratio = Number((report.on_server_cpu_ms_per_1k_tokens /
                                    report.off_server_cpu_ms_per_1k_tokens).toFixed(4));
  // The exporter's CPU as a share of the traced server's: measured on its own threads, so
  // the machine's noise does not blur it.
  report.exporter_cpu_share = Number((arms.on.roles.exporter / arms.on.cpu).toFixed(5));
  const receiverCpu = process.cpuUsage(receiverCpuStart);
  report.receiver_cpu_s = Number(((receiverCpu.user + receiverCpu.system) / 1e6).toFixed(1));
  report.p50_ttft_ratio = Number((report.on_p50_ttft_ms / report.off_p50_ttft_ms).toFixed(4));
  const throughput = (r) => r.total_output_tokens / r.duration_s;
  const pairRatios = (f) => pairs.map((p) => Number((f(p.on) / f(p.off)).toFixed(4)));
  report.pair_throughput_ratios = pairRatios(throughput);
  report.pair_p50_ttft_ratios = pairRatios((r) => r.p50_ttft_ms);
  report.median_pair_throughput_ratio = Number(median(report.pair_throughput_ratios).toFixed(4));
  report.median_pair_p50_ttft_ratio = Number(median(report.pair_p50_ttft_ratios).toFixed(4));
  console.log(JSON.stringify(report, null, 1));
  for (const arm of Object.values(arms)) arm.server.proc.kill('SIGTERM');
  receiver.close();
  if (receiver.count === 0) throw new Error('the traced server exported nothing');
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
