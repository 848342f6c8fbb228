"""uvicorn serving the API: in the foreground for `gptoss-desktop serve`, or on a thread of its own."""

from __future__ import annotations

import asyncio
import ipaddress
import threading

import uvicorn
from starlette.applications import Starlette

from .guard import LOOPBACK_NAMES


class ServeError(Exception):
    """The server cannot start as asked; the message is meant for a person."""


def check_exposure(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this computer without an API key."""
    if api_key:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host.lower() in LOOPBACK_NAMES
    if not loopback:
        raise ServeError(
            f"Listening on {host} lets other computers use the model: give it an API key "
            "(--api-key-env VAR names an environment variable holding it)."
        )


class _Server(uvicorn.Server):
    """uvicorn's server, saying when it listens (or failed to)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        try:
            await super().startup(sockets)  # type: ignore[arg-type]
        finally:
            self.ready.set()


class ApiServer:
    """One uvicorn server for `app` on host:port (port 0: any free port, see `port` once started)."""

    def __init__(self, app: Starlette, host: str, port: int, *, log_level: str = "warning") -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http="h11",
            loop="asyncio",
            lifespan="off",
            log_level=log_level,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(config)
        self._thread: threading.Thread | None = None
        self.host = host

    @property
    def port(self) -> int:
        """The port it listens on (after start)."""
        sockets = self._server.servers[0].sockets if self._server.servers else []
        return int(sockets[0].getsockname()[1]) if sockets else 0

    @property
    def base_url(self) -> str:
        """What clients put as the OpenAI base URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        host = "127.0.0.1" if host in ("0.0.0.0", "[::]") else host
        return f"http://{host}:{self.port}/v1"

    def run(self) -> None:
        """Serve in the foreground until Ctrl+C (or `stop` from another thread)."""
        self._server.run()

    def start(self) -> None:
        """Serve on a thread of its own; returns once it listens. ServeError if it could not."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), name="api-http")
        self._thread.start()
        self._server.ready.wait()
        if not self._server.started:
            self._thread.join()
            raise ServeError(f"Could not listen on {self.host}: the port is taken or not allowed.")

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop listening, let replies in progress end (their jobs are cancelled by the runner's owner)."""
        self._server.should_exit = True
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()
