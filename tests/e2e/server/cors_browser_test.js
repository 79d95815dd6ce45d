// CORS from a real browser: headless Chromium (Debian's) loads a page from one origin
// (a small server of this test on 127.0.0.1) whose script calls lantern on another origin
// (localhost, another port) with a JSON POST, which the browser preflights. The page
// reports what fetch() got back to the page's own server. Skipped without chromium.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { startServer, run, assert } = require('./harness');

function chromiumPath() {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch (e) { /* next */ }
  }
  return null;
}

// Serves the page and resolves `result` with the JSON the page posts back.
function pageServer(apiBase, body) {
  let deliver;
  const result = new Promise((resolve) => { deliver = resolve; });
  const page = `<!doctype html><script>
    fetch(${JSON.stringify(apiBase + '/v1/chat/completions')}, { method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer unused' },
      body: ${JSON.stringify(JSON.stringify(body))} })
      .then(async (r) => ({ status: r.status, body: await r.json() }))
      .catch((e) => ({ error: String(e) }))
      .then((report) => fetch('/result', { method: 'POST', body: JSON.stringify(report) }));
  </script>`;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/result') {
      let data = '';
      req.on('data', (c) => { data += c; });
      req.on('end', () => { res.end('ok'); deliver(JSON.parse(data)); });
      return;
    }
    res.setHeader('Content-Type', 'text/html');
    res.end(page);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, result })));
}

async function browse(chromium, url, result) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-chromium-'));
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu',
    '--no-first-run', `--user-data-dir=${profile}`, url], { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => browser.once('exit', resolve));
  try {
    return await Promise.race([result, new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the page reported nothing in 30 s')), 30000))]);
  } finally {
    // Chromium's helper processes share its process group (detached above): end them all.
    try { process.kill(-browser.pid, 'SIGKILL'); } catch (e) { /* already gone */ }
    await exited;
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

async function main() {
  const chromium = chromiumPath();
  if (!chromium) {
    console.log('skipped: no chromium (scripts/install-deps installs it)');
    process.exit(0);
  }
  const body = { model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 };
  const failed = await run([
    ['a page on another origin calls the API: preflight answered, response readable', async () => {
      const lantern = await startServer(['--api-key', 'unused']);
      try {
        const page = await pageServer(`http://localhost:${lantern.port}`, body);
        const report = await browse(chromium, `http://127.0.0.1:${page.server.address().port}/`, page.result);
        page.server.close();
        assert.strictEqual(report.status, 200, JSON.stringify(report));
        // (Access-Control-Allow-Origin itself is not exposed to scripts: that the body
        // could be read at all is the browser's verdict.)
        assert.strictEqual(report.body.object, 'chat.completion');
        // The browser did preflight (the JSON content type and Authorization ask for it).
        assert.match(lantern.logs(), /"OPTIONS \/v1\/chat\/completions" 200/);
      } finally {
        await lantern.stop();
      }
    }],
    ['an origin not in --allowed-origins is refused by the browser', async () => {
      const lantern = await startServer(['--allowed-origins', '["http://chat.example"]']);
      try {
        const page = await pageServer(`http://localhost:${lantern.port}`, body);
        const report = await browse(chromium, `http://127.0.0.1:${page.server.address().port}/`, page.result);
        page.server.close();
        assert.match(report.error || '', /TypeError|Failed to fetch/, JSON.stringify(report));
        assert.match(lantern.logs(), /"OPTIONS \/v1\/chat\/completions" 400/);
      } finally {
        await lantern.stop();
      }
    }],
  ]);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
