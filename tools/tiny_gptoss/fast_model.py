"""The same forward pass as model.py, cheaper to train on long turns.

A browsing turn is about 1,200 tokens (the browser's declaration alone is 600), and attention over
the whole length in every layer made a training step take seconds. Here the sliding-window layers
attend in blocks of the window (each block of queries sees its own block and the one before), so
they cost length x 2·window instead of length²; and logits are computed only where the loss is
counted. The numbers are the reference's (tools/tiny_gptoss/model.py): `check` compares them.
"""

from __future__ import annotations

import torch
from torch.nn import functional

from tools.tiny_gptoss.model import TinyGptOss


class FastTinyGptOss(TinyGptOss):
    """TinyGptOss with block-local sliding-window attention and logits at chosen positions only."""

    def logits_at(self, ids: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
        """Logits [n, vocab] at the positions where the boolean mask `where` [batch, seq] is set."""
        return self.hidden(ids)[where] @ self.p("output.weight").T

    def _attention(
        self, prefix: str, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, window: bool
    ) -> torch.Tensor:
        if not window or x.shape[1] <= self.config.sliding_window:
            return super()._attention(prefix, x, cos, sin, window)
        cfg = self.config
        batch, length, _ = x.shape
        w = cfg.sliding_window

        def project(name: str, heads: int) -> torch.Tensor:
            out = functional.linear(x, self.p(prefix + name + ".weight"), self.p(prefix + name + ".bias"))
            return out.view(batch, length, heads, cfg.head_dim).transpose(1, 2)

        group = cfg.n_head // cfg.n_head_kv
        q = self._rotate(project("attn_q", cfg.n_head), cos, sin)
        k = self._rotate(project("attn_k", cfg.n_head_kv), cos, sin).repeat_interleave(group, dim=1)
        v = project("attn_v", cfg.n_head_kv).repeat_interleave(group, dim=1)
        blocks = -(-length // w)
        pad = blocks * w - length
        # One block of zeros in front (the block before the first), and the end padded to whole blocks.
        q = functional.pad(q, (0, 0, 0, pad)).view(batch, cfg.n_head, blocks, w, cfg.head_dim)
        k = functional.pad(k, (0, 0, w, pad)).view(batch, cfg.n_head, blocks + 1, w, cfg.head_dim)
        v = functional.pad(v, (0, 0, w, pad)).view(batch, cfg.n_head, blocks + 1, w, cfg.head_dim)
        keys = torch.cat((k[:, :, :-1], k[:, :, 1:]), dim=3)  # block i: blocks i-1 and i, [.., blocks, 2w, d]
        values = torch.cat((v[:, :, :-1], v[:, :, 1:]), dim=3)
        scores = (q @ keys.transpose(-1, -2)) / cfg.head_dim**0.5  # [batch, heads, blocks, w, 2w]
        a = torch.arange(w)[:, None]
        b = torch.arange(2 * w)[None, :]
        distance = a + w - b  # query position minus key position
        allowed = ((distance >= 0) & (distance < w)).expand(blocks, w, 2 * w).clone()
        allowed[0, :, :w] = False  # the block before the first is padding
        scores = scores.masked_fill(~allowed, float("-inf"))
        sinks = self.p(prefix + "attn_sinks.weight").to(scores.dtype).view(1, -1, 1, 1, 1)
        sinks = sinks.expand(batch, -1, blocks, w, 1)
        probs = torch.softmax(torch.cat((scores, sinks), dim=-1), dim=-1)[..., :-1]
        out = (probs @ values).view(batch, cfg.n_head, blocks * w, cfg.head_dim)[:, :, :length]
        out = out.transpose(1, 2).reshape(batch, length, cfg.n_head * cfg.head_dim)
        return functional.linear(out, self.p(prefix + "attn_output.weight"), self.p(prefix + "attn_output.bias"))


def check(model: TinyGptOss, length: int = 700) -> float:
    """The largest difference between this forward's logits and the reference's on random ids."""
    weights = model.gguf_weights()
    reference_model, fast = TinyGptOss(model.config, weights), FastTinyGptOss(model.config, weights)
    ids = torch.randint(0, model.p("token_embd.weight").shape[0], (2, length))
    with torch.no_grad():
        reference = reference_model(ids)
        mine = fast.logits_at(ids, torch.ones_like(ids, dtype=torch.bool)).view_as(reference)
    return float((reference - mine).abs().max())
