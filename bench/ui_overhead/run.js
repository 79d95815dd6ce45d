'use strict';
// What the built-in trace viewer costs while someone watches: one `lantern serve --ui`,
// loaded by `lantern bench serve` in ABBA rounds, with the viewer's page open in headless
// Chromium on the live request list (polling every second) in the "open" rounds and the
// tab on about:blank in the "closed" ones. Both arms keep traces in the ring (that is
// --ui itself); the difference is the page: the list's summaries, JSON and HTTP.
// Reports output throughput (tokens over wall time, all rounds of an arm), the median over
// the ABBA pairs of each pair's open/closed ratio, and the polls the page made; and the
// figure the machine's load disturbs least: the server's CPU time per 1000 output tokens
// in each arm (summed over its rounds, from the scheduler's counters of each thread), by
// thread name, their ratio, and what the open arm's extra CPU comes to per poll.
//
//   NODE_PATH=tests/node_modules node bench/ui_overhead/run.js <lantern> <model dir>
//        [rounds] [prompts] [concurrency] [--pin] [--control | --poller[=MS]]
//
// --pin gives the server the last CPU and the browser and the load generator the others.
// --control keeps the tab on about:blank in both arms (an A/A run): its open/closed figures
// show how far the machine's noise alone moves them. --poller makes the open arm's polls
// from this script instead (the request the page makes, once a second or every MS ms,
// without a browser rendering the answers next to the load generator): the server's share
// of the page's cost, which polls many times faster than the page's make measurable above
// the machine's noise (the report gives the extra CPU per poll).
const http = require('http');
const {chromium} = require('playwright-core');
const overhead = require('../common/overhead.js');

const {positional, flags} = overhead.parseArgs();
const pinning = overhead.pinning(Boolean(flags.pin));
const control = Boolean(flags.control);
const poller = Boolean(flags.poller);
const pollerMs = typeof flags.poller === 'string' ? Number(flags.poller) : 1000;
const [lantern, model, rounds = '8', prompts = '256', concurrency = '16'] = positional;
if (!lantern || !model) {
  console.error('usage: run.js <lantern> <model dir> [rounds] [prompts] [concurrency] [--pin] ' +
                '[--control | --poller[=MS]]');
  process.exit(2);
}

(async () => {
  const loadBefore = overhead.loadAverage(2);
  const server = await overhead.serve({
    lantern, model, pinning, extra: ['--disable-log-requests', '--ui'],
    env: overhead.serverEnv(['OTEL_'], {})});
  const base = `http://127.0.0.1:${server.port}`;
  const browserArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                       '--disable-component-update', '--no-first-run'];
  // The browser on the client CPUs too: this process moves there, and Chromium inherits it.
  pinning.pinSelf();
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: browserArgs});
  const page = await browser.newPage();
  let polls = 0;
  page.on('request', (r) => { if (r.url().includes('/ui/api/traces')) polls++; });
  // --poller: the live list's request, as the page makes it (limit 200, since the last
  // answer's seq; the next one pollerMs after the answer).
  const startPoller = () => {
    let seq = null;
    let stopped = false;
    let timer = null;
    const again = () => { if (!stopped) timer = setTimeout(tick, pollerMs); };
    const tick = () => {
      polls++;
      const since = seq === null ? '' : `&since=${seq}`;
      http.get(`${base}/ui/api/traces?limit=200${since}`, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          const data = JSON.parse(body);
          if (!data.unchanged) seq = data.seq;
          again();
        });
      }).on('error', again);
    };
    tick();
    return () => { stopped = true; clearTimeout(timer); };
  };
  let stopPoller = () => {};
  const bench = (port, seed) =>
    overhead.benchServe({lantern, pinning, port, prompts, concurrency, seed});
  await bench(server.port, 999);  // warm-up: fills the ring, warms the server
  let measuredPolls = 0;  // polls while the open arm's load ran (its CPU was measured)
  const arms = {
    closed: {server, before: () => { stopPoller(); return page.goto('about:blank'); }},
    open: {server, before: async () => {
      stopPoller();  // the arm may follow itself (ABBA): one poller at a time
      if (poller) stopPoller = startPoller();
      if (control || poller) return page.goto('about:blank');
      await page.goto(base + '/ui/');
      await page.waitForSelector('#trace-rows tr');
    }},
  };
  const {arms: totals, pairs} = await overhead.abba({
    names: ['closed', 'open'], arms, rounds: Number(rounds), key: overhead.threadGroup,
    bench: async (port, seed) => {
      const before = polls;
      const result = await bench(port, seed);
      // Only the open arm's page polls (the closed one's tab is on about:blank).
      measuredPolls += polls - before;
      return result;
    },
    onPair: (round, pair) => {
      const open = overhead.throughput(pair.open);
      const closed = overhead.throughput(pair.closed);
      const cpu = (name) => pair.cpu[name] / pair[name].total_output_tokens * 1e6;
      console.log(`round ${round + 1}: closed ${closed.toFixed(1)} tok/s, open ${open.toFixed(1)} tok/s, ` +
                  `ratio ${(open / closed).toFixed(4)}; server CPU per 1k tokens closed ` +
                  `${cpu('closed').toFixed(1)} ms, open ${cpu('open').toFixed(1)} ms`);
    },
  });
  stopPoller();
  await page.goto('about:blank');
  const {open, closed} = totals;
  const openTokS = open.tokens / open.seconds;
  const closedTokS = closed.tokens / closed.seconds;
  const median = (f) => overhead.fixed(overhead.median(pairs.map(f)), 4);
  const report = {
    load_average_before: loadBefore, load_average_after: overhead.loadAverage(2),
    rounds: Number(rounds), prompts: Number(prompts), concurrency: Number(concurrency),
    pin: pinning.pin, control, poller: poller ? pollerMs : false,
    closed_tok_s: overhead.fixed(closedTokS, 2), open_tok_s: overhead.fixed(openTokS, 2),
    throughput_ratio_open_closed: overhead.fixed(openTokS / closedTokS, 4),
    median_pair_ratio: median((p) => overhead.throughput(p.open) / overhead.throughput(p.closed)),
    page_polls: polls, page_polls_measured: measuredPolls,
    failed: open.failed + closed.failed,
  };
  // Server CPU per 1000 output tokens, each arm summed over its rounds, by thread name (a
  // pool's threads under one name).
  const names = [...new Set([...Object.keys(closed.threads), ...Object.keys(open.threads)])].sort();
  for (const [name, arm] of Object.entries(totals)) {
    overhead.armFigures(report, name, arm, {ttftDigits: 2, keys: names, byKeySuffix: 'by_thread'});
  }
  const perToken = (arm, seconds) => seconds / arm.tokens;
  report.server_cpu_ratio_open_closed =
      overhead.fixed(perToken(open, open.cpu) / perToken(closed, closed.cpu), 4);
  report.median_pair_server_cpu_ratio = median(
      (p) => (p.cpu.open / p.open.total_output_tokens) / (p.cpu.closed / p.closed.total_output_tokens));
  // What the open page costs: the open arm's CPU beyond the closed arm's at the same tokens,
  // by thread name, in CPU seconds over the open rounds, and per poll of the list.
  const extra = Object.fromEntries(names.map((n) => [n,
      ((open.threads[n] || 0) / open.tokens - (closed.threads[n] || 0) / closed.tokens) * open.tokens]));
  report.open_extra_cpu_ms_by_thread = Object.fromEntries(
      names.map((n) => [n, overhead.fixed(extra[n] * 1e3, 1)]));
  const httpExtra = names.filter((n) => n.startsWith('lantern-http'))
                        .reduce((sum, n) => sum + extra[n], 0);
  report.open_extra_http_cpu_ms_per_poll =
      measuredPolls ? overhead.fixed(httpExtra * 1e3 / measuredPolls, 3) : null;
  report.open_extra_http_cpu_share = overhead.fixed(httpExtra / open.cpu, 5);
  const all = names.reduce((sum, n) => sum + extra[n], 0);
  report.open_extra_cpu_ms_per_poll =
      measuredPolls ? overhead.fixed(all * 1e3 / measuredPolls, 3) : null;
  console.log(JSON.stringify(report));
  await browser.close();
  overhead.stop(server);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
