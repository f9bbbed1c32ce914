"""The local gateway as a client sees it: API Gateway's routing, authorizers, events and local routes.

Business answers belong to the handlers' own tests; here the handlers are either the real ones (asserting
only what the gateway decides) or test handlers that echo the event API Gateway would have built.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cashback.platform.web.id_tokens import IdTokenVerifier, MemberClaims, StaticKeys
from local import tokens
from local.gateway.server import LocalGateway
from local.template import Route, load_template
from tests.fixtures.dynamodb_local import ApiClient, MintMemberToken, RunningDynamoDB

# ------------------------------------------------------------------------------- the template's routes


def test_a_member_route_without_a_token_is_refused_before_the_handler(api: ApiClient) -> None:
    response = api.get("/members/me/balance")

    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize(
    "token",
    [
        tokens.mint_member("+79161234567", key=tokens.SigningKey.generate()),  # not the stack's key
        tokens.mint_member("+79161234567", now=1_600_000_000),  # long expired
        "not-a-jwt",
    ],
    ids=["forged", "expired", "garbage"],
)
def test_a_member_route_with_a_bad_token_is_refused(api: ApiClient, token: str) -> None:
    response = api.get("/members/me/balance", token=token)

    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


def test_an_operator_token_is_not_a_member_token(api: ApiClient, admin_token: str) -> None:
    assert api.get("/members/me/balance", token=admin_token).status == 401


def test_an_admin_route_refuses_members_and_anonymous_callers(api: ApiClient, member_token: MintMemberToken) -> None:
    # Given a member's token
    token, _ = member_token()
    adjustment = {"member_id": "m-1", "amount": 1, "reason": "test"}

    # When a member, and someone without a token, ask for an adjustment
    as_member = api.post("/admin/adjustments", json=adjustment, token=token)
    anonymous = api.post("/admin/adjustments", json=adjustment)

    # Then both are forbidden, as API Gateway's IAM authorizer answers
    assert (as_member.status, as_member.json()) == (403, {"message": "Forbidden"})
    assert (anonymous.status, anonymous.json()) == (403, {"message": "Forbidden"})


def test_a_member_whose_phone_is_not_verified_is_refused(api: ApiClient) -> None:
    # Given a genuine ID token of the pool whose phone number was never verified
    token = tokens.mint_member("+79161234567", phone_verified=False)

    # When it calls a member route
    response = api.get("/members/me", token=token)

    # Then API Gateway lets it through, and the function refuses it
    assert (response.status, response.json()["error"]["code"]) == (403, "phone_not_verified")


def test_a_store_terminal_cannot_call_admin_routes(api: ApiClient, pos_token: str) -> None:
    adjustment = {"member_id": "m-1", "amount": 1_000, "reason": "a terminal helping itself"}

    response = api.post("/admin/adjustments", json=adjustment, token=pos_token)

    # The pos role's policy allows no admin route: API Gateway's IAM authorizer refuses it
    assert (response.status, response.json()) == (403, {"message": "Forbidden"})


def test_an_admin_caller_cannot_redeem_certificates(api: ApiClient, admin_token: str) -> None:
    redemption = {"code": "ABCD-EFGH-JKMN-P", "store_id": "s-1", "order_id": "o-1", "price": "1", "item": "smartphone"}

    response = api.post("/certificates/redeem", json=redemption, token=admin_token)

    assert (response.status, response.json()) == (403, {"message": "Forbidden"})


def test_a_terminal_redeeming_for_another_store_is_refused(api: ApiClient) -> None:
    # Given a terminal of store-a
    token = api.post("/_local/token", json={"role": "pos", "store_id": "store-a", "terminal_id": "till-1"}).json()
    redemption = {
        "code": "ABCD-EFGH-JKMN-P",
        "store_id": "store-b",
        "order_id": "o-1",
        "price": "1",
        "item": "smartphone",
    }

    # When it redeems for store-b
    response = api.post("/certificates/redeem", json=redemption, token=token["token"])

    # Then the function refuses it: the store comes from the terminal's identity
    assert (response.status, response.json()["error"]["code"]) == (403, "store_mismatch")


def test_the_token_keys_are_served_as_a_user_pool_serves_them(api: ApiClient) -> None:
    response = api.get("/_local/jwks.json")

    assert response.status == 200
    [key] = response.json()["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in key  # the public half only


def test_a_public_route_needs_no_token(api: ApiClient) -> None:
    response = api.get("/openapi.json")

    assert response.status == 200


def test_an_unknown_path_or_method_is_api_gateways_not_found(api: ApiClient, member_token: MintMemberToken) -> None:
    # Given a member's token
    token, _ = member_token()

    # When they call a path no route has, and a route with a method it does not take
    unknown_path = api.get("/no/such/route", token=token)
    wrong_method = api.delete("/members/me", token=token)

    # Then both get API Gateway's own Not Found
    assert (unknown_path.status, unknown_path.json()) == (404, {"message": "Not Found"})
    assert (wrong_method.status, wrong_method.json()) == (404, {"message": "Not Found"})


def test_a_body_over_10_mb_is_refused_with_413(local_gateway: LocalGateway) -> None:
    # When a request announces a body of 10 MB and a byte (only the headers are sent: the gateway must refuse on
    # the announced length, without reading 10 MB)
    with socket.create_connection((local_gateway.host, local_gateway.port), timeout=10) as connection:
        connection.sendall(
            b"POST /members HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10485761\r\n\r\n"
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk

    # Then it is refused with a 413
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == {"message": "Request Entity Too Large"}


# --------------------------------------------------------------------------------------- local routes


def test_a_member_token_is_minted_for_an_e164_phone(api: ApiClient) -> None:
    # When a token is asked for a phone number
    response = api.post("/_local/token", json={"phone": "+79161234567"})

    # Then an ID token is minted that the keys at /_local/jwks.json verify, naming the number as verified
    assert response.status == 200
    keys = api.get("/_local/jwks.json").json()
    verifier = IdTokenVerifier(tokens.ISSUER, tokens.CLIENT_ID, StaticKeys(keys))
    assert verifier.member(response.json()["token"]) == MemberClaims(
        tokens.member_id_for("+79161234567"), "+79161234567"
    )


@pytest.mark.parametrize(
    ("request_body", "code"),
    [
        ({"phone": "8 916 123-45-67"}, "invalid_phone"),
        ({"phone": 79161234567}, "invalid_phone"),
        ({"role": "pos"}, "store_id_required"),
        ({"role": "pos", "store_id": "store@1"}, "invalid_store_id"),
        ({"role": "root"}, "invalid_role"),
        ({}, "phone_or_role_required"),
    ],
)
def test_a_token_request_that_cannot_be_honoured_is_a_422(
    api: ApiClient, request_body: dict[str, Any], code: str
) -> None:
    response = api.post("/_local/token", json=request_body)

    assert response.status == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


def test_a_token_request_that_is_not_json_is_a_400(api: ApiClient) -> None:
    response = api.request("POST", "/_local/token", body=b"phone=+79161234567")

    assert response.status == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_the_outbox_lists_items(api: ApiClient) -> None:
    response = api.get("/_local/outbox")

    assert response.status == 200
    assert isinstance(response.json()["items"], list)


def test_the_outbox_shows_an_email_as_its_recipient_reads_it_newest_first(
    api: ApiClient, member_token: MintMemberToken
) -> None:
    # Given a member who asks to confirm their email address
    token, _ = member_token()
    email = f"outbox-{uuid.uuid4().hex[:8]}@example.com"
    assert api.post("/members", token=token).status == 201
    assert api.post("/members/me/email", json={"email": email}, token=token).status == 202

    # When the outbox is read
    items = api.get("/_local/outbox", limit=200).json()["items"]

    # Then the email is there, once, with its subject and text, and everything is listed newest first
    [mail] = [m for m in items if m.get("to") == email]
    assert mail["kind"] == "email"
    assert set(mail["body"]) == {"subject", "text"}
    assert re.search(r"(?<![0-9])[0-9]{6}(?![0-9])", mail["body"]["text"])
    assert [m["created_at"] for m in items] == sorted((m["created_at"] for m in items), reverse=True)


def test_the_swagger_ui_points_at_the_openapi_document(api: ApiClient) -> None:
    response = api.get("/_local/swagger")

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert '"/openapi.json"' in response.text


def test_an_event_is_answered_with_who_received_it(api: ApiClient) -> None:
    # Given a payment of someone who is not a member
    event = {
        "source": "operator.payments",
        "detail-type": "PaymentCompleted",
        "detail": {
            "payment_id": "p-gateway-1",
            "phone": "+79990000001",
            "product": "tariff",
            "amount": "300.00",
            "currency": "RUB",
            "occurred_at": "2026-11-24T15:00:00+03:00",
        },
    }

    # When it is put on the local bus
    response = api.post("/_local/events", json=event)

    # Then the payments function received it, and answered that it is not a member's
    assert response.status == 200
    answer = response.json()
    assert answer["delivered"] == ["PaymentsFunction"]
    assert answer["results"][0]["outcome"] == "not_a_member"


# --------------------------------------------------------------- events as API Gateway builds them


class Recorder:
    """A test handler: keeps each event it receives and answers what the test tells it to."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.answer: Any = {"statusCode": 200, "body": "{}"}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1]


def _route(method: str, path: str, auth: str) -> Route:
    return Route(method, path, "EchoFunction", "", "", auth)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def echo(dynamodb_local: RunningDynamoDB, recorder: Recorder) -> Iterator[ApiClient]:
    routes = [
        _route("GET", "/echo/{item_id}", "jwt"),
        _route("POST", "/echo", "none"),
        _route("ANY", "/admin/echo/{proxy+}", "iam"),
        _route("GET", "/echo/fixed", "none"),
    ]
    gateway = LocalGateway(
        load_template(), dynamodb_local.table_names, port=0, extra_routes=[(r, recorder) for r in routes]
    )
    with gateway:
        yield ApiClient(gateway.url)


def test_a_member_request_arrives_as_a_payload_v2_event(
    echo: ApiClient, recorder: Recorder, member_token: MintMemberToken
) -> None:
    # Given a member's token
    token, phone = member_token()

    # When they call a route with an encoded path, repeated and empty query values, headers and cookies
    response = echo.request(
        "GET",
        "/echo/item%2042?a=1&a=2&empty=&q=caf%C3%A9",
        token=token,
        headers={"X-Trace": "one", "Cookie": "theme=dark; lang=ru", "User-Agent": "tests/1.0"},
    )

    # Then the handler gets a payload 2.0 event as API Gateway builds it, with the member's claims as strings
    assert response.status == 200
    event = recorder.last
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /echo/{item_id}"
    assert event["rawPath"] == "/echo/item%2042"
    assert event["rawQueryString"] == "a=1&a=2&empty=&q=caf%C3%A9"
    assert event["queryStringParameters"] == {"a": "1,2", "empty": "", "q": "café"}
    assert event["pathParameters"] == {"item_id": "item 42"}
    assert event["cookies"] == ["theme=dark", "lang=ru"]
    assert event["headers"]["x-trace"] == "one"
    assert event["headers"]["authorization"] == f"Bearer {token}"
    assert "cookie" not in event["headers"]
    assert "body" not in event
    assert event["isBase64Encoded"] is False

    context = event["requestContext"]
    assert context["routeKey"] == "GET /echo/{item_id}"
    assert context["stage"] == "$default"
    assert context["http"] == {
        "method": "GET",
        "path": "/echo/item%2042",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tests/1.0",
    }
    assert context["requestId"] == response.headers["apigw-requestid"]
    assert isinstance(context["timeEpoch"], int)
    claims = context["authorizer"]["jwt"]["claims"]
    assert claims["phone_number"] == phone
    assert claims["sub"] == tokens.member_id_for(phone)
    assert all(isinstance(value, str) for value in claims.values())  # as API Gateway passes them
    assert context["authorizer"]["jwt"]["scopes"] is None


def test_a_request_without_query_or_parameters_has_no_such_keys(echo: ApiClient, recorder: Recorder) -> None:
    echo.get("/echo/fixed")

    assert recorder.last["routeKey"] == "GET /echo/fixed"  # the exact route wins over /echo/{item_id}
    assert recorder.last["rawQueryString"] == ""
    assert {"queryStringParameters", "pathParameters", "cookies"}.isdisjoint(recorder.last)
    assert "authorizer" not in recorder.last["requestContext"]


def test_a_json_body_arrives_as_text_and_a_binary_body_base64(echo: ApiClient, recorder: Recorder) -> None:
    # When a JSON body and a PNG are posted
    echo.post("/echo", json={"amount": "1999.90"})
    text_event = recorder.last
    echo.request("POST", "/echo", body=b"\x89PNG\x00", headers={"Content-Type": "image/png"})
    binary_event = recorder.last

    # Then the JSON arrives as text, and the PNG base64-encoded
    assert (text_event["body"], text_event["isBase64Encoded"]) == ('{"amount": "1999.90"}', False)
    assert binary_event["isBase64Encoded"] is True
    assert base64.b64decode(binary_event["body"]) == b"\x89PNG\x00"


def test_an_operator_request_carries_the_iam_caller(echo: ApiClient, recorder: Recorder, admin_token: str) -> None:
    # When the back office calls an IAM route its role's policy allows
    response = echo.request("PUT", "/admin/echo/partners/p-1", token=admin_token)

    # Then the event names the route, its proxy path, and the session of the role it assumed
    assert response.status == 200
    event = recorder.last
    assert event["routeKey"] == "ANY /admin/echo/{proxy+}"
    assert event["pathParameters"] == {"proxy": "partners/p-1"}
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["userArn"] == "arn:aws:sts::000000000000:assumed-role/cashback-dev-admin-caller/local-admin"
    assert iam["userId"].endswith(":local-admin")


def test_an_iam_route_outside_a_roles_policy_is_forbidden(echo: ApiClient, pos_token: str) -> None:
    response = echo.request("PUT", "/admin/echo/partners/p-1", token=pos_token)

    assert (response.status, response.json()) == (403, {"message": "Forbidden"})


def test_the_handler_gets_a_lambda_context(echo: ApiClient, recorder: Recorder) -> None:
    # When a route is called
    echo.get("/echo/fixed")

    # Then its handler gets a Lambda context naming its function, with time left
    context = recorder.contexts[-1]
    assert context.function_name == "EchoFunction"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn.endswith(":function:EchoFunction")
    assert context.aws_request_id
    assert 0 < context.get_remaining_time_in_millis() <= context.timeout_seconds * 1000


def test_a_full_response_is_mapped_to_status_headers_cookies_and_body(echo: ApiClient, recorder: Recorder) -> None:
    # Given a handler answering a redirect with headers, cookies and a base64 body
    recorder.answer = {
        "statusCode": 302,
        "headers": {"Location": "https://shop.example/?click=c1", "X-Extra": "yes"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": base64.b64encode(b"moved").decode(),
        "isBase64Encoded": True,
    }

    # When it is called
    response = echo.get("/echo/fixed")

    # Then the client gets each of them as API Gateway would send them
    assert response.status == 302  # not followed
    assert response.headers["Location"] == "https://shop.example/?click=c1"
    assert response.headers["X-Extra"] == "yes"
    assert response.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert response.body == b"moved"


def test_a_bare_result_is_a_200_json_body(echo: ApiClient, recorder: Recorder) -> None:
    recorder.answer = {"ok": True}

    response = echo.get("/echo/fixed")

    assert (response.status, response.json()) == (200, {"ok": True})
    assert response.headers["Content-Type"] == "application/json"


def test_a_failing_handler_is_a_bare_500(echo: ApiClient, recorder: Recorder) -> None:
    recorder.answer = RuntimeError("boom")

    response = echo.get("/echo/fixed")

    assert (response.status, response.json()) == (500, {"message": "Internal Server Error"})


# ---------------------------------------------------------------------------- event rules and schedules

RULES_TEMPLATE = {
    "Resources": {
        "PaymentsFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "functions/payments",
                "Handler": "app.lambda_handler",
                "Events": {
                    "Paid": {
                        "Type": "EventBridgeRule",
                        "Properties": {
                            "Pattern": {
                                "source": ["operator.payments"],
                                "detail-type": ["PaymentCompleted"],
                                "detail": {"product": ["tariff", "store"], "amount": [{"exists": True}]},
                            }
                        },
                    },
                    "Monthly": {
                        "Type": "ScheduleV2",
                        "Properties": {"ScheduleExpression": "cron(0 3 1 * ? *)", "Input": '{"month": "previous"}'},
                    },
                },
            },
        },
        "AuditFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "functions/audit",
                "Handler": "app.lambda_handler",
                "Events": {
                    "Everything": {
                        "Type": "EventBridgeRule",
                        "Properties": {"Pattern": {"source": [{"prefix": "operator."}]}},
                    },
                    "Nightly": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}},
                },
            },
        },
    }
}


@pytest.fixture(scope="module")
def bus() -> Iterator[tuple[ApiClient, Recorder, Recorder]]:
    payments, audit = Recorder(), Recorder()
    payments.answer, audit.answer = {"handled": "payments"}, None
    handlers = {"PaymentsFunction": payments, "AuditFunction": audit}
    with LocalGateway(RULES_TEMPLATE, {}, port=0, handlers=handlers) as gateway:
        yield ApiClient(gateway.url), payments, audit


def _payment(product: str) -> dict[str, Any]:
    return {
        "source": "operator.payments",
        "detail-type": "PaymentCompleted",
        "detail": {"payment_id": "p-1", "phone": "+79161234567", "product": product, "amount": "300.00"},
    }


def test_an_event_reaches_every_function_whose_rule_matches(bus: tuple[ApiClient, Recorder, Recorder]) -> None:
    # Given functions with rules for tariff payments and for anything from the operator
    client, payments, _ = bus

    # When a tariff payment is put on the bus
    response = client.post("/_local/events", json=_payment("tariff"))

    # Then both functions get it, as an EventBridge event, and their answers come back
    assert response.status == 200
    assert response.json() == {
        "delivered": ["PaymentsFunction", "AuditFunction"],
        "results": [{"handled": "payments"}, None],
    }
    event = payments.last
    assert (event["version"], event["source"], event["detail-type"]) == ("0", "operator.payments", "PaymentCompleted")
    assert event["detail"]["product"] == "tariff"
    assert {"id", "time", "account", "region", "resources"} <= set(event)


def test_an_event_outside_a_rules_values_does_not_reach_it(bus: tuple[ApiClient, Recorder, Recorder]) -> None:
    client, _, _ = bus

    response = client.post("/_local/events", json=_payment("content"))

    assert response.json()["delivered"] == ["AuditFunction"]


def test_a_putevents_entry_is_accepted_too(bus: tuple[ApiClient, Recorder, Recorder]) -> None:
    # Given a store payment as a PutEvents entry
    client, payments, _ = bus
    entry = _payment("store")

    # When it is put on the bus
    response = client.post(
        "/_local/events",
        json={"Source": entry["source"], "DetailType": entry["detail-type"], "Detail": json.dumps(entry["detail"])},
    )

    # Then it reaches both functions as an event
    assert response.json()["delivered"] == ["PaymentsFunction", "AuditFunction"]
    assert payments.last["detail"]["product"] == "store"


def test_a_schedule_fires_on_request_with_its_input(bus: tuple[ApiClient, Recorder, Recorder]) -> None:
    # Given functions with schedules, one of them with an input
    client, payments, audit = bus

    # When each schedule, and one that does not exist, is fired
    with_input = client.post("/_local/schedules/PaymentsFunction")
    without_input = client.post("/_local/schedules/AuditFunction")
    unknown = client.post("/_local/schedules/NoSuchFunction")

    # Then the function gets its input, or else a scheduled event, and an unknown schedule is not found
    assert (with_input.status, with_input.json()) == (200, {"handled": "payments"})
    assert payments.last == {"month": "previous"}
    assert without_input.status == 200
    assert (audit.last["detail-type"], audit.last["source"]) == ("Scheduled Event", "aws.events")
    assert unknown.status == 404
    assert unknown.json()["error"]["code"] == "schedule_not_found"
