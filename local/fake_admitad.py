"""A fake of Admitad's publisher API on `127.0.0.1:port` (0 picks a free one), for the local stack and the
tests: the reconciliation and lost-order claims run against it over real HTTP, as they would against
`https://api.admitad.com/`.

What it serves, in Admitad's shapes:
- `POST /token/`: OAuth2 client credentials (HTTP basic auth with the development client, see
  local/secrets.py), tokens that expire after `token_seconds`;
- `GET /statistics/actions/`: the actions set with `add_action`, filtered by `status_updated_start` and
  `status_updated_end` (Admitad's `dd.mm.yyyy HH:MM:SS`, both ends included, UTC), paged by `offset` and
  `limit`, as `{"results": [...], "_meta": {"count", "limit", "offset"}}`;
- `POST /lost_orders/create/` (multipart: `advcampaign`, `website`, `order_id`, `order_date`, `order_price`,
  `comment`, `estimated_reward` and the `receipt` file), `GET /lost_orders/` and `GET /lost_orders/<id>/`;
  `answer_lost_order` gives the network's answer (an accepted order then appears in the statistics).

Networks' quirks worth meeting before production: `rate_limit(next_requests=K)` answers the next K
requests 429 with `Retry-After: 1`; `expire_tokens()` makes every issued token answer 401; `answer_next`
gives one request a failing or garbled answer.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.background_server import BackgroundServer
from local.secrets import DEVELOPMENT_ADMITAD_API_CLIENT

ADMITAD_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FILTER_TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
FILTER_DATE_FORMAT = "%d.%m.%Y"
# What `lost_orders/create/` requires besides the receipt file.
LOST_ORDER_FIELDS = ("advcampaign", "website", "order_id", "order_date", "order_price", "comment", "estimated_reward")
LOST_ORDER_ACTION_BASE = 900_000_000  # accepted lost orders' action ids, clear of hand-added ones
_LOST_ORDER_PATH = re.compile(r"/lost_orders/[0-9]+/")
STATUSES = ("pending", "approved", "approved_but_stalled", "declined")
DEFAULT_LIMIT = 20
MAX_LIMIT = 500
_DECIMAL = re.compile(r'"__decimal__(-?[0-9]+(?:\.[0-9]+)?)__"')


class InvalidAction(ValueError):
    pass


def moment(value: Any, name: str) -> datetime:
    """ISO 8601 (an offset converted to UTC; none means UTC) or Admitad's own `YYYY-MM-DD HH:MM:SS`."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidAction(f"{name} must be an ISO 8601 date and time, not {value!r:.40}") from None
    else:
        raise InvalidAction(f"{name} must be an ISO 8601 date and time")
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0)


def _amount(value: Any, name: str, *, optional: bool = False) -> Decimal | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise InvalidAction(f"{name} must be a decimal amount (a string or a number)")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidAction(f"{name} must be a decimal amount, not {value!r:.40}") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidAction(f"{name} must be a finite amount of at least 0")
    return amount


def _text(source: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = source.get(name, default)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (default is None and not value):
        raise InvalidAction(f"{name} is required (a string)")
    return value


def _numbers(payload: Any) -> bytes:
    """JSON with Decimal amounts written as JSON numbers, as Admitad writes them (never through a float)."""

    def mark(value: Any) -> str:
        if isinstance(value, Decimal):
            return f"__decimal__{value}__"
        raise TypeError(f"{type(value).__name__} is not JSON")

    return _DECIMAL.sub(r"\1", json.dumps(payload, default=mark)).encode()


class FakeAdmitad(BackgroundServer):
    """The fake API; a context manager. Thread-safe: the server answers on its own threads."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        client_id: str = DEVELOPMENT_ADMITAD_API_CLIENT["client_id"],
        client_secret: str = DEVELOPMENT_ADMITAD_API_CLIENT["client_secret"],
        token_seconds: int = 3600,
        website_id: str = "1042042",
    ) -> None:
        super().__init__(port, host)
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_seconds = token_seconds
        self.website_id = website_id  # the programme's one ad space: lost orders for another are refused
        self._lock = threading.Lock()
        self._actions: dict[str, dict[str, Any]] = {}
        self._lost_orders: list[dict[str, Any]] = []
        self._lost_order_ids = itertools.count(1)  # never reset: a network never gives one id twice
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._rate_limited = 0
        self._canned: list[tuple[str, int, bytes]] = []  # (path, status, body) answered once, in order
        self.tokens_issued = 0

    # --- for people and tests ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def environment(self) -> dict[str, str]:
        """What points the functions' Admitad client here, with the client credentials this fake accepts."""
        credentials = {"client_id": self.client_id, "client_secret": self.client_secret}
        return {
            "ADMITAD_API_URL": self.url,
            "ADMITAD_API_SECRET": json.dumps(credentials),
            "ADMITAD_WEBSITE_ID": self.website_id,
        }

    def add_action(self, action: Mapping[str, Any]) -> dict[str, Any]:
        """Adds, or replaces by `action_id`, one action of the statistics: API.md's fields `{action_id,
        subid, status, order_sum, payment_sum, currency, action_date, status_updated}`, and optionally
        `order_id` (the action id by default), `tariff_id` and `comment`. Answers it as the API reports it."""
        if not isinstance(action, Mapping):
            raise InvalidAction("an action is a JSON object")
        action_id = _text(action, "action_id")
        status = _text(action, "status")
        if status not in STATUSES:
            raise InvalidAction(f"status is one of {', '.join(STATUSES)}")
        action_date = moment(action.get("action_date"), "action_date")
        status_updated = moment(action.get("status_updated", action.get("action_date")), "status_updated")
        tariff = action.get("tariff_id")
        reported: dict[str, Any] = {
            "action_id": int(action_id) if action_id.isdigit() else action_id,
            "subid": _text(action, "subid"),
            "status": status,
            "order_id": _text(action, "order_id", action_id),
            "cart": _amount(action.get("order_sum"), "order_sum"),
            "payment": _amount(action.get("payment_sum"), "payment_sum", optional=True),
            "currency": _text(action, "currency", "RUB"),
            "action_date": action_date.strftime(ADMITAD_TIME_FORMAT),
            "click_date": action_date.strftime(ADMITAD_TIME_FORMAT),
            "status_updated": status_updated.strftime(ADMITAD_TIME_FORMAT),
            "closing_date": None,
            "tariff_id": None if tariff is None else _text(action, "tariff_id"),
            "comment": _text(action, "comment", ""),
            "action_type": "sale",
            "action": "Paid order",
            "processed": 0,
            "paid": 0,
            "positions": [],
        }
        with self._lock:
            self._actions[action_id] = reported
        return dict(reported)

    def actions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(action) for action in self._actions.values()]

    def lost_orders(self) -> list[dict[str, Any]]:
        """What was filed, oldest first; the attachment as its name, type and size."""
        with self._lock:
            return [dict(order) for order in self._lost_orders]

    def answer_lost_order(
        self, ticket_id: str, status: str, reason: str = "", at: datetime | None = None
    ) -> dict[str, Any]:
        """The network's answer to a filed order: `accepted` (the order then appears in the statistics as a
        pending action of the filed subid, updated `at`, by default now, as Admitad adds an accepted lost
        order) or `rejected` with its reason. Answers the order as the API now reports it."""
        if status not in ("accepted", "rejected"):
            raise InvalidAction("a lost order is accepted or rejected")
        with self._lock:
            order = next((o for o in self._lost_orders if str(o["id"]) == str(ticket_id)), None)
            if order is None:
                raise InvalidAction(f"no lost order {ticket_id} was filed")
            if order["status"] != "processing":
                raise InvalidAction(f"lost order {ticket_id} is already {order['status']}")
            order["status"] = status
            order["decline_reason"] = reason if status == "rejected" else ""
            answered = dict(order)
        if status == "accepted":
            now = at or datetime.now(UTC)
            self.add_action(
                {
                    "action_id": f"{LOST_ORDER_ACTION_BASE + int(answered['id'])}",
                    "subid": answered["subid"],
                    "status": "pending",
                    "order_id": answered["order_id"],
                    "order_sum": answered["order_price"],
                    "payment_sum": answered["estimated_reward"],
                    "currency": "RUB",
                    "action_date": f"{answered['order_date']}T12:00:00+00:00",
                    "status_updated": now.isoformat(),
                }
            )
        return answered

    def expire_tokens(self) -> None:
        """Every token issued so far answers 401 from now on, as an expired one does."""
        with self._lock:
            self._tokens.clear()

    def rate_limit(self, next_requests: int) -> None:
        """The next `next_requests` requests (any endpoint) are answered 429 with `Retry-After: 1`."""
        with self._lock:
            self._rate_limited = next_requests

    def answer_next(self, status: int, body: bytes, path: str = "/statistics/actions/") -> None:
        """The next authorised request to `path` is answered `status` with `body`, whatever it asked:
        a failing or garbled answer, as networks give now and then."""
        with self._lock:
            self._canned.append((path, status, body))

    def reset(self) -> None:
        with self._lock:
            self._actions.clear()
            self._lost_orders.clear()
            self._tokens.clear()
            self._canned.clear()
            self._rate_limited = 0
            self.tokens_issued = 0

    # --- the API ----------------------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One request (`headers` with lower-case names): the status, headers and body to answer."""
        path, query = urlsplit(target).path.rstrip("/") + "/", dict(parse_qsl(urlsplit(target).query))
        with self._lock:
            if self._rate_limited > 0:
                self._rate_limited -= 1
                return 429, {"Retry-After": "1"}, _numbers({"error": "Too many requests", "status_code": 429})
        if path == "/token/" and method == "POST":
            return self._token(headers, body)
        if not self._authorised(headers):
            return 401, {}, _numbers({"error": "invalid_token", "error_description": "The access token is invalid"})
        with self._lock:
            canned = next((c for c in self._canned if c[0] == path), None)
            if canned is not None:
                self._canned.remove(canned)
        if canned is not None:
            return canned[1], {}, canned[2]
        if path == "/statistics/actions/" and method == "GET":
            return self._statistics(query)
        if path == "/lost_orders/create/" and method == "POST":
            return self._file_lost_order(headers, body)
        if _LOST_ORDER_PATH.fullmatch(path) and method == "GET":
            return self._lost_order(path)
        if path == "/lost_orders/" and method == "GET":
            return self._list_lost_orders(query)
        return 404, {}, _numbers({"error": "Not found", "status_code": 404})

    def _token(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization", "") != f"Basic {expected}" or form.get("grant_type") != "client_credentials":
            return 401, {}, _numbers({"error": "invalid_client", "error_description": "Client authentication failed"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_seconds
            self.tokens_issued += 1
        answer = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_seconds,
            "refresh_token": secrets.token_urlsafe(24),
            "scope": form.get("scope", ""),
            "username": "cashback-local",
        }
        return 200, {}, _numbers(answer)

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            expires_at = self._tokens.get(token)
        return scheme.lower() == "bearer" and expires_at is not None and time.monotonic() < expires_at

    def _statistics(self, query: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        try:
            start = self._filter_time(query.get("status_updated_start"))
            end = self._filter_time(query.get("status_updated_end"))
            offset = int(query.get("offset", "0"))
            limit = int(query.get("limit", str(DEFAULT_LIMIT)))
        except ValueError as error:
            return 400, {}, _numbers({"error": "invalid_request", "error_description": str(error)})
        limit = limit if 0 < limit <= MAX_LIMIT else DEFAULT_LIMIT
        offset = max(offset, 0)
        chosen = sorted(
            (
                action
                for action in self.actions()
                if (start is None or action["status_updated"] >= start)
                and (end is None or action["status_updated"] <= end)
            ),
            key=lambda action: (action["status_updated"], str(action["action_id"])),
        )
        meta = {"count": len(chosen), "limit": limit, "offset": offset}
        return 200, {}, _numbers({"results": chosen[offset : offset + limit], "_meta": meta})

    @staticmethod
    def _filter_time(value: str | None) -> str | None:
        """A filter in Admitad's form, as the stored text's (sortable) form."""
        if value is None:
            return None
        return datetime.strptime(value, FILTER_TIME_FORMAT).replace(tzinfo=UTC).strftime(ADMITAD_TIME_FORMAT)

    def _file_lost_order(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return 400, {}, _numbers({"error": "invalid_request", "error_description": "multipart/form-data expected"})
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields: dict[str, str] = {}
        attachment: dict[str, Any] | None = None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
            if part.get_filename():
                attachment = {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "size": len(payload),
                }
            elif isinstance(name, str):
                fields[name] = payload.decode()
        missing = [name for name in LOST_ORDER_FIELDS if not fields.get(name)]
        if attachment is None:
            missing.append("receipt")
        if missing:
            return 400, {}, _numbers({"error": "invalid_request", "error_description": f"required: {missing}"})
        if fields["website"] != self.website_id:
            return 400, {}, _numbers({"error": "invalid_request", "error_description": "unknown website"})
        try:
            order_date = datetime.strptime(fields["order_date"], FILTER_DATE_FORMAT).replace(tzinfo=UTC).date()
        except ValueError:
            return 400, {}, _numbers({"error": "invalid_request", "error_description": "order_date is dd.mm.yyyy"})
        with self._lock:
            order = {
                "id": next(self._lost_order_ids),
                "advcampaign": int(fields["advcampaign"]) if fields["advcampaign"].isdigit() else fields["advcampaign"],
                "website": int(fields["website"]) if fields["website"].isdigit() else fields["website"],
                "order_id": fields["order_id"],
                "order_date": order_date.isoformat(),
                "order_price": fields["order_price"],
                "estimated_reward": fields["estimated_reward"],
                "currency": "RUB",
                "subid": fields.get("subid", ""),
                "comment": fields["comment"],
                "status": "processing",
                "decline_reason": "",
                "attachment": attachment,
                "created_at": datetime.now(UTC).strftime(ADMITAD_TIME_FORMAT),
            }
            self._lost_orders.append(order)
        return 200, {}, _numbers(order)

    def _list_lost_orders(self, query: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Filtered by `advcampaign` and by `start_date` (dd.mm.yyyy, on the order's date), paged."""
        try:
            start = query.get("start_date")
            since = datetime.strptime(start, FILTER_DATE_FORMAT).replace(tzinfo=UTC).date() if start else None
            offset, limit = int(query.get("offset", "0")), int(query.get("limit", str(DEFAULT_LIMIT)))
        except ValueError as error:
            return 400, {}, _numbers({"error": "invalid_request", "error_description": str(error)})
        limit = limit if 0 < limit <= MAX_LIMIT else DEFAULT_LIMIT
        chosen = [
            order
            for order in self.lost_orders()
            if str(order["advcampaign"]) == query.get("advcampaign", str(order["advcampaign"]))
            and (since is None or order["order_date"] >= since.isoformat())
        ]
        page = chosen[max(offset, 0) : max(offset, 0) + limit]
        return 200, {}, _numbers({"results": page, "_meta": {"count": len(chosen), "limit": limit, "offset": offset}})

    def _lost_order(self, path: str) -> tuple[int, dict[str, str], bytes]:
        ticket = path.removeprefix("/lost_orders/").rstrip("/")
        order = next((o for o in self.lost_orders() if str(o["id"]) == ticket), None)
        if order is None:
            return 404, {}, _numbers({"error": "Not found", "status_code": 404})
        return 200, {}, _numbers(order)

    # --- the server -------------------------------------------------------------------------------

    def start(self) -> FakeAdmitad:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, answer = fake.answer(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._serve(server, "fake-admitad")
        return self
