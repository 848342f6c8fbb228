"""Counting tokens for a model on a server, for planning prompts (history that fits, documents).

The server's own tokenizer gives the true count where it offers one (llama-cpp-python's
`/extras/tokenize/count`, llama-server's and vLLM's `/tokenize`); elsewhere, or once it
fails, the count is estimated from the length, on the high side.
"""

from __future__ import annotations

import httpx

from .bounded import REPLY_LIMIT, parse_json, read_body
from .models import ServerKind

#: Bytes of UTF-8 per token assumed without the server's tokenizer (o200k averages ~4 for English):
#: an overestimate, so what is planned with it still fits.
BYTES_PER_TOKEN = 3
#: Texts whose counts are remembered; a chat counts every message of its history each turn.
MEMO_ENTRIES = 4096


def estimate(text: str) -> int:
    """Tokens `text` may take, from its length."""
    return -(-len(text.encode("utf-8")) // BYTES_PER_TOKEN)


class TokenCounter:
    """Counts with the server's tokenizer when it has one. Runs on the engine's thread."""

    def __init__(
        self, client: httpx.Client, base_url: str, kind: ServerKind, model: str, timeout: httpx.Timeout
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._root = base_url.removesuffix("/v1")
        self._kind = kind
        self._model = model
        self._asking = kind in ("llama-cpp-python", "llama-server", "vllm")
        self._memo: dict[str, int] = {}

    @property
    def exact(self) -> bool:
        """True while counts come from the server's tokenizer."""
        return self._asking

    def count(self, text: str) -> int:
        """Tokens of `text` as plain text."""
        if not self._asking or not text:
            return estimate(text)
        known = self._memo.get(text)
        if known is None:
            asked = self._ask(text)
            if asked is None:
                return estimate(text)
            if len(self._memo) >= MEMO_ENTRIES:
                self._memo.clear()
            known = self._memo[text] = asked
        return known

    def _ask(self, text: str) -> int | None:
        """The server's count; None (and no more asking) when it cannot give one."""
        if self._kind == "llama-cpp-python":
            url, body, key = f"{self._root}/extras/tokenize/count", {"input": text, "model": self._model}, "count"
        elif self._kind == "vllm":
            url, body, key = f"{self._root}/tokenize", {"prompt": text, "model": self._model}, "count"
        else:
            url, body, key = f"{self._root}/tokenize", {"content": text}, "tokens"
        try:
            with self._client.stream("POST", url, json=body, timeout=self._timeout) as response:
                reply = parse_json(read_body(response, REPLY_LIMIT)) if response.status_code == 200 else None
            value = reply.get(key) if isinstance(reply, dict) else None
        except (httpx.TransportError, ValueError):  # BadReplyError is a ValueError
            value = None
        count = len(value) if isinstance(value, list) else value
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            self._asking = False
            return None
        return count
