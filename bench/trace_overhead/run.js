'use strict';
// Tracing overhead of `lantern serve`: the same model served twice at once, untraced and
// traced (default detail level, OTLP/gRPC to the independent Node receiver, which acks
// every export; --decode makes it decode and count every span too, which costs the shared
// CPU far more than the server's tracing does), loaded in turn by `lantern bench serve` in ABBA order so that
// drift in the machine's load hits both alike. Reports output throughput (tokens over
// wall time, all rounds) and the median of the rounds' p50 TTFT, and their ratios.
//
//   node bench/trace_overhead/run.js <lantern> <model dir> [rounds] [prompts] [concurrency]
//        [--decode] [--http]
const {spawn} = require('child_process');
const http = require('http');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {Receiver} = require('../../tests/e2e/telemetry/otlp_receiver.js');

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const decode = process.argv.includes('--decode');
const overHttp = process.argv.includes('--http');  // OTLP/HTTP protobuf instead of gRPC
const [lantern, model, rounds = '4', prompts = '64', concurrency = '16'] = args;
if (!lantern || !model) {
  console.error('usage: run.js <lantern> <model dir> [rounds] [prompts] [concurrency]');
  process.exit(2);
}

function serve(extra, env = {}) {
  return new Promise((resolve, reject) => {
    const args = ['serve', model, '--host', '127.0.0.1', '--port', '0', '--served-model-name',
                  'tiny', '--kv-cache-memory', '64MiB', '--disable-log-requests', ...extra];
    const proc = spawn(path.resolve(lantern), args, {env: {...process.env, ...env},
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
    const child = spawn(path.resolve(lantern), args, {stdio: ['ignore', 'ignore', 'inherit']});
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

// CPU seconds (user + system, all threads) a process has used so far.
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];

(async () => {
  const receiver = new Receiver([], {bench: true, decode});
  let spans = 0;
  receiver.onRequest = (entry) => (spans += entry.spanCount || 0);
  const receiverPort = overHttp ? await receiver.startHttp() : await receiver.startGrpc();
  const off = await serve([], {OTEL_SDK_DISABLED: 'true'});
  const on = overHttp ?
      await serve(['--otlp-traces-endpoint', `http://127.0.0.1:${receiverPort}/v1/traces`],
                  {OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf'}) :
      await serve(['--otlp-traces-endpoint', `http://127.0.0.1:${receiverPort}`]);
  const arms = {off: {server: off, tokens: 0, seconds: 0, ttft: [], failed: 0, cpu: 0},
                on: {server: on, tokens: 0, seconds: 0, ttft: [], failed: 0, cpu: 0}};
  const receiverCpuStart = process.cpuUsage();
  await bench(off.port, 99);  // warm-up, both
  await bench(on.port, 99);
  const order = [];
  for (let r = 0; r < Number(rounds); ++r) order.push(...(r % 2 ? ['on', 'off'] : ['off', 'on']));
  for (const [i, name] of order.entries()) {
    const cpuBefore = cpuSeconds(arms[name].server.proc.pid);
    const result = await bench(arms[name].server.port, Math.floor(i / 2));
    arms[name].cpu += cpuSeconds(arms[name].server.proc.pid) - cpuBefore;
    arms[name].failed += result.failed_requests;
    arms[name].tokens += result.total_output_tokens;
    arms[name].seconds += result.duration_s;
    arms[name].ttft.push(result.p50_ttft_ms);
  }
  await new Promise((r) => setTimeout(r, 6000));  // let the batch processor export the last
  const report = {load_average: os.loadavg().map((x) => Number(x.toFixed(1))),
                  rounds: Number(rounds), prompts: Number(prompts),
                  concurrency: Number(concurrency), receiver_decodes: decode,
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
  }
  report.throughput_ratio = Number((report.on_output_tok_s / report.off_output_tok_s).toFixed(4));
  report.server_cpu_ratio = Number((report.on_server_cpu_ms_per_1k_tokens /
                                    report.off_server_cpu_ms_per_1k_tokens).toFixed(4));
  const receiverCpu = process.cpuUsage(receiverCpuStart);
  report.receiver_cpu_s = Number(((receiverCpu.user + receiverCpu.system) / 1e6).toFixed(1));
  report.p50_ttft_ratio = Number((report.on_p50_ttft_ms / report.off_p50_ttft_ms).toFixed(4));
  console.log(JSON.stringify(report, null, 1));
  for (const arm of Object.values(arms)) arm.server.proc.kill('SIGTERM');
  receiver.close();
  if (receiver.count === 0) throw new Error('the traced server exported nothing');
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
