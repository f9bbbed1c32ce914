"""Every caller speaks only for itself, checked by the functions too and not only by API Gateway: a member
needs a verified phone; an admin caller reaches only admin routes and a store terminal only pos routes,
whatever it sends (the caller is refused before its request is read)."""

from __future__ import annotations

import pytest

from tests.fixtures.handlers import invoke, sample_event

pytestmark = pytest.mark.usefixtures("moto_tables")

ADMIN_ROUTES = [
    ("admin", "admin-adjustment"),
    ("admin", "admin-promo-code"),
    ("admin", "admin-partner-put"),
    ("admin", "admin-partner-promotion"),
    ("claims", "claims-queue"),
    ("claims", "claims-resolve"),
    ("settlement_start", "settlement-start"),
    ("settlement_start", "settlement-report"),
    ("reconciliation", "reconciliation-start"),
    ("reconciliation", "reconciliation-report"),
]
MEMBER_ROUTES = [
    ("members", "members-me"),
    ("members", "members-enrol"),
    ("ledger", "ledger-balance"),
    ("certificates", "certificates-list"),
    ("claims", "claims-mine"),
    ("clicks", "clicks-click"),
]
POS_ROLE, ADMIN_ROLE = "cashback-dev-pos-caller", "cashback-dev-admin-caller"


@pytest.mark.parametrize(("function", "event"), ADMIN_ROUTES)
@pytest.mark.parametrize("body", ["sample", "invalid"])
def test_a_store_terminal_on_an_admin_route_is_refused(function: str, event: str, body: str) -> None:
    changes = {"body": {"unexpected": True}} if body == "invalid" else {}

    status, answer = invoke(function, sample_event(event, role=POS_ROLE, session="store-1@till-1", **changes))

    assert (status, answer["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize(("function", "event"), ADMIN_ROUTES)
def test_a_principal_of_no_caller_role_is_refused_on_admin_routes(function: str, event: str) -> None:
    status, answer = invoke(function, sample_event(event, role="cashback-dev-some-other-role"))

    assert (status, answer["error"]["code"]) == (403, "forbidden")


def test_an_admin_caller_on_the_pos_route_is_refused() -> None:
    event = sample_event("certificates-redeem", role=ADMIN_ROLE, session="anna.petrova")
    status, answer = invoke("certificates", event)

    assert (status, answer["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize(("function", "event"), MEMBER_ROUTES)
@pytest.mark.parametrize(
    "claims",
    [
        {"phone_number_verified": "false"},
        {"phone_number_verified": None},
        {"token_use": "access"},  # an access token carries no verified phone
        {"phone_number": None},
    ],
    ids=["unverified", "no verification claim", "access token", "no phone"],
)
def test_a_member_route_refuses_a_token_without_a_verified_phone(function: str, event: str, claims: dict) -> None:
    status, answer = invoke(function, sample_event(event, claims=claims))

    assert (status, answer["error"]["code"]) == (403, "phone_not_verified")
