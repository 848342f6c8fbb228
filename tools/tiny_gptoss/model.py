"""The gpt-oss forward pass exactly as llama.cpp computes it, for tiny configs on CPU.

Parameters are kept under their GGUF tensor names, so export is a plain copy and the logits
equivalence test compares the very function the fixture ships.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from tests.fixtures.tiny_gptoss import TinyConfig

SWIGLU_ALPHA = 1.702
SWIGLU_LIMIT = 7.0


def _key(name: str) -> str:
    """ParameterDict keys may not contain dots; GGUF names do."""
    return name.replace(".", "/")


class TinyGptOss(nn.Module):
    """gpt-oss decoder: attention with sinks (SWA on even layers) and top-k MoE per block."""

    def __init__(self, config: TinyConfig, weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.config = config
        self.params = nn.ParameterDict(
            {_key(name): nn.Parameter(torch.from_numpy(np.array(w, dtype=np.float32))) for name, w in weights.items()}
        )

    def p(self, name: str) -> torch.Tensor:
        """The parameter stored under GGUF tensor ``name``."""
        parameter: torch.Tensor = self.params[_key(name)]
        return parameter

    def gguf_weights(self) -> dict[str, np.ndarray]:
        """Float32 copies keyed by GGUF tensor name, ready for ``write_gguf``."""
        return {k.replace("/", "."): v.detach().float().cpu().numpy() for k, v in self.params.items()}

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits [batch, seq, vocab] for token ids [batch, seq] at positions 0..seq-1."""
        return self.hidden(ids) @ self.p("output.weight").T

    def hidden(self, ids: torch.Tensor) -> torch.Tensor:
        """The final normed hidden states [batch, seq, n_embd]."""
        x = self.p("token_embd.weight")[ids]
        cos, sin = self._rope(ids.shape[1], x.dtype)
        for i in range(self.config.n_layer):
            prefix = f"blk.{i}."
            x = x + self._attention(prefix, self._norm(x, prefix + "attn_norm.weight"), cos, sin, window=i % 2 == 0)
            x = x + self._moe(prefix, self._norm(x, prefix + "post_attention_norm.weight"))
        return self._norm(x, "output_norm.weight")

    def _norm(self, x: torch.Tensor, weight: str) -> torch.Tensor:
        scale = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.config.rms_eps)
        return x * scale * self.p(weight)

    def _rope(self, length: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """NeoX rotary tables: element j pairs with j + head_dim/2, theta_j = pos * base^(-2j/d)."""
        half = self.config.head_dim // 2
        inv_freq = self.config.rope_base ** (-torch.arange(half, dtype=torch.float64) * 2 / self.config.head_dim)
        angles = torch.arange(length, dtype=torch.float64)[:, None] * inv_freq[None, :]
        return angles.cos().to(dtype), angles.sin().to(dtype)

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)

    def _attention(
        self, prefix: str, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, window: bool
    ) -> torch.Tensor:
        cfg = self.config
        batch, length, _ = x.shape

        def project(name: str, heads: int) -> torch.Tensor:
            out = functional.linear(x, self.p(prefix + name + ".weight"), self.p(prefix + name + ".bias"))
            return out.view(batch, length, heads, cfg.head_dim).transpose(1, 2)

        group = cfg.n_head // cfg.n_head_kv
        q = self._rotate(project("attn_q", cfg.n_head), cos, sin)
        k = self._rotate(project("attn_k", cfg.n_head_kv), cos, sin).repeat_interleave(group, dim=1)
        v = project("attn_v", cfg.n_head_kv).repeat_interleave(group, dim=1)

        scores = (q @ k.transpose(-1, -2)) / cfg.head_dim**0.5
        positions = torch.arange(length)
        distance = positions[:, None] - positions[None, :]
        allowed = distance >= 0
        if window:
            allowed &= distance < cfg.sliding_window
        scores = scores.masked_fill(~allowed, float("-inf"))
        sinks = self.p(prefix + "attn_sinks.weight").to(scores.dtype).view(1, -1, 1, 1).expand(batch, -1, length, 1)
        probs = torch.softmax(torch.cat((scores, sinks), dim=-1), dim=-1)[..., :-1]
        out = (probs @ v).transpose(1, 2).reshape(batch, length, cfg.n_head * cfg.head_dim)
        return functional.linear(out, self.p(prefix + "attn_output.weight"), self.p(prefix + "attn_output.bias"))

    def _moe(self, prefix: str, x: torch.Tensor) -> torch.Tensor:
        """Top-k on raw router logits, softmax over the k; clamped SwiGLU with +1 on up."""
        flat = x.reshape(-1, x.shape[-1])
        router = functional.linear(flat, self.p(prefix + "ffn_gate_inp.weight"), self.p(prefix + "ffn_gate_inp.bias"))
        top_logits, top_experts = router.topk(self.config.n_expert_used, dim=-1)
        top_weights = torch.softmax(top_logits, dim=-1)
        out = torch.zeros_like(flat)
        gate_w, gate_b = self.p(prefix + "ffn_gate_exps.weight"), self.p(prefix + "ffn_gate_exps.bias")
        up_w, up_b = self.p(prefix + "ffn_up_exps.weight"), self.p(prefix + "ffn_up_exps.bias")
        down_w, down_b = self.p(prefix + "ffn_down_exps.weight"), self.p(prefix + "ffn_down_exps.bias")
        for expert in range(self.config.n_expert):
            rows, slot = (top_experts == expert).nonzero(as_tuple=True)
            if rows.numel() == 0:
                continue
            tokens = flat[rows]
            gate = functional.linear(tokens, gate_w[expert], gate_b[expert]).clamp(max=SWIGLU_LIMIT)
            up = functional.linear(tokens, up_w[expert], up_b[expert]).clamp(-SWIGLU_LIMIT, SWIGLU_LIMIT)
            act = gate * torch.sigmoid(SWIGLU_ALPHA * gate) * (up + 1)
            expert_out = functional.linear(act, down_w[expert], down_b[expert])
            out = out.index_add(0, rows, expert_out * top_weights[rows, slot, None])
        return out.view_as(x)
