"""API Gateway's HTTP API as a client and a handler see it: routes and their precedence, the payload
format 2.0 event, the mapping of a handler's result to a response, and the errors API Gateway writes itself.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.gateway.account import ACCOUNT_ID
from local.template import Route

API_ID = "local"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXTUAL_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|x-www-form-urlencoded|xml|.*\+xml|javascript|graphql)|multipart/form-data)$"
)


# ------------------------------------------------------------------------------------------ responses


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, payload: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    body = json.dumps(payload, default=str).encode()
    return Response(status, body, [("Content-Type", "application/json"), *headers])


def api_error(status: int, code: str, message: str) -> Response:
    """The contract's error shape, for the local routes (the handlers write their own)."""
    return json_response(status, {"error": {"code": code, "message": message}})


# What API Gateway itself answers when it refuses a request before any handler runs.
NOT_FOUND = json_response(404, {"message": "Not Found"})
UNAUTHORIZED = json_response(401, {"message": "Unauthorized"}, [("www-authenticate", "Bearer")])
FORBIDDEN = json_response(403, {"message": "Forbidden"})
TOO_LARGE = json_response(413, {"message": "Request Entity Too Large"})
INTERNAL_ERROR = json_response(500, {"message": "Internal Server Error"})


def lambda_result_to_response(result: Any) -> Response:
    """Map a handler's result as API Gateway does for payload format 2.0."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers += [(str(name), str(value)) for value in values]
        headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
        body = result.get("body")
        if body is None:
            payload = b""
        elif not isinstance(body, str):
            raise TypeError(f"the response body must be a string, not {type(body).__name__}")
        elif result.get("isBase64Encoded"):
            payload = base64.b64decode(body)
        else:
            payload = body.encode()
        return Response(int(result["statusCode"]), payload, headers)
    # Anything else is taken as a 200 JSON body; a string is the body itself.
    body_text = result if isinstance(result, str) else json.dumps(result)
    return Response(200, body_text.encode(), [("Content-Type", "application/json")])


# -------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    parameters: tuple[str, ...]
    greedy: bool
    literal_segments: int

    @classmethod
    def of(cls, route: Route) -> CompiledRoute:
        parts, parameters, greedy, literals = [], [], False, 0
        for segment in route.path.strip("/").split("/"):
            variable = re.fullmatch(r"\{([^{}+]+)(\+?)\}", segment)
            if variable is None:
                parts.append(re.escape(segment))
                literals += 1
            else:
                parameters.append(variable.group(1))
                greedy = greedy or variable.group(2) == "+"
                parts.append("(.+)" if variable.group(2) else "([^/]+)")
        return cls(route, re.compile("/" + "/".join(parts)), tuple(parameters), greedy, literals)

    def specificity(self) -> tuple[bool, int, bool]:
        # API Gateway prefers full matches over greedy ones, more literal segments, then a named method.
        return (self.greedy, -self.literal_segments, self.route.method == "ANY")


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = sorted((CompiledRoute.of(r) for r in routes), key=CompiledRoute.specificity)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for `method path` and its path parameters; a known path with another method is None."""
        for compiled in self._routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            found = compiled.pattern.fullmatch(path)
            if found:
                values = (unquote(value) for value in found.groups())
                return compiled.route, dict(zip(compiled.parameters, values, strict=True))
        return None


# --------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # as received, names in any case, repeats kept
    body: bytes
    source_ip: str
    domain_name: str


def _api_gateway_time(moment: datetime) -> str:
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def _is_textual(content_type: str | None) -> bool:
    return content_type is not None and bool(_TEXTUAL_TYPES.match(content_type.split(";")[0].strip().lower()))


def http_api_event(
    request: IncomingRequest,
    route: Route,
    path_parameters: Mapping[str, str],
    authorizer: dict[str, Any] | None,
    request_id: str,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for one request."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":  # payload 2.0 moves cookies out of the headers
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    now = datetime.now(UTC)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", request.domain_name.rpartition(":")[2] or "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}")

    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value

    route_key = route.route_key
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": request.domain_name,
        "domainPrefix": request.domain_name.split(".")[0].split(":")[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": _api_gateway_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event["requestContext"] = context
    if request.body:
        if _is_textual(headers.get("content-type")):
            event["body"] = request.body.decode("utf-8", "replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event
