#!/usr/bin/env python3
"""Correctness of `lantern --device cuda` on the tiny Llama-family checkpoints of tests/fixtures.

For each variant (RoPE scalings, GQA/MQA, biases, tied heads, Qwen3's q/k norms, sliding
windows; weights in BF16, one in FP16):
  logits     every position's log-softmax from the server (`prompt_logprobs` over the whole
             vocabulary) against the float64 numpy reference (llama_reference.py, K/V rounded
             as the 16-bit cache holds them), both centred per row; max |a-b| / max |ref| must
             stay within --tolerance (a BF16 tolerance), and argmax must agree wherever the
             reference's top two are further apart than that;
  greedy     `lantern generate` token for token against the reference's greedy ids, and
             against transformers' `generate` on the same checkpoint (bf16, same device); a
             divergence where the reference's two candidates are within the tolerance is a
             near tie, reported but not a failure;
  batch      through the server: a request alone vs the same request among 31 concurrent
             others, and a long prompt in one step vs chunked prefill (--max-num-batched-tokens
             16): token ids identical (logprob drift reported).

  correctness.py --lantern build/lantern --device cuda --work /tmp/gpuchk --results r.jsonl

With --device cpu it is a dry run of the same comparisons against the CPU backend (what CI
machines can do); transformers, when missing, is skipped with one line. Exit 1 on a failure.
"""

import argparse
import concurrent.futures
import copy
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_common as g  # noqa: E402

sys.path.insert(0, g.FIXTURES)
from llama_reference import Llama  # noqa: E402

ROPE_LLAMA3 = ('{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, '
               '"high_freq_factor": 4.0, "original_max_position_embeddings": 32}')
# (name, make_llama_model.py flags). BF16 unless said; dynamic-NTK RoPE is left out, as in
# hf_crosscheck.py (lantern follows vLLM there, not transformers).
VARIANTS = [
    ("llama_gqa_untied", []),
    ("llama3_rope_scaling", ["--rope-theta", "500000", "--rope-scaling", ROPE_LLAMA3]),
    ("linear_rope", ["--rope-scaling", '{"type": "linear", "factor": 2.5}']),
    ("yarn_rope", ["--rope-scaling",
                   '{"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}']),
    ("qwen2_bias_tied", ["--model-type", "qwen2", "--tie-word-embeddings", "1",
                         "--rope-theta", "1e6"]),
    ("qwen3_qk_norm_head_dim32", ["--model-type", "qwen3", "--head-dim", "32"]),
    ("qwen3_f16", ["--model-type", "qwen3", "--head-dim", "32", "--dtype", "f16"]),
    ("mistral_mqa", ["--model-type", "mistral", "--kv-heads", "1"]),
    ("llama_biases_tied_mha", ["--attention-bias", "1", "--mlp-bias", "1",
                               "--tie-word-embeddings", "1", "--heads", "8", "--kv-heads", "8"]),
    ("mistral_sliding_window", ["--model-type", "mistral", "--sliding-window", "21"]),
    ("qwen2_sliding_window_upper_layers", ["--model-type", "qwen2", "--layers", "3",
                                           "--sliding-window", "9", "--max-window-layers", "1"]),
    # head_dim 128 as real models have it, and more layers and heads.
    ("llama_head_dim128", ["--hidden", "256", "--heads", "2", "--kv-heads", "1", "--layers", "4",
                           "--ffn", "512"]),
]
VOCAB = 512
GREEDY_TOKENS = 24


def sequences():
    """Fixed prompts: short, past every sliding window, one near max_position (128)."""
    rng = np.random.default_rng(1234)
    out = []
    for n in [1, 7, 30, 60, 100]:
        seq = rng.integers(3, VOCAB, size=n).tolist()
        seq[0] = 1
        out.append(seq)
    return out


def centred(x):
    return x - x.mean(axis=-1, keepdims=True)


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def compare_logits(ours, ref, tol):
    """(relative max difference, argmax disagreements where the reference is decisive).

    `ours` holds log-softmax values, NaN for the tokens the server did not return (all are
    returned when --max-logprobs covers the vocabulary; else the top 20). They are compared
    with the reference's log-softmax, relative to the spread of its logits (max |logit - mean|).
    """
    b = centred(ref)
    scale = max(float(np.max(np.abs(b))), 1e-30)
    have = ~np.isnan(ours)
    rel = float(np.max(np.abs(np.where(have, ours - log_softmax(ref), 0.0)))) / scale
    top2 = np.sort(b, axis=-1)[:, -2:]
    decisive = (top2[:, 1] - top2[:, 0]) > tol * scale
    wrong = int(np.sum(decisive & (np.argmax(np.where(have, ours, -np.inf), -1) != np.argmax(b, -1))))
    return rel, wrong


def server_logits(server, seq, vocab, top):
    """[len(seq), vocab] log-softmax (NaN: not returned) from prompt_logprobs of seq + 1 token."""
    body = {"model": "m", "prompt": seq + [3], "max_tokens": 1, "temperature": 0,
            "prompt_logprobs": top}
    choice = server.post("/v1/completions", body)["choices"][0]
    rows = choice["prompt_logprobs"][1:]
    out = np.full((len(seq), vocab), np.nan)
    for i, row in enumerate(rows):
        for tok, entry in row.items():
            out[i, int(tok)] = entry["logprob"]
    return out


def classify_divergence(ref_model, prompt, a, b, tol):
    """None when equal; else (index, 'near tie'|'MISMATCH', gap) at the first difference."""
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            logits = centred(ref_model.logits(prompt + a[:k])[-1])
            gap = abs(float(logits[x] - logits[y])) / max(float(np.max(np.abs(logits))), 1e-30)
            return k, ("near tie" if gap <= tol else "MISMATCH"), gap
    if len(a) != len(b):
        return min(len(a), len(b)), "MISMATCH", float("nan")
    return None


def hf_greedy(model_dir, prompts, device, n):
    """transformers' generate: greedy, bf16/f16 as stored, eager attention, no EOS stop."""
    transformers, why = g.transformers_or_reason()
    torch, why_torch = g.torch_cuda(device)
    if transformers is None or torch is None:
        return None, why or why_torch
    model = transformers.AutoModelForCausalLM.from_pretrained(
        model_dir, torch_dtype="auto", attn_implementation="eager").to(device).eval()
    cfg = copy.deepcopy(model.generation_config)
    cfg.eos_token_id = None
    cfg.pad_token_id = 0
    cfg.do_sample = False
    out = []
    with torch.no_grad():
        for p in prompts:
            ids = torch.tensor([p], device=device)
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=cfg,
                                 max_new_tokens=n)
            out.append(gen[0, len(p):].tolist())
    del model
    return out, f"transformers {transformers.__version__}, torch {torch.__version__}"


def check_variant(a, res, name, flags, seqs):
    model_dir = g.make_llama(os.path.join(a.work, "models", name), ["--dtype", "bf16", *flags]
                             if "--dtype" not in flags else flags)
    kv = "float16" if "f16" in flags else "bfloat16"
    ref = Llama(model_dir, 0, "float32", "none", kv)
    section = f"correctness/{name}"
    # Logits, through the server.
    serve_extra = ["--max-logprobs", str(VOCAB), "--max-model-len", "128", "--max-num-seqs", "8",
                   *gpu_share(a)]  # few sequences: few CUDA graphs to capture at start-up
    with g.Server(a.lantern, model_dir, a.device, serve_extra) as server:
        worst, wrong, top = 0.0, 0, VOCAB
        for seq in seqs:
            try:
                ours = server_logits(server, seq, VOCAB, top)
            except RuntimeError as e:
                if top == 20 or "between 0 and 20" not in str(e):
                    raise
                top = 20  # a build whose engine ignores --max-logprobs: the top 20 only
                ours = server_logits(server, seq, VOCAB, top)
            rel, bad = compare_logits(ours, ref.logits(seq), a.tolerance)
            worst, wrong = max(worst, rel), wrong + bad
        res.add(section, "logits vs float64 reference (max rel. diff)", worst, "",
                worst <= a.tolerance and wrong == 0,
                server.cmd + ["# /v1/completions prompt_logprobs", str(top)],
                f"tolerance {a.tolerance:g}; {'all' if top == VOCAB else 'top 20'} logprobs of "
                f"{len(seqs)} prompts; decisive argmax disagreements {wrong}")
    # Greedy continuations.
    prompts = [seqs[1], seqs[2]]
    ours, cmds = [], []
    for p in prompts:
        ids, cmd = g.generate(a.lantern, model_dir, a.device, p, GREEDY_TOKENS)
        ours.append(ids)
        cmds.append(cmd)
    for i, p in enumerate(prompts):
        want = []
        for _ in range(GREEDY_TOKENS):
            want.append(int(np.argmax(ref.logits(p + want)[-1])))
        d = classify_divergence(ref, p, ours[i], want, a.tolerance)
        res.add(section, f"greedy prompt {i} vs reference", "equal" if d is None else
                f"differs at {d[0]} ({d[1]}, gap {d[2]:.2e})", "", d is None or d[1] == "near tie",
                cmds[i])
    if a.skip_hf:
        return
    try:
        hf, note = hf_greedy(model_dir, prompts, a.device, GREEDY_TOKENS)
    except Exception as e:  # e.g. a transformers too old for the architecture: not lantern's fault
        hf, note = None, f"transformers failed: {str(e)[-300:]}"
    if hf is None:
        res.add(section, "greedy vs transformers", "skipped", "", None, "", note)
        return
    for i, p in enumerate(prompts):
        d = classify_divergence(ref, p, ours[i], hf[i], a.tolerance)
        res.add(section, f"greedy prompt {i} vs transformers generate", "equal" if d is None else
                f"differs at {d[0]} ({d[1]}, gap {d[2]:.2e})", "", d is None or d[1] == "near tie",
                cmds[i], note)


def gpu_share(a):
    """A small --gpu-memory-utilization for the tiny models' servers (their KV pools need
    little; the default 0.9 would take most of the GPU for nothing)."""
    if a.device == "cuda" and g.supports_flag(a.lantern, ["serve"], "--gpu-memory-utilization"):
        return ["--gpu-memory-utilization", "0.2"]
    return []


def invariance_verdict(ref, prompt, x, y, x_lp, y_lp, tol):
    """(value, unit, ok, note) for two runs of one request that should agree: identical ids
    pass; a first difference at a near tie of the reference is reported without a verdict."""
    d = classify_divergence(ref, prompt, x, y, tol)
    if d is None:
        drift = max(abs(p - q) for p, q in zip(x_lp, y_lp))
        return "identical ids", "", True, f"max logprob drift {drift:.2e}"
    return f"differ at {d[0]} ({d[1]}, gap {d[2]:.2e})", "", (None if d[1] == "near tie" else False), ""


def check_batch_invariance(a, res, seqs):
    section = "correctness/batch-invariance"
    model_dir = g.make_llama(os.path.join(a.work, "models", "llama_gqa_untied"), ["--dtype", "bf16"])
    rng = np.random.default_rng(99)
    others = [[1] + rng.integers(3, VOCAB, size=int(rng.integers(2, 90))).tolist()
              for _ in range(31)]
    target, n = seqs[2], GREEDY_TOKENS
    extra = ["--max-model-len", "128", "--max-num-seqs", "64", *gpu_share(a)]
    ref = Llama(model_dir, 0, "float32", "none", "bfloat16")
    with g.Server(a.lantern, model_dir, a.device, extra) as server:
        alone, alone_lp = server.completion_ids(target, n)
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            futures = [pool.submit(server.completion_ids, p, n) for p in [target] + others]
            batched, batched_lp = futures[0].result()
            for f in futures[1:]:
                f.result()
        value, unit, ok, note = invariance_verdict(ref, target, alone, batched, alone_lp,
                                                   batched_lp, a.tolerance)
        res.add(section, "alone vs among 31 concurrent requests", value, unit, ok, server.cmd,
                note)
        long_prompt = seqs[4]
        whole, whole_lp = server.completion_ids(long_prompt, n)
        cmd_whole = server.cmd
    with g.Server(a.lantern, model_dir, a.device, extra + ["--max-num-batched-tokens", "16"]) as s2:
        chunked, chunked_lp = s2.completion_ids(long_prompt, n)
        value, unit, ok, note = invariance_verdict(ref, long_prompt, whole, chunked, whole_lp,
                                                   chunked_lp, a.tolerance)
        res.add(section, "100-token prompt whole vs chunked prefill (16 tokens a step)", value,
                unit, ok, " ".join(cmd_whole) + " ; " + " ".join(s2.cmd), note)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lantern", required=True, help="the lantern binary")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--work", required=True, help="directory for checkpoints")
    p.add_argument("--results", default="", help="append JSON-lines results here")
    p.add_argument("--tolerance", type=float, default=2e-2,
                   help="max |a-b| / max |ref| of centred logits (BF16: 2e-2)")
    p.add_argument("--variants", default="", help="comma-separated subset of: " +
                   ",".join(v[0] for v in VARIANTS))
    p.add_argument("--skip-hf", action="store_true", help="leave out transformers' generate")
    p.add_argument("--skip-batch", action="store_true", help="leave out batch invariance")
    a = p.parse_args()
    a.lantern = os.path.abspath(a.lantern)
    res = g.Results(a.results)
    chosen = [v for v in VARIANTS if not a.variants or v[0] in a.variants.split(",")]
    if a.variants and len(chosen) != len(a.variants.split(",")):
        p.error(f"unknown variant in {a.variants}")
    seqs = sequences()
    t0 = time.time()
    for name, flags in chosen:
        try:
            check_variant(a, res, name, flags, seqs)
        except Exception as e:  # one broken variant must not hide the others' results
            res.add(f"correctness/{name}", "run", "error", "", False, "", str(e)[-1500:])
    if not a.skip_batch:
        try:
            check_batch_invariance(a, res, seqs)
        except Exception as e:
            res.add("correctness/batch-invariance", "run", "error", "", False, "", str(e)[-1500:])
    g.log(f"correctness: {len(chosen)} variants in {time.time() - t0:.1f} s, "
          f"{res.failures} failure(s)")
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
