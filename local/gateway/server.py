"""The gateway's HTTP server: `LocalGateway` reads each request, whatever its method, refusing a body over
API Gateway's 10 MB, hands `/_local/...` to the local routes and everything else to route, authorizer and
function in turn, and writes the response back.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from local.gateway.authorizers import Authorizers
from local.gateway.function_host import FunctionHost, LambdaHandler
from local.gateway.http_api import (
    INTERNAL_ERROR,
    NOT_FOUND,
    TOO_LARGE,
    IncomingRequest,
    Response,
    RouteTable,
    http_api_event,
    lambda_result_to_response,
)
from local.gateway.local_routes import LocalRoutes
from local.gateway.streams import StreamDelivery
from local.template import REPO, Route, event_rules
from local.template import http_routes as template_routes

if TYPE_CHECKING:
    from local.fake_admitad import FakeAdmitad
    from local.moto_server import MotoServer

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: LocalGateway


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers

    def _serve(self) -> None:
        started = time.perf_counter()
        raw_path, _, raw_query = self.path.partition("?")
        response = self._read_and_dispatch(raw_path, raw_query)
        # Logged before answering: once answered, a test may end and its captured stderr with it.
        elapsed_ms = (time.perf_counter() - started) * 1000
        sys.stderr.write(f"{self.command} {raw_path} {response.status} {elapsed_ms:.0f}ms\n")
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _read_and_dispatch(self, raw_path: str, raw_query: str) -> Response:
        body = self._read_body()
        if body is None:
            self.close_connection = True  # the unread body must not be taken for the next request
            return TOO_LARGE
        request = IncomingRequest(
            method=self.command,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            domain_name=self.headers.get("Host") or f"{self.server.gateway.host}:{self.server.gateway.port}",
        )
        try:
            return self.server.gateway.dispatch(request)
        except Exception:
            traceback.print_exc()
            return INTERNAL_ERROR

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is larger than API Gateway accepts."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk_size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if chunk_size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                size += chunk_size
                if size > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(chunk_size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Every method is served, TRACE and PROPFIND included: one that no route has is API Gateway's 404,
        # where the standard library would answer 501 with an HTML page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _serve logs one line per request instead


class LocalGateway:
    """Serves template.yaml's HTTP API on `host:port` (0 picks a free port); a context manager."""

    def __init__(
        self,
        template: Mapping[str, Any],
        table_names: Mapping[str, str],
        port: int = 3000,
        host: str = "127.0.0.1",
        repo_root: Path = REPO,
        extra_routes: Sequence[tuple[Route, LambdaHandler]] = (),
        handlers: Mapping[str, LambdaHandler] | None = None,
        aws: MotoServer | None = None,
        stream_positions: Path | None = None,
        admitad: FakeAdmitad | None = None,
    ) -> None:
        """`aws` is the moto that stands in for the AWS services the functions call besides DynamoDB, and
        `stream_positions` a file that keeps the stream mappings' positions across restarts, and `admitad`
        the fake Admitad API that `/_local/admitad/...` sets and reads.

        For tests: `extra_routes` adds routes served by the given callables, and `handlers` serves
        functions of the template by callables instead of their code (events, schedules and streams
        included)."""
        self.host = host
        self.port = port
        overrides = {route.function_logical_id: handler for route, handler in extra_routes} | dict(handlers or {})
        self.functions = FunctionHost(template, table_names, repo_root, overrides)
        self.routes = RouteTable([*template_routes(template), *(route for route, _ in extra_routes)])
        self.aws = aws
        self.streams = StreamDelivery(
            template,
            table_names,
            self.functions.invoke,
            positions_file=stream_positions,
            before_drain=aws.prepare if aws is not None else None,
        )
        self.local_routes = LocalRoutes(self.functions, event_rules(template), drain=self.drain, admitad=admitad)
        self.authorizers = Authorizers(template)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def drain(self) -> int:
        """Deliver what the tables' streams hold to the functions that subscribe to them, now."""
        return self.streams.drain()

    def dispatch(self, request: IncomingRequest) -> Response:
        query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        if request.raw_path.startswith("/_local/"):
            return self.local_routes.handle(request, query)
        matched = self.routes.match(request.method, request.raw_path)
        if matched is None:
            return NOT_FOUND
        route, path_parameters = matched
        authorizer, refusal = self.authorizers.authorize(route, request.headers, request.method, request.raw_path)
        if refusal is not None:
            return refusal
        if self.aws is not None:
            # What moto must hold (the receipts bucket, say): a test's `mock_aws` in this process resets it.
            self.aws.prepare()
        request_id = str(uuid.uuid4())
        event = http_api_event(request, route, path_parameters, authorizer, request_id)
        try:
            result = self.functions.invoke(route.function_logical_id, event)
            response = lambda_result_to_response(result)
        except Exception:
            traceback.print_exc()
            response = INTERNAL_ERROR
        return replace(response, headers=[*response.headers, ("apigw-requestid", request_id)])

    def _bind(self) -> _Server:
        self.functions.apply_environment()
        server = _Server((self.host, self.port), _RequestHandler)
        server.gateway = self
        self.port = int(server.server_address[1])
        self._server = server
        return server

    def start(self) -> LocalGateway:
        server = self._bind()
        self._thread = threading.Thread(target=server.serve_forever, args=(0.1,), name="local-gateway", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        server = self._bind()
        try:
            server.serve_forever()
        finally:
            server.server_close()
            self.functions.restore_environment()

    def stop(self) -> None:
        self.streams.stop()
        server, self._server = self._server, None
        if server is not None and self._thread is not None:
            server.shutdown()
            server.server_close()
            self._thread.join()
            self._thread = None
            self.functions.restore_environment()

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
