"""Network adapters: who may call, and what a malformed postback gets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cashback.platform.errors import InvalidInput, Unauthorized
from cashback.postbacks.networks import ADAPTERS, PostbackRequest
from cashback.postbacks.networks.direct import sign
from cashback.postbacks.rules import PostbackStatus
from tests.builders import ADMITAD_SECRET, an_admitad_request

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def admitad(**query: str) -> PostbackRequest:
    """Admitad's postback of conversion 778899 (an order of 1,999.90, pending) through click 01JDCLICK, sent NOW."""
    return an_admitad_request("01JDCLICK", "778899", at=NOW, **query)


def direct_request(body: dict, secret: str = "local-direct-secret", at: datetime = NOW) -> PostbackRequest:
    raw = json.dumps(body)
    t = int(at.timestamp())
    return PostbackRequest("POST", headers={"x-signature": f"t={t},v1={sign(secret, t, raw)}"}, body=raw)


DIRECT = {
    "event_id": "evt-1",
    "click_id": "01JDCLICK",
    "order_id": "D-9",
    "amount": "500.00",
    "currency": "RUB",
    "status": "approved",
    "occurred_at": "2026-11-24T15:00:00+03:00",
}


def test_admitad_postbacks_are_normalised() -> None:
    # When Admitad's postback is parsed
    postback = ADAPTERS["admitad"].parse(admitad())
    # Then it is the conversion, click and amount it names, pending, without the secret
    assert (postback.conversion_id, postback.click_id, postback.amount) == ("778899", "01JDCLICK", Decimal("1999.90"))
    assert postback.status is PostbackStatus.PENDING
    assert "token" not in postback.raw


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", PostbackStatus.PENDING),
        ("approved", PostbackStatus.APPROVED),
        ("approved_but_stalled", PostbackStatus.APPROVED),  # the store approved; the network holds its payout
        ("APPROVED_BUT_STALLED", PostbackStatus.APPROVED),
        ("declined", PostbackStatus.DECLINED),
    ],
)
def test_admitads_statuses_are_read_as_the_member_sees_them(status: str, expected: PostbackStatus) -> None:
    assert ADAPTERS["admitad"].parse(admitad(status=status)).status is expected


@pytest.mark.parametrize("token", ["", "local-admitad-secre", "LOCAL-ADMITAD-SECRET", "local-admitad-secret "])
def test_admitad_with_a_wrong_token_is_unauthorized(token: str) -> None:
    with pytest.raises(Unauthorized):
        ADAPTERS["admitad"].authenticate(admitad(token=token), [ADMITAD_SECRET], NOW)


def test_admitad_accepts_any_active_secret_while_rotating() -> None:
    request = admitad(token="new-secret")
    ADAPTERS["admitad"].authenticate(request, ["old-secret", "new-secret"], NOW)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"order_sum": "12,5"}, "invalid_amount"),
        ({"order_sum": "-1"}, "invalid_amount"),
        ({"order_sum": "1.999"}, "invalid_amount"),
        ({"status": "maybe"}, "invalid_status"),
        ({"time": "yesterday"}, "invalid_time"),
        ({"subid": ""}, "missing_field"),
        ({"payment_sum": "-0.01"}, "invalid_amount"),
        ({"payment_sum": "ten"}, "invalid_amount"),
        ({"tariff_id": "9" * 129}, "invalid_field"),
    ],
)
def test_malformed_admitad_postbacks_are_refused(change: dict, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        ADAPTERS["admitad"].parse(admitad(**change))
    assert error.value.code == code


def test_a_direct_postback_signed_with_the_secret_is_accepted_and_normalised() -> None:
    # Given a direct postback signed with the network's secret
    request = direct_request(DIRECT)
    # When it is authenticated and parsed
    ADAPTERS["direct"].authenticate(request, ["local-direct-secret"], NOW)
    postback = ADAPTERS["direct"].parse(request)
    # Then it is accepted, with the conversion id, status and time it carries
    assert postback.conversion_id == "D-9@01JDCLICK"
    assert postback.status is PostbackStatus.APPROVED
    assert postback.occurred_at == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "request_",
    [
        direct_request(DIRECT, secret="someone-else"),
        PostbackRequest("POST", headers={}, body=json.dumps(DIRECT)),
        PostbackRequest("POST", headers={"x-signature": "garbage"}, body=json.dumps(DIRECT)),
    ],
)
def test_a_direct_postback_with_a_bad_signature_is_unauthorized(request_: PostbackRequest) -> None:
    with pytest.raises(Unauthorized):
        ADAPTERS["direct"].authenticate(request_, ["local-direct-secret"], NOW)


def test_a_direct_postback_whose_body_was_changed_after_signing_is_unauthorized() -> None:
    # Given a signed direct postback whose amount was changed after signing
    signed = direct_request(DIRECT)
    tampered = PostbackRequest("POST", headers=signed.headers, body=signed.body.replace("500.00", "50000.00"))
    # Then it is unauthorized
    with pytest.raises(Unauthorized):
        ADAPTERS["direct"].authenticate(tampered, ["local-direct-secret"], NOW)


@pytest.mark.parametrize("skew", [301, -301, 3600])
def test_a_replay_outside_the_five_minute_window_is_refused(skew: int) -> None:
    # Given a direct postback signed more than five minutes away from now
    request = direct_request(DIRECT, at=datetime.fromtimestamp(NOW.timestamp() - skew, tz=UTC))
    # Then it is refused as stale
    with pytest.raises(Unauthorized) as error:
        ADAPTERS["direct"].authenticate(request, ["local-direct-secret"], NOW)
    assert error.value.code == "stale_signature"


@pytest.mark.parametrize(
    ("body", "code"),
    [("{", "malformed_json"), ("[]", "malformed_json"), (json.dumps({**DIRECT, "amount": 500}), "invalid_field")],
)
def test_malformed_direct_postbacks_are_refused(body: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        ADAPTERS["direct"].parse(PostbackRequest("POST", body=body))
    assert error.value.code == code


def test_admitad_reports_the_commission_and_tariff_of_the_order_and_support_sees_them() -> None:
    postback = ADAPTERS["admitad"].parse(admitad(payment_sum="139.99", tariff_id="31016"))

    assert (postback.commission, postback.tariff) == (Decimal("139.99"), "31016")
    assert (postback.raw["payment_sum"], postback.raw["tariff_id"]) == ("139.99", "31016")


@pytest.mark.parametrize("absent", [{}, {"payment_sum": "", "tariff_id": ""}, {"payment_sum": "  "}])
def test_admitad_without_a_commission_or_tariff_has_none(absent: dict[str, str]) -> None:
    postback = ADAPTERS["admitad"].parse(admitad(**absent))

    assert (postback.commission, postback.tariff) == (None, None)


@pytest.mark.parametrize("network", ["admitad", "direct"])
def test_a_full_return_of_zero_is_an_amount_and_a_negative_one_is_not(network: str) -> None:
    def request(amount: str) -> PostbackRequest:
        if network == "admitad":
            return admitad(order_sum=amount, payment_sum="0")
        return direct_request({**DIRECT, "amount": amount, "commission": "0"})

    postback = ADAPTERS[network].parse(request("0"))
    assert (postback.amount, postback.commission) == (Decimal("0.00"), Decimal("0.00"))
    with pytest.raises(InvalidInput) as error:
        ADAPTERS[network].parse(request("-0.01"))
    assert error.value.code == "invalid_amount"


def test_a_direct_partner_reports_the_commission_and_category_of_the_order() -> None:
    request = direct_request({**DIRECT, "commission": "25.50", "category": "ready-meals"})

    postback = ADAPTERS["direct"].parse(request)

    assert (postback.commission, postback.tariff) == (Decimal("25.50"), "ready-meals")
    assert (postback.raw["commission"], postback.raw["category"]) == ("25.50", "ready-meals")
    assert (ADAPTERS["direct"].parse(direct_request(DIRECT)).commission, postback.tariff) == (None, "ready-meals")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"commission": 25}, "invalid_field"),
        ({"commission": "-1"}, "invalid_amount"),
        ({"category": 7}, "invalid_field"),
    ],
)
def test_a_direct_commission_or_category_that_is_not_text_is_refused(change: dict, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        ADAPTERS["direct"].parse(direct_request({**DIRECT, **change}))
    assert error.value.code == code
