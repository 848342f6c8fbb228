"""A server as a conversation remembers it: address, model and CA file, never the API key.

Plain data, stored with conversations and settings; the key stays in the keyring under the address
(api_keys.py), and connect.py puts the two together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .server_url import normalize_base_url, where_it_runs


@dataclass(frozen=True)
class ServerProfile:
    """Where a conversation runs when it is not on this computer."""

    base_url: str
    model: str | None = None
    ca_file: str | None = None
    context_size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))

    @property
    def where(self) -> str:
        """Where a conversation with it runs, in words ("on the server gpu-box:8000 …")."""
        return where_it_runs(self.base_url)

    @property
    def label(self) -> str:
        """How a menu names it: the model (if chosen) at the host."""
        host = self.base_url.split("://", 1)[-1].removesuffix("/v1")
        return f"{self.model} at {host}" if self.model else host

    def to_json(self) -> dict[str, object]:
        """What settings or a conversation store: no secret in it."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: object) -> ServerProfile | None:
        """The profile in `data`, or None when it is missing or broken (the conversation then runs locally)."""
        if not isinstance(data, dict) or not isinstance(data.get("base_url"), str):
            return None
        model, ca_file, context = data.get("model"), data.get("ca_file"), data.get("context_size")
        try:
            return cls(
                data["base_url"],
                model if isinstance(model, str) else None,
                ca_file if isinstance(ca_file, str) else None,
                context if isinstance(context, int) and context > 0 else None,
            )
        except ValueError:
            return None
