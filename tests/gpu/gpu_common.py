"""Shared by the GPU check scripts (tests/gpu/correctness.py, bench/gpu/speed.py).

Running `lantern` (its CLI and its server), the tiny Llama-family checkpoints of
tests/fixtures with a small tokenizer of their own, and the JSON result file that
scripts/gpu-check turns into its report. Standard library, numpy and torch only;
transformers is imported lazily by the callers, where it is needed.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def log(msg):
    print(msg, flush=True)


# ---- lantern ---------------------------------------------------------------------------------

_help_cache = {}


def supports_flag(lantern, subcommand, flag):
    """Whether `lantern SUBCOMMAND --help` lists FLAG (e.g. --device before it exists)."""
    key = (lantern, tuple(subcommand))
    if key not in _help_cache:
        try:
            out = subprocess.run([lantern, *subcommand, "--help"], capture_output=True, text=True,
                                 timeout=30)
            _help_cache[key] = out.stdout + out.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            _help_cache[key] = str(e)
    return re.search(re.escape(flag) + r"\b", _help_cache[key]) is not None


def device_args(lantern, subcommand, device):
    """`--device DEVICE`; for cpu left out when this build has no --device flag yet."""
    if device == "cpu" and not supports_flag(lantern, subcommand, "--device"):
        return []
    return ["--device", device]


def run(cmd, timeout, env=None):
    """Runs cmd, returns CompletedProcess (text); raises on timeout with the command in it."""
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    proc.seconds = time.time() - t0
    return proc


def generate(lantern, model, device, prompt_ids, max_tokens, extra=(), timeout=120):
    """Greedy ids from `lantern generate` (ignore_eos)."""
    cmd = [lantern, "generate", "--model", model, *device_args(lantern, ["generate"], device),
           "--prompt-ids", ",".join(map(str, prompt_ids)), "--max-tokens", str(max_tokens),
           "--ignore-eos", *extra]
    proc = run(cmd, timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return [int(t) for t in proc.stdout.strip().split(",") if t], cmd


class Server:
    """`lantern serve MODEL` on a free port, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, lantern, model, device, extra=(), env=None, start_timeout=180):
        self.cmd = [lantern, "serve", model, "--host", "127.0.0.1", "--port", "0",
                    "--served-model-name", "m", "--disable-log-requests",
                    *device_args(lantern, ["serve"], device), *extra]
        self.env = {**os.environ, **(env or {})}
        self.start_timeout = start_timeout
        self.log = []
        self.port = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=self.env)
        ready = threading.Event()

        def reader():
            for line in self.proc.stdout:
                self.log.append(line)
                m = re.search(r"serving .* on http://[\d.]+:(\d+)", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=reader, daemon=True)
        self.reader.start()
        ready.wait(self.start_timeout)
        if self.port is None:
            self.__exit__(None, None, None)
            raise RuntimeError(f"{' '.join(self.cmd)} did not start:\n{''.join(self.log)[-3000:]}")
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        return False

    def post(self, path, body, timeout=120):
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"POST {path} -> {e.code}: {e.read()[:1000]!r}") from None

    def completion_ids(self, prompt_ids, max_tokens, **extra):
        """Greedy continuation as token ids, and the sampled tokens' logprobs."""
        body = {"model": "m", "prompt": prompt_ids, "max_tokens": max_tokens, "temperature": 0,
                "ignore_eos": True, "return_tokens_as_token_ids": True, "logprobs": 0, **extra}
        choice = self.post("/v1/completions", body)["choices"][0]
        tokens = [int(t.split(":", 1)[1]) for t in choice["logprobs"]["tokens"]]
        return tokens, choice["logprobs"]["token_logprobs"]


# ---- checkpoints -----------------------------------------------------------------------------

def _bytes_to_unicode():
    """GPT-2's byte-level alphabet: byte value -> the character a byte-level vocab writes."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def write_tiny_tokenizer(model_dir, vocab_size, max_len):
    """A byte-level BPE tokenizer with no merges, so that `lantern serve` starts on a fixture
    checkpoint without GPT-2's files: <unk> <s> </s> (ids 0-2, the fixtures' bos/eos), the
    256 bytes, then placeholder tokens up to vocab_size. The checks send token ids and
    compare token ids, so what the text looks like does not matter."""
    chars = _bytes_to_unicode()
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[chars[b]] = 3 + b
    for i in range(len(vocab), vocab_size):
        vocab[f"t{i}"] = i
    with open(os.path.join(model_dir, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(model_dir, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    special = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                        "single_word": False, "special": True}
               for t, i in (("<unk>", 0), ("<s>", 1), ("</s>", 2))}
    with open(os.path.join(model_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "add_bos_token": False,
                   "add_prefix_space": False, "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "model_max_length": max_len,
                   "added_tokens_decoder": special}, f, indent=1)


def make_llama(out, flags, seed=7, python=sys.executable, timeout=600):
    """tests/fixtures/make_llama_model.py --out OUT FLAGS, plus the tiny tokenizer. Skipped when
    OUT already holds the same flags (the 1B-shape checkpoint takes a while to write)."""
    stamp = os.path.join(out, ".made_with")
    key = json.dumps([seed, list(flags)])
    if os.path.exists(stamp) and open(stamp).read() == key:
        return out
    cmd = [python, os.path.join(FIXTURES, "make_llama_model.py"), "--out", out, "--seed",
           str(seed), *flags]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=timeout)
    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    write_tiny_tokenizer(out, cfg["vocab_size"], cfg["max_position_embeddings"])
    with open(stamp, "w") as f:
        f.write(key)
    return out


# ---- results ---------------------------------------------------------------------------------

class Results:
    """Figures and verdicts, appended to a JSON-lines file that scripts/gpu-check reports.
    Each record: {"section", "name", "value", "unit", "ok" (true/false/null), "command", "note"}."""

    def __init__(self, path):
        self.path = path
        self.failures = 0
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def add(self, section, name, value=None, unit="", ok=None, command="", note=""):
        if ok is False:
            self.failures += 1
        rec = {"section": section, "name": name, "value": value, "unit": unit, "ok": ok,
               "command": command if isinstance(command, str) else " ".join(map(str, command)),
               "note": note}
        mark = {True: "ok", False: "FAIL", None: "--"}[ok]
        shown = f"{value:.4g}" if isinstance(value, float) else value
        log(f"[{section}] {name}: {shown} {unit} {mark} {note}".rstrip())
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps(rec) + "\n")


def torch_cuda(device):
    """(torch, why_not): torch when it is importable and, for device cuda, sees a GPU."""
    try:
        import torch
    except ImportError as e:
        return None, f"no torch ({e})"
    if device == "cuda" and not torch.cuda.is_available():
        return None, "torch sees no CUDA device"
    return torch, ""


def transformers_or_reason():
    try:
        import transformers
        return transformers, ""
    except ImportError as e:
        return None, f"transformers not installed ({e})"
