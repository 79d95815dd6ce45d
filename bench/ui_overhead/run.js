'use strict';
// What the built-in trace viewer costs while someone watches: one `lantern serve --ui`,
// loaded by `lantern bench serve` in ABBA rounds, with the viewer's page open in headless
// Chromium on the live request list (polling every second) in the "open" rounds and the
// tab on about:blank in the "closed" ones. Both arms keep traces in the ring (that is
// --ui itself); the difference is the page: the list's summaries, JSON and HTTP.
// Reports output throughput (tokens over wall time, all rounds of an arm), the median over
// the ABBA pairs of each pair's open/closed ratio, and the polls the page made.
//
//   NODE_PATH=tests/node_modules node bench/ui_overhead/run.js <lantern> <model dir>
//        [rounds] [prompts] [concurrency] [--pin]
//
// --pin gives the server the last CPU and the browser and the load generator the others.
const {execFileSync, spawn} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {chromium} = require('playwright-core');

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const pin = process.argv.includes('--pin');
const [lantern, model, rounds = '8', prompts = '256', concurrency = '16'] = args;
if (!lantern || !model) {
  console.error('usage: run.js <lantern> <model dir> [rounds] [prompts] [concurrency] [--pin]');
  process.exit(2);
}
const cpus = os.cpus().length;
const serverCpus = String(cpus - 1);
const clientCpus = cpus <= 2 ? '0' : `0-${cpus - 2}`;
const pinned = (cpuList, command, commandArgs) =>
    pin ? ['taskset', ['-c', cpuList, command, ...commandArgs]] : [command, commandArgs];

function serve() {
  return new Promise((resolve, reject) => {
    const serveArgs = ['serve', model, '--host', '127.0.0.1', '--port', '0', '--served-model-name',
                       'tiny', '--kv-cache-memory', '64MiB', '--disable-log-requests', '--ui'];
    const [command, commandArgs] = pinned(serverCpus, path.resolve(lantern), serveArgs);
    const env = {...process.env};
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
    const proc = spawn(command, commandArgs, {env, stdio: ['ignore', 'pipe', 'pipe']});
    let log = '';
    const onData = (d) => {
      log += d;
      const m = /serving .* on http:\/\/[\d.]+:(\d+)/.exec(log);
      if (m) resolve({proc, port: Number(m[1])});
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
  });
}

function bench(port, seed) {
  const out = path.join(os.tmpdir(), `ui_overhead_${process.pid}_${seed}.json`);
  const benchArgs = ['bench', 'serve', '--port', String(port), '--model', 'tiny', '--num-prompts',
                     prompts, '--max-concurrency', concurrency, '--random-input-len', '32',
                     '--random-output-len', '32', '--seed', String(seed), '--result-json', out];
  const [command, commandArgs] = pinned(clientCpus, path.resolve(lantern), benchArgs);
  return new Promise((resolve, reject) => {
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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

(async () => {
  const server = await serve();
  const base = `http://127.0.0.1:${server.port}`;
  const browserArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                       '--disable-component-update', '--no-first-run'];
  // The browser on the client CPUs too: this process moves there, and Chromium inherits it.
  if (pin) execFileSync('taskset', ['-acp', clientCpus, String(process.pid)], {stdio: 'ignore'});
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: browserArgs});
  const page = await browser.newPage();
  let polls = 0;
  page.on('request', (r) => { if (r.url().includes('/ui/api/traces')) polls++; });
  await bench(server.port, 999);  // warm-up: fills the ring, warms the server
  const arms = {open: {tokens: 0, seconds: 0, failed: 0}, closed: {tokens: 0, seconds: 0, failed: 0}};
  const ratios = [];
  for (let round = 0; round < Number(rounds); round++) {
    const order = round % 2 === 0 ? ['closed', 'open'] : ['open', 'closed'];
    const pair = {};
    for (const arm of order) {
      if (arm === 'open') {
        await page.goto(base + '/ui/');
        await page.waitForSelector('#trace-rows tr');
      } else {
        await page.goto('about:blank');
      }
      const result = await bench(server.port, round);
      arms[arm].tokens += result.total_output_tokens;
      arms[arm].seconds += result.duration_s;
      arms[arm].failed += result.failed_requests;
      pair[arm] = result.total_output_tokens / result.duration_s;
    }
    ratios.push(pair.open / pair.closed);
    console.log(`round ${round + 1}: closed ${pair.closed.toFixed(1)} tok/s, open ${pair.open.toFixed(1)} tok/s, ` +
                `ratio ${(pair.open / pair.closed).toFixed(4)}`);
  }
  await page.goto('about:blank');
  const open = arms.open.tokens / arms.open.seconds;
  const closed = arms.closed.tokens / arms.closed.seconds;
  console.log(JSON.stringify({
    rounds: Number(rounds), prompts: Number(prompts), concurrency: Number(concurrency), pin,
    closed_tok_s: Number(closed.toFixed(2)), open_tok_s: Number(open.toFixed(2)),
    throughput_ratio_open_closed: Number((open / closed).toFixed(4)),
    median_pair_ratio: Number(median(ratios).toFixed(4)),
    page_polls: polls, failed: arms.open.failed + arms.closed.failed,
  }));
  await browser.close();
  server.proc.removeAllListeners('exit');
  server.proc.kill('SIGTERM');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
