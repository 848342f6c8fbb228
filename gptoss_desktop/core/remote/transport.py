"""HTTP for the server engine: TLS verified, no proxies from the environment, and a Stop that cuts at once.

A thread blocked reading a socket is not woken when another thread closes it, so Stop
would wait for the server's next byte (minutes, while a big model reads a long prompt).
Shutting the socket down does wake it. httpx does not hand out its sockets, so its
transport runs here on a network backend that remembers the sockets it opens; a
watcher thread shuts them down when the request's CancelFlag is set.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator

import httpcore
import httpx

from ..cancel import CancelFlag
from .server_errors import ServerUnavailableError

#: How often the watcher looks at the cancel flag: the most Stop waits before the socket is cut.
WATCH_SECONDS = 0.02


class SocketRegistry:
    """The open sockets of one client, so another thread can shut them down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets = [s for s in self._sockets if s.fileno() != -1]
            self._sockets.append(sock)

    def shut_down(self) -> None:
        """Wake every read blocked on these sockets (any thread); their connections are finished."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


class _RememberingBackend(httpcore.SyncBackend):
    """httpcore's blocking backend, remembering each socket it connects."""

    def __init__(self, registry: SocketRegistry) -> None:
        self._registry = registry

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            self._registry.add(sock)
        return stream


class _Transport(httpx.HTTPTransport):
    """httpx's own transport (request mapping, error mapping) over the remembering backend."""

    def __init__(self, ssl_context: ssl.SSLContext, registry: SocketRegistry) -> None:
        super().__init__(verify=ssl_context)
        # httpx builds its pool without a way to pass a network backend; this is the same pool with one.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, max_connections=4, network_backend=_RememberingBackend(registry)
        )


def make_client(
    base_url: str, headers: dict[str, str], timeout: httpx.Timeout, ca_file: str | None = None
) -> tuple[httpx.Client, SocketRegistry]:
    """A client for one server. TLS is always verified (against `ca_file` when given, else the usual
    authorities); proxies in the environment are not used, so a conversation goes only where it was sent."""
    try:
        ssl_context = ssl.create_default_context(cafile=ca_file) if ca_file else httpx.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:
        raise ServerUnavailableError(
            f"The certificate authority file {ca_file} could not be read ({exc}): choose a PEM file."
        ) from exc
    registry = SocketRegistry()
    client = httpx.Client(
        base_url=base_url,
        headers=headers,
        timeout=timeout,
        transport=_Transport(ssl_context, registry),
        trust_env=False,
        follow_redirects=False,
    )
    return client, registry


@contextlib.contextmanager
def cut_on_cancel(cancel: CancelFlag, registry: SocketRegistry) -> Iterator[None]:
    """While inside, setting `cancel` shuts the client's sockets within WATCH_SECONDS."""
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(WATCH_SECONDS):
            if cancel.is_set():
                registry.shut_down()
                return

    watcher = threading.Thread(target=watch, name="server-stop-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()
