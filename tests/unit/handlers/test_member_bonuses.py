"""Welcome bonuses through the members handlers, on moto: each is earned once, with its reason."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.handlers import invoke, sample_event
from tests.fixtures.notifications import Postbox

pytestmark = pytest.mark.usefixtures("moto_tables")

SUBSCRIBER = {"sub": "sub-subscriber", "phone_number": "+79161112233"}  # in the operator's +7916 range
OUTSIDER = {"sub": "sub-outsider", "phone_number": "+79031112233"}


@pytest.fixture(autouse=True)
def subscriber_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set before any container of the test is built: each reads its settings once.
    monkeypatch.setenv("SUBSCRIBER_RANGES", "+7916,+7915")


def enrol(claims: dict | None = None, **body: object) -> dict:
    event = sample_event("members-enrol", body=body or None)
    if claims:
        event = sample_event("members-enrol", body=body or None, claims=claims)
    status, member = invoke("members", event)
    assert status in (200, 201), member
    return member


def bonuses(claims: dict | None = None) -> list[tuple[int, str]]:
    event = sample_event("ledger-transactions", query=None)
    if claims:
        event = sample_event("ledger-transactions", query=None, claims=claims)
    _, page = invoke("ledger", event)
    return [(t["amount"], t["reason"]) for t in page["items"]]


@pytest.fixture
def sent_code(postbox: Postbox) -> Callable[[str], str]:
    """The code in the email the address received, as its reader finds it."""

    def read(to: str) -> str:
        postbox.deliver()
        [email] = [r for r in postbox.all_received() if r.to == to]
        [code] = re.findall(r"\b\d{6}\b", email.text)
        return code

    return read


def promo(code: str = "UD2PV797", bonus: int = 250, max_uses: int = 1000, starts: int = -1, ends: int = 30) -> None:
    now = datetime.now(UTC)
    body = {
        "code": code,
        "bonus": bonus,
        "starts_at": (now + timedelta(days=starts)).isoformat(),
        "ends_at": (now + timedelta(days=ends)).isoformat(),
        "max_uses": max_uses,
    }
    status, created = invoke("admin", sample_event("admin-promo-code", body=body))
    assert status == 201, created


# --- subscribers ----------------------------------------------------------------------------------


def test_a_number_in_the_operators_ranges_is_a_subscriber_and_others_are_not() -> None:
    assert enrol(SUBSCRIBER)["subscriber"] is True
    assert enrol(OUTSIDER)["subscriber"] is False


# --- email --------------------------------------------------------------------------------------


def test_confirming_the_email_earns_15_once(sent_code: Callable[[str], str]) -> None:
    # Given a member enrolled with an email address
    enrol(email="anna@example.com")
    # When they confirm it with the code sent to it
    status, _ = invoke("members", sample_event("members-email-confirm", body={"code": sent_code("anna@example.com")}))
    assert status == 200

    # Then the address is confirmed, and 15 bonuses are credited with the reason
    status, confirmed = invoke("members", sample_event("members-me"))
    assert confirmed["email_confirmed"] is True
    assert bonuses() == [(15, "Email address confirmed")]


def test_a_second_confirmed_address_earns_nothing_more(sent_code: Callable[[str], str]) -> None:
    # Given a member who confirmed their email address
    enrol(email="anna@example.com")
    invoke("members", sample_event("members-email-confirm", body={"code": sent_code("anna@example.com")}))

    # When they change it and confirm the new one
    status, _ = invoke("members", sample_event("members-email", body={"email": "anna@work.example"}))
    assert status == 202
    status, second = invoke(
        "members", sample_event("members-email-confirm", body={"code": sent_code("anna@work.example")})
    )

    # Then the new address is confirmed, and no second bonus comes
    assert (status, second["bonus"], second["email"]) == (200, 0, "anna@work.example")
    assert bonuses() == [(15, "Email address confirmed")]


def test_a_wrong_code_is_refused_and_five_wrong_codes_lock_the_code(sent_code: Callable[[str], str]) -> None:
    # Given a member with a code sent to their email address
    enrol(email="anna@example.com")
    right = sent_code("anna@example.com")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    # When they type a wrong code five times, and then the right one
    refusals = [invoke("members", sample_event("members-email-confirm", body={"code": wrong})) for _ in range(5)]
    status, error = invoke("members", sample_event("members-email-confirm", body={"code": right}))

    # Then each wrong code is refused, the right one comes too late, and no bonus is credited
    assert [(s, e["error"]["code"]) for s, e in refusals] == [(422, "wrong_code")] * 5
    assert (status, error["error"]["code"]) == (410, "too_many_attempts")
    assert bonuses() == []


def test_the_email_code_is_stored_nowhere_in_clear(postbox: Postbox, sent_code: Callable[[str], str]) -> None:
    import boto3

    # Given a member whose confirmation code has reached their inbox
    enrol(email="anna@example.com")
    code = sent_code("anna@example.com")

    # When the members and outbox tables, and the stream images the outbox gave, are read
    client = boto3.client("dynamodb")
    items = [
        item
        for table in ("cashback-test-members", "cashback-test-outbox")
        for item in client.scan(TableName=table)["Items"]
    ]
    images = [record["dynamodb"]["NewImage"] for record in postbox.streamed]

    # Then the code is in none of them
    assert images
    assert not [held for held in items + images if code in str(held)]


def test_a_new_code_within_a_minute_is_refused() -> None:
    from tests.fixtures.handlers import LambdaContext, handler_module

    enrol(email="anna@example.com")
    event = sample_event("members-email", body={"email": "anna@example.com"})
    response = handler_module("members").lambda_handler(event, LambdaContext())
    assert (response["statusCode"], json.loads(response["body"])["error"]["code"]) == (429, "too_many_requests")
    assert response["headers"]["Retry-After"] == "60"


def test_confirming_without_a_pending_code_is_404() -> None:
    enrol()
    status, error = invoke("members", sample_event("members-email-confirm", body={"code": "123456"}))
    assert (status, error["error"]["code"]) == (404, "no_pending_confirmation")


# --- promo codes ------------------------------------------------------------------------------------


def test_a_promo_code_credits_its_bonus_once_per_member() -> None:
    # Given a promo code, and a member
    promo()
    enrol()
    # When the member applies it, then again as typed differently
    status, applied = invoke("members", sample_event("members-promo-code"))
    again, error = invoke("members", sample_event("members-promo-code", body={"code": " ud2pv797 "}))

    # Then its 250 bonuses are credited once, and the second time is refused
    assert (status, applied) == (200, {"code": "UD2PV797", "bonus": 250})
    assert (again, error["error"]["code"]) == (409, "promo_code_already_used")
    assert bonuses() == [(250, "Promo code UD2PV797")]


def test_enrolment_with_a_promo_code_applies_it() -> None:
    promo()
    enrol(promo_code="UD2PV797")
    assert bonuses() == [(250, "Promo code UD2PV797")]


def test_enrolment_with_an_unknown_promo_code_enrols_nobody() -> None:
    status, error = invoke("members", sample_event("members-enrol", body={"promo_code": "NOPE123"}))
    assert (status, error["error"]["code"]) == (404, "promo_code_not_found")
    assert invoke("members", sample_event("members-me"))[0] == 404


@pytest.mark.parametrize(
    ("window", "code"),
    [((-10, -1), "promo_code_expired"), ((1, 10), "promo_code_not_started")],
)
def test_a_promo_code_outside_its_window_is_gone(window: tuple[int, int], code: str) -> None:
    promo(starts=window[0], ends=window[1])
    enrol()
    status, error = invoke("members", sample_event("members-promo-code"))
    assert (status, error["error"]["code"]) == (410, code)


def test_a_used_up_promo_code_is_gone() -> None:
    # Given a promo code for one use, used by another member
    promo(max_uses=1)
    enrol(OUTSIDER)
    invoke("members", sample_event("members-promo-code", claims=OUTSIDER))
    # When a second member applies it
    enrol()
    status, error = invoke("members", sample_event("members-promo-code"))
    # Then it is gone
    assert (status, error["error"]["code"]) == (410, "promo_code_used_up")


@pytest.mark.parametrize(("body", "status"), [({"code": "NOPE123"}, 404), ({"code": "!"}, 422), ({}, 422)])
def test_bad_promo_codes_are_refused(body: dict, status: int) -> None:
    enrol()
    got, error = invoke("members", sample_event("members-promo-code", body=body))
    assert got == status
    assert error["error"]["code"]


def test_a_promo_code_cannot_be_created_twice() -> None:
    # Given a promo code
    promo()
    # When the back office creates it again
    now = datetime.now(UTC)
    body = {
        "code": "UD2PV797",
        "bonus": 1,
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
        "max_uses": 1,
    }
    status, error = invoke("admin", sample_event("admin-promo-code", body=body))
    # Then it is refused
    assert (status, error["error"]["code"]) == (409, "promo_code_exists")


# --- profile, goal and limit ----------------------------------------------------------------------


def test_a_non_subscriber_completing_the_profile_earns_30_once() -> None:
    # Given a member whose number is not the operator's
    enrol(OUTSIDER)
    # When they complete their profile, twice
    first, member = invoke("members", sample_event("members-update", claims=OUTSIDER))
    second, _ = invoke("members", sample_event("members-update", claims=OUTSIDER))

    # Then the profile, goal and limit are saved, and 30 bonuses are credited once
    assert (first, second) == (200, 200)
    assert member["profile"]["city"] == "Moscow"
    assert (member["goal"], member["monthly_writeoff_limit"]) == ("smartphone", 500)
    assert bonuses(OUTSIDER) == [(30, "Profile completed")]


def test_a_subscriber_completing_the_profile_earns_nothing() -> None:
    enrol(SUBSCRIBER)
    status, member = invoke("members", sample_event("members-update", claims=SUBSCRIBER))
    assert status == 200
    assert member["profile"]["first_name"] == "Anna"
    assert bonuses(SUBSCRIBER) == []


def test_the_write_off_limit_can_be_removed_with_null() -> None:
    enrol()
    invoke("members", sample_event("members-update", body={"monthly_writeoff_limit": 300}))
    status, member = invoke("members", sample_event("members-update", body={"monthly_writeoff_limit": None}))
    assert (status, member["monthly_writeoff_limit"]) == (200, None)


@pytest.mark.parametrize(
    "body",
    [
        {"goal": "lottery"},
        {"monthly_writeoff_limit": -1},
        {"monthly_writeoff_limit": 10.5},
        {"monthly_writeoff_limit": "100"},
        {"profile": {"first_name": "Anna"}},
        {"profile": {"first_name": "Anna", "last_name": "S", "birth_date": "2030-01-01", "city": "Moscow"}},
        {"profile": {"first_name": " ", "last_name": "S", "birth_date": "1990-01-01", "city": "Moscow"}},
        {"nickname": "anna"},
    ],
)
def test_bad_settings_are_refused_and_change_nothing(body: dict) -> None:
    enrol()
    status, error = invoke("members", sample_event("members-update", body=body))
    assert status == 422, error
    _, member = invoke("members", sample_event("members-me"))
    assert (member["goal"], member["monthly_writeoff_limit"], member["profile"]) == ("phone_topup", None, None)
    assert bonuses() == []
