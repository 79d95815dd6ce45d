// What a user coming from vLLM and the OpenAI API expects of `lantern serve`, checked with
// the official `openai` npm client and raw HTTP: error classes and statuses, SSE framing,
// usage chunks, choice indexes, logprob shapes, and how unsupported features are refused.
// The reference for token ids is gpt-3-encoder (GPT-2's BPE), not our tokenizer.
'use strict';
const OpenAI = require('openai');
const gpt2 = require('gpt-3-encoder');
const { startServer, request, run, assert } = require('./harness');

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

// The raw SSE body of a streamed request, split into events (each must be "data: ...").
async function sseEvents(base, path, body) {
  const r = await request(base, 'POST', path, { body: { ...body, stream: true } });
  assert.strictEqual(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^text\/event-stream/);
  assert.ok(r.body.endsWith('data: [DONE]\n\n'), JSON.stringify(r.body.slice(-40)));
  const events = r.body.split('\n\n').filter((e) => e.length);
  for (const e of events) assert.ok(e.startsWith('data: ') && !e.includes('\n'), JSON.stringify(e));
  assert.strictEqual(events.filter((e) => e === 'data: [DONE]').length, 1);
  return events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
}

const user = [{ role: 'user', content: 'Say something' }];
const tool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

async function main() {
  const server = await startServer(['--served-model-name', 'org/tiny-alias']);
  const client = new OpenAI({ baseURL: server.base + '/v1', apiKey: 'unused', maxRetries: 0 });
  const greedy = { model: 'tiny', temperature: 0, max_tokens: 6, ignore_eos: true };
  const rejects = (promise, Class, status, param, pattern) => assert.rejects(promise, (e) => {
    assert.ok(e instanceof Class, `${e.constructor.name}: ${e.message}`);
    assert.strictEqual(e.status, status);
    assert.strictEqual(e.error.code, status);
    if (param !== undefined) assert.strictEqual(e.param, param);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });

  const failed = await run([
    ['unknown model: 404 NotFoundError naming the model, on every endpoint', async () => {
      await rejects(client.completions.create({ ...greedy, model: 'gpt-4o', prompt: 'x' }), OpenAI.NotFoundError, 404, 'model', /gpt-4o/);
      await rejects(client.chat.completions.create({ ...greedy, model: 'gpt-4o', messages: user }), OpenAI.NotFoundError, 404, 'model');
      await rejects(client.chat.completions.create({ ...greedy, model: 'gpt-4o', messages: user, stream: true }), OpenAI.NotFoundError, 404, 'model');
      for (const [path, body] of [['/tokenize', { prompt: 'x' }], ['/detokenize', { tokens: [1] }]]) {
        const r = await request(server.base, 'POST', path, { body: { model: 'gpt-4o', ...body } });
        assert.strictEqual(r.status, 404, r.body);
        assert.strictEqual(JSON.parse(r.body).error.type, 'NotFoundError');
      }
    }],
    ['models.retrieve, also for a name with a slash (raw or percent-encoded)', async () => {
      const m = await client.models.retrieve('tiny');
      assert.strictEqual(m.id, 'tiny');
      assert.strictEqual(m.object, 'model');
      assert.strictEqual(m.owned_by, 'lantern');
      assert.strictEqual((await client.models.retrieve('org/tiny-alias')).id, 'org/tiny-alias');
      const encoded = await request(server.base, 'GET', '/v1/models/org%2Ftiny-alias');
      assert.strictEqual(JSON.parse(encoded.body).id, 'org/tiny-alias');
      await rejects(client.models.retrieve('gpt-4o'), OpenAI.NotFoundError, 404, 'model', /The model `gpt-4o` does not exist/);
      for (const [path, name] of [['/v1/models/org%2Fnope', 'org/nope'], ['/v1/models/org/nope', 'org/nope']]) {
        const missing = await request(server.base, 'GET', path);
        assert.strictEqual(missing.status, 404, missing.body);
        const { error } = JSON.parse(missing.body);
        assert.strictEqual(error.type, 'NotFoundError');
        assert.strictEqual(error.param, 'model');
        assert.ok(error.message.startsWith('The model `' + name + '` does not exist'), error.message);
      }
      const raw = await request(server.base, 'GET', '/v1/models/org/tiny-alias');
      assert.strictEqual(JSON.parse(raw.body).id, 'org/tiny-alias');
      // The alias is a served name: requests may use it, and responses report it.
      const r = await client.completions.create({ ...greedy, model: 'org/tiny-alias', prompt: 'x' });
      assert.strictEqual(r.model, 'org/tiny-alias');
    }],
    ['Content-Type: JSON (with charset) or none is read; form or text gets 415', async () => {
      const body = JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 1 });
      for (const [type, status] of [['application/json; charset=utf-8', 200], [undefined, 200],
        ['application/x-www-form-urlencoded', 415], ['text/plain', 415]]) {
        const headers = type ? { 'Content-Type': type } : {};
        const r = await request(server.base, 'POST', '/v1/completions', { body, headers });
        assert.strictEqual(r.status, status, `${type}: ${r.body}`);
        if (status !== 200) assert.match(JSON.parse(r.body).error.message, /application\/json/);
      }
    }],
    ['nulls, harmless OpenAI fields and unknown fields are accepted (unknown ones warned once each, as vLLM)', async () => {
      const r = await client.chat.completions.create({ ...greedy, messages: user, user: 'u-1', metadata: { a: 'b' },
        store: false, top_logprobs: null, stop: null, seed: null, tools: null, tool_choice: null,
        parallel_tool_calls: false, prompt_cache_key: 'k', not_an_openai_field: null });
      assert.strictEqual(r.choices[0].finish_reason, 'length');
      const c = await client.completions.create({ ...greedy, prompt: 'x', frobnicate: 1 });
      assert.strictEqual(c.choices[0].finish_reason, 'length');
    }],
    ['unsupported features are refused clearly, never silently ignored', async () => {
      await rejects(client.chat.completions.create({ ...greedy, messages: user, response_format: { type: 'json_schema',
        json_schema: { name: 'x', schema: { type: 'array', uniqueItems: true } } } }),
        OpenAI.BadRequestError, 400, 'response_format', /keyword 'uniqueItems' is not supported/);
      await rejects(client.chat.completions.create({ ...greedy, messages: user, tools: [tool] }),
        OpenAI.BadRequestError, 400, 'tool_choice', /tool-call parser/);
      await rejects(client.completions.create({ ...greedy, prompt: 'x', guided_regex: 'a(?=b)' }),
        OpenAI.BadRequestError, 400, 'guided_regex', /lookaround assertions are not supported/);
      // tool_choice "none": the tools are rendered into the prompt and the reply is text.
      const plain = await client.chat.completions.create({ ...greedy, messages: user });
      const withTools = await client.chat.completions.create({ ...greedy, messages: user, tools: [tool], tool_choice: 'none' });
      assert.ok(withTools.usage.prompt_tokens > plain.usage.prompt_tokens);
      assert.strictEqual(typeof withTools.choices[0].message.content, 'string');
    }],
    ['completions logprobs: the sampled token is always in top_logprobs (N + 1 at most)', async () => {
      for (const logprobs of [0, 2]) {
        const r = await client.completions.create({ model: 'tiny', prompt: 'Sample', max_tokens: 8, temperature: 1.5, seed: 3, ignore_eos: true, logprobs });
        const lp = r.choices[0].logprobs;
        for (let i = 0; i < lp.tokens.length; i++) {
          const top = lp.top_logprobs[i];
          assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= logprobs + 1, JSON.stringify(top));
          assert.strictEqual(top[lp.tokens[i]], lp.token_logprobs[i], JSON.stringify({ token: lp.tokens[i], top }));
        }
      }
    }],
    ['chat logprobs: exactly top_logprobs alternatives, [] when only logprobs', async () => {
      const r = await client.chat.completions.create({ ...greedy, messages: user, logprobs: true });
      for (const c of r.choices[0].logprobs.content) assert.deepStrictEqual(c.top_logprobs, []);
      const top = await client.chat.completions.create({ ...greedy, messages: user, logprobs: true, top_logprobs: 3 });
      for (const c of top.choices[0].logprobs.content) assert.strictEqual(c.top_logprobs.length, 3);
    }],
    ['SSE framing; include_usage ends with a usage chunk with no choices', async () => {
      for (const [path, extra] of [['/v1/completions', { prompt: 'Stream me' }], ['/v1/chat/completions', { messages: user }]]) {
        const chunks = await sseEvents(server.base, path, { ...greedy, ...extra, stream_options: { include_usage: true } });
        const chat = path.includes('chat');
        for (const c of chunks) {
          assert.strictEqual(c.object, chat ? 'chat.completion.chunk' : 'text_completion');
          assert.match(c.id, chat ? /^chatcmpl-/ : /^cmpl-/);
          assert.strictEqual(c.id, chunks[0].id);
          assert.strictEqual(c.created, chunks[0].created);
        }
        const last = chunks[chunks.length - 1];
        assert.deepStrictEqual(last.choices, []);
        assert.strictEqual(last.usage.completion_tokens, 6);
        assert.strictEqual(last.usage.total_tokens, last.usage.prompt_tokens + 6);
        for (const c of chunks.slice(0, -1)) assert.strictEqual(c.usage, undefined);
      }
    }],
    ['continuous_usage_stats: every chunk (chat\'s role chunk too) carries the usage so far', async () => {
      const options = { include_usage: true, continuous_usage_stats: true };
      for (const [path, extra] of [['/v1/completions', { prompt: 'Count', echo: true }], ['/v1/chat/completions', { messages: user }]]) {
        const chunks = await sseEvents(server.base, path, { ...greedy, ...extra, stream_options: options });
        let previous = 0;
        for (const c of chunks) {
          assert.ok(c.usage, JSON.stringify(c));
          assert.ok(c.usage.completion_tokens >= previous);
          assert.strictEqual(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
          previous = c.usage.completion_tokens;
        }
        assert.strictEqual(previous, 6);
      }
    }],
    ['n > 1: chat choices indexed 0..n-1, each with a role first and a finish last', async () => {
      const whole = await client.chat.completions.create({ ...greedy, messages: user, n: 3, temperature: 1, seed: 5 });
      assert.deepStrictEqual(whole.choices.map((c) => c.index), [0, 1, 2]);
      assert.strictEqual(whole.usage.completion_tokens, 18);
      const chunks = await collect(await client.chat.completions.create({ ...greedy, messages: user, n: 3, temperature: 1, seed: 5, stream: true }));
      for (const index of [0, 1, 2]) {
        const mine = chunks.filter((c) => c.choices.length && c.choices[0].index === index);
        assert.strictEqual(mine[0].choices[0].delta.role, 'assistant');
        assert.strictEqual(mine[mine.length - 1].choices[0].finish_reason, 'length');
        // Seeded: the stream says what the whole response said.
        assert.strictEqual(mine.map((c) => c.choices[0].delta.content || '').join(''), whole.choices[index].message.content);
      }
    }],
    ['seed: the same seed gives the same sample', async () => {
      const ask = () => client.completions.create({ model: 'tiny', prompt: 'Random', max_tokens: 10, temperature: 1, seed: 1234, ignore_eos: true });
      assert.strictEqual((await ask()).choices[0].text, (await ask()).choices[0].text);
    }],
    ['truncate_prompt_tokens keeps the prompt\'s last tokens (vLLM)', async () => {
      const ids = gpt2.encode('one two three four five six seven');
      const r = await client.completions.create({ ...greedy, max_tokens: 1, prompt: ids, echo: true, truncate_prompt_tokens: 3 });
      assert.strictEqual(r.usage.prompt_tokens, 3);
      assert.ok(r.choices[0].text.startsWith(gpt2.decode(ids.slice(-3))), r.choices[0].text);
    }],
    ['chat echo (vLLM): the reply starts with the assistant message being continued', async () => {
      const messages = [...user, { role: 'assistant', content: 'Once upon' }];
      const args = { ...greedy, messages, echo: true, add_generation_prompt: false, continue_final_message: true };
      const plain = await client.chat.completions.create({ ...args, echo: false });
      const r = await client.chat.completions.create(args);
      assert.strictEqual(r.choices[0].message.content, 'Once upon' + plain.choices[0].message.content);
      const chunks = await collect(await client.chat.completions.create({ ...args, stream: true }));
      assert.strictEqual(chunks.map((c) => c.choices[0].delta.content || '').join(''), r.choices[0].message.content);
      // The last message is the user's: nothing to echo.
      const asked = await client.chat.completions.create({ ...greedy, messages: user, echo: true });
      assert.ok(!asked.choices[0].message.content.startsWith(user[0].content));
    }],
    ['prompt scoring (lm-evaluation-harness local-completions): echo + max_tokens 0', async () => {
      const ids = gpt2.encode('The quick brown fox');
      for (const [prompt, texts] of [['The quick brown fox', ['The quick brown fox']], [ids, ['The quick brown fox']],
        [[ids, ids.slice(0, 2)], ['The quick brown fox', gpt2.decode(ids.slice(0, 2))]]]) {
        for (const logprobs of [0, 1, 5]) {
          const r = await client.completions.create({ model: 'tiny', prompt, echo: true, max_tokens: 0, logprobs, temperature: 0 });
          assert.deepStrictEqual(r.choices.map((c) => c.text), texts);
          assert.strictEqual(r.usage.completion_tokens, 0);
          assert.strictEqual(r.usage.total_tokens, r.usage.prompt_tokens);
          for (const c of r.choices) {
            assert.strictEqual(c.finish_reason, 'length');
            const lp = c.logprobs;
            // The prompt's tokens only: as many as the prompt, joined back into it.
            assert.strictEqual(lp.tokens.join(''), c.text);
            assert.strictEqual(lp.token_logprobs[0], null);
            assert.strictEqual(lp.top_logprobs[0], null);
            for (let i = 1; i < lp.tokens.length; i++) {
              assert.ok(lp.token_logprobs[i] < 0, JSON.stringify(lp));
              assert.ok(Object.keys(lp.top_logprobs[i]).length <= logprobs + 1);
            }
          }
          assert.strictEqual(r.usage.prompt_tokens, r.choices.reduce((sum, c) => sum + c.logprobs.tokens.length, 0));
        }
      }
      // The same scores as a generation that echoes the prompt.
      const scored = await client.completions.create({ model: 'tiny', prompt: ids, echo: true, max_tokens: 0, logprobs: 1 });
      const generated = await client.completions.create({ ...greedy, prompt: ids, echo: true, max_tokens: 2, logprobs: 1 });
      assert.deepStrictEqual(scored.choices[0].logprobs.token_logprobs,
        generated.choices[0].logprobs.token_logprobs.slice(0, ids.length));
      // Without logprobs: the prompt alone.
      const plain = await client.completions.create({ model: 'tiny', prompt: 'Echo only', echo: true, max_tokens: 0 });
      assert.strictEqual(plain.choices[0].text, 'Echo only');
      assert.strictEqual(plain.choices[0].logprobs, null);
      // Streamed: the prompt (with its logprobs), then the finish; no generated text.
      const chunks = await sseEvents(server.base, '/v1/completions', { model: 'tiny', prompt: 'Echo only', echo: true,
        max_tokens: 0, logprobs: 1, stream_options: { include_usage: true } });
      const choiceChunks = chunks.filter((c) => c.choices.length);
      assert.strictEqual(choiceChunks.map((c) => c.choices[0].text).join(''), 'Echo only');
      assert.strictEqual(choiceChunks[0].choices[0].logprobs.tokens.join(''), 'Echo only');
      assert.strictEqual(choiceChunks[choiceChunks.length - 1].choices[0].finish_reason, 'length');
      assert.strictEqual(chunks[chunks.length - 1].usage.completion_tokens, 0);
      // As vLLM: max_tokens 0 without echo is refused.
      await rejects(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 0 }), OpenAI.BadRequestError, 400, 'max_tokens', /echo/);
    }],
    ['stop_token_ids end with finish_reason "stop" and the id as stop_reason', async () => {
      const first = await client.completions.create({ ...greedy, prompt: 'Stop', logprobs: 0, return_tokens_as_token_ids: true });
      const id = Number(first.choices[0].logprobs.tokens[2].slice('token_id:'.length));
      const r = await client.completions.create({ ...greedy, prompt: 'Stop', stop_token_ids: [id] });
      assert.strictEqual(r.choices[0].finish_reason, 'stop');
      assert.strictEqual(r.choices[0].stop_reason, id);
      assert.ok(r.usage.completion_tokens <= 3);
    }],
  ]);
  const code = await server.stop();
  assert.strictEqual(code, 0, 'server exit code');

  const keyed = await startServer([], { env: { LANTERN_API_KEY: 'sk-compat' } });
  const failedKey = await run([
    ['a wrong key is an AuthenticationError on every /v1 route', async () => {
      const bad = new OpenAI({ baseURL: keyed.base + '/v1', apiKey: 'sk-wrong', maxRetries: 0 });
      await rejects(bad.models.list(), OpenAI.AuthenticationError, 401);
      await rejects(bad.completions.create({ model: 'tiny', prompt: 'x' }), OpenAI.AuthenticationError, 401);
      await rejects(bad.chat.completions.create({ model: 'tiny', messages: user }), OpenAI.AuthenticationError, 401);
    }],
  ]);
  await keyed.stop();
  process.exit(failed + failedKey ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
