#!/usr/bin/python3
"""Fails when code outside the per-ISA kernel variants uses instructions above the baseline.

Everything but the variants in src/tensor/x86/ (avx2, avx512, and the extensions avx512_vnni
and avx_vnni) is built for x86-64-v2, so
a VEX or EVEX instruction (AVX and up: any 'v' mnemonic, ymm/zmm registers, AVX-512 mask
registers) or an x86-64-v3 scalar instruction (BMI1/2, LZCNT, MOVBE) anywhere else would
end the program with SIGILL on a CPU without them. Two views:
  objects  every object file of the build except the variants' own
  binaries every function of the linked executables, except those in the variants'
           namespaces (catches an inline function compiled in a variant and picked by
           the linker for everyone)

usage: check_baseline_isa.py [--expect-violation] PATH...
  PATH: a build directory (its CMakeFiles objects are checked), an object or an executable.
"""

import os
import re
import subprocess
import sys

# The variants, and the guard's own probe (built with -mavx2 to be caught by the self-test).
ALLOWED_OBJECT = re.compile(r"/x86/(avx2|avx512|avx512_vnni|avx_vnni)/|/lantern_isa_probe\.dir/")
ALLOWED_FUNCTION = re.compile(r"lantern::tensor::(avx2|avx512|avx512_bf16|avx512_vnni|avx_vnni)::")
# Trees of other configurations built inside the build directory.
SKIPPED_TREES = re.compile(r"/(sanitize-[a-z]+|fuzz[a-z-]*|cross-[a-z0-9-]+)/")
# TZCNT is absent: its encoding (REP BSF) runs as BSF on older CPUs, and GCC emits it for
# generic tuning on purpose; LZCNT has no such fallback.
V3_SCALAR = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "mulx", "pdep", "pext", "rorx",
             "sarx", "shlx", "shrx", "lzcnt", "movbe"}
INSTRUCTION = re.compile(r"^\s*[0-9a-f]+:\s+(?:\{[a-z]+\}\s+)?([a-z][a-z0-9.]*)\s*(.*)$")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.*)>:$")
ABOVE_BASELINE_OPERAND = re.compile(r"%(ymm|zmm)\d+|%k[0-7]\b")


def above_baseline(mnemonic, operands):
    if mnemonic.startswith("v") and mnemonic not in ("verr", "verw"):
        return True
    if mnemonic in V3_SCALAR:
        return True
    return ABOVE_BASELINE_OPERAND.search(operands) is not None


def violations(path, allow_variant_functions):
    """(function, instruction) pairs above the baseline in one file."""
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", "-M", "att", path],
                         check=True, capture_output=True, text=True).stdout
    found, function = [], "?"
    for line in out.splitlines():
        m = FUNCTION.match(line)
        if m:
            function = m.group(1)
            continue
        m = INSTRUCTION.match(line)
        if not m or not above_baseline(m.group(1), m.group(2)):
            continue
        if allow_variant_functions and ALLOWED_FUNCTION.search(function):
            continue
        found.append((function, line.strip()))
    return found


def is_elf_executable(path):
    with open(path, "rb") as f:
        header = f.read(18)
    return header[:4] == b"\x7fELF" and header[16] in (2, 3)  # ET_EXEC or ET_DYN


def files_to_check(path):
    """(file, kind) with kind 'object' or 'binary'."""
    if os.path.isfile(path):
        return [(path, "object" if path.endswith(".o") else "binary")]
    files = []
    for root, _, names in os.walk(path):
        if SKIPPED_TREES.search(root + "/") or "/CMakeFiles/CMakeTmp" in root:
            continue
        for name in names:
            full = os.path.join(root, name)
            if name.endswith(".o") and "/CMakeFiles/" in full and not ALLOWED_OBJECT.search(full):
                files.append((full, "object"))
            elif (name == "lantern" or name.endswith("_test")) and os.access(full, os.X_OK) \
                    and os.path.isfile(full) and is_elf_executable(full):
                files.append((full, "binary"))
    return files


def main(argv):
    expect_violation = "--expect-violation" in argv
    paths = [a for a in argv[1:] if a != "--expect-violation"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    checked, bad = 0, []
    for path in paths:
        for file, kind in files_to_check(path):
            checked += 1
            for function, instruction in violations(file, kind == "binary")[:3]:
                bad.append(f"{file}: {function}: {instruction}")
    if checked == 0:
        print("check_baseline_isa: nothing to check in " + " ".join(paths), file=sys.stderr)
        return 2
    if expect_violation:
        if bad:
            print(f"check_baseline_isa: the probe is flagged as it should be ({bad[0]})")
            return 0
        print("check_baseline_isa: the AVX2 probe was NOT flagged: the check is broken",
              file=sys.stderr)
        return 1
    if bad:
        print(f"check_baseline_isa: {len(bad)} instructions above x86-64-v2 outside the "
              "ISA variants (first three per file):", file=sys.stderr)
        for line in bad[:60]:
            print("  " + line, file=sys.stderr)
        return 1
    print(f"check_baseline_isa: {checked} files, no instruction above x86-64-v2 outside "
          "src/tensor/x86/{avx2,avx512,avx512_vnni,avx_vnni}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
