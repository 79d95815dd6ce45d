#!/usr/bin/env bash
# The same lantern binary on emulated x86-64 CPUs (qemu-user), one per kernel level below
# this machine's: it must refuse a CPU below the baseline in one line, pick the portable
# kernels on an x86-64-v2 CPU without AVX, AVX2 on an AVX2-only CPU, refuse a forced level
# the CPU lacks, and generate the same greedy tokens as natively on every level. Then the
# tensor unit tests run on the emulated AVX2-only CPU.
#   emulated_cpus.sh <build-dir> <source-dir>
set -euo pipefail
build=$1
root=$2
lantern=$build/lantern
qemu=$(command -v qemu-x86_64) || {
  echo "emulated_cpus: qemu-x86_64 is missing (scripts/install-deps installs qemu-user)" >&2
  exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "emulated_cpus: FAIL: $*" >&2
  exit 1
}

# Below the baseline (qemu64: no SSSE3, SSE4.1, SSE4.2, POPCNT).
if "$qemu" -cpu qemu64 "$lantern" --version >"$work/out" 2>&1; then
  fail "ran on a CPU without SSE4.2: $(cat "$work/out")"
fi
grep -q "lantern: this CPU lacks.* SSE4.2.*x86-64-v2" "$work/out" || fail "below baseline: $(cat "$work/out")"
echo "below the baseline: $(cat "$work/out")"

/usr/bin/python3 "$root/tests/fixtures/make_llama_model.py" --out "$work/model" --seed 5 >/dev/null
generate=(generate --model "$work/model" --prompt-ids 1,17,42,7,99 --max-tokens 12 --ignore-eos --threads 2)
native=$("$lantern" "${generate[@]}" 2>"$work/native.err")
echo "native: $(head -1 "$work/native.err") -> $native"

# cpu model, expected level: Nehalem is x86-64-v2 without AVX; max (QEMU 7.2) has AVX2 and
# no AVX-512.
for case in Nehalem:portable max:avx2; do
  cpu=${case%%:*}
  level=${case##*:}
  got=$("$qemu" -cpu "$cpu" "$lantern" "${generate[@]}" 2>"$work/err") || fail "$cpu: $(cat "$work/err")"
  grep -q "kernels $level " "$work/err" || fail "$cpu: expected kernels $level: $(cat "$work/err")"
  [ "$got" = "$native" ] || fail "$cpu ($level): tokens $got, natively $native"
  echo "$cpu: $(head -1 "$work/err") -> $got"
done

if LANTERN_CPU_ISA=avx512 "$qemu" -cpu max "$lantern" "${generate[@]}" >"$work/out" 2>&1; then
  fail "LANTERN_CPU_ISA=avx512 ran on a CPU without AVX-512"
fi
grep -q "LANTERN_CPU_ISA=avx512: this CPU .* does not support avx512" "$work/out" ||
  fail "forced avx512: $(cat "$work/out")"
echo "forced avx512 on an AVX2 CPU: $(cat "$work/out")"

# QEMU 7.2 faults on VMASKMOVPS's masked-off lanes at a page end (real CPUs do not), so the
# dispatch test's rows stay clear of an unmapped page here; natively they end at one.
for test in "$build"/tests/unit/tensor/tensor_*_test; do
  LANTERN_TEST_NO_GUARD_PAGE=1 "$qemu" -cpu max "$test" --gtest_brief=1 >"$work/out" 2>&1 || {
    cat "$work/out" >&2
    fail "$(basename "$test") on the emulated AVX2 CPU"
  }
  echo "$(basename "$test") on the emulated AVX2 CPU: $(grep -c . "$work/out") lines, passed"
done
