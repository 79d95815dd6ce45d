#!/usr/bin/env bash
# Side-by-side CPU benchmark of lantern and llama.cpp on the same random SmolLM2-135M-shaped
# F32 weights: prefill of 512 tokens and batch-1 decode, both in tokens/s on the wall clock.
#
#   bench/llamacpp/run.sh LANTERN_BINARY LLAMA_BENCH_BINARY [ISA]
#
# ISA (portable|avx2|avx512), if given, is exported as LANTERN_CPU_ISA for lantern.
# Environment: ROUNDS (A/B rounds, default 5), THREADS (default 2), MODELS (cache folder,
# default build/models), GGUF_PY (llama.cpp's gguf-py, default: found from LLAMA_BENCH_BINARY),
# OUT (raw logs, default build/bench-llamacpp/<time>).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
LANTERN=$(realpath "$1")
LLAMA_BENCH=$(realpath "$2")
ISA=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-2}
MODELS=${MODELS:-$REPO/build/models}
GGUF_PY=${GGUF_PY:-$(cd "$(dirname "$LLAMA_BENCH")/../.." && pwd)/gguf-py}
OUT=${OUT:-$REPO/build/bench-llamacpp/$(date +%Y%m%d-%H%M%S)}
PY=/usr/bin/python3                      # needs numpy and torch (the test fixtures' python)
PROMPT=512 CONTEXT=128 DECODE=64          # prefill length; decode: context, then timed steps
[[ -n $ISA ]] && export LANTERN_CPU_ISA=$ISA

# The model, once: HF checkpoint for lantern, and the same weights as GGUF for llama.cpp.
HF=$MODELS/smollm2-135m-random GGUF=$MODELS/smollm2-135m-random.gguf
if [[ ! -f $HF/model.safetensors ]]; then
  echo "writing $HF"
  rm -rf "$HF.tmp"
  "$PY" "$REPO/tests/fixtures/make_llama_model.py" --out "$HF.tmp" --seed 1 --model-type llama \
    --hidden 576 --layers 30 --heads 9 --kv-heads 3 --head-dim 64 --ffn 1536 --vocab 49152 \
    --max-pos 8192 --tie-word-embeddings 1 --rope-theta 100000 --rms-norm-eps 1e-5 \
    --init-std 0.02 --dtype f32
  rm -f "$GGUF"
  mv "$HF.tmp" "$HF"
fi
if [[ ! -f $GGUF ]]; then
  echo "writing $GGUF"
  PYTHONPATH=$GGUF_PY "$PY" "$HERE/hf_to_gguf.py" "$HF" "$GGUF.tmp" 2>&1 | grep -v '^INFO' || true
  mv "$GGUF.tmp" "$GGUF"
fi

mkdir -p "$OUT"
# Appends "metric tokens/s" lines to $OUT/results.
lantern_run() {  # prefill is the best of 3 after a warm-up; decode the mean of $DECODE steps
  local log=$OUT/lantern-$1.log
  "$LANTERN" bench forward --model "$HF" --threads "$THREADS" --prefill-tokens $PROMPT \
    --repeats 3 --context $CONTEXT --decode-steps $DECODE --batch 1 >"$log" 2>&1 ||
    { tail "$log"; exit 1; }
  awk '/^prefill [0-9]+ tokens:/ {print "lantern prefill", $4}
       /^decode batch 1 .*bandwidth bound/ {print "lantern decode", $6}' "$log" >>"$OUT/results"
}
llama_run() {  # the same: pp best of 3 after a warm-up; tg one run of $DECODE after $CONTEXT
  local log=$OUT/llama-$1
  local args=(-m "$GGUF" -t "$THREADS" -o json)  # KV cache: llama-bench default f16 (no f32)
  "$LLAMA_BENCH" "${args[@]}" -p $PROMPT -n 0 -r 3 >"$log-pp.json" 2>"$log-pp.err" ||
    { tail "$log-pp.err"; exit 1; }
  "$LLAMA_BENCH" "${args[@]}" -p 0 -n $DECODE -d $CONTEXT -r 1 >"$log-tg.json" 2>"$log-tg.err" ||
    { tail "$log-tg.err"; exit 1; }
  "$PY" - "$log-pp.json" "$log-tg.json" >>"$OUT/results" <<'EOF'
import json, sys
pp, tg = (json.load(open(f))[0] for f in sys.argv[1:])
print("llama.cpp prefill", max(pp["samples_ts"]))
print("llama.cpp decode", tg["avg_ts"])
EOF
}

echo "lantern:   $LANTERN${ISA:+ (LANTERN_CPU_ISA=$ISA)}"
echo "llama.cpp: $LLAMA_BENCH"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $THREADS threads, $ROUNDS rounds; logs in $OUT"
for ((r = 1; r <= ROUNDS; r++)); do
  echo "round $r/$ROUNDS (load average $(cut -d' ' -f1 /proc/loadavg))"
  lantern_run "$r"
  llama_run "$r"
done
"$PY" - "$OUT/results" "$OUT/llama-1-pp.json" "$OUT/lantern-1.log" <<EOF
import json, re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    *key, value = line.split()
    runs.setdefault(" ".join(key), []).append(float(value))
info = json.load(open(sys.argv[2]))[0]
isa = re.search(r"^cpu: .*, kernels (\S+)", open(sys.argv[3]).read(), re.M)
print(f"lantern kernels {isa[1] if isa else '(not reported by this build)'}")
print(f"llama.cpp {info['build_commit']}, {info['backends']}, {info['cpu_info']}, "
      f"flash-attn {({-1: 'auto', 0: 'off', 1: 'on'}).get(info['flash_attn'], info['flash_attn'])}, "
      f"KV cache {info['type_k']}/{info['type_v']}")
print(f"{'tokens/s (median of ' + str($ROUNDS) + ')':<36}{'lantern':>10}{'llama.cpp':>11}{'ratio':>8}")
for metric, label in [("prefill", "prefill $PROMPT tokens"),
                      ("decode", "decode batch 1 (context $CONTEXT)")]:
    a = statistics.median(runs["lantern " + metric])
    b = statistics.median(runs["llama.cpp " + metric])
    print(f"{label:<36}{a:>10.1f}{b:>11.1f}{a / b:>8.2f}")
EOF
