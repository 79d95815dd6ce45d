// A table of malformed and hostile requests against the real server: each gets the right
// status and an error naming the problem, and the server keeps serving the next request.
'use strict';
const net = require('net');
const { startServer, request, run, assert } = require('./harness');

// Sends raw bytes on a fresh connection; resolves with everything the server sent back
// before closing (or after `waitMs` of silence).
function raw(port, bytes, { waitMs = 5000, chunks = null, gapMs = 0 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let timer;
    const finish = () => { clearTimeout(timer); socket.destroy(); resolve(data); };
    timer = setTimeout(finish, waitMs);
    socket.on('data', (d) => { data += d.toString('latin1'); });
    socket.on('end', finish);
    socket.on('error', finish);
    socket.on('connect', async () => {
      if (chunks) {
        for (const c of chunks) {
          if (socket.destroyed) break;
          socket.write(c);
          await new Promise((r) => setTimeout(r, gapMs));
        }
      } else {
        socket.write(bytes);
      }
    });
  });
}

// Like raw(), but resolves {data, closed}: closed is true when the server ended the
// connection itself within `waitMs` (a framing error must close it).
function rawUntilClose(port, bytes, waitMs = 3000) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let timer;
    const finish = (closed) => { clearTimeout(timer); socket.destroy(); resolve({ data, closed }); };
    timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => { data += d.toString('latin1'); });
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => socket.write(bytes));
  });
}

// How many responses (status lines) a raw exchange got back.
function responseCount(data) { return (data.match(/HTTP\/1\.1 \d{3} /g) || []).length; }

function statusOf(response) { return Number(response.slice(9, 12)); }
function errorOf(response) {
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  return JSON.parse(body).error;
}

const user = [{ role: 'user', content: 'hi' }];
// [name, path, body (object or raw string), expected status, regex on message]
const jsonCases = [
  ['bad JSON', '/v1/completions', '{"prompt": "x",', 400, /^The request body is not valid JSON: line 1, column 16: unexpected end of input/],
  ['empty body', '/v1/completions', '', 400, /^The request body is empty: send a JSON object$/],
  ['body is an array', '/v1/completions', '[1,2]', 400, /JSON object/],
  ['invalid UTF-8 in a string', '/v1/completions', '{"prompt": "\xff\xfe"}', 400, /not valid JSON/],
  ['deeply nested JSON', '/v1/completions', '['.repeat(100000), 400, /nests/],
  ['prompt missing', '/v1/completions', { model: 'tiny' }, 400, /'prompt' is required/],
  ['prompt a number', '/v1/completions', { prompt: 5 }, 400, /'prompt' must be/],
  ['prompt empty list', '/v1/completions', { prompt: [] }, 400, /empty list/],
  ['prompt mixed list', '/v1/completions', { prompt: ['a', 1] }, 400, /prompt\[1\]/],
  ['negative token id', '/v1/completions', { prompt: [1, -5] }, 400, /prompt\[1\]/],
  ['token id beyond the vocabulary', '/v1/completions', { prompt: [1, 60000] }, 400, /outside the vocabulary/],
  ['empty string prompt', '/v1/completions', { prompt: '' }, 400, /prompt/],
  ['temperature a string', '/v1/completions', { prompt: 'x', temperature: 'hot' }, 400, /'temperature' must be a number/],
  ['temperature negative', '/v1/completions', { prompt: 'x', temperature: -1 }, 400, /temperature/],
  ['top_p above 1', '/v1/completions', { prompt: 'x', top_p: 2 }, 400, /top_p/],
  ['top_k below -1', '/v1/completions', { prompt: 'x', top_k: -5 }, 400, /top_k/],
  ['min_p above 1', '/v1/completions', { prompt: 'x', min_p: 2 }, 400, /min_p/],
  ['repetition_penalty zero', '/v1/completions', { prompt: 'x', repetition_penalty: 0 }, 400, /repetition_penalty/],
  ['presence_penalty out of range', '/v1/completions', { prompt: 'x', presence_penalty: 5 }, 400, /presence_penalty/],
  ['max_tokens zero', '/v1/completions', { prompt: 'x', max_tokens: 0 }, 400, /max_tokens/],
  ['max_tokens fractional', '/v1/completions', { prompt: 'x', max_tokens: 2.5 }, 400, /max_tokens/],
  ['max_tokens past the context', '/v1/completions', { prompt: 'x', max_tokens: 100000 }, 400, /maximum context length/],
  ['n zero', '/v1/completions', { prompt: 'x', n: 0 }, 400, /'n'/],
  ['n huge', '/v1/completions', { prompt: 'x', n: 100000 }, 400, /'n'/],
  ['best_of greater than n', '/v1/completions', { prompt: 'x', n: 1, best_of: 3 }, 400, /best_of/],
  ['suffix', '/v1/completions', { prompt: 'x', suffix: 'y' }, 400, /suffix/],
  ['logprobs too many', '/v1/completions', { prompt: 'x', logprobs: 50 }, 400, /logprobs/],
  ['stream not a boolean', '/v1/completions', { prompt: 'x', stream: 'yes' }, 400, /'stream' must be a boolean/],
  ['prompt_logprobs streamed', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], stream: true, prompt_logprobs: 1 }, 400, /prompt_logprobs/],
  ['stream_options without stream', '/v1/completions', { prompt: 'x', stream_options: { include_usage: true } }, 400, /stream_options/],
  ['empty stop string', '/v1/completions', { prompt: 'x', stop: [''] }, 400, /stop/],
  ['seed a string', '/v1/completions', { prompt: 'x', seed: 'abc' }, 400, /seed/],
  ['logit_bias bad key', '/v1/completions', { prompt: 'x', logit_bias: { abc: 1 } }, 400, /logit_bias/],
  ['unknown model', '/v1/completions', { prompt: 'x', model: 'gpt-5' }, 404, /gpt-5/],
  ['chat: messages missing', '/v1/chat/completions', { model: 'tiny' }, 400, /'messages' is required/],
  ['chat: messages empty', '/v1/chat/completions', { messages: [] }, 400, /^'messages' must not be empty$/],
  ['chat: bad role', '/v1/chat/completions', { messages: [{ role: 'wizard', content: 'x' }] }, 400, /messages\[0\]\.role/],
  ['chat: content a number', '/v1/chat/completions', { messages: [{ role: 'user', content: 5 }] }, 400, /messages\[0\]\.content/],
  ['chat: image part', '/v1/chat/completions', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 400, /not supported/],
  ['chat: top_logprobs without logprobs', '/v1/chat/completions', { messages: user, top_logprobs: 2 }, 400, /top_logprobs/],
  ['chat: negative max_completion_tokens', '/v1/chat/completions', { messages: user, max_completion_tokens: -1 }, 400, /max_completion_tokens/],
  // A request's own template is refused without --trust-request-chat-template (the
  // template_budget suite covers templates with the flag).
  ['chat: own template refused', '/v1/chat/completions', { messages: user, chat_template: '{% for %}' }, 400, /--trust-request-chat-template/],
  ['tokenize: own template refused', '/tokenize', { messages: user, chat_template: '{{ messages }}' }, 400, /--trust-request-chat-template/],
  ['tokenize: nothing to tokenize', '/tokenize', {}, 400, /prompt/],
  ['detokenize: tokens not a list', '/detokenize', { tokens: 'abc' }, 400, /tokens/],
  ['detokenize: token out of range', '/detokenize', { tokens: [99999999] }, 400, /outside the vocabulary/],
];

// Numbers out of range (issue 13): beyond a double anywhere in the body, even in an ignored
// field, or beyond an int64 where an integer is expected. [name, path, raw body, param,
// regex on message]; each is a 400 naming the field, and a completion works afterwards.
const beyondDouble = /is a number beyond the range of a double/;
const notAnInteger = /must be an integer/;
const numberCases = [
  ['max_tokens 1e999', '/v1/completions', '{"prompt": "x", "max_tokens": 1e999}', 'max_tokens', beyondDouble],
  ['max_tokens -1e999', '/v1/completions', '{"prompt": "x", "max_tokens": -1e999}', 'max_tokens', beyondDouble],
  ['1e999 nested in an unknown field', '/v1/completions', '{"prompt": "x", "foo": {"bar": [1e999]}}', 'foo.bar[0]', beyondDouble],
  ['chat: temperature 1e999', '/v1/chat/completions', '{"messages": [{"role": "user", "content": "hi"}], "temperature": 1e999}', 'temperature', beyondDouble],
  ['chat: -1e999 inside a message', '/v1/chat/completions', '{"messages": [{"role": "user", "content": "hi", "x": [0, -1e999]}]}', 'messages[0].x[1]', beyondDouble],
  ['tokenize: 1e999 in an ignored field', '/tokenize', '{"prompt": "x", "return_token_strs": 1e999}', 'return_token_strs', beyondDouble],
  ['detokenize: token 1e999', '/detokenize', '{"tokens": [1, 1e999]}', 'tokens[1]', beyondDouble],
  ['max_tokens 1e300', '/v1/completions', '{"prompt": "x", "max_tokens": 1e300}', 'max_tokens', notAnInteger],
  ['max_tokens 99999999999999999999', '/v1/completions', '{"prompt": "x", "max_tokens": 99999999999999999999}', 'max_tokens', notAnInteger],
  ['detokenize: token 99999999999999999999', '/detokenize', '{"tokens": [99999999999999999999]}', 'tokens[0]', notAnInteger],
];

async function main() {
  const server = await startServer(['--http-request-timeout', '1', '--max-request-body-bytes', '1048576', '--disable-log-requests']);
  const stillServes = async () => {
    const h = await request(server.base, 'GET', '/health');
    assert.strictEqual(h.status, 200, 'server stopped serving');
  };
  const tests = jsonCases.map(([name, path, body, status, pattern]) => [name, async () => {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const bytes = Buffer.concat([
      Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(payload, 'latin1')}\r\n\r\n`),
      Buffer.from(payload, 'latin1')]);
    const r = await raw(server.port, bytes);
    assert.strictEqual(statusOf(r), status, r);
    const error = errorOf(r);
    assert.match(error.message, pattern);
    assert.strictEqual(error.code, status);
    assert.strictEqual(typeof error.type, 'string');
    await stillServes();
  }]);
  const completes = async () => {
    const r = await request(server.base, 'POST', '/v1/completions', { body: { prompt: 'hello', max_tokens: 2 } });
    assert.strictEqual(r.status, 200, r.body);
  };
  tests.push(...numberCases.map(([name, path, body, param, pattern]) => [`number out of range: ${name}`, async () => {
    const r = await request(server.base, 'POST', path, { body });
    assert.strictEqual(r.status, 400, r.body);
    const { error } = JSON.parse(r.body);
    assert.strictEqual(error.type, 'BadRequestError');
    assert.strictEqual(error.param, param, r.body);
    assert.ok(error.message.includes(`'${param}'`), r.body);
    assert.match(error.message, pattern);
    await completes();
  }]));
  // Control characters in echoed input are escaped, never cut the message short.
  tests.push(...['/v1/completions', '/v1/chat/completions', '/tokenize'].map((path) => [`NUL in the model name: ${path}`, async () => {
    const r = await request(server.base, 'POST', path, { body: { ...(path.includes('chat') ? { messages: user } : { prompt: 'x' }), model: 'a\u0000b\u001b[31m\u0085c' } });
    assert.strictEqual(r.status, 404, r.body);
    const { error } = JSON.parse(r.body);
    assert.strictEqual(error.message, 'The model `a\\u0000b\\u001b[31m\\u0085c` does not exist (served: `tiny`)');
    assert.strictEqual(error.param, 'model');
    await completes();
  }]));
  tests.push(
    ['no ERROR logged for any of the requests above', async () => {
      assert.doesNotMatch(server.logs(), /ERROR/, server.logs());
    }],
    ['wrong method', async () => {
      const r = await request(server.base, 'GET', '/v1/completions');
      assert.strictEqual(r.status, 405);
      assert.match(JSON.parse(r.body).error.message, /GET not allowed/);
      assert.strictEqual(r.headers.allow, 'POST');
    }],
    ['unknown route', async () => {
      const r = await request(server.base, 'GET', '/v2/everything');
      assert.strictEqual(r.status, 404);
      assert.match(JSON.parse(r.body).error.message, /\/v2\/everything/);
    }],
    ['body over the limit', async () => {
      const r = await raw(server.port, `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n`);
      assert.strictEqual(statusOf(r), 413, r);
      assert.match(errorOf(r).message, /exceeds 1048576 bytes/);
      await stillServes();
    }],
    ['headers over the limit', async () => {
      const r = await raw(server.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Junk: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      assert.strictEqual(statusOf(r), 431, r.slice(0, 200));
      await stillServes();
    }],
    ['not HTTP at all', async () => {
      const r = await raw(server.port, 'HELLO THERE\r\n\r\n');
      assert.strictEqual(statusOf(r), 400, r);
      assert.match(errorOf(r).message, /malformed HTTP request/);
      await stillServes();
    }],
    ['slow-loris headers get 408 while others are served', async () => {
      const slow = raw(server.port, null, { chunks: ['GET /health HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n'], gapMs: 400, waitMs: 5000 });
      await stillServes();
      const r = await slow;
      assert.strictEqual(statusOf(r), 408, r);
      assert.match(errorOf(r).message, /did not arrive in time/);
    }],
    ['client that leaves mid-request body', async () => {
      await raw(server.port, 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"prompt":', { waitMs: 100 });
      await stillServes();
    }],
    // Request smuggling (RFC 9112 section 6.3): a Transfer-Encoding whose final coding is
    // not chunked is a framing error: one 400, then the connection closes, so the request
    // hidden in the "body" is never answered.
    ...['gzip', 'identity', 'chunked, identity'].map((coding) => [`smuggling: Transfer-Encoding ${coding}`, async () => {
      const { data, closed } = await rawUntilClose(server.port,
        'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Transfer-Encoding: ${coding}\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.strictEqual(statusOf(data), 400, data);
      assert.strictEqual(responseCount(data), 1, data);
      assert.match(errorOf(data).message, /chunked/);
      assert.ok(closed, 'the connection stayed open after a framing error');
      await stillServes();
    }]),
    ...[['Transfer-Encoding then Content-Length', 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'],
      ['Content-Length then Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
      ['Transfer-Encoding gzip and Content-Length', 'Transfer-Encoding: gzip\r\nContent-Length: 5\r\n'],
    ].map(([name, fields]) => [`smuggling: ${name}`, async () => {
      const { data, closed } = await rawUntilClose(server.port,
        `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${fields}\r\n` +
        '0\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.strictEqual(statusOf(data), 400, data);
      assert.strictEqual(responseCount(data), 1, data);
      assert.ok(closed, 'the connection stayed open after a framing error');
      await stillServes();
    }]),
    ['HTTP/1.1 without Host is 400 and closes', async () => {
      const { data, closed } = await rawUntilClose(server.port,
        'GET /v1/models HTTP/1.1\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.strictEqual(statusOf(data), 400, data);
      assert.strictEqual(responseCount(data), 1, data);
      assert.match(errorOf(data).message, /Host/);
      assert.ok(closed, 'the connection stayed open after a missing Host');
      await stillServes();
    }],
    ...['/health', '/v1/models'].map((path) => [`HEAD ${path} is a 200 without a body`, async () => {
      const r = await request(server.base, 'HEAD', path);
      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.body, '');
      // The same headers as GET: the Content-Length of the body GET would send.
      const g = await request(server.base, 'GET', path);
      assert.strictEqual(r.headers['content-length'], String(Buffer.byteLength(g.body)), JSON.stringify(r.headers));
      // Over a raw socket: the next response follows the HEAD's headers at once.
      const { data } = await rawUntilClose(server.port,
        `HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(data, /^HTTP\/1\.1 200 [^]*?\r\n\r\nHTTP\/1\.1 200 /, data);
      assert.strictEqual(responseCount(data), 2, data);
    }]),
    ['HEAD where only POST is allowed is 405', async () => {
      const r = await request(server.base, 'HEAD', '/v1/completions');
      assert.strictEqual(r.status, 405);
      assert.strictEqual(r.body, '');
    }],
    ['503 never: server still healthy after the table', stillServes],
    ['a normal completion still works after all of the above', async () => {
      const r = await request(server.base, 'POST', '/v1/completions', { body: { prompt: 'hello', max_tokens: 4 } });
      assert.strictEqual(r.status, 200, r.body);
      const body = JSON.parse(r.body);
      assert.strictEqual(typeof body.choices[0].text, 'string');
      assert.ok(body.usage.completion_tokens >= 1, r.body);
    }],
  );
  const failed = await run(tests);
  console.log(`${tests.length} cases`);
  const code = await server.stop();
  assert.strictEqual(code, 0);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
