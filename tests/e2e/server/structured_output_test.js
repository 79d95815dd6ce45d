// Issue 19: structured outputs through the real clients on the tiny random model, whose text
// is noise — only the grammar makes it valid. Every JSON output is checked with ajv.
'use strict';
const OpenAI = require('openai');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;
const { startServer, request, run, assert } = require('./harness');

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
function assertValid(schema, text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    assert.fail(`not JSON: ${JSON.stringify(text)}`);
  }
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${text} does not validate: ${ajv.errorsText(validate.errors)}`);
  return value;
}

// Short strings and bounded arrays, so that the noise model finishes in few tokens.
const person = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 8 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    role: { enum: ['admin', 'user', 'guest'] },
    email: { type: 'string', format: 'email' },
    tags: { type: 'array', items: { type: 'string', maxLength: 4 }, maxItems: 3 },
    address: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 6 }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
      required: ['zip'],
      additionalProperties: false,
    },
    nickname: { anyOf: [{ type: 'string', maxLength: 5 }, { type: 'null' }] },
  },
  required: ['name', 'age', 'role', 'address'],
  additionalProperties: false,
};

async function main() {
  const { generateObject } = await import('ai');
  const { createOpenAI } = await import('@ai-sdk/openai');
  const { ChatOpenAI } = require('@langchain/openai');
  const { z } = require('zod');

  const server = await startServer(['--seed', '7']);
  const client = new OpenAI({ baseURL: server.base + '/v1', apiKey: 'unused', maxRetries: 0 });
  const user = [{ role: 'user', content: 'Describe a person as JSON.' }];
  const post = (p, body) => request(server.base, 'POST', p, { body });

  const failed = await run([
    ['response_format json_schema (openai client, chat): the output validates', async () => {
      for (const temperature of [0, 1]) {
        const r = await client.chat.completions.create({
          model: 'tiny', messages: user, max_tokens: 400, temperature, seed: 3,
          response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person, strict: true } },
        });
        assert.strictEqual(r.choices[0].finish_reason, 'stop', r.choices[0].message.content);
        const value = assertValid(person, r.choices[0].message.content);
        // Keys come in the schema's order (optional ones may be missing).
        const order = Object.keys(person.properties);
        const keys = Object.keys(value).map((k) => order.indexOf(k));
        assert.deepStrictEqual(keys, [...keys].sort((a, b) => a - b), Object.keys(value).join(','));
      }
    }],
    ['response_format json_object, streamed, with n=2: each choice is a JSON object', async () => {
      const stream = await client.chat.completions.create({
        model: 'tiny', messages: user, max_tokens: 300, n: 2, temperature: 1, top_p: 0.9, seed: 5,
        response_format: { type: 'json_object' }, stream: true,
      });
      const texts = ['', ''];
      const finish = [];
      for await (const chunk of stream) {
        for (const c of chunk.choices) {
          texts[c.index] += c.delta.content || '';
          if (c.finish_reason) finish[c.index] = c.finish_reason;
        }
      }
      for (let i = 0; i < 2; i++) {
        if (finish[i] === 'stop') {
          const v = assertValid({ type: 'object' }, texts[i]);
          assert.ok(v && typeof v === 'object' && !Array.isArray(v));
        } else {
          assert.strictEqual(finish[i], 'length');
        }
      }
    }],
    ['guided_json on completions with n=2 and every sampler setting', async () => {
      const schema = { type: 'array', items: { type: 'integer', minimum: -5, maximum: 500 }, minItems: 1, maxItems: 4 };
      const r = await client.completions.create({
        model: 'tiny', prompt: 'Numbers:', max_tokens: 100, n: 2, temperature: 0.8, top_k: 20, min_p: 0.01,
        presence_penalty: 0.5, frequency_penalty: 0.5, repetition_penalty: 1.2, logprobs: 2, seed: 11,
        guided_json: schema,
      });
      assert.strictEqual(r.choices.length, 2);
      for (const c of r.choices) {
        assert.strictEqual(c.finish_reason, 'stop', c.text);
        assertValid(schema, c.text);
        for (const lp of c.logprobs.token_logprobs) assert.ok(lp > -1e9, 'sampled tokens have probability');
      }
    }],
    ['regex and choice through extra body fields (guided_* and structured_outputs)', async () => {
      const re = '[a-z]{3}-[0-9]{2}';
      for (const extra of [{ guided_regex: re }, { structured_outputs: { regex: re } }]) {
        const r = await client.completions.create({ model: 'tiny', prompt: 'Code:', max_tokens: 20, ...extra });
        assert.match(r.choices[0].text, new RegExp(`^${re}$`));
        assert.strictEqual(r.choices[0].finish_reason, 'stop');
      }
      const choices = ['yes', 'no', 'maybe later'];
      for (const extra of [{ guided_choice: choices }, { structured_outputs: { choice: choices } }]) {
        const r = await client.chat.completions.create({ model: 'tiny', messages: user, max_tokens: 20, temperature: 1, ...extra });
        assert.ok(choices.includes(r.choices[0].message.content), r.choices[0].message.content);
      }
    }],
    ['a GBNF grammar (guided_grammar, structured_outputs.grammar)', async () => {
      const grammar = 'root ::= "(" item ("," item){0,3} ")"\nitem ::= [0-9] | "x"';
      for (const extra of [{ guided_grammar: grammar }, { structured_outputs: { grammar } }]) {
        const r = await client.completions.create({ model: 'tiny', prompt: 'List:', max_tokens: 30, ...extra });
        assert.match(r.choices[0].text, /^\((?:[0-9]|x)(?:,(?:[0-9]|x)){0,3}\)$/);
      }
    }],
    ['max_tokens mid-object finishes with length (the output is a prefix)', async () => {
      const r = await client.chat.completions.create({ model: 'tiny', messages: user, max_tokens: 3,
        response_format: { type: 'json_schema', json_schema: { name: 'p', schema: person } } });
      assert.strictEqual(r.choices[0].finish_reason, 'length');
      assert.ok(r.choices[0].message.content.startsWith('{'), r.choices[0].message.content);
    }],
    ['invalid and unsupported formats are 400s that say what is wrong', async () => {
      const bad = async (body, param, pattern) => {
        const r = await post('/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 5, ...body });
        assert.strictEqual(r.status, 400, r.body);
        const e = JSON.parse(r.body).error;
        assert.strictEqual(e.param, param);
        assert.match(e.message, pattern);
      };
      await bad({ guided_regex: '(ab' }, 'guided_regex', /invalid regular expression: missing '\)'/);
      await bad({ guided_json: { type: 'string', not: { const: 'a' } } }, 'guided_json', /keyword 'not' is not supported/);
      await bad({ guided_json: { $ref: '#/$defs/nope' } }, 'guided_json', /points to nothing/);
      await bad({ guided_grammar: 'root ::= item' }, 'guided_grammar', /'item' is used but never defined/);
      await bad({ guided_choice: [] }, 'guided_choice', /non-empty list/);
      await bad({ guided_regex: 'a', guided_choice: ['a'] }, 'guided_choice', /only one kind/);
      await bad({ response_format: { type: 'json_schema' } }, 'response_format', /json_schema/);
      await bad({ response_format: { type: 'xml' } }, 'response_format', /"xml" is not supported/);
    }],
    ['LangChain withStructuredOutput (jsonSchema method) returns a validated object', async () => {
      const llm = new ChatOpenAI({ model: 'tiny', apiKey: 'unused', maxRetries: 0, maxTokens: 300, temperature: 0,
        configuration: { baseURL: server.base + '/v1' } });
      const schema = z.object({ city: z.string().max(6), population: z.number().int().min(0).max(9999), capital: z.boolean() });
      const structured = llm.withStructuredOutput(schema, { method: 'jsonSchema', name: 'city' });
      const out = await structured.invoke('Describe a city.');
      assert.strictEqual(typeof out.city, 'string');
      assert.strictEqual(typeof out.capital, 'boolean');
      assert.ok(Number.isInteger(out.population));
    }],
    ['AI SDK generateObject with the chat model and with the default (Responses) model', async () => {
      const openai = createOpenAI({ baseURL: server.base + '/v1', apiKey: 'unused' });
      const schema = z.object({ title: z.string().max(8), stars: z.number().int().min(1).max(5), tags: z.array(z.enum(['a', 'b'])).max(2) });
      for (const model of [openai.chat('tiny'), openai('tiny')]) {
        const { object, finishReason } = await generateObject({ model, schema, prompt: 'A review.', maxOutputTokens: 200, temperature: 0, maxRetries: 0 });
        assert.strictEqual(finishReason, 'stop');
        assert.ok(object.stars >= 1 && object.stars <= 5);
        assert.ok(object.title.length <= 8);
      }
    }],
  ]);
  await server.stop();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
