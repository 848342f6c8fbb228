"""Write a stand-in for gpt-oss-20b: its exact GGUF architecture and tokenizer, with made-up weights.

    python tools/gptoss_standin.py OUT.gguf                # the full 11.27 GiB file (about a minute)
    python tools/gptoss_standin.py OUT.gguf --vocab-only   # the tokenizer alone, a few MB, for tests

Nobody here can fetch the real weights, but what memory, speed and prompt token ids depend
on can be rebuilt: the metadata of the llama.cpp project's own conversion
(ggml-org/gpt-oss-20b-GGUF, `gpt-oss-20b-mxfp4.gguf`: 35 keys in its order, file type
MXFP4_MOE), every one of its 459 tensors with the real shape and type (experts MXFP4, the
other matrices Q8_0, norms, biases, sinks and the router F32: 20.91 B parameters, 11.27 GiB,
as llama.cpp reports for the published file) and the real o200k_harmony vocabulary
(`tools/standin_vocab.py`). The weights are deterministic pseudo-random numbers scaled so
activations stay finite; the model babbles. Tensors are written one at a time, so the
process holds at most two copies of the largest tensor (2 x 615 MB). The chat template is a short one
of our own: the app renders harmony itself and never reads it for gpt-oss.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.standin_vocab import build_vocabulary

N_VOCAB, N_EMBD, N_LAYER = 201_088, 2880, 24
N_HEAD, N_HEAD_KV, HEAD_DIM = 64, 8, 64
N_EXPERT, N_EXPERT_USED, N_FF = 32, 4, 2880
WEIGHT_RMS = 0.02  # the scale of every random matrix: logits and expert inputs stay O(1)

Q8_0 = gguf.GGMLQuantizationType.Q8_0
MXFP4 = gguf.GGMLQuantizationType.MXFP4
F32 = gguf.GGMLQuantizationType.F32

#: A harmony template of our own (the published file carries OpenAI's longer one).
CHAT_TEMPLATE = (
    "{%- for m in messages -%}"
    "{%- if m.role == 'assistant' -%}<|start|>assistant<|channel|>final<|message|>{{ m.content }}<|end|>"
    "{%- else -%}<|start|>{{ 'developer' if m.role == 'system' else m.role }}<|message|>{{ m.content }}<|end|>"
    "{%- endif -%}{%- endfor -%}{%- if add_generation_prompt -%}<|start|>assistant{%- endif -%}"
)


@dataclass(frozen=True)
class Tensor:
    """One tensor as the header names it: numpy shape (ggml's reversed) and type."""

    name: str
    shape: tuple[int, ...]
    ggml_type: gguf.GGMLQuantizationType
    fill: str = "random"  # "random", "ones" (norms)

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_bytes(self) -> int:
        block, size = gguf.GGML_QUANT_SIZES[self.ggml_type]
        return self.n_elements // block * size


def tensors() -> list[Tensor]:
    """The 459 tensors of gpt-oss-20b in the published file's order and types."""
    q_out, kv_out = N_HEAD * HEAD_DIM, N_HEAD_KV * HEAD_DIM
    out = [
        Tensor("output.weight", (N_VOCAB, N_EMBD), Q8_0),
        Tensor("output_norm.weight", (N_EMBD,), F32, "ones"),
        Tensor("token_embd.weight", (N_VOCAB, N_EMBD), Q8_0),
    ]
    for i in range(N_LAYER):
        b = f"blk.{i}."
        out += [
            Tensor(b + "attn_norm.weight", (N_EMBD,), F32, "ones"),
            Tensor(b + "attn_output.bias", (N_EMBD,), F32),
            Tensor(b + "attn_output.weight", (N_EMBD, q_out), Q8_0),
            Tensor(b + "attn_k.bias", (kv_out,), F32),
            Tensor(b + "attn_k.weight", (kv_out, N_EMBD), Q8_0),
            Tensor(b + "attn_q.bias", (q_out,), F32),
            Tensor(b + "attn_q.weight", (q_out, N_EMBD), Q8_0),
            Tensor(b + "attn_sinks.weight", (N_HEAD,), F32),
            Tensor(b + "attn_v.bias", (kv_out,), F32),
            Tensor(b + "attn_v.weight", (kv_out, N_EMBD), Q8_0),
            Tensor(b + "ffn_down_exps.bias", (N_EXPERT, N_EMBD), F32),
            Tensor(b + "ffn_down_exps.weight", (N_EXPERT, N_EMBD, N_FF), MXFP4),
            Tensor(b + "ffn_gate_exps.bias", (N_EXPERT, N_FF), F32),
            Tensor(b + "ffn_gate_exps.weight", (N_EXPERT, N_FF, N_EMBD), MXFP4),
            Tensor(b + "ffn_gate_inp.bias", (N_EXPERT,), F32),
            Tensor(b + "ffn_gate_inp.weight", (N_EXPERT, N_EMBD), F32),
            Tensor(b + "ffn_up_exps.bias", (N_EXPERT, N_FF), F32),
            Tensor(b + "ffn_up_exps.weight", (N_EXPERT, N_FF, N_EMBD), MXFP4),
            Tensor(b + "post_attention_norm.weight", (N_EMBD,), F32, "ones"),
        ]
    return out


def _rng(name: str) -> np.random.Generator:
    """A generator seeded by the tensor's name, so every tensor is the same in every run."""
    return np.random.Generator(np.random.PCG64(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")))


def tensor_data(tensor: Tensor) -> np.ndarray:
    """The tensor's bytes (quantized types) or floats (F32), deterministic."""
    rng = _rng(tensor.name)
    if tensor.ggml_type == F32:
        if tensor.fill == "ones":
            return np.ones(tensor.shape, dtype=np.float32)
        return (rng.standard_normal(tensor.shape, dtype=np.float32) * WEIGHT_RMS).astype(np.float32)
    block, size = gguf.GGML_QUANT_SIZES[tensor.ggml_type]
    n_blocks = tensor.n_elements // block
    data = np.frombuffer(bytearray(rng.bytes(n_blocks * size)), dtype=np.uint8).reshape(n_blocks, size)
    if tensor.ggml_type == Q8_0:
        # d (f16) then 32 int8: uniform int8 has an rms of ~73.9.
        data[:, 0:2] = np.frombuffer(np.float16(WEIGHT_RMS / 73.9).tobytes(), dtype=np.uint8)
    else:
        # MXFP4: an E8M0 exponent then 16 bytes of E2M1 pairs; random E2M1 values have an rms of ~2.9,
        # so 2^(120-127) gives an rms of ~0.023.
        data[:, 0] = 120
    return data.reshape(*tensor.shape[:-1], tensor.shape[-1] // block * size)


def _add_metadata(writer: gguf.GGUFWriter) -> None:
    """The published file's keys, in its order (general.architecture is added by the writer)."""
    vocab = build_vocabulary()
    writer.add_type("model")
    writer.add_name("Gpt Oss 20b")
    writer.add_basename("gpt-oss")
    writer.add_size_label("20B")
    writer.add_license("apache-2.0")
    writer.add_tags(["vllm", "text-generation"])
    writer.add_block_count(N_LAYER)
    writer.add_context_length(131_072)
    writer.add_embedding_length(N_EMBD)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_freq_base(150_000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_expert_count(N_EXPERT)
    writer.add_expert_used_count(N_EXPERT_USED)
    writer.add_key_length(HEAD_DIM)
    writer.add_value_length(HEAD_DIM)
    writer.add_sliding_window(128)
    writer.add_expert_feed_forward_length(N_FF)
    writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    writer.add_rope_scaling_factor(32.0)
    writer.add_rope_scaling_orig_ctx_len(4096)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-4o")
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.token_types)
    writer.add_token_merges(vocab.merges)
    writer.add_bos_token_id(199_998)
    writer.add_eos_token_id(200_002)
    writer.add_pad_token_id(199_999)
    writer.add_chat_template(CHAT_TEMPLATE)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_MXFP4_MOE)


def write_standin(path: Path, *, vocab_only: bool = False, progress: bool = False) -> int:
    """Write the stand-in to `path` (through a temporary name, renamed when complete); returns its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    writer = gguf.GGUFWriter(partial, "gpt-oss")
    _add_metadata(writer)
    plan = [] if vocab_only else tensors()
    for tensor in plan:
        block, size = gguf.GGML_QUANT_SIZES[tensor.ggml_type]
        if tensor.ggml_type == F32:
            writer.add_tensor_info(tensor.name, tensor.shape, np.dtype(np.float32), tensor.n_bytes)
        else:
            byte_shape = (*tensor.shape[:-1], tensor.shape[-1] // block * size)
            writer.add_tensor_info(tensor.name, byte_shape, np.dtype(np.uint8), tensor.n_bytes, tensor.ggml_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    written, start = 0, time.monotonic()
    for tensor in _stream(plan):
        writer.write_tensor_data(tensor)
        written += tensor.nbytes
        if progress:
            print(f"\r{written / 2**30:6.2f} GiB  {written / 2**20 / (time.monotonic() - start):5.0f} MiB/s", end="")
    writer.close()
    if progress and plan:
        print()
    partial.replace(path)
    return path.stat().st_size


def _stream(plan: list[Tensor]) -> Iterator[np.ndarray]:
    for tensor in plan:
        yield tensor_data(tensor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where to write the GGUF (e.g. ~/.cache/gptoss-desktop/standin/...)")
    parser.add_argument("--vocab-only", action="store_true", help="only the header and the tokenizer (a few MB)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    size = write_standin(args.out.expanduser(), vocab_only=args.vocab_only, progress=sys.stdout.isatty())
    params = 0 if args.vocab_only else sum(t.n_elements for t in tensors())
    print(
        f"{args.out}: {size:,} bytes ({size / 2**30:.2f} GiB), {params / 1e9:.2f} B parameters, "
        f"{time.monotonic() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
