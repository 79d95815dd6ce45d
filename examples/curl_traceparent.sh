#!/usr/bin/env bash
# The dummy client's flow with curl alone: make up a W3C traceparent, send one completion
# request carrying it, and print the trace id to look up in Jaeger together with the
# server's `traceresponse` header (00-<trace id>-<server span id>-<flags>).
#
#   examples/curl_traceparent.sh [PROMPT]
#
# Environment: LANTERN_URL (default http://localhost:8000), LANTERN_MODEL (default
# facebook/opt-125m), MAX_TOKENS (default 16). LANTERN_URL is the base URL, as for
# lantern_dummy_client; a full .../v1/completions URL works too.
set -euo pipefail

url="${LANTERN_URL:-http://localhost:8000}"
url="${url%/}"
url="${url%/v1/completions}"
model="${LANTERN_MODEL:-facebook/opt-125m}"
prompt="${1:-San Francisco is a}"
max_tokens="${MAX_TOKENS:-16}"

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
trace_id="$(random_hex 16)"
parent_id="$(random_hex 8)"
traceparent="00-${trace_id}-${parent_id}-01"  # version-traceid-parentid-flags (sampled)

# JSON-escape the prompt (backslashes and quotes; enough for a one-line prompt).
escaped="${prompt//\\/\\\\}"
escaped="${escaped//\"/\\\"}"
body="{\"model\": \"${model}\", \"prompt\": \"${escaped}\", \"max_tokens\": ${max_tokens}}"

headers="$(mktemp)"
trap 'rm -f "$headers"' EXIT
echo "trace id:      ${trace_id}"
echo "traceparent:   ${traceparent}"
response="$(curl -sS -D "$headers" -H 'Content-Type: application/json' \
  -H "traceparent: ${traceparent}" -d "$body" "${url}/v1/completions")"
traceresponse="$(tr -d '\r' <"$headers" | sed -n 's/^[Tt]raceresponse: *//p')"
echo "traceresponse: ${traceresponse:-(none: is tracing on? see docs/tracing.md)}"
if [[ -n "$traceresponse" && "$traceresponse" != *"-${trace_id}-"* ]]; then
  echo "warning: the server answered with another trace id" >&2
fi
echo "$response"
