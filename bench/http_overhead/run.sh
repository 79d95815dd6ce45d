#!/bin/bash
# What the HTTP layer adds to time to first token at concurrency 1: the client's TTFT
# (`lantern bench serve`: request sent -> first SSE chunk read) against the server's own
# (`gen_ai.latency.time_to_first_token` of each llm_request span: handler start -> first
# token out of the engine), medians over the same requests in one run. The difference is
# connection handling, HTTP parsing, JSON, the hop to the engine thread's output and SSE
# framing — everything but tokenization and the model.
#
#   bench/http_overhead/run.sh <lantern> <model dir> [requests] [input len] [output len]
set -euo pipefail
lantern=$(realpath "$1")
model=$2
requests=${3:-64}
input_len=${4:-32}
output_len=${5:-16}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))

OTEL_TRACES_EXPORTER=console OTEL_BSP_SCHEDULE_DELAY=200 \
  "$lantern" serve "$model" --host 127.0.0.1 --port "$port" --served-model-name tiny \
  --kv-cache-memory 64MiB --disable-log-requests > "$work/spans.txt" 2> "$work/server.log" &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 0.1
done
"$lantern" bench serve --port "$port" --model tiny --num-prompts "$requests" \
  --max-concurrency 1 --random-input-len "$input_len" --random-output-len "$output_len" \
  --seed 1 --result-json "$work/client.json" > /dev/null
sleep 1  # one more export interval
kill -TERM $server
wait $server || true

/usr/bin/python3 - "$work/spans.txt" "$work/client.json" <<'PY'
import json, re, statistics, sys
spans, client = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
server = [float(m) for m in re.findall(r'gen_ai\.latency\.time_to_first_token=([0-9.e+-]+)', spans)]
if len(server) != client["successful_requests"]:
    sys.exit(f"spans for {len(server)} requests, client finished {client['successful_requests']}")
server_ms = statistics.median(server) * 1000
client_ms = client["p50_ttft_ms"]
print(f"requests {len(server)}  client p50 TTFT {client_ms:.3f} ms  "
      f"server p50 TTFT {server_ms:.3f} ms  HTTP layer adds {client_ms - server_ms:.3f} ms")
PY
