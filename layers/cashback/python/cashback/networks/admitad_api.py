"""Admitad's publisher API over HTTP with the standard library: statistics of actions and lost orders.

OAuth2 client credentials (`POST /token/`, HTTP basic auth); the token is kept until shortly before it
expires and fetched once more when the API answers 401 (revoked or expired early). A 429 waits for its
Retry-After, a 5xx or a dropped connection is retried a few times; every wait goes through the injected
`sleep`, so tests never really sleep and a Lambda never waits beyond MAX_WAIT_SECONDS in all. Amounts are
read as Decimal (the JSON is parsed with parse_float=Decimal); a float never touches money.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from email.message import Message
from typing import Any

from cashback.networks.actions import (
    LOST_ORDER_STATUSES,
    STATUSES,
    ActionsPage,
    LostOrder,
    LostOrderAnswer,
    NetworkAction,
)

DEFAULT_BASE_URL = "https://api.admitad.com/"
# Admitad grants a token the scopes it asks for: statistics to reconcile, the lost-order ones to file claims.
SCOPES = "statistics lost_orders manage_lost_orders"
QUERY_TIME_FORMAT = "%d.%m.%Y %H:%M:%S"  # Admitad's "long date" in filters
QUERY_DATE_FORMAT = "%d.%m.%Y"
ANSWER_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # what statistics/actions answers
MAX_LIMIT = 500  # Admitad's largest page
RATE_LIMITED_ATTEMPTS = 5  # 429s in a row before giving up
SERVER_ERROR_ATTEMPTS = 3  # 5xx or dropped connections in a row before giving up
SERVER_ERROR_BACKOFF_SECONDS = (0.5, 2.0)
MAX_WAIT_SECONDS = 60.0  # a Retry-After beyond this is not waited for: the run resumes later instead
TIMEOUT_SECONDS = 10.0


class AdmitadApiError(RuntimeError):
    """Admitad refused the request, kept failing, or answered something this client cannot read."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MalformedResponse(AdmitadApiError):
    pass


def credentials_from_json(text: str) -> tuple[str, str]:
    """The secret's JSON `{"client_id": ..., "client_secret": ...}` as (client id, secret)."""
    try:
        parsed = json.loads(text)
        client_id, client_secret = parsed["client_id"], parsed["client_secret"]
    except (ValueError, TypeError, KeyError) as error:
        raise AdmitadApiError('the Admitad API secret is not JSON {"client_id", "client_secret"}') from error
    if not isinstance(client_id, str) or not isinstance(client_secret, str) or not client_id or not client_secret:
        raise AdmitadApiError("the Admitad API secret's client_id and client_secret must be non-empty strings")
    return client_id, client_secret


class AdmitadApi:
    def __init__(
        self,
        base_url: str,
        credentials: Callable[[], tuple[str, str]],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        zone: tzinfo = UTC,
        timeout: float = TIMEOUT_SECONDS,  # not money: seconds
        website_id: str | None = None,
    ) -> None:
        """`credentials` is called only when a token is needed (Secrets Manager is read lazily); `zone` is
        the time zone of the account's statistics, in which Admitad writes and reads its dates; `website_id`
        is the programme's site (Admitad's "ad space") that lost orders are filed for."""
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"the Admitad API URL must be http(s), not {base_url!r}")
        self._base_url = base_url.rstrip("/") + "/"
        self._credentials = credentials
        self._sleep = sleep
        self._clock = clock
        self._zone = zone
        self._timeout = timeout
        self._website_id = website_id
        self._token: str | None = None
        self._token_expires_at = 0.0

    # --- statistics -------------------------------------------------------------------------------

    def actions_updated(self, since: datetime, until: datetime, *, offset: int = 0, limit: int = 500) -> ActionsPage:
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("since and until must be aware datetimes")
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise ValueError(f"limit is 1 to {MAX_LIMIT} and offset at least 0")
        # Admitad filters whole seconds, both ends included: [since, until) is [ceil(since), until - 1 s].
        start = _ceil_second(since.astimezone(self._zone))
        end = _ceil_second(until.astimezone(self._zone)) - timedelta(seconds=1)
        query = {
            "status_updated_start": start.strftime(QUERY_TIME_FORMAT),
            "status_updated_end": end.strftime(QUERY_TIME_FORMAT),
            "offset": str(offset),
            "limit": str(limit),
        }
        answer = self._json(self._call("GET", "statistics/actions/", query=query))
        results, meta = answer.get("results"), answer.get("_meta")
        if not isinstance(results, list) or not isinstance(meta, dict) or not _is_int(meta.get("count")):
            raise MalformedResponse("statistics/actions answered without a results list and _meta.count")
        actions = [self._action(item) for item in results]
        following = offset + len(actions)
        return ActionsPage(actions, following if actions and following < int(meta["count"]) else None)

    def _action(self, item: Any) -> NetworkAction:
        if not isinstance(item, dict):
            raise MalformedResponse(f"an action is not an object: {item!r:.80}")
        action_id = item.get("action_id")
        try:
            status = item["status"]
            if status not in STATUSES:
                raise MalformedResponse(f"action {action_id}: unknown status {status!r:.40}")
            currency = item["currency"]
            if not isinstance(currency, str) or not currency:
                raise MalformedResponse(f"action {action_id}: no currency")
            payment = item.get("payment")
            return NetworkAction(
                action_id=_identifier(action_id, "action_id"),
                subid=_text(item.get("subid")),
                status=status,
                order_id=_text(item.get("order_id")),
                order_sum=_amount(item.get("cart"), "cart") if item.get("cart") is not None else Decimal(0),
                payment_sum=_amount(payment, "payment") if payment is not None else None,
                currency=currency,
                action_date=self._time(item["action_date"], "action_date"),
                status_updated=self._time(item["status_updated"], "status_updated"),
                tariff_id=_tariff(item),
                comment=_text(item.get("comment")),
            )
        except KeyError as missing:
            raise MalformedResponse(f"action {action_id}: no {missing}") from None

    def _time(self, value: Any, name: str) -> datetime:
        if not isinstance(value, str):
            raise MalformedResponse(f"{name} is not a date and time: {value!r:.40}")
        try:
            local = datetime.strptime(value, ANSWER_TIME_FORMAT).replace(tzinfo=self._zone)
        except ValueError:
            raise MalformedResponse(f"{name} is not {ANSWER_TIME_FORMAT!r}: {value!r:.40}") from None
        return local.astimezone(UTC)

    # --- lost orders ------------------------------------------------------------------------------

    def file_lost_order(self, order: LostOrder) -> str:
        """Files a lost order (`lost_orders/create/`, multipart, the receipt as its file) and answers the
        network's id of it. Not retried after a 5xx: the network may have filed it already."""
        if self._website_id is None:
            raise AdmitadApiError("no Admitad website id is configured: lost orders cannot be filed")
        fields = {
            "advcampaign": order.campaign_id,
            "website": self._website_id,
            "order_id": order.order_id,
            "order_date": order.order_date.strftime(QUERY_DATE_FORMAT),
            "order_price": str(order.order_price),
            "estimated_reward": str(order.estimated_reward),
            "subid": order.subid,
            "comment": order.comment,
        }
        receipt = ("receipt", _receipt_name(order.receipt_type), order.receipt_type, order.receipt)
        body, content_type = _multipart(fields, [receipt])
        answer = self._json(
            self._call("POST", "lost_orders/create/", body=body, content_type=content_type, retry_failures=False)
        )
        return _identifier(answer.get("id"), "lost_orders/create id")

    def lost_order(self, ticket_id: str) -> LostOrderAnswer:
        """The network's state of one filed order (`lost_orders/<id>/`)."""
        answer = self._json(self._call("GET", f"lost_orders/{urllib.parse.quote(ticket_id, safe='')}/"))
        status = answer.get("status")
        if status not in LOST_ORDER_STATUSES:
            raise MalformedResponse(f"lost order {ticket_id}: unknown status {status!r:.40}")
        # The network's words on a rejection; `comment` is ours, filed with the order.
        reason = _text(answer.get("decline_reason")) if status == "rejected" else ""
        return LostOrderAnswer(ticket_id=ticket_id, status=status, reason=reason[:500])

    def find_lost_order(self, campaign_id: str, order_id: str, order_date: date) -> str | None:
        """The ticket of `order_id` if it was filed with the programme's campaign before (a filing whose
        answer was lost: a timeout, a 5xx), so that it is never filed twice. Filed orders are listed from
        the order's date on (whether Admitad filters by the order's or the filing's date, the order is in)."""
        query = {"advcampaign": campaign_id, "start_date": order_date.strftime(QUERY_DATE_FORMAT), "limit": "500"}
        offset = 0
        while True:
            answer = self._json(self._call("GET", "lost_orders/", query={**query, "offset": str(offset)}))
            results, meta = answer.get("results"), answer.get("_meta")
            if not isinstance(results, list) or not isinstance(meta, dict) or not _is_int(meta.get("count")):
                raise MalformedResponse("lost_orders answered without a results list and _meta.count")
            for item in results:
                if isinstance(item, dict) and _text(item.get("order_id")) == order_id:
                    return _identifier(item.get("id"), "lost order id")
            offset += len(results)
            if not results or offset >= int(meta["count"]):
                return None

    # --- HTTP -------------------------------------------------------------------------------------

    def _access_token(self) -> str:
        if self._token is not None and self._clock() < self._token_expires_at:
            return self._token
        client_id, client_secret = self._credentials()
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id, "scope": SCOPES})
        status, _, body = self._exchange(
            "POST",
            self._base_url + "token/",
            form.encode(),
            {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            retry_failures=True,
        )
        if status != 200:
            raise AdmitadApiError(f"Admitad refused the client credentials: {status} {_excerpt(body)}", status)
        answer = self._json(body)
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lifetime, int) or isinstance(lifetime, bool):
            raise MalformedResponse("the token endpoint answered without access_token and expires_in")
        # Renewed a little early, so that a token does not expire between this check and Admitad's.
        self._token, self._token_expires_at = token, self._clock() + lifetime - min(60, lifetime // 10)
        return token

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        retry_failures: bool = True,
    ) -> bytes:
        url = self._base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        for renewed in (False, True):
            headers = {"Authorization": f"Bearer {self._access_token()}", "Accept": "application/json"}
            if content_type is not None:
                headers["Content-Type"] = content_type
            status, _, answer = self._exchange(method, url, body, headers, retry_failures=retry_failures)
            if status == 401 and not renewed:
                self._token = None  # expired or revoked before its time: one new token, once
                continue
            if 200 <= status < 300:
                return answer
            raise AdmitadApiError(f"Admitad answered {method} {path} with {status}: {_excerpt(answer)}", status)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str], *, retry_failures: bool
    ) -> tuple[int, Message, bytes]:
        """One request, repeated after a 429 (and, where `retry_failures`, a 5xx or a dropped connection)."""
        rate_limited = failures = 0
        waited = 0.0
        while True:
            # The scheme was checked in the constructor: only http(s) URLs are ever opened.
            request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                    return response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                status, answer_headers, answer = error.code, error.headers, error.read()
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                failures += 1
                if not retry_failures or failures >= SERVER_ERROR_ATTEMPTS:
                    raise AdmitadApiError(f"Admitad could not be reached: {error}") from error
                waited += self._wait(_backoff(failures), waited)
                continue
            if status == 429:
                rate_limited += 1
                if rate_limited >= RATE_LIMITED_ATTEMPTS:
                    raise AdmitadApiError(f"Admitad kept answering 429 ({rate_limited} times)", status)
                waited += self._wait(_retry_after(answer_headers), waited)
                continue
            if status >= 500 and retry_failures:
                failures += 1
                if failures >= SERVER_ERROR_ATTEMPTS:
                    raise AdmitadApiError(f"Admitad kept failing: {status} {_excerpt(answer)}", status)
                waited += self._wait(_backoff(failures), waited)
                continue
            return status, answer_headers, answer

    def _wait(self, seconds: float, waited: float) -> float:  # not money: seconds
        if waited + seconds > MAX_WAIT_SECONDS:
            raise AdmitadApiError(f"Admitad asked to wait {seconds:g} s more after {waited:g} s: giving up for now")
        self._sleep(seconds)
        return seconds

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            parsed = json.loads(body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MalformedResponse(f"Admitad answered something that is not JSON: {_excerpt(body)}") from None
        if not isinstance(parsed, dict):
            raise MalformedResponse(f"Admitad answered JSON that is not an object: {_excerpt(body)}")
        return parsed


# ------------------------------------------------------------------------------------------------ helpers


def _ceil_second(moment: datetime) -> datetime:
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _identifier(value: Any, name: str) -> str:
    if _is_int(value) or (isinstance(value, str) and value):
        return str(value)
    raise MalformedResponse(f"{name} is not an id: {value!r:.40}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if _is_int(value):
        return str(value)
    raise MalformedResponse(f"expected text, got {value!r:.40}")


def _amount(value: Any, name: str) -> Decimal:
    """An amount as Admitad writes it: a JSON number (parsed as Decimal) or a decimal string."""
    if isinstance(value, Decimal) or _is_int(value):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise MalformedResponse(f"{name} is not an amount: {value!r:.40}") from None
    else:
        raise MalformedResponse(f"{name} is not an amount: {value!r:.40}")
    if not amount.is_finite():
        raise MalformedResponse(f"{name} is not a finite amount: {value!r:.40}")
    return amount


def _tariff(item: Mapping[str, Any]) -> str | None:
    """The action's tariff: its own `tariff_id`, else the first position's (a sale lists its positions)."""
    tariff = item.get("tariff_id")
    if tariff is None:
        positions = item.get("positions")
        if isinstance(positions, list) and positions and isinstance(positions[0], dict):
            tariff = positions[0].get("tariff_id")
    return None if tariff is None else _identifier(tariff, "tariff_id")


def _retry_after(headers: Message) -> float:  # not money: seconds
    value = (headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else 1.0  # not money


def _backoff(failures: int) -> float:  # not money: seconds
    return SERVER_ERROR_BACKOFF_SECONDS[min(failures, len(SERVER_ERROR_BACKOFF_SECONDS)) - 1]


def _excerpt(body: bytes) -> str:
    return body[:200].decode("utf-8", "replace")


def _receipt_name(media_type: str) -> str:
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(media_type)
    return f"receipt.{extension}" if extension else f"receipt.{media_type.rpartition('/')[2] or 'bin'}"


def _multipart(fields: Mapping[str, str], files: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    boundary = f"cashback-{secrets.token_hex(16)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content_type, content in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
