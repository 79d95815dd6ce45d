'use strict';
// What the overhead benchmarks (bench/{trace,signals,ui}_overhead/run.js) share: starting
// `lantern serve` and waiting for its port, running `lantern bench serve` against it,
// pinning both with taskset, reading a server's CPU time by thread from the scheduler's
// counters, the ABBA round loop, and the ratio and median figures of the report.
//
// Each benchmark is two arms (two servers, or one server in two states) loaded in turn in
// ABBA order, so that drift in the machine's load hits both alike; CPU time per output token
// is the figure that load disturbs least (wall-clock figures share the cores with everything
// else, CPU time is what the server itself spent).
const {execFileSync, spawn} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// Positional arguments and --flags (a flag is a bare `--name` or `--name=value`).
function parseArgs(argv = process.argv.slice(2)) {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const flags = {};
  for (const a of argv.filter((x) => x.startsWith('--'))) {
    const eq = a.indexOf('=');
    if (eq < 0) flags[a.slice(2)] = true;
    else flags[a.slice(2, eq)] = a.slice(eq + 1);
  }
  return {positional, flags};
}

// The CPU split of --pin: the servers get the last CPU to themselves, this process (with
// whatever it hosts: receivers, scrapers, a browser) and the load generator the others.
// `command(cpuList, file, args)` gives [command, args] for spawn, wrapped in taskset when
// pinning.
function pinning(pin) {
  const cpus = os.cpus().length;
  if (pin && cpus < 2) {
    console.error('--pin needs at least 2 CPUs');
    process.exit(2);
  }
  const serverCpus = String(cpus - 1);
  const clientCpus = cpus <= 2 ? '0' : `0-${cpus - 2}`;
  return {
    pin, serverCpus, clientCpus,
    command: (cpuList, file, args) =>
        pin ? ['taskset', ['-c', cpuList, file, ...args]] : [file, args],
    // Moves this process (all its threads, and the children it starts later) to the client
    // CPUs.
    pinSelf: () => {
      if (pin) execFileSync('taskset', ['-a', '-p', '-c', clientCpus, String(process.pid)],
                            {stdio: 'ignore'});
    },
  };
}

// Environment for a server: this process's, less every variable whose name starts with one
// of dropPrefixes (so that the caller's OTEL_* settings do not leak into an arm), plus env.
function serverEnv(dropPrefixes, env) {
  const base = {...process.env};
  for (const k of Object.keys(base)) {
    if (dropPrefixes.some((p) => k.startsWith(p))) delete base[k];
  }
  return {...base, ...env};
}

// Starts `lantern serve <model>` on a free port of 127.0.0.1 with the tiny model's usual
// flags plus `extra`; resolves, once it logs the port it serves on, with {proc, port,
// log(), logLines()}. Output after that is counted in lines (the access log), not kept.
function serve({lantern, model, pinning: p, extra = [], env = process.env}) {
  return new Promise((resolve, reject) => {
    const serveArgs = ['serve', model, '--host', '127.0.0.1', '--port', '0',
                       '--served-model-name', 'tiny', '--kv-cache-memory', '64MiB', ...extra];
    const [command, commandArgs] = p.command(p.serverCpus, path.resolve(lantern), serveArgs);
    const proc = spawn(command, commandArgs, {env, stdio: ['ignore', 'pipe', 'pipe']});
    let log = '';
    let lines = 0;
    let ready = false;
    const onData = (d) => {
      const text = String(d);
      for (const c of text) if (c === '\n') lines += 1;
      if (ready) return;
      log += text;
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m) {
        ready = true;
        resolve({proc, port: Number(m[1]), log: () => log, logLines: () => lines});
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
  });
}

// Stops a server started by serve(): its exit is no longer an error.
function stop(server) {
  server.proc.removeAllListeners('exit');
  server.proc.kill('SIGTERM');
}

// One `lantern bench serve` run against the server on `port` (streaming requests of 32
// prompt and 32 output tokens), asynchronously: whatever shares this process's event loop
// (a receiver, a scraper, a browser's driver) keeps running meanwhile. Resolves with its
// --result-json figures. A run with failed requests exits 1 but still writes its figures
// (over the successful ones); the failures are in failed_requests.
function benchServe({lantern, pinning: p, port, prompts, concurrency, seed}) {
  const out = path.join(os.tmpdir(), `overhead_${process.pid}_${port}_${seed}.json`);
  const benchArgs = ['bench', 'serve', '--port', String(port), '--model', 'tiny',
                     '--num-prompts', String(prompts), '--max-concurrency', String(concurrency),
                     '--random-input-len', '32', '--random-output-len', '32', '--seed',
                     String(seed), '--result-json', out];
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = p.command(p.clientCpus, path.resolve(lantern), benchArgs);
    const child = spawn(command, commandArgs, {stdio: ['ignore', 'ignore', 'inherit']});
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

// CPU seconds each thread of process `pid` has run so far, summed by key(threadName): the
// scheduler's nanosecond counters (/proc/PID/task/TID/schedstat), which count only time on
// a CPU, not time waiting for one. Threads that ended are no longer counted, so keys are
// compared over windows in which the server's threads live on (pools, I/O threads).
function threadCpu(pid, key) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const k = key(name);
      out[k] = (out[k] || 0) + ns / 1e9;
    } catch (e) {
      // the thread exited meanwhile
    }
  }
  return out;
}

// A thread name with its instance number dropped ("lantern-http-3" -> "lantern-http-*"),
// so that a pool's threads add up under one name.
const threadGroup = (name) => name.replace(/[-_]?\d+$/, '-*');

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const fixed = (x, digits) => Number(x.toFixed(digits));
const loadAverage = (digits = 2) => os.loadavg().map((x) => fixed(x, digits));

// The ABBA loop: `rounds` rounds, each running arms [a, b] with one `lantern bench serve`
// each, the pair's seed the round number, in the order a b, b a, b a, a b (ABBA BAAB), and
// again: ABBA alone cancels a linear drift but puts b in the middle of every four runs, and
// on a shared 2-core VM an A/A run (both arms the same) showed the middle arm ~5% slower
// and costlier per token, whichever it was; with BAAB after it each arm is in the middle
// as often. arms: {name: {server, before?}}; before(round) runs ahead of the arm's
// load (not measured). Around each load the server's CPU by key(threadName) is read.
// Resolves with {arms: {name: {tokens, seconds, ttft: [], failed, cpu, threads: {key: s}}},
// pairs: [{a: result, b: result, cpu: {a: s, b: s}}]}; onPair(round, pair) after each round.
async function abba({names, arms, rounds, key, bench, onPair = () => {}}) {
  const totals = {};
  for (const name of names) {
    totals[name] = {tokens: 0, seconds: 0, ttft: [], failed: 0, cpu: 0, threads: {}};
  }
  const pairs = [];
  for (let round = 0; round < rounds; ++round) {
    const pair = {cpu: {}};
    const reversed = round % 4 === 1 || round % 4 === 2;
    for (const name of reversed ? [...names].reverse() : names) {
      const arm = arms[name];
      if (arm.before) await arm.before(round);
      const cpuBefore = threadCpu(arm.server.proc.pid, key);
      const result = await bench(arm.server.port, round);
      const cpuAfter = threadCpu(arm.server.proc.pid, key);
      const total = totals[name];
      pair.cpu[name] = 0;
      for (const k of Object.keys(cpuAfter)) {
        const used = cpuAfter[k] - (cpuBefore[k] || 0);
        total.threads[k] = (total.threads[k] || 0) + used;
        total.cpu += used;
        pair.cpu[name] += used;
      }
      total.failed += result.failed_requests;
      total.tokens += result.total_output_tokens;
      total.seconds += result.duration_s;
      total.ttft.push(result.p50_ttft_ms);
      pair[name] = result;
    }
    pairs.push(pair);
    onPair(round, pair);
  }
  return {arms: totals, pairs};
}

const throughput = (result) => result.total_output_tokens / result.duration_s;

// An arm's figures into report, under `${name}_...`: output tokens/s over all its rounds,
// the median of its rounds' p50 TTFT, its failed requests, and its server's CPU per 1000
// output tokens, overall and by thread key (keys: the order and set to report).
function armFigures(report, name, arm, {ttftDigits = 1, keys = Object.keys(arm.threads),
                                        byKeySuffix = 'by_role', ttftRounds = false} = {}) {
  report[`${name}_output_tok_s`] = fixed(arm.tokens / arm.seconds, 2);
  report[`${name}_p50_ttft_ms`] = fixed(median(arm.ttft), ttftDigits);
  if (ttftRounds) report[`${name}_p50_ttft_rounds_ms`] = arm.ttft.map((x) => fixed(x, 1));
  report[`${name}_failed_requests`] = arm.failed;
  report[`${name}_server_cpu_ms_per_1k_tokens`] = fixed(arm.cpu / arm.tokens * 1e6, 1);
  report[`${name}_server_cpu_ms_per_1k_tokens_${byKeySuffix}`] = Object.fromEntries(
      keys.map((k) => [k, fixed((arm.threads[k] || 0) / arm.tokens * 1e6, 2)]));
}

// The pair figures of arm `a` against arm `b`: each ABBA pair's ratio of throughput and of
// p50 TTFT, and their medians (the figures drift in the machine's load disturbs least).
function pairFigures(report, pairs, a, b) {
  const ratios = (f) => pairs.map((p) => fixed(f(p[a]) / f(p[b]), 4));
  report.pair_throughput_ratios = ratios(throughput);
  report.pair_p50_ttft_ratios = ratios((r) => r.p50_ttft_ms);
  report.median_pair_throughput_ratio = fixed(median(report.pair_throughput_ratios), 4);
  report.median_pair_p50_ttft_ratio = fixed(median(report.pair_p50_ttft_ratios), 4);
}

module.exports = {
  parseArgs, pinning, serverEnv, serve, stop, benchServe, threadCpu, threadGroup, median,
  fixed, loadAverage, abba, throughput, armFigures, pairFigures,
};
