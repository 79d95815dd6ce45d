#!/usr/bin/python3
"""Trains a tiny Llama on English text so that its next-token distributions are peaked.

Random-weight test models have nearly flat logits: the top-1 token there is decided by
noise, so "does BF16 keep the F32 top-1" is meaningless on them. This script trains a small
Llama (GPT-2's tokenizer, tied embeddings, the Llama-3.2 layout at toy size) for a few
minutes on the licence texts Debian ships, and writes it in Hugging Face layout with
make_llama_model.py's writers. agreement.js then compares lantern's top-1 token per
position at each weight type against its own F32 run on held-out text.

  /usr/bin/python3 bench/precision/train_tiny_llama.py --out /tmp/tiny-trained \
      --tokens /tmp/train.json
(--tokens: a JSON list of GPT-2 token ids, as bench/precision/make_tokens.js writes them.)
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures"))
import make_llama_model as mlm  # noqa: E402
from gpt2_tokenizer_files import VOCAB_SIZE, write_gpt2_tokenizer  # noqa: E402
from make_opt_model import write_json, write_safetensors  # noqa: E402


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, positions, theta):
    # Hugging Face's convention: the two halves of a head are the (real, imaginary) pairs.
    hd = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    angles = positions[:, None].float() * inv[None, :]
    cos = torch.cat([angles.cos(), angles.cos()], -1)
    sin = torch.cat([angles.sin(), angles.sin()], -1)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def forward(w, a, tokens):
    b, t = tokens.shape
    hd = a.hidden // a.heads
    pos = torch.arange(t)
    x = w["model.embed_tokens.weight"][tokens]
    mask = torch.full((t, t), float("-inf")).triu(1)
    for i in range(a.layers):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], a.rms_norm_eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(b, t, a.heads, hd).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(b, t, a.kv_heads, hd).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(b, t, a.kv_heads, hd).transpose(1, 2)
        q, k = rope(q, pos, a.rope_theta), rope(k, pos, a.rope_theta)
        rep = a.heads // a.kv_heads
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1)
        o = (att @ v).transpose(1, 2).reshape(b, t, a.heads * hd)
        x = x + o @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], a.rms_norm_eps)
        g = F.silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)
        x = x + g @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], a.rms_norm_eps)
    return x @ w["model.embed_tokens.weight"].T


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    a = mlm.parse_args(["--out", args.out, "--seed", "0", "--hidden", "128", "--layers", "4",
                        "--heads", "4", "--kv-heads", "2", "--ffn", "384", "--max-pos", "512",
                        "--tie-word-embeddings", "1", "--gpt2-tokenizer"])
    # Training over the tokens the text uses (a few thousand of GPT-2's 50257) keeps the
    # softmax cheap; the other rows get small random vectors so they rarely win but never tie.
    ids = json.load(open(args.tokens))
    used = sorted(set(ids))
    compact = {t: i for i, t in enumerate(used)}
    data = torch.tensor([compact[t] for t in ids], dtype=torch.long)
    full_vocab, a.vocab = VOCAB_SIZE, len(used)
    w = {}
    for name, shape, kind in mlm.tensor_specs(a):
        if kind == "norm":
            w[name] = torch.ones(shape)
        else:
            w[name] = torch.randn(shape) * (0.02 if kind == "embed" else 1 / math.sqrt(shape[-1]))
        w[name].requires_grad_(True)
    opt = torch.optim.AdamW(w.values(), lr=3e-3, weight_decay=0.01)
    start = time.time()
    for step in range(args.steps):
        lr = 3e-3 * min(1.0, (step + 1) / 30) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        idx = torch.randint(0, len(data) - args.seq - 1, (args.batch,))
        batch = torch.stack([data[i:i + args.seq + 1] for i in idx])
        logits = forward(w, a, batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    embed = torch.randn(full_vocab, a.hidden) * 0.02
    embed[torch.tensor(used)] = w["model.embed_tokens.weight"].detach()
    w["model.embed_tokens.weight"] = embed
    a.vocab = full_vocab
    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "config.json"), mlm.make_config(a))
    write_json(os.path.join(args.out, "generation_config.json"),
               {"bos_token_id": 50256, "eos_token_id": 50256, "transformers_version": "4.46.0"})
    write_safetensors(os.path.join(args.out, "model.safetensors"),
                      {k: v.detach().contiguous() for k, v in w.items()})
    write_gpt2_tokenizer(args.out, a.max_pos)


if __name__ == "__main__":
    main(sys.argv[1:])
