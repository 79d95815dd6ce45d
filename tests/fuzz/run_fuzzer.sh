#!/bin/sh
# run_fuzzer.sh FUZZER SEED_DIR SECONDS ARTIFACT_DIR
# Runs a libFuzzer target for a bounded time on a copy of the seed corpus; exits non-zero
# (and keeps the input under ARTIFACT_DIR) if it finds a crash, a sanitizer report, a leak,
# an input slower than 10 s or a run over 2 GB.
set -eu
fuzzer=$1 seeds=$2 seconds=$3 artifacts=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/lantern-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
cp -R "$seeds"/. "$work/corpus/"
exec "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/$(basename "$fuzzer")-" "$work/corpus"
