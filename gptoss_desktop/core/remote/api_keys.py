"""API keys for servers, kept in the system keyring (Keychain, Credential Manager, Secret Service).

Never in settings.json: a key is stored under the service "gptoss-desktop" with the
server's address as the user name, and settings hold only the address.
"""

from __future__ import annotations

import keyring
import keyring.errors

from .server_url import normalize_base_url

SERVICE = "gptoss-desktop"

#: Keys given while no keyring could be used: kept in this process only, until the app quits.
_SESSION_KEYS: dict[str, str] = {}


class KeyringUnavailableError(Exception):
    """No usable keyring on this system; the message says so for a person."""


def get_api_key(server: str) -> str | None:
    """The key saved for `server` (or kept for this session), or None."""
    kept = _SESSION_KEYS.get(normalize_base_url(server))
    if kept is not None:
        return kept
    try:
        return keyring.get_password(SERVICE, normalize_base_url(server))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError(_unavailable(exc)) from exc


def set_api_key(server: str, key: str) -> None:
    """Save (or replace) the key for `server`."""
    if not key.strip():
        raise ValueError("an API key cannot be empty")
    try:
        keyring.set_password(SERVICE, normalize_base_url(server), key.strip())
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError(_unavailable(exc)) from exc
    _SESSION_KEYS.pop(normalize_base_url(server), None)  # after: a reader always finds the key somewhere


def keep_for_session(server: str, key: str) -> None:
    """Where no keyring works: use `key` for `server` until the app quits, written nowhere."""
    if not key.strip():
        raise ValueError("an API key cannot be empty")
    _SESSION_KEYS[normalize_base_url(server)] = key.strip()


def delete_api_key(server: str) -> bool:
    """Forget the key for `server`; False when there was none."""
    kept = _SESSION_KEYS.pop(normalize_base_url(server), None) is not None
    try:
        keyring.delete_password(SERVICE, normalize_base_url(server))
    except keyring.errors.PasswordDeleteError:
        return kept
    except keyring.errors.KeyringError as exc:
        if kept:  # there is no keyring, and the only key was this session's
            return True
        raise KeyringUnavailableError(_unavailable(exc)) from exc
    return True


def _unavailable(exc: Exception) -> str:
    return (
        "The system keyring could not be used, so the API key was not read or saved "
        f"(nothing was written in plain text). {exc}"
    )
