#!/usr/bin/python3
"""Writes a random Llama checkpoint of any size in BF16, as sharded safetensors with
model.safetensors.index.json (the layout of Meta's Llama-3.1-8B on the Hub), tensor by tensor
and in chunks, so that the generator's memory stays at a few hundred MB even for 8B
parameters (tests/fixtures/make_llama_model.py builds every tensor in memory first).

Values as make_llama_model.py draws them: linear weights N(0, init_std), embeddings N(0, 1),
norms 1 + 0.1 N(0, 1); drawn in F32 by torch from --seed and rounded to BF16 (nearest even).

  make_random_llama_bf16.py --out DIR [--preset llama3.1-8b] [--seed 1] [--shard-gb 5]
"""

import argparse
import json
import os
import struct

import torch

LLAMA3_ROPE = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192, "rope_type": "llama3"}
PRESETS = {
    # meta-llama/Llama-3.1-8B's config.json, less the tokenizer ids (see make_config).
    "llama3.1-8b": dict(hidden=4096, layers=32, heads=32, kv_heads=8, ffn=14336, vocab=128256,
                        max_pos=131072, rope_theta=500000.0, rms_norm_eps=1e-5, tie=False,
                        rope_scaling=LLAMA3_ROPE),
    # A small model of the same layout (GPT-2's vocabulary fits), for checking this script.
    "tiny": dict(hidden=64, layers=2, heads=4, kv_heads=2, ffn=160, vocab=50304, max_pos=131072,
                 rope_theta=500000.0, rms_norm_eps=1e-5, tie=False, rope_scaling=LLAMA3_ROPE),
}
CHUNK = 1 << 24  # values drawn at a time: 64 MB of F32


def tensor_specs(p):
    h, hd = p["hidden"], p["hidden"] // p["heads"]
    specs = [("model.embed_tokens.weight", (p["vocab"], h), "embed")]
    for i in range(p["layers"]):
        pre = f"model.layers.{i}."
        specs += [(pre + "self_attn.q_proj.weight", (p["heads"] * hd, h), "weight"),
                  (pre + "self_attn.k_proj.weight", (p["kv_heads"] * hd, h), "weight"),
                  (pre + "self_attn.v_proj.weight", (p["kv_heads"] * hd, h), "weight"),
                  (pre + "self_attn.o_proj.weight", (h, p["heads"] * hd), "weight"),
                  (pre + "mlp.gate_proj.weight", (p["ffn"], h), "weight"),
                  (pre + "mlp.up_proj.weight", (p["ffn"], h), "weight"),
                  (pre + "mlp.down_proj.weight", (h, p["ffn"]), "weight"),
                  (pre + "input_layernorm.weight", (h,), "norm"),
                  (pre + "post_attention_layernorm.weight", (h,), "norm")]
    specs.append(("model.norm.weight", (h,), "norm"))
    if not p["tie"]:
        specs.append(("lm_head.weight", (p["vocab"], h), "weight"))
    return specs


def make_config(p):
    # GPT-2's tokenizer files serve this model (bench/precision/serve_8b.sh): its
    # <|endoftext|> (50256) is the bos/eos, so that a completion can end.
    return {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": 50256, "eos_token_id": 50256, "head_dim": p["hidden"] // p["heads"],
        "hidden_act": "silu", "hidden_size": p["hidden"], "initializer_range": 0.02,
        "intermediate_size": p["ffn"], "max_position_embeddings": p["max_pos"], "mlp_bias": False,
        "model_type": "llama", "num_attention_heads": p["heads"],
        "num_hidden_layers": p["layers"], "num_key_value_heads": p["kv_heads"],
        "pretraining_tp": 1, "rms_norm_eps": p["rms_norm_eps"], "rope_scaling": p["rope_scaling"],
        "rope_theta": p["rope_theta"], "tie_word_embeddings": p["tie"], "torch_dtype": "bfloat16",
        "transformers_version": "4.43.0", "use_cache": True, "vocab_size": p["vocab"],
    }


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def plan_shards(specs, shard_bytes):
    """Consecutive tensors grouped into shards of at most shard_bytes (one tensor may exceed)."""
    shards, current, size = [], [], 0
    for spec in specs:
        nbytes = 2 * numel(spec[1])
        if current and size + nbytes > shard_bytes:
            shards.append(current)
            current, size = [], 0
        current.append(spec)
        size += nbytes
    if current:
        shards.append(current)
    return shards


def write_tensor(f, gen, kind, count, init_std):
    done = 0
    while done < count:
        n = min(CHUNK, count - done)
        x = torch.randn(n, generator=gen, dtype=torch.float32)
        if kind == "weight":
            x.mul_(init_std)
        elif kind == "norm":
            x.mul_(0.1).add_(1.0)
        f.write(x.to(torch.bfloat16).view(torch.int16).numpy().data)
        done += n


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="llama3.1-8b")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--init-std", type=float, default=0.02)
    ap.add_argument("--shard-gb", type=float, default=5.0)
    a = ap.parse_args()
    torch.set_num_threads(1)  # deterministic, and gentle on a shared machine
    p = PRESETS[a.preset]
    os.makedirs(a.out, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    shards = plan_shards(tensor_specs(p), int(a.shard_gb * 1e9))
    weight_map, total = {}, 0
    for k, shard in enumerate(shards):
        file = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for name, shape, _ in shard:
            nbytes = 2 * numel(shape)
            header[name] = {"dtype": "BF16", "shape": list(shape),
                            "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
            weight_map[name] = file
        total += offset
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        tmp = os.path.join(a.out, file + ".partial")
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for name, shape, kind in shard:
                write_tensor(f, gen, kind, numel(shape), a.init_std)
        os.replace(tmp, os.path.join(a.out, file))
        print(f"{file}: {len(shard)} tensors, {offset / 1e9:.2f} GB", flush=True)
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
                  f, indent=2)
    config = make_config(p)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({"_from_model_config": True, "bos_token_id": config["bos_token_id"],
                   "eos_token_id": config["eos_token_id"], "transformers_version": "4.43.0"}, f,
                  indent=2)
    # config.json last: its presence marks a complete checkpoint.
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
