"""Safe by default: who may talk to the server, checked before any route runs.

- Host header: without an API key only loopback names are accepted, so a web page that points
  its own domain at 127.0.0.1 (DNS rebinding) is refused even though the browser connects here.
- Origin: a browser's cross-origin request is refused unless that origin was allowed (CORS off
  by default); POST bodies must be JSON, so a page cannot send a "simple" request without a preflight.
- API key: `Authorization: Bearer KEY`, compared in constant time; required for every route
  when a key is set (and a key is required to listen on anything but loopback).
"""

from __future__ import annotations

import hmac
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ApiError

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def host_name(host: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware in front of the whole app."""

    def __init__(
        self, app: ASGIApp, *, api_key: str | None, allowed_hosts: Collection[str] | None, origins: Collection[str]
    ) -> None:
        self.app = app
        self.api_key = api_key
        self.allowed_hosts = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check(scope)
        except ApiError as refused:
            await refused.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> None:
        headers = Headers(scope=scope)
        if self.allowed_hosts is not None and host_name(headers.get("host", "")) not in self.allowed_hosts:
            raise ApiError(
                403,
                "This server answers only requests addressed to 127.0.0.1 or localhost (Host header).",
                code="host_not_allowed",
            )
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            raise ApiError(403, f"Requests from web pages ({origin}) are not allowed.", code="origin_not_allowed")
        if scope["method"] == "OPTIONS":
            return  # a CORS preflight from an allowed origin: CORSMiddleware answers it
        if self.api_key is not None:
            given = headers.get("authorization", "")
            scheme, _, key = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
                raise ApiError(
                    401,
                    "Incorrect API key provided."
                    if given
                    else "You didn't provide an API key (Authorization: Bearer KEY).",
                    code="invalid_api_key",
                )
        if scope["method"] == "POST":
            kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if kind != "application/json":
                raise ApiError(
                    415,
                    "Send the request body as JSON (Content-Type: application/json).",
                    code="unsupported_media_type",
                )
