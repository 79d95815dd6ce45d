#!/usr/bin/env bash
# lantern vs llama.cpp on Llama-3.2-1B's shape (hidden 2048, 16 layers, 32 heads, 8 KV heads,
# FFN 8192, vocab 128256, tied), the same random weights in BF16 and int8 / Q8_0:
#   prefill 512 tokens, batch-1 decode (context 128), 32 sequences of 128 + 128 tokens
#   (lantern's continuous batching vs llama-batched-bench), peak RSS serving (vs llama-server).
#
#   bench/llamacpp/compare_1b.sh LANTERN_BINARY LLAMA_CPP_BIN_DIR
#
# LLAMA_CPP_BIN_DIR holds llama-bench, llama-batched-bench, llama-quantize and llama-server
# (a CPU build of https://github.com/ggml-org/llama.cpp with -DLLAMA_BUILD_SERVER=ON
# -DLLAMA_BUILD_EXAMPLES=ON). Environment: THREADS (2), MODELS (build/models),
# GGUF_PY (llama.cpp's gguf-py, default: beside the bin dir), ROUNDS (2).
set -euo pipefail
[[ $# -eq 2 ]] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
LANTERN=$(realpath "$1") BIN=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd) REPO=$(cd "$HERE/../.." && pwd)
THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-2} MODELS=${MODELS:-$REPO/build/models}
GGUF_PY=${GGUF_PY:-$(cd "$BIN/../.." && pwd)/gguf-py}
PY=/usr/bin/python3
M=$MODELS/llama1b-random

# The weights once: an F32 checkpoint, the same rounded to BF16 (lantern's auto keeps it
# BF16), and llama.cpp's F32 GGUF quantized by its own tool to BF16 and Q8_0.
if [[ ! -f $M/model.safetensors ]]; then
  "$PY" "$REPO/tests/fixtures/make_llama_model.py" --out "$M" --seed 1 --model-type llama \
    --hidden 2048 --layers 16 --heads 32 --kv-heads 8 --head-dim 64 --ffn 8192 --vocab 128256 \
    --max-pos 8192 --tie-word-embeddings 1 --rope-theta 500000 --rms-norm-eps 1e-5 \
    --init-std 0.02 --dtype f32
fi
if [[ ! -f $M-bf16/model.safetensors ]]; then
  mkdir -p "$M-bf16"
  cp "$M/config.json" "$M/generation_config.json" "$M-bf16/"
  "$PY" "$HERE/safetensors_to_bf16.py" "$M/model.safetensors" "$M-bf16/model.safetensors"
  # A tokenizer for serving (GPT-2's, from the default model's folder, when there is one).
  cp "$MODELS"/default-opt/{merges.txt,vocab.json,tokenizer_config.json} "$M-bf16/" 2>/dev/null || true
fi
[[ -f $M-f32.gguf ]] || PYTHONPATH=$GGUF_PY "$PY" "$HERE/hf_to_gguf.py" "$M" "$M-f32.gguf"
[[ -f $M-bf16.gguf ]] || "$BIN/llama-quantize" "$M-f32.gguf" "$M-bf16.gguf" BF16 "$THREADS"
[[ -f $M-q8_0.gguf ]] || "$BIN/llama-quantize" "$M-f32.gguf" "$M-q8_0.gguf" Q8_0 "$THREADS"

echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $THREADS threads, $(date -u +%F)"
forward() {  # lantern bench forward: prefill 512, decode batch 1 at context 128
  "$LANTERN" bench forward --model "$M-bf16" --threads "$THREADS" --prefill-tokens 512 \
    --repeats 2 --context 128 --decode-steps 32 --batch 1 "$@" 2>&1 |
    awk '/^prefill 512/ {print "  lantern prefill-512", $4} /^decode batch 1 .*bound/ {print "  lantern decode-1", $6}'
}
llama_bench() {
  "$BIN/llama-bench" -m "$1" -t "$THREADS" -p 512 -n 0 -r 2 2>/dev/null | awk -F'|' '/pp512/ {split($8, a, " "); print "  llama.cpp prefill-512", a[1]}'
  "$BIN/llama-bench" -m "$1" -t "$THREADS" -p 0 -n 32 -d 128 -r 1 2>/dev/null | awk -F'|' '/tg32/ {split($8, a, " "); print "  llama.cpp decode-1", a[1]}'
}
for ((r = 1; r <= ROUNDS; r++)); do
  echo "round $r (load average $(cut -d' ' -f1 /proc/loadavg))"
  echo " bf16";  forward;                         llama_bench "$M-bf16.gguf"
  echo " int8 / q8_0"; forward --quantization int8; llama_bench "$M-q8_0.gguf"
done

echo "32 sequences x (128 prompt + 128 generated), BF16, total tokens/s"
"$BIN/llama-batched-bench" -m "$M-bf16.gguf" -c 8448 -b 2048 -ub 512 -npp 128 -ntg 128 -npl 32 \
  -t "$THREADS" 2>/dev/null | awk -F'|' '$4 ~ /32/ {print "  llama.cpp", $11}'
"$LANTERN" bench throughput --model "$M-bf16" --input-len 128 --output-len 128 --concurrency 32 \
  --num-prompts 32 --threads "$THREADS" --greedy 2>&1 | awk '$1 == 32 {print "  lantern", $5}'

echo "peak RSS serving BF16 (4 completions of 32 tokens), kB"
serve_rss() {  # NAME PORT CMD...
  local name=$1 port=$2 pid
  shift 2
  "$@" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 300); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 1; done
  for _ in 1 2 3 4; do
    curl -s "localhost:$port/v1/completions" -H 'content-type: application/json' \
      -d '{"model":"m","prompt":"The quick brown fox jumps over the lazy dog","max_tokens":32}' >/dev/null
  done
  echo "  $name $(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
serve_rss llama-server 18181 "$BIN/llama-server" -m "$M-bf16.gguf" -t "$THREADS" --port 18181 -c 4096
serve_rss lantern 18182 "$LANTERN" serve "$M-bf16" --port 18182 --max-model-len 4096 \
  --served-model-name m
