#!/usr/bin/python3
"""Converts a Llama checkpoint in Hugging Face layout (config.json + model.safetensors, or shards
with model.safetensors.index.json; F32 or BF16 values) into a GGUF file that llama.cpp loads: F32,
or Q8_0 with --outtype q8_0 (quantized here with gguf-py's bit-exact copy of ggml's reference
quantize_row_q8_0: what `llama-quantize ... Q8_0` writes, without a 16- or 32-bit intermediate
file, which an 8B model has no disk for). Tensors are read, converted and written one at a time
(Q8_0 in chunks of rows), so memory stays small whatever the model's size.

Needs only numpy and llama.cpp's gguf-py package (put /path/to/llama.cpp/gguf-py on PYTHONPATH);
transformers is not needed. The weights are copied bit for bit, with the one change llama.cpp
expects of Llama checkpoints: the rows of q_proj and k_proj are reordered per head from HF's
"rotate half" RoPE layout (first half / second half of each head) to the interleaved pair layout
(0, half, 1, half+1, ...) that llama.cpp's rope uses.

The checkpoint has no tokenizer, so a synthetic byte-level BPE vocabulary of config vocab_size
tokens is written (3 special tokens, the 256 byte tokens, then two-byte merges): llama.cpp needs
one token per embedding row to load the model (two- and three-byte merges cover 16.8M rows); llama-bench feeds random token ids, so the
vocabulary's content does not matter for speed.

rope_scaling of type llama3 is written as llama.cpp's convert_hf_to_gguf.py writes it: a
rope_freqs tensor of per-frequency factors.

Usage: PYTHONPATH=.../gguf-py hf_to_gguf.py MODEL_DIR OUT.gguf [--outtype f32|q8_0]
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

try:
    import sentencepiece  # noqa: F401
except ImportError:
    # Older gguf-py (llama.cpp before mid-2025) imports it at start-up for SentencePiece
    # vocabularies, which this script never writes; a placeholder lets it load without.
    import types

    sys.modules["sentencepiece"] = types.ModuleType("sentencepiece")
    sys.modules["sentencepiece"].SentencePieceProcessor = None
try:
    import gguf
except ImportError:
    sys.exit("hf_to_gguf.py: put llama.cpp's gguf-py folder on PYTHONPATH")

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def read_safetensors(path):
    """{name: read-only numpy array (F32, or BF16 as uint16)} memory-mapped from a file."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in ("F32", "BF16"):
            sys.exit(f"{name}: dtype {info['dtype']}, only F32 and BF16 are supported")
        begin, end = info["data_offsets"]
        view = np.float32 if info["dtype"] == "F32" else np.uint16
        tensors[name] = data[begin:end].view(view).reshape(info["shape"])
    return tensors


def read_checkpoint(model_dir):
    """The tensors of model.safetensors, or of the shards model.safetensors.index.json lists."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(model_dir, "model.safetensors"))
    with open(index) as f:
        files = sorted(set(json.load(f)["weight_map"].values()))
    tensors = {}
    for file in files:
        tensors.update(read_safetensors(os.path.join(model_dir, file)))
    return tensors


def as_f32(a):
    """F32 values of an F32 array or of BF16 bits held as uint16."""
    if a.dtype == np.float32:
        return np.asarray(a)
    return (a.astype(np.uint32) << 16).view(np.float32)


def llama3_rope_factors(c):
    """convert_hf_to_gguf.py's LlamaModel rope_freqs for rope_scaling type llama3."""
    rs = c["rope_scaling"]
    dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    base = c.get("rope_theta", 10000.0)
    factor = rs.get("factor", 8.0)
    low, high = rs.get("low_freq_factor", 1.0), rs.get("high_freq_factor", 4.0)
    old_len = rs.get("original_max_position_embeddings", 8192)
    freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < old_len / high:
            factors.append(1.0)
        elif wavelen > old_len / low:
            factors.append(factor)
        else:
            smooth = (old_len / wavelen - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(factors, dtype=np.float32)


def rope_rows_interleaved(w, n_heads):
    """Per head of d rows [x_0..x_{d/2-1}, y_0..y_{d/2-1}] -> [x_0, y_0, x_1, y_1, ...]."""
    rows, cols = w.shape
    d = rows // n_heads
    return np.ascontiguousarray(w.reshape(n_heads, 2, d // 2, cols).transpose(0, 2, 1, 3)
                                .reshape(rows, cols))


def byte_chars():
    """The 256 printable characters that byte-level BPE uses for the bytes 0..255."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def synthetic_vocab(size):
    """(tokens, token types, merges) of a byte-level BPE vocabulary of exactly `size` tokens."""
    singles = byte_chars()
    tokens = SPECIALS + singles
    types = [gguf.TokenType.CONTROL] * len(SPECIALS) + [gguf.TokenType.NORMAL] * len(singles)
    merges = []
    # Two-byte merges, then three-byte ones (a pair token merged with a byte), enough for
    # Llama 3's 128256 rows.
    pairs = [(a, b) for a in singles for b in singles]
    for left, right in pairs + [(a + b, c) for a, b in pairs for c in singles]:
        if len(tokens) >= size:
            return tokens, types, merges
        tokens.append(left + right)
        types.append(gguf.TokenType.NORMAL)
        merges.append(f"{left} {right}")
    if len(tokens) < size:
        sys.exit(f"vocab_size {size} is larger than this synthetic vocabulary can be")
    return tokens, types, merges


def write_chunked(w, data, qtype):
    """GGUFWriter.write_tensor_data for one tensor, converted in chunks of rows (gguf-py 0.x
    keeps the output files in w.fout and the pending tensor infos in w.tensors)."""
    fout = w.fout[0]
    name = next(iter(w.tensors[0]))
    info = w.tensors[0].pop(name)
    w.write_padding(fout, fout.tell())
    rows = data.reshape(-1, data.shape[-1]) if data.ndim > 1 else data.reshape(1, -1)
    step = max(1, (1 << 24) // rows.shape[1])
    written = 0
    for r in range(0, rows.shape[0], step):
        chunk = as_f32(rows[r:r + step])
        out = chunk if qtype == gguf.GGMLQuantizationType.F32 else gguf.quants.quantize(chunk, qtype)
        out.tofile(fout)
        written += out.nbytes
    assert written == info.nbytes, (name, written, info.nbytes)
    w.write_padding(fout, written)
    w.state = gguf.gguf_writer.WriterState.WEIGHTS


def main(model_dir, out_path, outtype):
    with open(f"{model_dir}/config.json") as f:
        c = json.load(f)
    n_layers, n_heads = c["num_hidden_layers"], c["num_attention_heads"]
    n_kv_heads = c.get("num_key_value_heads", n_heads)
    head_dim = c.get("head_dim") or c["hidden_size"] // n_heads
    vocab = c["vocab_size"]

    w = gguf.GGUFWriter(out_path, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    w.add_name("lantern-bench random llama")
    w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(c["hidden_size"])
    w.add_block_count(n_layers)
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_head_count(n_heads)
    w.add_head_count_kv(n_kv_heads)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(c.get("rope_theta", 10000.0))
    w.add_layer_norm_rms_eps(c["rms_norm_eps"])
    w.add_vocab_size(vocab)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if outtype == "q8_0" else gguf.LlamaFileType.ALL_F32)
    rope_scaling = c.get("rope_scaling")
    if rope_scaling and rope_scaling.get("rope_type", rope_scaling.get("type")) != "llama3":
        sys.exit("rope_scaling other than llama3 is not supported by this converter")

    tokens, types, merges = synthetic_vocab(vocab)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(c.get("bos_token_id", 1))
    w.add_eos_token_id(c.get("eos_token_id", 2))
    w.add_add_bos_token(False)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    tensors = read_checkpoint(model_dir)
    if "lm_head.weight" not in tensors and not c.get("tie_word_embeddings", False):
        sys.exit("no lm_head.weight and tie_word_embeddings is false")
    # (GGUF name, source array (F32, or BF16 bits), GGML type to write).
    plan = []
    if rope_scaling:
        plan.append((gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight",
                     llama3_rope_factors(c), gguf.GGMLQuantizationType.F32))
    for hf_name in sorted(tensors):
        data = tensors[hf_name]
        # Reordered in memory (a copy of one tensor): llama.cpp's interleaved rope layout.
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = rope_rows_interleaved(data, n_heads)
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = rope_rows_interleaved(data, n_kv_heads)
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            sys.exit(f"no GGUF name for {hf_name}")
        # As llama-quantize: 1-D tensors (norms) stay F32, matrices become Q8_0.
        qtype = gguf.GGMLQuantizationType.Q8_0 if outtype == "q8_0" and data.ndim == 2 \
            else gguf.GGMLQuantizationType.F32
        plan.append((name, data, qtype))
    for name, data, qtype in plan:
        if qtype == gguf.GGMLQuantizationType.F32:
            nbytes = data.size * 4
        else:
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            nbytes = data.size // block * size
        w.add_tensor_info(name, data.shape, np.dtype(np.float32), nbytes, raw_dtype=qtype)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, data, qtype in plan:
        write_chunked(w, data, qtype)
    w.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--outtype", choices=["f32", "q8_0"], default="f32")
    a = ap.parse_args()
    main(a.model_dir, a.out, a.outtype)
