// Tokenizer benchmark, reference side. Writes the benchmark corpus (documents of mixed
// text, deterministic) and times Hugging Face's tokenizers (Rust, @anush008/tokenizers)
// on it, single-threaded. Usage:
//   RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false node tokenizer_bench.js \
//       <node_modules> <corpus_out.json> <megabytes> <name=model_dir>...
// Prints one JSON line per tokenizer: {"name", "impl", "mb_per_s", "tokens_per_s", "tokens"}.
'use strict';
const fs = require('fs');
const path = require('path');

const [nodeModules, corpusOut, megabytes, ...models] = process.argv.slice(2);
const { Tokenizer } = require(path.join(nodeModules, '@anush008/tokenizers'));
const { rng } = require(path.join(__dirname, '../tests/e2e/tokenizer/corpus.js'));

// Mostly English prose with code, numbers, CJK, emoji and other scripts mixed in.
function makeDocuments(totalBytes) {
  const r = rng(7);
  const prose = ('the quick brown fox jumps over the lazy dog while engineers trace every request ' +
    'through the server and measure latency in milliseconds because performance matters it is ' +
    'said that tokenizers should be fast and exact and they\'re compared against references ' +
    'Kubernetes OpenTelemetry collector spans exporters batching scheduling throughput').split(' ');
  const extras = ['\n\n', '\n', '    ', '\t', '12345', '3.14159', '2026-11-24', '我们今天去北京大学',
    'こんにちは世界', 'Привет, мир', 'مرحبا بالعالم', '😀👍🏽', 'naïve café', 'def f(x):\n    return x * 2\n',
    '{"key": [1, 2, 3]}', 'https://example.com/a?b=c', "don't", "WE'LL", '!!!', '...', ' -- '];
  const docs = [];
  let total = 0;
  while (total < totalBytes) {
    let doc = '';
    const target = 1000 + Math.floor(r() * 7000);
    while (doc.length < target) {
      doc += r() < 0.85 ? prose[Math.floor(r() * prose.length)] : extras[Math.floor(r() * extras.length)];
      doc += r() < 0.08 ? '. ' : ' ';
    }
    docs.push(doc);
    total += Buffer.byteLength(doc);
  }
  return docs;
}

async function main() {
  const docs = makeDocuments(Number(megabytes) * 1e6);
  fs.writeFileSync(corpusOut, JSON.stringify(docs));
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  for (const spec of models) {
    const [name, dir] = spec.split('=');
    const tokenizer = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    await tokenizer.encodeBatch(docs, { addSpecialTokens: false });  // warm-up (fills caches)
    let best = Infinity;
    let tokens = 0;
    for (let run = 0; run < 3; ++run) {
      const start = process.hrtime.bigint();
      const encodings = await tokenizer.encodeBatch(docs, { addSpecialTokens: false });
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
      tokens = encodings.reduce((n, e) => n + e.getLength(), 0);
    }
    console.log(JSON.stringify({ name, impl: 'hf-tokenizers-rust', mb_per_s: bytes / 1e6 / best,
      tokens_per_s: tokens / best, tokens }));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
