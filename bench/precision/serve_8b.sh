#!/usr/bin/env bash
# An 8B model served with int8 weights on a small machine (issue 14): Llama-3.1-8B's shape
# (hidden 4096, 32 layers, 32 heads, 8 KV heads, FFN 14336, vocab 128256, untied embeddings,
# rope theta 500000 with llama3 rope scaling), random BF16 weights in 4 safetensors shards.
#   lantern serve --quantization int8: time to ready, load_weights (start-up trace), peak RSS,
#     /metrics' memory figures, one /v1/completions request of 32 tokens;
#   lantern bench forward --quantization int8: batch-1 decode and % of the bandwidth bound;
#   with LLAMA_CPP_BIN_DIR: llama.cpp's Q8_0 of the same weights, llama-bench decode and its
#     peak RSS.
#
#   bench/precision/serve_8b.sh LANTERN_BINARY [LLAMA_CPP_BIN_DIR]
#
# Environment: PARTS (which to run: "serve forward llamacpp"), THREADS (2), MODELS
# (build/models), PORT (18408), MAX_MODEL_LEN (4096),
# MAX_NUM_SEQS (4: a 2 GiB bfloat16 KV pool), GGUF_PY (llama.cpp's gguf-py, default: beside
# the bin dir). Needs ~16 GB of disk for the checkpoint and ~8.5 GB more for the GGUF, and
# ~11 GB of memory; the checkpoint and the GGUF are made once and reused.
set -euo pipefail
[[ $# -ge 1 && $# -le 2 ]] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
LANTERN=$(realpath "$1") BIN=${2:+$(realpath "$2")}
HERE=$(cd "$(dirname "$0")" && pwd) REPO=$(cd "$HERE/../.." && pwd)
THREADS=${THREADS:-2} MODELS=${MODELS:-$REPO/build/models} PORT=${PORT:-18408}
MAX_MODEL_LEN=${MAX_MODEL_LEN:-4096} MAX_NUM_SEQS=${MAX_NUM_SEQS:-4}
PARTS=${PARTS:-serve forward llamacpp}
PY=/usr/bin/python3
M=$MODELS/llama8b-random-bf16
LOG=$(mktemp -t serve_8b.XXXXXX)
trap 'rm -f "$LOG"' EXIT

free_gb() { df -BG --output=avail "$1" | tail -1 | tr -dc 0-9; }
need_disk() {  # GB DIR: refuses to start a write that would leave under 5 GB free
  local avail
  avail=$(free_gb "$2")
  ((avail >= $1 + 5)) || { echo "serve_8b.sh: $2 has ${avail} GB free, ${1} GB + 5 needed" >&2; exit 1; }
}
loadavg() { cut -d' ' -f1 /proc/loadavg; }
part() { [[ " $PARTS " == *" $1 "* ]]; }

mkdir -p "$MODELS"
if [[ ! -f $M/config.json ]]; then  # config.json is written last: its presence = complete
  need_disk 17 "$MODELS"
  "$PY" "$HERE/make_random_llama_bf16.py" --out "$M" --preset llama3.1-8b --seed 1
fi
# A tokenizer for serving: GPT-2's (the default model's), as bench/llamacpp/compare_1b.sh does.
[[ -f $M/vocab.json ]] || cp "$MODELS"/default-opt/{merges.txt,vocab.json,tokenizer_config.json} "$M/"

echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $THREADS threads, $(free -g | awk '/^Mem/ {print $2}') GiB, $(date -u '+%F %H:%M UTC')"
echo "checkpoint: $(du -sh "$M" | cut -f1) BF16 in $(ls "$M"/*.safetensors | wc -l) shards"

if part serve; then
  echo "lantern serve --quantization int8 (compute on all $(nproc) cores) --max-model-len $MAX_MODEL_LEN --max-num-seqs $MAX_NUM_SEQS (load average $(loadavg))"
  start=$(date +%s.%N)
  OTEL_TRACES_EXPORTER=console "$LANTERN" serve "$M" --port "$PORT" --quantization int8 \
    --max-model-len "$MAX_MODEL_LEN" --max-num-seqs "$MAX_NUM_SEQS" --served-model-name m >"$LOG" 2>&1 &
  pid=$!
  until curl -sf "localhost:$PORT/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$LOG"; echo "serve_8b.sh: lantern serve exited" >&2; exit 1; }
    sleep 0.2
  done
  ready=$(date +%s.%N)
  # CPU seconds too: on a shared machine the wall clock also counts others' work.
  awk -v s="$start" -v r="$ready" -v t="$(getconf CLK_TCK)" \
    '{printf "  ready after %.1f s (CPU: %.1f s user + %.1f s system)\n", r - s, $14 / t, $15 / t}' \
    "/proc/$pid/stat"
  sed -n 's/^"load_weights" .* duration=\([^ ]*\) .*/  load_weights span: \1/p' "$LOG"
  grep -o -E '(cpu|weights): .*' "$LOG" | sed 's/^/  /'
  grep -o 'KV cache [0-9]* tokens ([^)]*)' "$LOG" | sed 's/^/  /'
  t0=$(date +%s.%N)
  curl -sf "localhost:$PORT/v1/completions" -H 'content-type: application/json' \
    -d '{"model":"m","prompt":"The quick brown fox jumps over the lazy dog","max_tokens":32,"ignore_eos":true,"temperature":0}' |
    "$PY" -c 'import json, sys; r = json.load(sys.stdin); print("  completion:", r["usage"], "finish", r["choices"][0]["finish_reason"])'
  awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN {printf "  32-token completion in %.1f s\n", e - s}'
  curl -sf "localhost:$PORT/metrics" |
    grep -E '^(process_resident_memory_bytes|lantern:weights_bytes)' |
    awk '{printf "  /metrics %s %.2f GiB\n", $1, $2 / 2^30}'
  awk '/^Vm(HWM|RSS)/ {printf "  %s %.2f GiB\n", $1, $2 / 2^20}' "/proc/$pid/status"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
fi

if part forward; then
  echo "lantern bench forward --quantization int8 (load average $(loadavg) at start)"
  /usr/bin/time -v "$LANTERN" bench forward --model "$M" --quantization int8 --threads "$THREADS" \
    --prefill-tokens 128 --context 128 --decode-steps 16 --batch 1 --repeats 1 >"$LOG" 2>&1
  grep -E '^(machine|  read bandwidth|model|KV cache|prefill|decode|load average)' "$LOG" |
    sed 's/^/  /'
  awk '/Maximum resident set size/ {printf "  peak RSS %.2f GiB\n", $6 / 2^20}
       /(User|System) time|Elapsed/ {printf "  %s\n", $0}' "$LOG"
fi

[[ -n $BIN ]] && part llamacpp || exit 0
GGUF_PY=${GGUF_PY:-$(cd "$BIN/../.." && pwd)/gguf-py}
Q=$MODELS/llama8b-random-q8_0.gguf
if [[ ! -f $Q ]]; then  # Q8_0 straight from the BF16 shards: no 16 GB intermediate GGUF
  need_disk 9 "$MODELS"
  PYTHONPATH=$GGUF_PY "$PY" "$REPO/bench/llamacpp/hf_to_gguf.py" "$M" "$Q.partial" --outtype q8_0
  mv "$Q.partial" "$Q"
fi
echo "llama.cpp Q8_0 ($(du -h "$Q" | cut -f1)): llama-bench -p 0 -n 16 -d 128 (load average $(loadavg) at start)"
/usr/bin/time -v "$BIN/llama-bench" -m "$Q" -t "$THREADS" -p 0 -n 16 -d 128 -r 1 >"$LOG" 2>&1
awk -F'|' '/tg16/ {split($8, a, " "); print "  llama.cpp decode-1", a[1], "tokens/s"}' "$LOG"
awk '/Maximum resident set size/ {printf "  peak RSS %.2f GiB\n", $6 / 2^20}
     /(User|System) time|Elapsed/ {printf "  %s\n", $0}' "$LOG"
