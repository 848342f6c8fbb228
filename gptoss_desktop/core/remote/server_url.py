"""A server's address as people type it, and as the app keeps and shows it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit


class BadServerAddressError(ValueError):
    """The text is not an http(s) address; the message is for a person."""


def normalize_base_url(text: str) -> str:
    """`localhost:8080`, `http://host:8080/` and `http://host:8080/v1` all become `http://host:8080/v1`."""
    text = text.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadServerAddressError(f"{text!r} is not a server address: give one like http://localhost:8080/v1.")
    if parts.username or parts.password:
        # An address is shown, stored with the conversation and exported; a secret in it would be too.
        raise BadServerAddressError(
            "The address holds a user name or password: leave them out and give the key as the API key."
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))


def is_loopback(base_url: str) -> bool:
    """True when the server is this computer."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def where_it_runs(base_url: str) -> str:
    """What the conversation says about its place: the host, and whether the link is encrypted."""
    parts = urlsplit(base_url)
    host = parts.netloc
    if is_loopback(base_url):
        return f"on a server on this computer ({host})"
    if parts.scheme == "https":
        return f"on the server {host} (encrypted)"
    return f"on the server {host} (not encrypted: anyone on the network can read it)"
