"""The local-only routes of API.md, `/_local/...`, that let people and tests drive the stack end to end."""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from local import tokens
from local.gateway.eventbridge import custom_event, pattern_matches, scheduled_event, target_input
from local.gateway.function_host import FunctionHost
from local.gateway.http_api import NOT_FOUND, IncomingRequest, Response, api_error, json_response
from local.template import EventRule

if TYPE_CHECKING:
    from local.fake_admitad import FakeAdmitad

SWAGGER_UI_VERSION = "5.17.14"
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
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested ~1,000 deep
        return None, api_error(400, "invalid_json", "the body is not valid JSON")
    if not isinstance(parsed, dict):
        return None, api_error(400, "invalid_json", "the body must be a JSON object")
    return parsed, None


class LocalRoutes:
    """`/_local/...`: tokens, the outbox, events and schedules on request, the fake Admitad API's actions and
    lost orders, and the Swagger UI."""

    def __init__(
        self,
        host: FunctionHost,
        rules: Sequence[EventRule],
        drain: Callable[[], object] = lambda: 0,
        admitad: FakeAdmitad | None = None,
    ) -> None:
        self._host = host
        self._rules = rules
        self._drain = drain  # delivers what the streams hold, so that the outbox shows what has left
        self._admitad = admitad

    def handle(self, request: IncomingRequest, query: dict[str, str]) -> Response:
        path, method = request.raw_path, request.method
        if path == "/_local/token" and method == "POST":
            return self.token(request.body)
        if path == "/_local/jwks.json" and method == "GET":
            return json_response(200, tokens.jwks())
        if path == "/_local/outbox" and method == "GET":
            return self.outbox(query)
        if path == "/_local/events" and method == "POST":
            return self.events(request.body)
        schedule = re.fullmatch(r"/_local/schedules/([^/]+)", path)
        if schedule and method == "POST":
            return self.schedule(unquote(schedule.group(1)), query.get("event"))
        if path == "/_local/clicks" and method == "POST":
            return self.past_click(request.body)
        if path == "/_local/admitad/actions" and method == "POST":
            return self.admitad_action(request.body)
        if path == "/_local/admitad/lost-orders" and method == "GET":
            return self.admitad_lost_orders()
        lost_order = re.fullmatch(r"/_local/admitad/lost-orders/([0-9]+)", path)
        if lost_order and method == "POST":
            return self.admitad_answer_lost_order(lost_order.group(1), request.body)
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
                token = tokens.mint_operator(role, request.get("store_id"), request.get("terminal_id"))
                return json_response(200, {"token": token})
        except tokens.InvalidTokenRequest as error:
            return api_error(422, error.code, str(error))
        return api_error(422, "phone_or_role_required", 'give either {"phone": ...} or {"role": ...}')

    def outbox(self, query: dict[str, str]) -> Response:
        limit_text = query.get("limit", "50")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 200:
            return api_error(422, "invalid_limit", "limit must be an integer from 1 to 200")
        self._drain()  # what the streams hold has left by the time the list is read, as it would have in AWS
        from local.outbox import delivered_messages  # imports the layer: only once the environment is set

        items = []
        for message in delivered_messages(int(limit_text)):
            item: dict[str, Any] = {"id": message.id, "kind": message.kind.value}
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

    def past_click(self, body: bytes) -> Response:
        """`{"phone", "partner_id", "clicked_at"}`: the member's click through to the store at a past time, as
        the redirect would have recorded it then (at the terms in force then). A claim needs a click before
        its order and an accrual period since: this lets people walk through one without waiting weeks."""
        from datetime import UTC, datetime

        from cashback.catalog.rules import PartnerNotFound
        from local.fake_admitad import InvalidAction, moment
        from local.wiring import local_container

        request, refusal = _json_object(body)
        if request is None:
            return refusal or NOT_FOUND
        phone, partner_id = request.get("phone"), request.get("partner_id")
        if not isinstance(phone, str) or not isinstance(partner_id, str):
            return api_error(422, "invalid_click", "phone and partner_id are strings")
        try:
            clicked_at = moment(request.get("clicked_at"), "clicked_at")
        except InvalidAction as error:
            return api_error(422, "invalid_click", str(error))
        if clicked_at > datetime.now(UTC):
            return api_error(422, "invalid_click", "clicked_at is in the past")
        container = local_container(self._host.function_environment("ClicksFunction"))
        try:
            redirect = container.clicks.record_click(
                tokens.member_id_for(phone), partner_id, user_agent="recorded by /_local/clicks", now=clicked_at
            )
        except PartnerNotFound:
            return api_error(404, "partner_not_found", f"there is no active partner {partner_id}")
        click = redirect.click
        assert click is not None  # a recorded click, never a refused link
        return json_response(
            201,
            {"click_id": click.click_id, "partner_id": click.partner_id, "clicked_at": click.clicked_at.isoformat()},
        )

    def _no_admitad(self) -> Response:
        return api_error(404, "admitad_fake_not_running", "this gateway was started without the fake Admitad API")

    def admitad_action(self, body: bytes) -> Response:
        if self._admitad is None:
            return self._no_admitad()
        from local.fake_admitad import InvalidAction

        try:
            # Amounts as Decimal, whether the caller wrote them as strings or as JSON numbers.
            action = json.loads(body or b"{}", parse_float=Decimal)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return api_error(400, "invalid_json", "the body is not valid JSON")
        if not isinstance(action, dict):
            return api_error(400, "invalid_json", "the body must be a JSON object")
        try:
            reported = self._admitad.add_action(action)
        except InvalidAction as error:
            return api_error(422, "invalid_action", str(error))
        return json_response(200, reported)

    def admitad_lost_orders(self) -> Response:
        if self._admitad is None:
            return self._no_admitad()
        return json_response(200, {"items": self._admitad.lost_orders()})

    def admitad_answer_lost_order(self, ticket_id: str, body: bytes) -> Response:
        """`{"status": "accepted" | "rejected", "reason"?, "at"?}`: the network's answer to a filed lost order
        (`at`, ISO 8601, when it accepted it: by default now)."""
        if self._admitad is None:
            return self._no_admitad()
        from local.fake_admitad import InvalidAction, moment

        request, refusal = _json_object(body)
        if request is None:
            return refusal or NOT_FOUND
        try:
            at = moment(request["at"], "at") if request.get("at") is not None else None
            answered = self._admitad.answer_lost_order(
                ticket_id, str(request.get("status", "")), str(request.get("reason", "")), at
            )
        except InvalidAction as error:
            return api_error(422, "invalid_answer", str(error))
        return json_response(200, answered)

    def schedule(self, function_id: str, event_id: str | None = None) -> Response:
        """Fires the function's schedule: the first in the template, or the one `?event=` names."""
        rule = next(
            (
                r
                for r in self._rules
                if r.is_schedule and r.function_logical_id == function_id and event_id in (None, r.event_id)
            ),
            None,
        )
        if rule is None:
            return api_error(404, "schedule_not_found", f"{function_id} has no such Schedule or ScheduleV2 event")
        payload = json.loads(rule.input) if rule.input is not None else scheduled_event(rule)
        try:
            result = self._host.invoke(function_id, payload)
        except Exception as error:
            traceback.print_exc()
            return api_error(500, "handler_failed", f"{type(error).__name__}: {error}")
        return json_response(200, result)
