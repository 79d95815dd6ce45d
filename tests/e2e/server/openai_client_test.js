// The official `openai` npm client (and curl) against `lantern serve`. References that are
// not ours: gpt-3-encoder (GPT-2's BPE) for token ids, @huggingface/jinja for the chat template.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const OpenAI = require('openai');
const gpt2 = require('gpt-3-encoder');
const { Template } = require('@huggingface/jinja');
const { startServer, request, run, assert, MODEL } = require('./harness');

const MODEL_NO_TEMPLATE = process.env.LANTERN_TEST_MODEL_NO_TEMPLATE;
const CURL = process.env.CURL || 'curl';

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function main() {
  const server = await startServer();
  const client = new OpenAI({ baseURL: server.base + '/v1', apiKey: 'unused', maxRetries: 0 });
  const greedy = { model: 'tiny', temperature: 0, max_tokens: 12, ignore_eos: true };
  const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(MODEL, 'tokenizer_config.json')));

  const failed = await run([
    ['models.list names the served model', async () => {
      const models = await client.models.list();
      assert.deepStrictEqual(models.data.map((m) => m.id), ['tiny']);
    }],
    ['/tokenize and /detokenize agree with GPT-2 BPE (gpt-3-encoder)', async () => {
      for (const text of ['Hello world', ' leading space and  double', "it's 2024: naïve café ☕ 你好", 'a\nb\tc']) {
        const r = await request(server.base, 'POST', '/tokenize', { body: { prompt: text } });
        assert.strictEqual(r.status, 200, r.body);
        const body = JSON.parse(r.body);
        assert.deepStrictEqual(body.tokens, gpt2.encode(text), text);
        assert.strictEqual(body.count, body.tokens.length);
        const d = await request(server.base, 'POST', '/detokenize', { body: { tokens: body.tokens } });
        assert.strictEqual(JSON.parse(d.body).prompt, gpt2.decode(body.tokens));
      }
    }],
    ['completion, not streamed: usage and length finish', async () => {
      const prompt = 'The quick brown fox';
      const r = await client.completions.create({ ...greedy, prompt });
      assert.strictEqual(r.object, 'text_completion');
      assert.match(r.id, /^cmpl-/);
      assert.strictEqual(r.choices.length, 1);
      assert.strictEqual(r.choices[0].finish_reason, 'length');
      assert.strictEqual(r.usage.prompt_tokens, gpt2.encode(prompt).length);
      assert.strictEqual(r.usage.completion_tokens, 12);
      assert.strictEqual(r.usage.total_tokens, r.usage.prompt_tokens + 12);
    }],
    ['completion streamed equals not streamed (greedy), usage chunk when asked', async () => {
      const prompt = 'Once upon a time';
      const whole = await client.completions.create({ ...greedy, prompt });
      const chunks = await collect(await client.completions.create({
        ...greedy, prompt, stream: true, stream_options: { include_usage: true } }));
      const text = chunks.filter((c) => c.choices.length).map((c) => c.choices[0].text).join('');
      assert.strictEqual(text, whole.choices[0].text);
      const withChoices = chunks.filter((c) => c.choices.length);
      assert.strictEqual(withChoices[withChoices.length - 1].choices[0].finish_reason, 'length');
      for (const c of withChoices.slice(0, -1)) assert.strictEqual(c.choices[0].finish_reason, null);
      const last = chunks[chunks.length - 1];
      assert.deepStrictEqual(last.choices, []);
      assert.deepStrictEqual(last.usage, whole.usage);
    }],
    ['completion logprobs: tokens spell the text, top-N per position', async () => {
      const r = await client.completions.create({ ...greedy, prompt: 'Numbers: 1, 2, 3,', logprobs: 3 });
      const lp = r.choices[0].logprobs;
      assert.strictEqual(lp.tokens.length, 12);
      // Single tokens may be parts of one UTF-8 character (shown as U+FFFD alone).
      if (!lp.tokens.some((t) => t.includes('\uFFFD'))) assert.strictEqual(lp.tokens.join(''), r.choices[0].text);
      assert.strictEqual(lp.token_logprobs.length, 12);
      for (let i = 0; i < 12; i++) {
        assert.ok(lp.token_logprobs[i] <= 0);
        const top = Object.values(lp.top_logprobs[i]);
        assert.ok(top.length >= 1 && top.length <= 3);
        // Greedy: the chosen token is the most likely one.
        assert.ok(Math.abs(Math.max(...top) - lp.token_logprobs[i]) < 1e-4, JSON.stringify(lp.top_logprobs[i]));
      }
      assert.strictEqual(lp.text_offset[0], 0);
    }],
    ['generated text is the GPT-2 decoding of the generated ids (return_tokens_as_token_ids)', async () => {
      for (const prompt of ['Decode me', 'Ünïcödé → ✓', '1 2 3']) {
        const r = await client.completions.create({ ...greedy, max_tokens: 16, prompt, logprobs: 0, return_tokens_as_token_ids: true });
        const ids = r.choices[0].logprobs.tokens.map((t) => Number(/^token_id:(\d+)$/.exec(t)[1]));
        assert.strictEqual(ids.length, 16);
        // A trailing incomplete UTF-8 sequence is held back (never shown as U+FFFD).
        const reference = gpt2.decode(ids).replace(/\uFFFD+$/, '');
        assert.strictEqual(r.choices[0].text, reference);
        const chunks = await collect(await client.completions.create({ ...greedy, max_tokens: 16, prompt, stream: true }));
        assert.strictEqual(chunks.map((c) => (c.choices[0] ? c.choices[0].text : '')).join(''), reference);
      }
    }],
    ['prompt as token ids, a list of prompts, echo', async () => {
      const ids = gpt2.encode('Token ids in');
      const r = await client.completions.create({ ...greedy, max_tokens: 4, prompt: ids, echo: true });
      assert.ok(r.choices[0].text.startsWith(gpt2.decode(ids)), r.choices[0].text);
      const many = await client.completions.create({ ...greedy, max_tokens: 3, prompt: ['one', 'two', 'three'] });
      assert.deepStrictEqual(many.choices.map((c) => c.index), [0, 1, 2]);
      const lists = await client.completions.create({ ...greedy, max_tokens: 3, prompt: [gpt2.encode('one'), gpt2.encode('two')] });
      assert.strictEqual(lists.choices.length, 2);
      assert.strictEqual(lists.choices[0].text, many.choices[0].text);
    }],
    ['echo with logprobs scores the prompt; prompt_logprobs in vLLM\'s shape', async () => {
      const ids = gpt2.encode('Scores for every prompt token');
      const first = await client.completions.create({ ...greedy, max_tokens: 2, prompt: ids, logprobs: 2 });
      const generated = first.choices[0].logprobs;
      // The prompt followed by the first generated token: its prompt logprob must equal the
      // logprob it had when it was generated (prefill's logits against decode's).
      const nextId = gpt2.encode(generated.tokens[0]);
      assert.strictEqual(nextId.length, 1, JSON.stringify(generated.tokens));
      const longer = [...ids, nextId[0]];
      const r = await client.completions.create({ ...greedy, max_tokens: 1, prompt: longer, echo: true, logprobs: 2 });
      const lp = r.choices[0].logprobs;
      assert.strictEqual(lp.tokens.length, longer.length + 1);
      assert.strictEqual(lp.token_logprobs[0], null);
      assert.strictEqual(lp.top_logprobs[0], null);
      assert.strictEqual(lp.text_offset[0], 0);
      for (let i = 1; i < lp.text_offset.length; ++i) {
        assert.strictEqual(lp.text_offset[i], lp.text_offset[i - 1] + lp.tokens[i - 1].length);
      }
      assert.ok(Math.abs(lp.token_logprobs[longer.length - 1] - generated.token_logprobs[0]) < 1e-3,
                `${lp.token_logprobs[longer.length - 1]} vs ${generated.token_logprobs[0]}`);
      const prompt = r.choices[0].prompt_logprobs;
      assert.strictEqual(prompt.length, longer.length);
      assert.strictEqual(prompt[0], null);
      for (let i = 1; i < longer.length; ++i) {
        const entry = prompt[i][String(longer[i])];
        assert.ok(entry, `position ${i}: ${JSON.stringify(prompt[i])}`);
        assert.ok(Math.abs(entry.logprob - lp.token_logprobs[i]) < 1e-6);
        assert.strictEqual(entry.decoded_token, lp.tokens[i]);
      }
      // Greedy picked the last token, so it is the most likely there.
      assert.strictEqual(prompt[longer.length - 1][String(nextId[0])].rank, 1);
      // Streamed: the echoed prompt arrives first, with its logprobs.
      const chunks = await collect(await client.completions.create({ ...greedy, max_tokens: 2, prompt: ids, echo: true, logprobs: 1, stream: true }));
      assert.strictEqual(chunks[0].choices[0].text, gpt2.decode(ids));
      assert.strictEqual(chunks[0].choices[0].logprobs.tokens.length, ids.length);
      // Chat: vLLM's prompt_logprobs beside the choices.
      const chat = await request(server.base, 'POST', '/v1/chat/completions', { body: { model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1, prompt_logprobs: 0 } });
      const body = JSON.parse(chat.body);
      assert.strictEqual(body.prompt_logprobs[0], null);
      assert.ok(body.prompt_logprobs.length > 2, chat.body);
    }],
    ['n > 1: n choices, usage over all of them', async () => {
      const r = await client.completions.create({ model: 'tiny', prompt: 'Pick', n: 3, max_tokens: 5, temperature: 1.0, seed: 11, ignore_eos: true });
      assert.deepStrictEqual(r.choices.map((c) => c.index).sort(), [0, 1, 2]);
      assert.strictEqual(r.usage.completion_tokens, 15);
      const chunks = await collect(await client.completions.create({ model: 'tiny', prompt: 'Pick', n: 2, max_tokens: 4, stream: true, ignore_eos: true }));
      const finished = chunks.filter((c) => c.choices.length && c.choices[0].finish_reason).map((c) => c.choices[0].index).sort();
      assert.deepStrictEqual(finished, [0, 1]);
    }],
    ['stop strings cut the text where they first appear', async () => {
      const whole = (await client.completions.create({ ...greedy, max_tokens: 24, prompt: 'A B C D' })).choices[0].text;
      // A stop string taken from the middle of the greedy output.
      const stop = whole.slice(Math.floor(whole.length / 2), Math.floor(whole.length / 2) + 2);
      assert.strictEqual(stop.length, 2, JSON.stringify(whole));
      const r = await client.completions.create({ ...greedy, max_tokens: 24, prompt: 'A B C D', stop: [stop] });
      assert.strictEqual(r.choices[0].finish_reason, 'stop');
      assert.strictEqual(r.choices[0].text, whole.slice(0, whole.indexOf(stop)));
      assert.strictEqual(r.choices[0].stop_reason, stop);
      const kept = await client.completions.create({ ...greedy, max_tokens: 24, prompt: 'A B C D', stop: [stop], include_stop_str_in_output: true });
      assert.strictEqual(kept.choices[0].text, whole.slice(0, whole.indexOf(stop) + stop.length));
    }],
    ['chat: prompt tokens equal the template rendered by @huggingface/jinja', async () => {
      const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hi there' }];
      const rendered = new Template(tokenizerConfig.chat_template).render({ messages, add_generation_prompt: true, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' });
      const t = JSON.parse((await request(server.base, 'POST', '/tokenize', { body: { messages } })).body);
      assert.deepStrictEqual(t.tokens, gpt2.encode(rendered));
      const r = await client.chat.completions.create({ ...greedy, messages });
      assert.strictEqual(r.object, 'chat.completion');
      assert.strictEqual(r.choices[0].message.role, 'assistant');
      assert.strictEqual(r.usage.prompt_tokens, gpt2.encode(rendered).length);
      assert.strictEqual(r.choices[0].finish_reason, 'length');
    }],
    ['chat streamed: role first, finish_reason last, same text', async () => {
      const messages = [{ role: 'user', content: [{ type: 'text', text: 'Tell me' }, { type: 'text', text: 'a story' }] }];
      const whole = await client.chat.completions.create({ ...greedy, messages, max_completion_tokens: 10, max_tokens: undefined });
      const chunks = await collect(await client.chat.completions.create({ ...greedy, messages, max_completion_tokens: 10, max_tokens: undefined, stream: true, stream_options: { include_usage: true } }));
      assert.strictEqual(chunks[0].choices[0].delta.role, 'assistant');
      assert.strictEqual(chunks[0].object, 'chat.completion.chunk');
      const content = chunks.filter((c) => c.choices.length).map((c) => c.choices[0].delta.content || '').join('');
      assert.strictEqual(content, whole.choices[0].message.content);
      const withChoices = chunks.filter((c) => c.choices.length);
      assert.strictEqual(withChoices[withChoices.length - 1].choices[0].finish_reason, 'length');
      assert.strictEqual(chunks[chunks.length - 1].usage.completion_tokens, 10);
    }],
    ['chat logprobs with top_logprobs', async () => {
      const r = await client.chat.completions.create({ ...greedy, max_tokens: 5, messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: 2 });
      const content = r.choices[0].logprobs.content;
      assert.strictEqual(content.length, 5);
      if (!content.some((c) => c.token.includes('\uFFFD'))) {
        assert.strictEqual(content.map((c) => c.token).join(''), r.choices[0].message.content);
      }
      for (const c of content) {
        assert.strictEqual(c.top_logprobs.length, 2);
        assert.deepStrictEqual(c.bytes, [...Buffer.from(c.token, 'utf8')]);
      }
    }],
    ['errors reach the client typed: 400 names the field', async () => {
      await assert.rejects(client.completions.create({ model: 'tiny', prompt: 'x', temperature: -1 }),
        (e) => e.status === 400 && /temperature/.test(e.message));
      await assert.rejects(client.completions.create({ model: 'nope', prompt: 'x' }),
        (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.param === 'model');
      await assert.rejects(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 100000 }),
        (e) => e.status === 400 && /maximum context length/.test(e.message));
    }],
    ['curl: completion JSON and an SSE stream ending in [DONE]', async () => {
      const body = JSON.stringify({ model: 'tiny', prompt: 'curl says', max_tokens: 3, temperature: 0 });
      const out = execFileSync(CURL, ['-sS', '-H', 'Content-Type: application/json', '-d', body, server.base + '/v1/completions']).toString();
      assert.strictEqual(JSON.parse(out).usage.completion_tokens <= 3, true);
      const sbody = JSON.stringify({ model: 'tiny', prompt: 'curl says', max_tokens: 3, temperature: 0, stream: true });
      const sse = execFileSync(CURL, ['-sSN', '-H', 'Content-Type: application/json', '-d', sbody, server.base + '/v1/completions']).toString();
      const events = sse.split('\n\n').filter((e) => e.length);
      assert.strictEqual(events[events.length - 1], 'data: [DONE]');
      for (const e of events.slice(0, -1)) JSON.parse(e.slice('data: '.length));
      const health = execFileSync(CURL, ['-s', '-o', '/dev/null', '-w', '%{http_code}', server.base + '/health']).toString();
      assert.strictEqual(health, '200');
    }],
  ]);
  const code = await server.stop();
  assert.strictEqual(code, 0, 'server exit code');

  // API keys, and a model without a chat template.
  const keyed = await startServer(['--disable-log-requests'], { env: { LANTERN_API_KEY: 'sk-test-123' } });
  const failedKey = await run([
    ['API key: wrong key 401, right key works, /health needs none', async () => {
      const bad = new OpenAI({ baseURL: keyed.base + '/v1', apiKey: 'sk-wrong', maxRetries: 0 });
      await assert.rejects(bad.models.list(), (e) => e.status === 401);
      const good = new OpenAI({ baseURL: keyed.base + '/v1', apiKey: 'sk-test-123', maxRetries: 0 });
      assert.strictEqual((await good.models.list()).data[0].id, 'tiny');
      assert.strictEqual((await request(keyed.base, 'GET', '/health')).status, 200);
      assert.ok(!keyed.logs().includes('sk-test-123'), 'the key must never be logged');
    }],
  ]);
  await keyed.stop();
  const plain = await startServer([], { model: MODEL_NO_TEMPLATE });
  const failedPlain = await run([
    ['no chat template: a clear 400', async () => {
      const c = new OpenAI({ baseURL: plain.base + '/v1', apiKey: 'x', maxRetries: 0 });
      await assert.rejects(c.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }] }),
        (e) => e.status === 400 && /chat template/.test(e.message));
    }],
  ]);
  await plain.stop();
  process.exit(failed + failedKey + failedPlain ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
