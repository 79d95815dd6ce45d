#!/usr/bin/env python3
"""Speed of `lantern --device cuda` on a Llama-3.2-1B-shaped checkpoint (random BF16 weights,
written by tests/fixtures/make_llama_model.py), against the GPU's limits measured with torch
and against transformers' `generate` on the same GPU and weights, in one run:

  limits        device copy bandwidth (torch: 1 GiB copy, read + write bytes) and the bf16
                matmul peak (torch.matmul 8192^3)
  decode b=1    `lantern bench throughput --concurrency 1`: decode tokens/s, and as a share
                of the bandwidth bound (copy bandwidth / weight bytes read per token)
  prefill 2048  `lantern bench throughput --input-len 2048 --output-len 1`: tokens/s, and its
                FLOPs as a share of the matmul peak
  64 streams    `lantern bench throughput --concurrency 64`: aggregate output tokens/s; and
                `lantern bench serve --max-concurrency 64` against `lantern serve`: output
                tokens/s, TTFT p50/p99
  tracing       two servers at once (untraced, and traced to an OTLP/HTTP receiver in this
                script), `bench serve` in ABBA order: traced / untraced throughput
  transformers  the same three shapes with transformers (bf16, sdpa): generate at batch 1
                and 64, one 2048-token forward

  speed.py --lantern build/lantern --device cuda --work /tmp/gpuchk --results r.jsonl

--shape tiny with --device cpu is a dry run of the same steps on a small model (what CI
machines can do); the torch limits and transformers are skipped with a line where absent.
"""

import argparse
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "gpu"))
import gpu_common as g  # noqa: E402

ROPE_LLAMA32 = ('{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, '
                '"high_freq_factor": 4.0, "original_max_position_embeddings": 8192}')
SHAPES = {
    # Llama-3.2-1B: 16 layers, hidden 2048, 32 heads of 64, 8 KV heads, FFN 8192, tied head.
    "1b": ["--hidden", "2048", "--layers", "16", "--heads", "32", "--kv-heads", "8",
           "--ffn", "8192", "--vocab", "128256", "--tie-word-embeddings", "1",
           "--max-pos", "8192", "--rope-theta", "500000", "--rope-scaling", ROPE_LLAMA32,
           "--rms-norm-eps", "1e-5", "--init-std", "0.02", "--dtype", "bf16"],
    "tiny": ["--hidden", "256", "--layers", "2", "--heads", "4", "--kv-heads", "2",
             "--ffn", "512", "--vocab", "4096", "--max-pos", "4096", "--init-std", "0.02",
             "--dtype", "bf16"],
}


def model_bytes_and_flops(cfg):
    """(weight bytes one decode step reads, FLOPs of an n-token prefill as a function)."""
    h, f, v, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or h // heads
    layer = 2 * h * heads * hd + 2 * h * kv * hd + 3 * h * f  # q,o + k,v + SwiGLU
    matrices = L * layer + v * h  # the LM head (tied or not) is read every step
    vectors = L * 2 * h + h      # RMSNorm weights (fp32 on the device)
    weight_bytes = 2 * matrices + 4 * vectors

    def prefill_flops(n):
        return 2 * n * L * layer + L * 4 * heads * hd * n * (n + 1) / 2 + 2 * h * v

    return weight_bytes, prefill_flops


def torch_limits(res, device):
    torch, why = g.torch_cuda(device)
    if torch is None or device != "cuda":
        res.add("speed/limits", "GPU limits", "skipped", "", None, "", why or "device is not cuda")
        return None, None
    n = 1 << 30
    a = torch.empty(n, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    b.copy_(a)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        b.copy_(a)
    end.record()
    torch.cuda.synchronize()
    bandwidth = 2 * n * 20 / (start.elapsed_time(end) / 1e3)
    del a, b
    m = 8192
    x = torch.randn(m, m, dtype=torch.bfloat16, device="cuda")
    y = torch.randn(m, m, dtype=torch.bfloat16, device="cuda")
    for _ in range(3):
        x @ y
    start.record()
    for _ in range(20):
        x @ y
    end.record()
    torch.cuda.synchronize()
    peak = 2 * m ** 3 * 20 / (start.elapsed_time(end) / 1e3)
    del x, y
    torch.cuda.empty_cache()
    name = torch.cuda.get_device_name(0)
    res.add("speed/limits", "device copy bandwidth (read + write)", bandwidth / 1e9, "GB/s", None,
            "torch: 20 x b.copy_(a), 1 GiB uint8, CUDA events", name)
    res.add("speed/limits", "bf16 matmul peak", peak / 1e12, "TFLOP/s", None,
            "torch: 20 x (8192x8192 @ 8192x8192) bf16, CUDA events", name)
    return bandwidth, peak


def bench_throughput(a, model, args, tag):
    out = os.path.join(a.work, f"throughput_{tag}.json")
    cmd = [a.lantern, "bench", "throughput", "--model", model,
           *g.device_args(a.lantern, ["bench", "throughput"], a.device), "--greedy",
           "--result-json", out, *args]
    proc = g.run(cmd, a.step_timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}"
                           f"{proc.stdout[-1000:]}")
    with open(out) as f:
        return json.load(f), cmd


class Receiver:
    """An OTLP/HTTP trace receiver that acknowledges every export (empty protobuf response)."""

    def __init__(self):
        counts = self.counts = {"requests": 0, "bytes": 0}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                counts["requests"] += 1
                counts["bytes"] += len(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/traces"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def bench_serve(a, port, vocab, seed, prompts, conc, tag):
    out = os.path.join(a.work, f"serve_{tag}.json")
    cmd = [a.lantern, "bench", "serve", "--port", str(port), "--model", "m", "--num-prompts",
           str(prompts), "--max-concurrency", str(conc), "--random-input-len", "128",
           "--random-output-len", "128", "--vocab-range", str(min(10000, vocab - 200)),
           "--seed", str(seed), "--result-json", out]
    proc = g.run(cmd, a.step_timeout)
    if not os.path.exists(out):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    with open(out) as f:
        return json.load(f), cmd


def lantern_side(a, res, model, cfg, bandwidth, peak):
    weight_bytes, prefill_flops = model_bytes_and_flops(cfg)
    res.add("speed/lantern", "weight bytes read per decode step", weight_bytes / 1e9, "GB", None,
            "", "matrices and LM head in bf16, norms fp32")
    # Decode at batch 1 (the second of two runs: the first warms up).
    r, cmd = bench_throughput(a, model, ["--concurrency", "1,1", "--input-len", "128",
                                         "--output-len", str(a.decode_tokens)], "b1")
    tps = r[-1]["decode_tokens_per_s"]
    note = ""
    if bandwidth:
        bound = bandwidth / weight_bytes
        note = f"{100 * tps / bound:.1f}% of the bandwidth bound {bound:.0f} tok/s"
    res.add("speed/lantern", "decode batch 1", tps, "tok/s",
            (tps / (bandwidth / weight_bytes) >= 0.5) if bandwidth else None, cmd, note)
    # Prefill of 2048 tokens.
    n = a.prefill_tokens
    r, cmd = bench_throughput(a, model, ["--concurrency", "1,1", "--num-prompts", "3",
                                         "--input-len", str(n), "--output-len", "1",
                                         "--max-num-batched-tokens", str(n)], "prefill")
    run = r[-1]
    per_s = run["requests"] / run["elapsed_s"]
    note = f"{per_s * n:.0f} prompt tok/s"
    if peak:
        note += f"; {100 * per_s * prefill_flops(n) / peak:.1f}% of the bf16 matmul peak"
    res.add("speed/lantern", f"prefill {n} tokens", 1e3 / per_s, "ms", None, cmd, note)
    # 64 concurrent streams, offline.
    r, cmd = bench_throughput(a, model, ["--concurrency", str(a.streams), "--num-prompts",
                                         str(2 * a.streams), "--input-len", "128",
                                         "--output-len", "128"], "c64")
    res.add("speed/lantern", f"{a.streams} streams, engine (bench throughput)",
            r[-1]["output_tokens_per_s"], "out tok/s", None, cmd,
            f"decode-only steps {r[-1]['decode_tokens_per_s']:.0f} tok/s, "
            f"mean batch {r[-1]['mean_decode_batch']:.1f}")


def serving_side(a, res, model, cfg):
    """Two servers at once, untraced and traced; bench serve in ABBA order."""
    vocab = cfg["vocab_size"]
    extra = ["--max-num-seqs", str(a.streams), "--max-model-len", "1024"]
    if a.device == "cuda":
        if g.supports_flag(a.lantern, ["serve"], "--gpu-memory-utilization"):
            extra += ["--gpu-memory-utilization", "0.4"]
    receiver = Receiver()
    try:
        with g.Server(a.lantern, model, a.device, extra) as off, \
                g.Server(a.lantern, model, a.device, extra + ["--otlp-traces-endpoint", receiver.url],
                         env={"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}) as on:
            bench_serve(a, off.port, vocab, 0, a.streams, a.streams, "warm_off")
            bench_serve(a, on.port, vocab, 0, a.streams, a.streams, "warm_on")
            rounds = {"off": [], "on": []}
            for i, which in enumerate(["off", "on", "on", "off"][:a.abba]):
                server = off if which == "off" else on
                r, cmd = bench_serve(a, server.port, vocab, 1 + i // 2, 2 * a.streams, a.streams,
                                     f"{which}{i}")
                rounds[which].append((r, cmd))
            r, cmd = rounds["off"][0]
            res.add("speed/lantern", f"{a.streams} streams, server (bench serve)",
                    r["output_throughput"], "out tok/s", r["failed_requests"] == 0,
                    " ".join(off.cmd) + " ; " + " ".join(cmd),
                    f"TTFT p50 {r['p50_ttft_ms']:.1f} ms, p99 {r['p99_ttft_ms']:.1f} ms; "
                    f"TPOT p50 {r['p50_tpot_ms']:.2f} ms; input 128, output 128")
            thr = {k: sum(x[0]["output_throughput"] for x in v) / len(v) for k, v in rounds.items()
                   if v}
            during = dict(receiver.counts)
            traced_cmd = " ".join(on.cmd) + " ; " + a.lantern + " bench serve ... (ABBA)"
        # Recorded once the servers have stopped: the receiver's counts then include the
        # spans flushed at shutdown, evidence that the traced server did trace every request.
        if "on" in thr and "off" in thr:
            ratio = thr["on"] / thr["off"]
            res.add("speed/tracing", "traced / untraced output throughput", ratio, "",
                    ratio >= 0.99 if a.device == "cuda" else None, traced_cmd,
                    f"untraced {thr['off']:.0f}, traced {thr['on']:.0f} tok/s over "
                    f"{len(rounds['off'])}+{len(rounds['on'])} rounds; OTLP exports received "
                    f"{during['requests']} ({during['bytes']} bytes) during the rounds, "
                    f"{receiver.counts['requests']} ({receiver.counts['bytes']} bytes) in all")
    finally:
        receiver.close()


def transformers_side(a, res, model, cfg, peak):
    transformers, why = g.transformers_or_reason()
    torch, why_torch = g.torch_cuda(a.device)
    if transformers is None or torch is None:
        res.add("speed/transformers", "transformers baseline", "skipped", "", None, "",
                why or why_torch)
        return
    dev = a.device
    m = transformers.AutoModelForCausalLM.from_pretrained(
        model, torch_dtype=torch.bfloat16, attn_implementation="sdpa").to(dev).eval()
    gen_cfg = m.generation_config
    gen_cfg.eos_token_id = None
    gen_cfg.pad_token_id = 0
    gen_cfg.do_sample = False
    vocab = cfg["vocab_size"]
    gen = torch.Generator().manual_seed(0)
    version = f"transformers {transformers.__version__}, torch {torch.__version__}, bf16, sdpa"

    def sync():
        if dev == "cuda":
            torch.cuda.synchronize()

    def timed_generate(batch, inp, new):
        ids = torch.randint(4, vocab, (batch, inp), generator=gen).to(dev)
        sync()
        t0 = time.time()
        with torch.no_grad():
            m.generate(ids, attention_mask=torch.ones_like(ids), generation_config=gen_cfg,
                       max_new_tokens=new)
        sync()
        return time.time() - t0

    timed_generate(1, 16, 4)  # warm-up
    short, long_ = 32, 32 + a.decode_tokens
    t_short, t_long = timed_generate(1, 128, short), timed_generate(1, 128, long_)
    tps = (long_ - short) / max(t_long - t_short, 1e-9)
    res.add("speed/transformers", "decode batch 1", tps, "tok/s", None,
            f"model.generate(1x128 ids, max_new_tokens={long_}) - (..., {short})", version)
    ttft = timed_generate(a.streams, 128, 1)
    t = timed_generate(a.streams, 128, 128)
    res.add("speed/transformers", f"{a.streams} streams (one batch)", a.streams * 128 / t,
            "out tok/s", None, f"model.generate({a.streams}x128 ids, max_new_tokens=128)",
            f"first token of the batch after {1e3 * ttft:.0f} ms; {version}")
    n = a.prefill_tokens
    ids = torch.randint(4, vocab, (1, n), generator=gen).to(dev)
    best = 1e9
    with torch.no_grad():
        for _ in range(3):
            sync()
            t0 = time.time()
            try:
                m(input_ids=ids, use_cache=False, logits_to_keep=1)
            except TypeError:  # transformers before 4.50 computes every position's logits
                m(input_ids=ids, use_cache=False)
            sync()
            best = min(best, time.time() - t0)
    _, prefill_flops = model_bytes_and_flops(cfg)
    note = f"{n / best:.0f} prompt tok/s"
    if peak:
        note += f"; {100 * prefill_flops(n) / best / peak:.1f}% of the bf16 matmul peak"
    res.add("speed/transformers", f"prefill {n} tokens", 1e3 * best, "ms", None,
            f"model(1x{n} ids, logits_to_keep=1), best of 3", f"{note}; {version}")
    del m
    if dev == "cuda":
        torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lantern", required=True)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--work", required=True, help="directory for the checkpoint and JSON outputs")
    p.add_argument("--results", default="")
    p.add_argument("--shape", default="1b", choices=sorted(SHAPES))
    p.add_argument("--streams", type=int, default=64)
    p.add_argument("--decode-tokens", type=int, default=256)
    p.add_argument("--prefill-tokens", type=int, default=2048)
    p.add_argument("--abba", type=int, default=4, help="bench serve rounds (tracing off/on)")
    p.add_argument("--step-timeout", type=int, default=150, help="seconds per lantern run")
    p.add_argument("--skip", default="", help="comma-separated: lantern,serve,transformers")
    p.add_argument("--prepare-only", action="store_true", help="write the checkpoint and stop")
    a = p.parse_args()
    a.lantern = os.path.abspath(a.lantern)
    skip = set(filter(None, a.skip.split(",")))
    res = g.Results(a.results)
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    model = g.make_llama(os.path.join(a.work, f"llama-{a.shape}"), SHAPES[a.shape], seed=1)
    with open(os.path.join(model, "config.json")) as f:
        cfg = json.load(f)
    g.log(f"checkpoint {model} ready after {time.time() - t0:.1f} s")
    if a.prepare_only:
        return 0
    bandwidth, peak = torch_limits(res, a.device)
    steps = [("lantern", lambda: lantern_side(a, res, model, cfg, bandwidth, peak)),
             ("serve", lambda: serving_side(a, res, model, cfg)),
             ("transformers", lambda: transformers_side(a, res, model, cfg, peak))]
    for name, step in steps:
        if name in skip:
            res.add(f"speed/{name}", "step", "skipped", "", None, "", "--skip")
            continue
        try:
            step()
        except Exception as e:  # the other steps' figures still count
            # transformers failing (too old, out of memory) is no verdict on lantern
            res.add(f"speed/{name}", "run", "error", "", None if name == "transformers" else False,
                    "", str(e)[-1500:])
    g.log(f"speed: {time.time() - t0:.1f} s, {res.failures} failure(s)")
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
