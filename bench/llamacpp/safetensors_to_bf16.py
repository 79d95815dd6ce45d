#!/usr/bin/python3
"""Writes an F32 safetensors file's tensors as BF16 (round to nearest even, as lantern's
--dtype bfloat16 and llama.cpp's llama-quantize BF16 round): the same weights for both.

usage: safetensors_to_bf16.py IN.safetensors OUT.safetensors
"""
import json, struct, sys, numpy as np
src, dst = sys.argv[1:]
with open(src, "rb") as f:
    n, = struct.unpack("<Q", f.read(8)); header = json.loads(f.read(n))
data = np.memmap(src, dtype=np.uint8, mode="r", offset=8 + n)
out_header, off = {}, 0
names = [k for k in header if k != "__metadata__"]
for k in names:
    cnt = int(np.prod(header[k]["shape"]))
    out_header[k] = {"dtype": "BF16", "shape": header[k]["shape"], "data_offsets": [off, off + 2 * cnt]}
    off += 2 * cnt
hb = json.dumps(out_header).encode(); hb += b" " * ((8 - len(hb) % 8) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(hb))); f.write(hb)
    for k in names:
        b, e = header[k]["data_offsets"]
        x = data[b:e].view(np.uint32).astype(np.uint64)
        r = ((x + 0x7FFF + ((x >> 16) & 1)) >> 16).astype(np.uint16)  # round to nearest even
        f.write(r.tobytes())
