"""Serving the app with uvicorn as one more task of the daemon's event loop."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette

from monitor.errors import MonitorError


class _Server(uvicorn.Server):
    # The daemon owns SIGINT/SIGTERM/SIGHUP; uvicorn must not take them over.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """uvicorn serving ``app`` on a socket bound before it starts.

    Binding here (not in uvicorn, which exits the process when it cannot bind) turns a
    taken port into a clear error.

    Raises:
        MonitorError: the address cannot be listened on.
    """

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise MonitorError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        self.socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self._server = _Server(config)

    async def serve(self) -> None:
        try:
            await self._server.serve(sockets=[self.socket])
        finally:
            self.socket.close()

    def stop(self) -> None:
        self._server.should_exit = True
