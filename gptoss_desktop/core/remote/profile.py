"""A server as a conversation remembers it: address, model and CA file, never the API key.

The key stays in the keyring under the address (api_keys.py); `open_engine` puts the two
together, on the thread that will use the engine (connecting lists the server's models).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .server_url import normalize_base_url, where_it_runs

if TYPE_CHECKING:
    from ..cancel import CancelFlag
    from .openai_engine import ServerEngine, ServerTimeouts


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


def open_engine(
    profile: ServerProfile,
    timeouts: ServerTimeouts | None = None,
    cancel: CancelFlag | None = None,
    api_key: str | None = None,
) -> ServerEngine:
    """Connect to the profile's server with `api_key`, else its key from the keyring (none if there is no keyring).

    Raises ServerUnavailableError (a ModelLoadError) with a message for people. The HTTP stack and the
    keyring are imported here, not when a conversation that names a server is opened.
    """
    from .api_keys import KeyringUnavailableError, get_api_key
    from .openai_engine import ServerEngine, ServerTimeouts

    key = api_key
    if key is None:
        try:
            key = get_api_key(profile.base_url)
        except KeyringUnavailableError:
            key = None
    return ServerEngine(
        profile.base_url,
        model=profile.model,
        api_key=key,
        context_size=profile.context_size,
        ca_file=profile.ca_file,
        timeouts=timeouts or ServerTimeouts(),
        cancel=cancel,
    )
