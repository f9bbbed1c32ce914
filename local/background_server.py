"""An HTTP server of the local stack (moto's stand-in endpoint, the fake Admitad API) answering on its own
thread from `start()` to `stop()`; a context manager."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class BackgroundServer:
    def __init__(self, port: int, host: str) -> None:
        self.host = host
        self.port = port  # 0 picks a free one when the server starts
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self, server: ThreadingHTTPServer, name: str) -> None:
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.1,), name=name, daemon=True)
        self._thread.start()

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None and self._thread is not None:
            server.shutdown()
            server.server_close()
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
