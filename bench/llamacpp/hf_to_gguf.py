#!/usr/bin/python3
"""Converts a Llama checkpoint in Hugging Face layout (config.json + one F32 model.safetensors, as
tests/fixtures/make_llama_model.py writes) into an F32 GGUF file that llama.cpp loads.

Needs only numpy and llama.cpp's gguf-py package (put /path/to/llama.cpp/gguf-py on PYTHONPATH);
transformers is not needed. The weights are copied bit for bit, with the one change llama.cpp
expects of Llama checkpoints: the rows of q_proj and k_proj are reordered per head from HF's
"rotate half" RoPE layout (first half / second half of each head) to the interleaved pair layout
(0, half, 1, half+1, ...) that llama.cpp's rope uses.

The checkpoint has no tokenizer, so a synthetic byte-level BPE vocabulary of config vocab_size
tokens is written (3 special tokens, the 256 byte tokens, then two-byte merges): llama.cpp needs
one token per embedding row to load the model (two- and three-byte merges cover 16.8M rows); llama-bench feeds random token ids, so the
vocabulary's content does not matter for speed.

Usage: PYTHONPATH=.../gguf-py hf_to_gguf.py MODEL_DIR OUT.gguf
"""

import json
import struct
import sys

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("hf_to_gguf.py: put llama.cpp's gguf-py folder on PYTHONPATH")

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def read_safetensors(path):
    """{name: read-only numpy array} memory-mapped from an F32 safetensors file."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit(f"{name}: dtype {info['dtype']}, only F32 is supported")
        begin, end = info["data_offsets"]
        tensors[name] = data[begin:end].view(np.float32).reshape(info["shape"])
    return tensors


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


def main(model_dir, out_path):
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
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    if c.get("rope_scaling"):
        sys.exit("rope_scaling is not supported by this converter")

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
    tensors = read_safetensors(f"{model_dir}/model.safetensors")
    for hf_name in sorted(tensors):
        data = tensors[hf_name]
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = rope_rows_interleaved(data, n_heads)
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = rope_rows_interleaved(data, n_kv_heads)
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            sys.exit(f"no GGUF name for {hf_name}")
        w.add_tensor(name, data)
    if "lm_head.weight" not in tensors and not c.get("tie_word_embeddings", False):
        sys.exit("no lm_head.weight and tie_word_embeddings is false")

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
