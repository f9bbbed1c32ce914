"""Smartphone certificates through the handler, on moto: bought once per key, listed masked, redeemed once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cashback.bootstrap import Container
from cashback.ledger.rules import Kind
from local.outbox import recent_messages
from tests.builders import adjust
from tests.fixtures.handlers import invoke, sample_event
from tests.fixtures.notifications import Postbox

pytestmark = pytest.mark.usefixtures("moto_tables")

MEMBER = "6f1c2b4e-8d3a-4f7e-9c21-5b0a7e3d9f10"  # the member of the sample events
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$")


def member_with(container: Container, bonuses: int, goal: str = "smartphone") -> None:
    status, _ = invoke("members", sample_event("members-enrol", body=None))
    assert status in (200, 201)
    status, _ = invoke("members", sample_event("members-update", body={"goal": goal}))
    assert status == 200
    if bonuses:
        container.ledger.execute(MEMBER, adjust("seed", bonuses))


def order(denomination: Any, key: str | None = "order-0001-abcdef") -> tuple[int, Any]:
    event = sample_event("certificates-issue", body={"denomination": denomination})
    if key is None:
        event["headers"].pop("idempotency-key")
    else:
        event["headers"]["idempotency-key"] = key
    return invoke("certificates", event)


def resend_event(certificate_id: str) -> dict[str, Any]:
    event = sample_event("certificates-resend-sms")
    event["pathParameters"] = {"certificate_id": certificate_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/certificates/{certificate_id}/sms"
    return event


def redeem(
    code: str,
    price: str = "59990.00",
    item: str = "smartphone",
    store: str = "store-1",
    order_id: str = "o-1",
    terminal: str = "till-1",
    body_store: str | None = None,
) -> tuple[int, Any]:
    """A redemption by `terminal` of `store` (its IAM session), for `body_store` (its own store by default)."""
    body = {"code": code, "store_id": body_store or store, "order_id": order_id, "price": price, "item": item}
    return invoke("certificates", sample_event("certificates-redeem", body=body, session=f"{store}@{terminal}"))


def available(container: Container) -> int:
    return container.ledger.balances(MEMBER).available


def test_a_smartphone_member_buys_a_certificate_and_gets_its_code_by_sms(
    postbox: Postbox, container: Container
) -> None:
    # Given a smartphone member with 1,200 bonuses
    member_with(container, 1_200)

    # When they order a certificate of 500
    status, certificate = order(500)

    # Then it is issued, its code comes by SMS, and the 500 are written off
    assert status == 201, certificate
    assert certificate["denomination"] == 500
    assert certificate["status"] == "issued"
    assert CODE.match(certificate["code"])
    assert available(container) == 700
    [sms] = postbox.deliver()
    assert (sms.channel, sms.to) == ("sms", "+79161234567")
    assert certificate["code"] in sms.text
    assert "500" in sms.text
    [spent] = [t for t in container.ledger.transactions(MEMBER).items if t.kind is Kind.CERTIFICATE]
    assert (spent.amount, spent.status.value) == (500, "written_off")


def test_a_retry_with_the_same_key_returns_the_same_certificate_and_spends_once(
    moto_tables: dict[str, str], container: Container
) -> None:
    # Given a smartphone member with 1,200 bonuses
    member_with(container, 1_200)

    # When they order a certificate of 500 twice with the same key
    first = order(500)
    again = order(500)

    # Then the same certificate comes back, paid for once, with one SMS
    assert first == again
    assert available(container) == 700
    assert len([m for m in recent_messages() if m.kind.value == "sms"]) == 1


def test_the_same_key_for_another_denomination_is_refused(moto_tables: dict[str, str], container: Container) -> None:
    # Given a smartphone member who ordered a certificate of 500
    member_with(container, 1_200)
    order(500)

    # When the same key orders one of 1,000
    status, error = order(1_000)

    # Then it is refused, and nothing more is spent
    assert (status, error["error"]["code"]) == (409, "idempotency_key_reused")
    assert available(container) == 700


@pytest.mark.parametrize(
    ("goal", "bonuses", "denomination", "key", "expected"),
    [
        ("phone_topup", 1_200, 500, "order-0001-abcdef", (409, "goal_not_smartphone")),
        ("smartphone", 1_200, 2_000, "order-0001-abcdef", (409, "insufficient_balance")),
        ("smartphone", 99, 100, "order-0001-abcdef", (409, "insufficient_balance")),
        ("smartphone", 1_200, 300, "order-0001-abcdef", (422, "invalid_denomination")),
        ("smartphone", 1_200, "500", "order-0001-abcdef", (422, "invalid_request")),
        ("smartphone", 1_200, 500, None, (422, "idempotency_key_required")),
        ("smartphone", 1_200, 500, "x", (422, "invalid_idempotency_key")),
    ],
)
def test_orders_that_cannot_be_served_change_nothing(
    moto_tables: dict[str, str],
    container: Container,
    goal: str,
    bonuses: int,
    denomination: Any,
    key: str | None,
    expected: tuple[int, str],
) -> None:
    # Given a member with a goal and bonuses
    member_with(container, bonuses, goal)

    # When they order a certificate they cannot have, or order it the wrong way
    status, error = order(denomination, key)

    # Then it is refused with a code, nothing is spent and no SMS is sent
    assert (status, error["error"]["code"]) == expected
    assert available(container) == bonuses
    assert [m for m in recent_messages() if m.kind.value == "sms"] == []


def test_the_list_shows_codes_masked_newest_first_a_page_at_a_time(
    moto_tables: dict[str, str], container: Container
) -> None:
    # Given a member who ordered two certificates
    member_with(container, 2_000)
    _, first = order(500, "order-0001-abcdef")
    _, second = order(1_000, "order-0002-abcdef")

    # When they list them a page of one at a time
    status, page = invoke("certificates", sample_event("certificates-list", query={"limit": "1"}))
    _, rest = invoke(
        "certificates", sample_event("certificates-list", query={"limit": "1", "cursor": page["next_cursor"]})
    )

    # Then the newest comes first, with its code masked
    assert status == 200
    assert [c["certificate_id"] for c in page["items"] + rest["items"]] == [
        second["certificate_id"],
        first["certificate_id"],
    ]
    assert page["items"][0]["code"] == "****-****-****-" + second["code"][-1]
    if rest["next_cursor"]:  # DynamoDB may not know a full page was the last one
        _, end = invoke("certificates", sample_event("certificates-list", query={"cursor": rest["next_cursor"]}))
        assert end == {"items": [], "next_cursor": None}


def test_the_code_is_stored_nowhere_in_clear(postbox: Postbox, container: Container) -> None:
    import boto3

    # Given a member's certificate, its SMS delivered, and its SMS sent again two minutes later
    member_with(container, 1_200)
    _, certificate = order(500)
    later = datetime.now(UTC) + timedelta(minutes=2)
    container.certificates.resend_code(MEMBER, certificate["certificate_id"], now=later)
    assert [r.channel for r in postbox.deliver()] == ["sms", "sms"]

    # When everything the ledger and outbox tables hold is read, and every stream image the outbox gave
    client = boto3.client("dynamodb")
    items = [
        item
        for table in (container.settings.table("LEDGER_TABLE"), container.settings.table("OUTBOX_TABLE"))
        for item in client.scan(TableName=table)["Items"]
    ]
    images = [record["dynamodb"]["NewImage"] for record in postbox.streamed]

    # Then the code is in none of them, in any spelling (with or without dashes or spaces, any case)
    symbols = certificate["code"].replace("-", "")
    assert len(images) == 2
    for held in items + images:
        assert symbols not in str(held).upper().replace("-", "").replace(" ", "")


def test_a_store_redeems_a_certificate_once_for_a_smartphone(moto_tables: dict[str, str], container: Container) -> None:
    # Given a member's certificate of 5,000
    member_with(container, 6_000)
    _, certificate = order(5_000)

    # When a store redeems it for a smartphone of 3,999.90, retries, and another order tries it too
    status, redeemed = redeem(certificate["code"].lower().replace("-", " "), price="3999.90")
    again = redeem(certificate["code"], price="3999.90")
    other = redeem(certificate["code"], order_id="o-2")
    _, listed = invoke("certificates", sample_event("certificates-list", query=None))

    # Then 3,999 are discounted and the rest forfeited, the retry gets the same answer, the other order is refused
    assert status == 200
    assert redeemed == {"certificate_id": certificate["certificate_id"], "discount": 3_999, "forfeited": 1_001}
    assert again == (200, redeemed)  # the terminal retried its own order
    assert (other[0], other[1]["error"]["code"]) == (409, "already_redeemed")
    assert listed["items"][0]["status"] == "redeemed"


def test_one_store_order_is_discounted_by_one_certificate(moto_tables: dict[str, str], container: Container) -> None:
    # Given a member's two certificates of 50,000
    member_with(container, 100_000)
    _, first = order(50_000, key="order-0001-first")
    _, second = order(50_000, key="order-0002-second")

    # When a store redeems both on one order for a smartphone of 79,990, and the terminal retries the first
    status, redeemed = redeem(first["code"], price="79990.00")
    refused = redeem(second["code"], price="79990.00")
    again = redeem(first["code"], price="79990.00")
    elsewhere = redeem(first["code"], price="79990.00", order_id="o-2")

    # Then the order is discounted 50,000 once: the second certificate is refused and the retry gets its answer,
    # while the first certificate on another order is refused as redeemed
    assert (status, redeemed) == (200, {"certificate_id": first["certificate_id"], "discount": 50_000, "forfeited": 0})
    assert (refused[0], refused[1]["error"]["code"]) == (409, "order_already_discounted")
    assert again == (200, redeemed)
    assert (elsewhere[0], elsewhere[1]["error"]["code"]) == (409, "already_redeemed")


def test_a_certificate_refused_on_a_discounted_order_stays_good(
    moto_tables: dict[str, str], container: Container
) -> None:
    # Given two certificates, one of them redeemed on order o-1 of store-1
    member_with(container, 2_000)
    _, first = order(1_000, key="order-0001-first")
    _, second = order(1_000, key="order-0002-second")
    assert redeem(first["code"])[0] == 200

    # When the second is refused on that order, then tried on another store's order of the same number
    refused = redeem(second["code"])
    other_store = redeem(second["code"], store="store-2")
    _, listed = invoke("certificates", sample_event("certificates-list", query=None))

    # Then it was not spent by the refusal, and discounts the other store's order
    assert refused[0] == 409
    assert other_store == (200, {"certificate_id": second["certificate_id"], "discount": 1_000, "forfeited": 0})
    assert [c["status"] for c in listed["items"]] == ["redeemed", "redeemed"]


def test_a_price_above_the_denomination_uses_all_of_it(moto_tables: dict[str, str], container: Container) -> None:
    # Given a member's certificate of 1,000
    member_with(container, 1_000)
    _, certificate = order(1_000)

    # When it pays for a smartphone of 59,990.00, Then all 1,000 are discounted
    assert redeem(certificate["code"], price="59990.00") == (
        200,
        {"certificate_id": certificate["certificate_id"], "discount": 1_000, "forfeited": 0},
    )


def test_only_a_smartphone_may_be_paid_with_a_certificate(moto_tables: dict[str, str], container: Container) -> None:
    # Given a member's certificate
    member_with(container, 1_000)
    _, certificate = order(500)

    # When a store tries it on headphones
    status, error = redeem(certificate["code"], item="headphones")

    # Then it is refused, and still good for a smartphone
    assert (status, error["error"]["code"]) == (422, "not_a_smartphone")
    assert redeem(certificate["code"])[0] == 200


def test_a_terminal_redeems_only_for_its_own_store(moto_tables: dict[str, str], container: Container) -> None:
    # Given a member's certificate
    member_with(container, 1_000)
    _, certificate = order(500)

    # When a terminal of one store redeems it for another store
    status, error = redeem(certificate["code"], store="store-1", body_store="store-2")

    # Then it is forbidden, and the certificate is still there for an honest redemption
    assert (status, error["error"]["code"]) == (403, "store_mismatch")
    assert redeem(certificate["code"], store="store-2")[0] == 200


@pytest.mark.parametrize(
    ("role", "session"),
    [
        ("cashback-dev-admin-caller", "store-1@till-1"),  # an admin, even one naming a store
        ("cashback-dev-pos-caller", "store-1"),  # a terminal's session must name store and terminal
        ("someone-elses-role", "store-1@till-1"),
    ],
)
def test_only_a_store_terminal_redeems(
    moto_tables: dict[str, str], container: Container, role: str, session: str
) -> None:
    body = {"code": "ABCD-EFGH-JKMN-P", "store_id": "store-1", "order_id": "o-1", "price": "1.00", "item": "smartphone"}
    status, error = invoke("certificates", sample_event("certificates-redeem", body=body, role=role, session=session))
    assert (status, error["error"]["code"]) == (403, "forbidden")


def test_guessing_codes_locks_the_terminal_out_and_not_the_others(
    moto_tables: dict[str, str], container: Container
) -> None:
    # Given a member's certificate
    member_with(container, 1_000)
    _, certificate = order(500)

    # When one terminal guesses ten codes, then tries the real one, and another terminal tries it too
    guesses = [redeem(f"AAAA-AAAA-AAA{i}-0", store="store-guess")[0] for i in range(10)]
    locked = redeem(certificate["code"], store="store-guess")
    elsewhere = redeem(certificate["code"], store="store-guess", terminal="till-2")

    # Then the guessing terminal is locked out, and the other terminal redeems it
    assert guesses == [404] * 10
    assert (locked[0], locked[1]["error"]["code"]) == (429, "too_many_attempts")
    assert elsewhere[0] == 200
