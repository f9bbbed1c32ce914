"""Bad input from anyone, through the handlers with real API Gateway events on moto: always a 4xx with the
contract's error shape (API.md, Conventions), never a 500.

Bodies a route cannot read (wrong content type, not JSON, too deep, numbers Python will not read), numbers
and times out of any sane range, over-long ids, crafted cursors and garbage member tokens.
"""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cashback.bootstrap import Container
from cashback.platform.config import Settings
from cashback.platform.pagination import encode_cursor
from cashback.platform.web.id_tokens import IdTokenVerifier, JwksKeys
from cashback.postbacks.networks.direct import sign
from local.secrets import EnvironmentSecrets
from tests.fixtures.handlers import REPO, handler_module, invoke, sample_event
from tests.fixtures.wiring import use_container
from tests.unit.catalog.support import partner

DIRECT_SECRET = "local-direct-secret"
LONG_ID = "a" * 3000
OLD_ORDER = (datetime.now(UTC) - timedelta(days=60)).date().isoformat()
FAR_FUTURE = "9999-12-31T23:00:00-05:00"  # a real time, but past datetime's range once in UTC
MULTIPART_BODY = '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nanna@example.com\r\n--x--\r\n'
DEEP_JSON = "[" * 1000 + "]" * 1000
LONG_INTEGER = '{"amount": ' + "1" * 5000 + "}"


def _function(event_name: str) -> str:
    context = event_name.split("-")[0]
    return {"settlement": "settlement_start"}.get(context, context)


def _events_with_a_body() -> list[str]:
    names = []
    for path in sorted((REPO / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if "requestContext" in event and event.get("body"):
            names.append(path.stem)
    return names


BODY_EVENTS = _events_with_a_body()
# The direct postback reads its own body (its signature covers the raw bytes): its errors are 422s.
READS_ITS_OWN_BODY = {"postbacks-direct"}


@pytest.fixture(autouse=True)
def environment(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTBACK_SECRETS", json.dumps({"admitad": ["local-admitad-secret"], "direct": [DIRECT_SECRET]}))
    monkeypatch.setenv("LINK_SIGNING_SECRET", "unit-tests-link-signing-key-0123456789abcdef")


def with_body(event_name: str, body: str, content_type: str | None = "application/json") -> dict[str, Any]:
    """The route's sample event with this body; a direct postback is signed as its partner would sign it."""
    event = sample_event(event_name, body=body)
    if content_type is None:
        event["headers"].pop("content-type", None)
    else:
        event["headers"]["content-type"] = content_type
    if event_name in READS_ITS_OWN_BODY:
        now = int(time.time())
        event["headers"]["x-signature"] = f"t={now},v1={sign(DIRECT_SECRET, now, body)}"
    return event


def refused(response: tuple[int, Any]) -> tuple[int, str]:
    """(status, code) of a refusal, after checking it is a 4xx in the contract's error shape."""
    status, body = response
    assert 400 <= status < 500, (status, body)
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str)
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["code"]
    assert body["error"]["message"]
    return int(status), body["error"]["code"]


def never_a_server_error(response: tuple[int, Any]) -> None:
    status, body = response
    assert status < 500, (status, body)
    if status >= 400:
        refused(response)


def admitad(**changes: str) -> dict[str, Any]:
    query = {**sample_event("postbacks-admitad")["queryStringParameters"], **changes}
    return sample_event("postbacks-admitad", query=query)


def direct(**changes: str) -> dict[str, Any]:
    body = {**json.loads(sample_event("postbacks-direct")["body"]), **changes}
    return with_body("postbacks-direct", json.dumps(body))


# ------------------------------------------------------------------------------------------------ bodies


def test_every_route_with_a_body_is_covered() -> None:
    assert len(BODY_EVENTS) >= 16
    assert {"members-enrol", "admin-partner-put", "postbacks-direct", "settlement-start"} <= set(BODY_EVENTS)


@pytest.mark.parametrize("event_name", BODY_EVENTS)
def test_multipart_without_a_boundary_is_415(event_name: str) -> None:
    event = with_body(event_name, MULTIPART_BODY, "multipart/form-data")

    expected = (422, "malformed_json") if event_name in READS_ITS_OWN_BODY else (415, "unsupported_media_type")
    assert refused(invoke(_function(event_name), event)) == expected


@pytest.mark.parametrize("event_name", sorted(set(BODY_EVENTS) - READS_ITS_OWN_BODY))
@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/xml",
        "image/png",
    ],
)
def test_a_body_that_is_not_json_is_415_in_the_error_shape(event_name: str, content_type: str) -> None:
    event = with_body(event_name, MULTIPART_BODY, content_type)

    assert refused(invoke(_function(event_name), event)) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json", None]
)
def test_json_is_read_under_any_spelling_of_its_type(content_type: str | None) -> None:
    body = sample_event("members-enrol")["body"]

    status, member = invoke("members", with_body("members-enrol", body, content_type))

    assert (status, member["email"]) == (201, "anna@example.com")


def test_no_body_is_no_body_whatever_type_the_request_names() -> None:
    event = with_body("members-enrol", "", "text/plain")
    event.pop("body")

    status, member = invoke("members", event)

    assert (status, member["email"]) == (201, None)


@pytest.mark.parametrize("event_name", BODY_EVENTS)
@pytest.mark.parametrize(
    ("body", "code"),
    [
        (DEEP_JSON, "json_too_deep"),
        ('{"a": ' * 40 + "1" + "}" * 40, "json_too_deep"),
        (LONG_INTEGER, "number_too_long"),
        ('{"amount": NaN}', "malformed_json"),
        ('{"amount": -Infinity}', "malformed_json"),
    ],
    ids=["nested-1000", "nested-40", "integer-5000-digits", "nan", "infinity"],
)
def test_json_a_route_cannot_read_is_400(event_name: str, body: str, code: str) -> None:
    status = 422 if event_name in READS_ITS_OWN_BODY else 400

    assert refused(invoke(_function(event_name), with_body(event_name, body))) == (status, code)


@pytest.mark.parametrize("event_name", sorted(set(BODY_EVENTS) - READS_ITS_OWN_BODY))
@pytest.mark.parametrize(
    "encoded", [base64.b64encode(b"\xff\xfe{}").decode(), "not base64!"], ids=["not-utf-8", "not-base64"]
)
def test_a_body_that_is_not_text_is_400(event_name: str, encoded: str) -> None:
    event = with_body(event_name, "{}", content_type=None)
    event["body"], event["isBase64Encoded"] = encoded, True

    assert refused(invoke(_function(event_name), event)) == (400, "malformed_json")


def test_a_postback_body_that_is_not_base64_is_400() -> None:
    event = with_body("postbacks-direct", "{}")
    event["body"], event["isBase64Encoded"] = "not base64!", True

    assert refused(invoke("postbacks", event)) == (400, "malformed_json")


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=12,
    )


def _with_one_field_changed(draw: st.DrawFn) -> tuple[str, str]:
    event_name = draw(st.sampled_from(BODY_EVENTS))
    body = json.loads(sample_event(event_name)["body"])
    field = draw(st.sampled_from(sorted(body)))
    body[field] = draw(_json_values())
    return event_name, json.dumps(body)


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[str, str]:
    """A route and a body: its own sample with one field set to any JSON value, or any JSON at all."""
    if draw(st.booleans()):
        return _with_one_field_changed(draw)
    return draw(st.sampled_from(BODY_EVENTS)), json.dumps(draw(_json_values()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route_and_body=_bodies())
def test_any_json_body_on_any_route_is_never_a_server_error(route_and_body: tuple[str, str]) -> None:
    event_name, body = route_and_body

    never_a_server_error(invoke(_function(event_name), with_body(event_name, body)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_name=st.sampled_from(BODY_EVENTS), content_type=st.text(max_size=60), text=st.text(max_size=200))
def test_any_body_under_any_content_type_is_never_a_server_error(event_name: str, content_type: str, text: str) -> None:
    never_a_server_error(invoke(_function(event_name), with_body(event_name, text, content_type)))


# ----------------------------------------------------------------------------- the optional member token


def _nested_json_token(depth: int) -> str:
    segment = base64.urlsafe_b64encode(("[" * depth + "]" * depth).encode()).decode().rstrip("=")
    return f"{segment}.{segment}.AAAA"


@pytest.fixture
def cognito_catalog() -> None:
    """The catalog function wired as in AWS: member tokens are checked against a Cognito user pool."""
    settings = Settings.from_environment(os.environ)
    issuer = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Example"
    no_keys = JwksKeys(f"{issuer}/.well-known/jwks.json", lambda url: {"keys": []})
    verifier = IdTokenVerifier(issuer, "4k8example", no_keys)
    container = Container(settings, secrets=EnvironmentSecrets(os.environ), member_tokens=verifier)
    container.catalog.put_partner(partner("aliexpress"), actor="test")
    use_container(handler_module("catalog"), container)


@pytest.mark.usefixtures("cognito_catalog")
@pytest.mark.parametrize("depth", [700, 2000])
def test_a_bearer_token_of_nested_json_leaves_the_caller_anonymous(depth: int) -> None:
    token = _nested_json_token(depth)
    assert len(token) > 1000

    status, page = invoke("catalog", sample_event("catalog-partners", headers={"authorization": f"Bearer {token}"}))

    assert status == 200
    assert [item.get("go_url") for item in page["items"]] == [None]


@pytest.mark.usefixtures("cognito_catalog")
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    token=st.text(max_size=300)
    | st.lists(_json_values().map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()), max_size=4).map(
        ".".join
    )
)
def test_any_bearer_token_on_the_public_catalog_leaves_the_caller_anonymous(token: str) -> None:
    for headers in ({"authorization": f"Bearer {token}"}, {"authorization": token}):
        status, page = invoke("catalog", sample_event("catalog-partners", headers=headers))

        assert status == 200
        assert all(item.get("go_url") is None for item in page["items"])


# ----------------------------------------------------------------------------------------------- amounts


@pytest.fixture
def member_and_partner(container: Container) -> None:
    invoke("members", sample_event("members-enrol"))
    container.catalog.put_partner(partner("lamoda", name="Lamoda", accrual_days=30), actor="test")


@pytest.mark.usefixtures("member_and_partner")
@pytest.mark.parametrize("amount", ["1e27", "1e26", "1E+999999999", "12345678901234567e10"])
def test_an_order_amount_needing_more_than_28_digits_is_422(amount: str) -> None:
    body = {"partner_id": "lamoda", "order_id": "LM-1", "order_date": OLD_ORDER, "order_amount": amount}

    assert refused(invoke("claims", sample_event("claims-file", body=body))) == (422, "invalid_amount")


@pytest.mark.parametrize("price", ["1e27", "1E+999999999", "9" * 30])
def test_a_certificate_price_needing_more_than_28_digits_is_422(price: str) -> None:
    body = {**json.loads(sample_event("certificates-redeem")["body"]), "price": price}

    assert refused(invoke("certificates", sample_event("certificates-redeem", body=body))) == (422, "invalid_amount")


@pytest.mark.parametrize("amount", ["1e27", "1E+999999999", "1" * 100])
def test_a_postback_amount_needing_more_than_28_digits_is_422(amount: str) -> None:
    assert refused(invoke("postbacks", admitad(order_sum=amount))) == (422, "invalid_amount")
    assert refused(invoke("postbacks", direct(amount=amount))) == (422, "invalid_amount")


# --------------------------------------------------------------------------------------------- postbacks


@pytest.mark.parametrize(
    "when",
    [
        "253402300799",  # 9999-12-31T23:59:59Z
        "4102444800",  # 2100-01-01
        str(int(time.time()) // 3600 * 3600 + 3 * 86400),  # whole hours: every xdist worker collects the same id
        "9999-12-31T23:59:59+00:00",
        FAR_FUTURE,
        "0001-01-01T00:00:00+05:00",
    ],
    # Named, not by value: a value from the clock differs between the workers that collect it.
    ids=["year 9999", "year 2100", "in three days", "iso year 9999", "far future", "year 1"],
)
def test_a_postback_time_far_in_the_future_or_out_of_range_is_422(when: str) -> None:
    assert refused(invoke("postbacks", admitad(time=when))) == (422, "invalid_time")
    assert refused(invoke("postbacks", direct(occurred_at=when))) == (422, "invalid_time")


def test_a_postback_time_a_little_ahead_of_our_clock_is_accepted() -> None:
    status, receipt = invoke("postbacks", admitad(time=str(int(time.time()) + 600)))

    assert (status, receipt["outcome"]) == (200, "kept_for_support")


@pytest.mark.parametrize(
    "signature",
    ["t=" + "9" * 5000 + ",v1=ab", "t=" + "9" * 400 + ",v1=ab", "t=-1,v1=ab", "t=1e9,v1=ab", "t=\u00b2,v1=ab"],
)
def test_a_signature_time_no_clock_can_hold_is_401(signature: str) -> None:
    event = sample_event("postbacks-direct", headers={"x-signature": signature})

    assert refused(invoke("postbacks", event)) == (401, "invalid_credentials")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(partner_id=st.text(max_size=300) | st.just("a" * 3000))
def test_any_x_partner_id_is_never_a_server_error(partner_id: str) -> None:
    event = direct()
    event["headers"]["x-partner-id"] = partner_id

    never_a_server_error(invoke("postbacks", event))


@pytest.mark.parametrize("partner_id", [None, "", "   ", "Samokat!", "../samokat", "a" * 3000, "samokat\u0000"])
def test_a_direct_postback_naming_no_partner_is_401(partner_id: str | None) -> None:
    event = direct()
    if partner_id is None:
        del event["headers"]["x-partner-id"]
    else:
        event["headers"]["x-partner-id"] = partner_id

    assert refused(invoke("postbacks", event)) == (401, "invalid_credentials")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["subid", "action_id", "order_id", "order_sum", "currency", "status", "time", "token"]),
    value=st.text(max_size=100) | st.from_regex(r"\A[0-9]{1,40}\Z") | st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T.*"),
)
def test_any_admitad_field_is_never_a_server_error(field: str, value: str) -> None:
    never_a_server_error(invoke("postbacks", admitad(**{field: value})))


@pytest.mark.parametrize("field", ["subid", "action_id", "order_id", "order_sum", "currency", "status", "time"])
def test_an_over_long_admitad_field_is_422(field: str) -> None:
    assert refused(invoke("postbacks", admitad(**{field: LONG_ID}))) == (422, "invalid_field")


@pytest.mark.parametrize("field", ["click_id", "order_id", "amount", "currency", "status", "occurred_at"])
def test_an_over_long_direct_field_is_422(field: str) -> None:
    assert refused(invoke("postbacks", direct(**{field: LONG_ID}))) == (422, "invalid_field")


# --------------------------------------------------------------------------------------- times in bodies


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("when", [FAR_FUTURE, "0001-01-01T00:00:00+05:00"])
def test_a_window_edge_past_the_range_of_times_is_422(field: str, when: str, container: Container) -> None:
    container.catalog.put_partner(partner("perekrestok"), actor="test")
    promo = {**json.loads(sample_event("admin-promo-code")["body"]), field: when}
    promotion = {**json.loads(sample_event("admin-partner-promotion")["body"]), field: when}

    assert refused(invoke("admin", sample_event("admin-promo-code", body=promo)))[0] == 422
    assert refused(invoke("admin", sample_event("admin-partner-promotion", body=promotion)))[0] == 422


@pytest.mark.parametrize("month", ["0000-01", "0000-12"])
def test_a_settlement_month_out_of_the_calendar_is_422(month: str) -> None:
    event = sample_event("settlement-start", body={"month": month})

    assert refused(invoke("settlement_start", event)) == (422, "invalid_month")


def test_a_window_open_until_the_last_second_of_time_still_works(container: Container) -> None:
    end_of_time = "9999-12-31T23:59:59Z"
    container.catalog.put_partner(partner("perekrestok"), actor="test")
    invoke("members", sample_event("members-enrol"))
    promo = {**json.loads(sample_event("admin-promo-code")["body"]), "code": "FOREVER", "ends_at": end_of_time}
    promotion = {**json.loads(sample_event("admin-partner-promotion")["body"]), "ends_at": end_of_time}

    assert invoke("admin", sample_event("admin-promo-code", body=promo))[0] == 201
    assert invoke("admin", sample_event("admin-partner-promotion", body=promotion))[0] == 201
    assert invoke("members", sample_event("members-promo-code", body={"code": "FOREVER"}))[0] == 200
    assert invoke("catalog", sample_event("catalog-partners"))[0] == 200


# ----------------------------------------------------------------------------------------------- cursors

LISTS = [
    ("catalog-partners", ("name", "id")),
    ("ledger-transactions", ("sk", "listed")),
    ("certificates-list", ("sk",)),
    ("claims-mine", ("pk", "sk", "listed")),
    ("claims-queue", ("pk", "sk", "listed")),
]


@pytest.mark.parametrize(("event_name", "fields"), LISTS, ids=[name for name, _ in LISTS])
def test_a_cursor_with_empty_positions_is_422(event_name: str, fields: tuple[str, ...]) -> None:
    cursor = encode_cursor(dict.fromkeys(fields, ""))

    refusal = refused(invoke(_function(event_name), sample_event(event_name, query={"cursor": cursor})))

    assert refusal == (422, "invalid_cursor")


@pytest.mark.parametrize(("event_name", "fields"), LISTS, ids=[name for name, _ in LISTS])
def test_an_over_long_cursor_is_422(event_name: str, fields: tuple[str, ...]) -> None:
    cursor = encode_cursor(dict.fromkeys(fields, "x" * 3000))

    status, _ = refused(invoke(_function(event_name), sample_event(event_name, query={"cursor": cursor})))

    assert status == 422


def test_a_cursor_of_one_status_used_for_another_is_422() -> None:
    cursor = encode_cursor({"sk": "TXN#x", "status_listed": "accrued#2026-11-24T12:00:00+00:00"})
    event = sample_event("ledger-transactions", query={"status": "pending", "cursor": cursor})

    assert refused(invoke("ledger", event)) == (422, "invalid_cursor")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(LISTS),
    cursor=st.text(max_size=80)
    | st.dictionaries(st.sampled_from(["sk", "pk", "listed", "status_listed", "name", "id"]), st.text(max_size=20)).map(
        lambda position: encode_cursor(position)
    ),
)
def test_any_cursor_is_never_a_server_error(route: tuple[str, tuple[str, ...]], cursor: str) -> None:
    event_name, _ = route

    never_a_server_error(invoke(_function(event_name), sample_event(event_name, query={"cursor": cursor})))


# ------------------------------------------------------------------------------------------ ids in paths


def _at_path(event_name: str, parameter: str, value: str) -> dict[str, Any]:
    event = sample_event(event_name)
    path = event["routeKey"].split(" ", 1)[1].replace(f"{{{parameter}}}", value)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {parameter: value}
    return event


@pytest.mark.parametrize(
    ("event_name", "parameter", "status"),
    [
        ("catalog-partner", "partner_id", 404),  # no partner has such an id (API.md: an unknown partner 404)
        ("clicks-go", "partner_id", 404),
        ("admin-partner-promotion", "partner_id", 404),
        ("admin-partner-put", "partner_id", 422),  # a new partner's id must be a slug
        ("claims-resolve", "claim_id", 422),
        ("certificates-resend-sms", "certificate_id", 422),
        ("settlement-report", "month", 422),
        ("postbacks-admitad", "network", 404),  # an unknown network
        ("postbacks-direct", "network", 404),
    ],
)
def test_a_3000_character_id_in_a_path_is_refused(event_name: str, parameter: str, status: int) -> None:
    assert refused(invoke(_function(event_name), _at_path(event_name, parameter, LONG_ID)))[0] == status


# ----------------------------------------------------------------------------------- headers and queries


def _http_events() -> list[str]:
    return [
        path.stem
        for path in sorted((REPO / "events").glob("*.json"))
        if "requestContext" in json.loads(path.read_text()) and not path.stem.startswith("docs-")
    ]


HEADERS = [
    *("authorization", "content-type", "idempotency-key", "x-signature", "x-partner-id", "x-forwarded-proto"),
    "accept-language",
]
QUERY = ["limit", "cursor", "q", "category", "status", "t", "token", "subid", "time", "order_sum", "tariff_id"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event_name=st.sampled_from(_http_events()),
    headers=st.dictionaries(st.sampled_from(HEADERS), st.text(max_size=80), max_size=3),
    query=st.dictionaries(st.sampled_from(QUERY), st.text(max_size=80), max_size=3),
)
def test_any_header_or_query_value_is_never_a_server_error(
    event_name: str, headers: dict[str, str], query: dict[str, str]
) -> None:
    event = sample_event(event_name, headers=headers)
    if query:
        event["queryStringParameters"] = {**(event.get("queryStringParameters") or {}), **query}

    never_a_server_error(invoke(_function(event_name), event))
