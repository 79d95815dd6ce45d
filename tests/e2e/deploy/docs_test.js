'use strict';
// docs/tracing.md covers what the code does: every OTEL_* variable src/telemetry reads,
// every tracing flag of `lantern serve`, and every span attribute key the tracing code
// sets, and README.md, docs/api.md and docs/tracing.md name every flag of `lantern serve`.
// A name added to the code without a line in the docs fails here.
//   node docs_test.js            (LANTERN_SOURCE_DIR: the repository, default ../../..)
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { otelVariablesRead } = require('./validate.js');

const root = path.resolve(process.env.LANTERN_SOURCE_DIR || path.join(__dirname, '../../..'));
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const guide = read('docs/tracing.md');

// `OTEL_EXPORTER_OTLP_[TRACES_]X` in the guide stands for both forms.
function documentedVariable(name) {
  if (guide.includes('`' + name + '`')) return true;
  const m = /^OTEL_EXPORTER_OTLP_(TRACES_)?(.+)$/.exec(name);
  return Boolean(m) && guide.includes('OTEL_EXPORTER_OTLP_[TRACES_]' + m[2]);
}

function missing(names, isDocumented) {
  return [...names].filter((n) => !isDocumented(n)).sort();
}

function tracingSources() {
  const files = ['src/cli/serve.cc', 'src/cli/startup_trace.cc'];
  for (const f of fs.readdirSync(path.join(root, 'src/server'))) {
    if (/trac/.test(f) && f.endsWith('.cc')) files.push(`src/server/${f}`);
  }
  return files.filter((f) => fs.existsSync(path.join(root, f)));
}

const tests = [
  ['every OTEL_* variable lantern reads is in docs/tracing.md', () => {
    const names = otelVariablesRead(root);
    assert.ok(names.size > 20, `only ${names.size} variables found`);
    assert.deepStrictEqual(missing(names, documentedVariable), []);
    for (const name of ['TRACEPARENT', 'TRACESTATE', 'BAGGAGE']) assert.ok(guide.includes('`' + name + '`'), name);
  }],
  ['every tracing flag of lantern serve is in docs/tracing.md', () => {
    const serve = read('src/cli/serve.cc');
    const flags = new Set();
    for (const m of serve.matchAll(/add_(?:option|flag)\("(--(?:otlp|trace|collect)[a-z-]*)/g)) flags.add(m[1]);
    assert.ok(flags.size >= 4, `tracing flags found: ${[...flags]}`);
    assert.deepStrictEqual(missing(flags, (f) => guide.includes('`' + f)), []);
  }],
  ['every span attribute and span name the tracing code sets is in docs/tracing.md', () => {
    const keys = new Set();
    for (const file of tracingSources()) {
      const text = read(file);
      for (const m of text.matchAll(/"((?:gen_ai|lantern|http|url|server|client|network|user_agent|error)\.[a-z_.]+)"/g)) {
        keys.add(m[1]);
      }
    }
    assert.ok(keys.has('lantern.weights.bytes'), `start-up attributes not found in ${tracingSources()}`);
    assert.deepStrictEqual(missing(keys, (k) => guide.includes('`' + k + '`') || guide.includes(k + '`')), []);
    for (const span of ['lantern.startup', 'load_config', 'load_tokenizer', 'load_weights', 'init_kv_cache',
      'warmup', 'listen', 'llm_request', 'queue', 'prefill', 'decode', 'engine_step', 'client-span']) {
      assert.ok(guide.includes('`' + span + '`'), span);
    }
  }],
  ['every flag of lantern serve is named in README.md, docs/api.md or docs/tracing.md', () => {
    const serve = read('src/cli/serve.cc');
    const docs = ['README.md', 'docs/api.md', 'docs/tracing.md'].map(read).join('\n');
    const flags = new Set();
    for (const m of serve.matchAll(/add_(?:option|flag)\("([^"]+)"/g)) {
      for (const name of m[1].split(',')) {
        if (name.startsWith('--')) flags.add(name);
        else if (name.startsWith('!--')) flags.add(name.slice(1));
      }
    }
    assert.ok(flags.size > 25, `flags found: ${[...flags]}`);
    // `--[no-]x` in the docs stands for --x and --no-x.
    const named = (f) => docs.includes('`' + f) || docs.includes('`--[no-]' + f.replace(/^--(no-)?/, ''));
    assert.deepStrictEqual(missing(flags, named), []);
  }],
  ['README links the tracing guide', () => {
    assert.match(read('README.md'), /\]\(docs\/tracing\.md\)/);
  }],
];

let failed = 0;
for (const [name, fn] of tests) {
  try {
    fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n${e.stack || e}`);
  }
}
process.exit(failed ? 1 : 0);
