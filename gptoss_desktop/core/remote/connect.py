"""Connecting to a conversation's server: its profile and its API key put together, on the thread that will
use the engine (connecting lists the server's models)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .profile import ServerProfile

if TYPE_CHECKING:
    from ..cancel import CancelFlag
    from .openai_engine import ServerEngine, ServerTimeouts


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
