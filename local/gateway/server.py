"""The project's local API gateway: template.yaml's HTTP API routes on 127.0.0.1, handlers run in-process.

It plays API Gateway's part as a client would notice it: the same routes and route precedence, the
payload v2.0 event, the JWT and IAM authorizers (with tokens minted by `local.tokens`), the response
mapping, the error bodies API Gateway writes itself, and the 10 MB request limit. It also serves the
local-only routes of API.md (`/_local/...`) that let people and tests drive the stack end to end.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote

from local import tokens
from local.gateway.authorizers import authorize
from local.gateway.eventbridge import custom_event, pattern_matches, scheduled_event, target_input
from local.gateway.function_host import FunctionHost, LambdaHandler
from local.gateway.http_api import (
    INTERNAL_ERROR,
    NOT_FOUND,
    TOO_LARGE,
    IncomingRequest,
    Response,
    RouteTable,
    api_error,
    http_api_event,
    json_response,
    lambda_result_to_response,
)
from local.template import REPO, EventRule, Route, event_rules
from local.template import http_routes as template_routes

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
SWAGGER_UI_VERSION = "5.17.14"


# --------------------------------------------------------------------------------------- local routes

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Cashback API (local)</title>
  <link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@{SWAGGER_UI_VERSION}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://unpkg.com/swagger-ui-dist@{SWAGGER_UI_VERSION}/swagger-ui-bundle.js" crossorigin></script>
  <script>
    window.ui = SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui"}});
  </script>
</body>
</html>
"""


def _json_object(body: bytes) -> tuple[dict[str, Any] | None, Response | None]:
    try:
        parsed = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None, api_error(400, "invalid_json", "the body is not valid JSON")
    if not isinstance(parsed, dict):
        return None, api_error(400, "invalid_json", "the body must be a JSON object")
    return parsed, None


class LocalRoutes:
    """`/_local/...`: tokens, the outbox, events and schedules on request, and the Swagger UI."""

    def __init__(self, host: FunctionHost, rules: Sequence[EventRule]) -> None:
        self._host = host
        self._rules = rules

    def handle(self, request: IncomingRequest, query: dict[str, str]) -> Response:
        path, method = request.raw_path, request.method
        if path == "/_local/token" and method == "POST":
            return self.token(request.body)
        if path == "/_local/outbox" and method == "GET":
            return self.outbox(query)
        if path == "/_local/events" and method == "POST":
            return self.events(request.body)
        schedule = re.fullmatch(r"/_local/schedules/([^/]+)", path)
        if schedule and method == "POST":
            return self.schedule(unquote(schedule.group(1)))
        if path == "/_local/swagger" and method == "GET":
            return Response(200, SWAGGER_PAGE.encode(), [("Content-Type", "text/html; charset=utf-8")])
        return NOT_FOUND

    def token(self, body: bytes) -> Response:
        request, refusal = _json_object(body)
        if request is None:
            return refusal or NOT_FOUND
        phone, role = request.get("phone"), request.get("role")
        try:
            if phone is not None and role is None:
                return json_response(200, {"token": tokens.mint_member(phone)})
            if role is not None and phone is None:
                return json_response(200, {"token": tokens.mint_operator(role, request.get("store_id"))})
        except tokens.InvalidTokenRequest as error:
            return api_error(422, error.code, str(error))
        return api_error(422, "phone_or_role_required", 'give either {"phone": ...} or {"role": ...}')

    def outbox(self, query: dict[str, str]) -> Response:
        limit_text = query.get("limit", "50")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 200:
            return api_error(422, "invalid_limit", "limit must be an integer from 1 to 200")
        from cashback.store import outbox  # the layer's code: imported once the environment is set

        items = []
        for message in outbox.recent(int(limit_text)):
            item: dict[str, Any] = {"id": message.message_id, "kind": message.kind.value}
            if message.to is not None:
                item["to"] = message.to
            item |= {"body": message.body, "created_at": message.created_at.isoformat()}
            items.append(item)
        return json_response(200, {"items": items})

    def events(self, body: bytes) -> Response:
        entry, refusal = _json_object(body)
        if entry is None:
            return refusal or NOT_FOUND
        # Both API.md's spelling and PutEvents' ({"Source", "DetailType", "Detail": "<json>"}) are accepted.
        source = entry.get("source", entry.get("Source"))
        detail_type = entry.get("detail-type", entry.get("DetailType"))
        detail = entry.get("detail", entry.get("Detail", {}))
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                return api_error(400, "invalid_json", "detail is not valid JSON")
        if not isinstance(source, str) or not isinstance(detail_type, str) or not isinstance(detail, dict):
            return api_error(422, "invalid_event", "an event needs source, detail-type (strings) and detail (object)")
        resources = list(entry.get("resources", entry.get("Resources", [])))
        event = custom_event(source, detail_type, detail, resources)
        delivered: list[str] = []
        results: list[Any] = []
        failed = False
        for rule in self._rules:
            if rule.is_schedule or rule.pattern is None or not pattern_matches(rule.pattern, event):
                continue
            delivered.append(rule.function_logical_id)
            try:
                results.append(self._host.invoke(rule.function_logical_id, target_input(rule, event)))
            except Exception as error:
                traceback.print_exc()
                failed = True
                results.append({"error": {"code": "handler_failed", "message": f"{type(error).__name__}: {error}"}})
        return json_response(500 if failed else 200, {"delivered": delivered, "results": results})

    def schedule(self, function_id: str) -> Response:
        rule = next((r for r in self._rules if r.is_schedule and r.function_logical_id == function_id), None)
        if rule is None:
            return api_error(404, "schedule_not_found", f"{function_id} has no Schedule or ScheduleV2 event")
        payload = json.loads(rule.input) if rule.input is not None else scheduled_event(rule)
        try:
            result = self._host.invoke(function_id, payload)
        except Exception as error:
            traceback.print_exc()
            return api_error(500, "handler_failed", f"{type(error).__name__}: {error}")
        return json_response(200, result)


# ------------------------------------------------------------------------------------------ the server


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

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

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
    ) -> None:
        """For tests: `extra_routes` adds routes served by the given callables, and `handlers` serves
        functions of the template by callables instead of their code (events and schedules included)."""
        self.host = host
        self.port = port
        overrides = {route.function_logical_id: handler for route, handler in extra_routes} | dict(handlers or {})
        self.functions = FunctionHost(template, table_names, repo_root, overrides)
        self.routes = RouteTable([*template_routes(template), *(route for route, _ in extra_routes)])
        self.local_routes = LocalRoutes(self.functions, event_rules(template))
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def dispatch(self, request: IncomingRequest) -> Response:
        query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        if request.raw_path.startswith("/_local/"):
            return self.local_routes.handle(request, query)
        matched = self.routes.match(request.method, request.raw_path)
        if matched is None:
            return NOT_FOUND
        route, path_parameters = matched
        authorizer, refusal = authorize(route, request.headers)
        if refusal is not None:
            return refusal
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
