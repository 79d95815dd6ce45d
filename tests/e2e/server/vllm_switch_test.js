// Issue 16: a vLLM user switches without editing anything. vLLM's flags (honoured, warned
// or refused), serve --help, unknown request fields (one warning per name), JSON errors in
// plain words, a 413 delivered while the client is still sending, CORS, and the Responses
// API with the real clients pinned in tests/package.json: `openai` (responses.create and
// responses.stream), the AI SDK's default model (`openai(model)`, which speaks the
// Responses API) and LangChain's ChatOpenAI.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const OpenAI = require('openai');
const { startServer, request, run, assert, MODEL } = require('./harness');

const LANTERN = process.env.LANTERN;

function serveOnce(args) {
  return spawnSync(LANTERN, ['serve', ...args], { encoding: 'utf8', timeout: 30000 });
}

// POSTs `bytes` bytes as fast as the socket takes them; resolves with the status the
// server answered (or the error the client got instead).
function bigUpload(port, bytes) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/completions',
      headers: { 'Content-Type': 'application/json', 'Content-Length': bytes } }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ error: e.code || String(e) }));
    const chunk = Buffer.alloc(1 << 16, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

async function main() {
  const { generateText, streamText } = await import('ai');
  const { createOpenAI } = await import('@ai-sdk/openai');
  const { ChatOpenAI } = require('@langchain/openai');

  const server = await startServer(['--max-request-body-bytes', '1048576', '--root-path', '/llm',
    '--tensor-parallel-size', '1', '-pp', '1', '--gpu-memory-utilization', '0.9', '--enforce-eager',
    '--trust-remote-code', '--enable-chunked-prefill', '--block-size', '16', '--swap-space', '4',
    '--disable-log-stats', '--max-logprobs', '5', '--uvicorn-log-level', 'info']);
  const client = new OpenAI({ baseURL: server.base + '/v1', apiKey: 'unused', maxRetries: 0 });
  const post = (p, body) => request(server.base, 'POST', p, { body });
  const user = [{ role: 'user', content: 'hi' }];

  const failed = await run([
    ['vLLM flags without effect here are accepted, each with one warning saying why', async () => {
      const log = server.logs();
      // GPU flags are honoured with --device cuda; on the CPU they say why they do nothing.
      assert.match(log, /--gpu-memory-utilization has no effect with --device cpu/);
      assert.match(log, /--enforce-eager has no effect with --device cpu/);
      assert.match(log, /--trust-remote-code has no effect: no model code/);
      assert.match(log, /--swap-space 4 has no effect/);
      assert.doesNotMatch(log, /--block-size 16 has no effect/);  // 16 is what it is anyway
    }],
    ['a value that cannot work is a clear start-up error', async () => {
      const r = serveOnce([MODEL, '--tensor-parallel-size', '4']);
      assert.strictEqual(r.status, 2, r.stderr);
      assert.match(r.stderr, /--tensor-parallel-size 4: tensor parallelism is not available/);
      const l = serveOnce([MODEL, '--enable-lora']);
      assert.strictEqual(l.status, 2, l.stderr);
      assert.match(l.stderr, /--enable-lora: LoRA adapters are not supported/);
      const fp8 = serveOnce([MODEL, '--kv-cache-dtype', 'fp8_e4m3']);
      assert.notStrictEqual(fp8.status, 0, fp8.stderr);
      assert.match(fp8.stderr, /--kv-cache-dtype: 'fp8_e4m3' is not supported: .*auto \(16 bits\), float32, bfloat16 or float16/);
      // Without a GPU (or without the CUDA plugin) --device cuda is one clear line, exit 1,
      // before any weights are read; never a crash.
      const gpu = serveOnce([MODEL, '--device', 'cuda']);
      assert.strictEqual(gpu.status, 1, gpu.stderr);
      assert.strictEqual(gpu.signal, null);
      assert.match(gpu.stderr, /lantern serve: error: (no CUDA device: .+|--device cuda: (lantern was built without CUDA \(nvcc not found at build time|the CUDA plugin .*liblantern_cuda\.so is missing|cannot load .*liblantern_cuda\.so))/);
      assert.strictEqual(gpu.stderr.trim().split('\n').filter((l) => /error/.test(l)).length, 1, gpu.stderr);
      const bad = serveOnce([MODEL, '--device', 'tpu']);
      assert.strictEqual(bad.status, 1, bad.stderr);
      assert.match(bad.stderr, /--device: 'tpu' is not a device \(cpu, cuda, or cuda:N/);
      const none = serveOnce([]);
      assert.strictEqual(none.status, 2);
      assert.match(none.stderr, /MODEL is required/);
    }],
    ['serve --help shows MODEL required once and prefix caching on', async () => {
      const r = serveOnce(['--help']);
      assert.strictEqual(r.status, 0, r.stderr);
      assert.strictEqual((r.stdout.match(/REQUIRED/g) || []).length, 1, r.stdout);
      assert.match(r.stdout, /--enable-prefix-caching\s+Reuse KV blocks of shared prompt prefixes \(default: on\)/);
      assert.doesNotMatch(r.stdout, /\{false\}/);
      assert.match(r.stdout, /--gpu-memory-utilization/);
    }],
    ['--config reads a vLLM YAML file; the command line wins', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-cfg-'));
      const file = path.join(dir, 'config.yaml');
      fs.writeFileSync(file, `# vLLM style\nmodel: ${MODEL}\nport: 1\ntensor_parallel_size: 2\n`);
      const r = serveOnce(['--config', file, '--tensor-parallel-size', '3']);
      assert.strictEqual(r.status, 2, r.stderr);
      assert.match(r.stderr, /--tensor-parallel-size 3/);
    }],
    ['--config YAML takes kv_cache_dtype as the flag does', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-cfg-'));
      const file = path.join(dir, 'config.yaml');
      fs.writeFileSync(file, `model: ${MODEL}\nport: 1\nkv_cache_dtype: fp8\n`);
      const r = serveOnce(['--config', file]);
      assert.notStrictEqual(r.status, 0, r.stderr);
      assert.match(r.stderr, /--kv-cache-dtype: 'fp8' is not supported/);
    }],
    ['--root-path: the API answers under the prefix too', async () => {
      const r = await request(server.base, 'GET', '/llm/v1/models');
      assert.strictEqual(r.status, 200, r.body);
      assert.strictEqual(JSON.parse(r.body).data[0].id, 'tiny');
    }],
    ['--max-logprobs bounds logprobs', async () => {
      const r = await post('/v1/completions', { prompt: 'x', max_tokens: 1, logprobs: 6 });
      assert.strictEqual(r.status, 400, r.body);
      assert.match(JSON.parse(r.body).error.message, /\[0, 5\]/);
    }],
    ['unknown fields are accepted, one warning per field name', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await post('/v1/chat/completions', { messages: user, max_tokens: 2, frobnicate: i, documents: [{ text: 'd' }] });
        assert.strictEqual(r.status, 200, r.body);
      }
      const r = await post('/v1/completions', { prompt: 'x', max_tokens: 2, frobnicate: true });
      assert.strictEqual(r.status, 200, r.body);
      const warnings = server.logs().match(/request field 'frobnicate' is not supported and was ignored/g) || [];
      assert.strictEqual(warnings.length, 1, server.logs());
      assert.doesNotMatch(server.logs(), /request field 'documents'/);
    }],
    ['JSON errors are in plain words', async () => {
      const r = await request(server.base, 'POST', '/v1/completions', { body: '{"prompt": tru' });
      const message = JSON.parse(r.body).error.message;
      assert.strictEqual(r.status, 400);
      assert.match(message, /^The request body is not valid JSON: line 1, column \d+: /);
      assert.doesNotMatch(message, /json\.exception|parse_error|syntax error while parsing/);
      const e = await post('/v1/chat/completions', { messages: [] });
      assert.strictEqual(JSON.parse(e.body).error.message, "'messages' must not be empty");
    }],
    ['a body over the limit gets its 413 while the client is still sending', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await bigUpload(server.port, 32 << 20);
        assert.strictEqual(r.status, 413, JSON.stringify(r));
        assert.match(JSON.parse(r.body).error.message, /exceeds 1048576 bytes/);
      }
      assert.strictEqual((await request(server.base, 'GET', '/health')).status, 200);
    }],
    ['CORS: preflights are answered, responses carry Access-Control-Allow-Origin', async () => {
      const p = await request(server.base, 'OPTIONS', '/v1/chat/completions', { headers: {
        Origin: 'http://chat.example', 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type, authorization' } });
      assert.strictEqual(p.status, 200, p.body);
      assert.strictEqual(p.headers['access-control-allow-origin'], '*');
      assert.match(p.headers['access-control-allow-methods'], /POST/);
      assert.strictEqual(p.headers['access-control-allow-headers'], 'content-type, authorization');
      const r = await request(server.base, 'GET', '/v1/models', { headers: { Origin: 'http://chat.example' } });
      assert.strictEqual(r.headers['access-control-allow-origin'], '*');
      const e = await request(server.base, 'GET', '/nope', { headers: { Origin: 'http://chat.example' } });
      assert.strictEqual(e.status, 404);
      assert.strictEqual(e.headers['access-control-allow-origin'], '*');
      // Without preflight headers, OPTIONS is an ordinary method (405).
      assert.strictEqual((await request(server.base, 'OPTIONS', '/v1/models')).status, 405);
    }],
    ['no access-log lines for /metrics and /health by default', async () => {
      await request(server.base, 'GET', '/metrics');
      await request(server.base, 'GET', '/health');
      await request(server.base, 'GET', '/v1/models');
      assert.match(server.logs(), /"GET \/v1\/models" 200/);
      assert.doesNotMatch(server.logs(), /"GET \/metrics"|"GET \/health"/);
    }],
    ['responses.create (openai client): text input, instructions, usage', async () => {
      const r = await client.responses.create({ model: 'tiny', input: 'Say hi', instructions: 'Be brief',
        max_output_tokens: 5, temperature: 0, top_p: 1 });
      assert.strictEqual(r.object, 'response');
      assert.match(r.id, /^resp_/);
      assert.strictEqual(r.status, 'incomplete');  // tiny random model: the limit ends it
      assert.strictEqual(r.incomplete_details.reason, 'max_output_tokens');
      assert.strictEqual(r.instructions, 'Be brief');
      assert.strictEqual(r.output[0].type, 'message');
      assert.strictEqual(typeof r.output_text, 'string');
      assert.ok(r.output_text.length > 0);
      assert.strictEqual(r.usage.output_tokens, 5);
      assert.ok(r.usage.input_tokens > 0);
      // Greedy: the same text as chat completions gives for the same messages.
      const chat = await client.chat.completions.create({ model: 'tiny', max_tokens: 5, temperature: 0,
        messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Say hi' }] });
      assert.strictEqual(r.output_text, chat.choices[0].message.content);
    }],
    ['responses.create with message-list input', async () => {
      const r = await client.responses.create({ model: 'tiny', max_output_tokens: 3, input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Hello' }] },
        { type: 'message', role: 'assistant', content: 'Hi' },
        { role: 'user', content: 'Again' }] });
      assert.strictEqual(r.usage.output_tokens, 3);
    }],
    ['responses.stream (openai client): Responses events in order', async () => {
      const stream = client.responses.stream({ model: 'tiny', input: 'Hi', max_output_tokens: 4, temperature: 0 });
      const types = [];
      let deltas = '';
      let last;
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'response.output_text.delta') deltas += event.delta;
        if (event.response) last = event.response;
      }
      const final = await stream.finalResponse();
      assert.deepStrictEqual(types.slice(0, 4), ['response.created', 'response.in_progress',
        'response.output_item.added', 'response.content_part.added']);
      assert.deepStrictEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done',
        'response.output_item.done', 'response.incomplete']);
      assert.strictEqual(final.output[0].content[0].text, deltas);
      assert.ok(deltas.length > 0);
      // (openai 4.x's finalResponse() keeps usage only from response.completed.)
      assert.strictEqual(last.usage.output_tokens, 4);
      assert.strictEqual(last.status, 'incomplete');
    }],
    ['responses: clear 400s for what is not supported', async () => {
      const bad = async (body, param, pattern) => {
        const r = await post('/v1/responses', { model: 'tiny', input: 'x', ...body });
        assert.strictEqual(r.status, 400, r.body);
        const error = JSON.parse(r.body).error;
        assert.strictEqual(error.param, param);
        assert.match(error.message, pattern);
      };
      await bad({ previous_response_id: 'resp_1' }, 'previous_response_id', /does not store responses/);
      await bad({ tools: [{ type: 'web_search' }] }, 'tools[0].type', /no built-in tools/);
      await bad({ background: true }, 'background', /not stored/);
      await bad({ input: [{ type: 'function_call_output', call_id: 'c', output: 'o' }] }, 'input[0].type', /not supported/);
      const stored = await client.responses.create({ model: 'tiny', input: 'x', max_output_tokens: 1, store: true });
      assert.strictEqual(stored.store, false);
      const g = await request(server.base, 'GET', '/v1/responses/' + stored.id);
      assert.strictEqual(g.status, 404);
      assert.match(JSON.parse(g.body).error.message, /does not store responses/);
    }],
    ['AI SDK: generateText and streamText with the default model (the Responses API)', async () => {
      const provider = createOpenAI({ baseURL: server.base + '/v1', apiKey: 'unused' });
      const g = await generateText({ model: provider('tiny'), prompt: 'Hello', maxOutputTokens: 4, temperature: 0 });
      assert.strictEqual(g.usage.outputTokens, 4);
      assert.ok(g.text.length > 0);
      assert.strictEqual(g.finishReason, 'length');
      const s = streamText({ model: provider('tiny'), system: 'Be brief', prompt: 'Hello', maxOutputTokens: 4, temperature: 0 });
      let text = '';
      for await (const part of s.textStream) text += part;
      assert.strictEqual(text, await s.text);
      assert.strictEqual((await s.usage).outputTokens, 4);
    }],
    ['LangChain ChatOpenAI: invoke and stream', async () => {
      const model = new ChatOpenAI({ model: 'tiny', apiKey: 'unused', maxTokens: 4, temperature: 0,
        configuration: { baseURL: server.base + '/v1' }, maxRetries: 0 });
      const reply = await model.invoke('Hello');
      assert.ok(typeof reply.content === 'string' && reply.content.length > 0);
      let streamed = '';
      for await (const chunk of await model.stream('Hello')) streamed += chunk.content;
      assert.strictEqual(streamed, reply.content);
    }],
  ]);
  await server.stop();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
