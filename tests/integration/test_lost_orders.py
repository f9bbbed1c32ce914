"""Lost orders on DynamoDB Local against the fake Admitad API over real HTTP: support files a member's claim
with the network (the member's click and receipt with it), and the claim follows the network's answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cashback.bootstrap import Container
from cashback.claims.receipts import Receipt
from cashback.claims.rules import Claim, ClaimState
from cashback.ledger.rules import Balances, Status
from cashback.networks.actions import LostOrder, LostOrderAnswer
from cashback.platform.errors import Conflict, InvalidInput, UpstreamUnavailable
from local.fake_admitad import FakeAdmitad
from tests.builders import a_member, a_recorded_click
from tests.fakes.receipts import MemoryReceipts
from tests.unit.catalog.support import partner

PDF = Receipt(b"%PDF-1.7\n the member's receipt", "application/pdf")
NOW = datetime.now(UTC)
ORDERED = (NOW - timedelta(days=50)).date()


@pytest.fixture(autouse=True)
def receipts(container: Container) -> MemoryReceipts:
    container.receipts = MemoryReceipts()  # before the claims service is built with it
    return container.receipts


@pytest.fixture
def lamoda(container: Container) -> str:
    container.catalog.put_partner(
        partner("lamoda", name="Lamoda", rate_percent=Decimal("5"), accrual_days=30, network_campaign_id="16421"),
        actor="test",
    )
    return "lamoda"


def a_claim(
    container: Container, member_id: str, partner_id: str, order_id: str = "LM-1", receipt: Receipt | None = PDF
) -> tuple[Claim, str]:
    """A member's claim of an order placed the day after their click to the store; and that click."""
    a_member(container, member_id=member_id)
    click = a_recorded_click(
        container, member_id=member_id, partner_id=partner_id, rate_percent="5", clicked_at=NOW - timedelta(days=51)
    )
    claim = container.claims.file_claim(member_id, partner_id, order_id, ORDERED, "4000.00", receipt=receipt)
    return claim, click.click_id


def a_filed_claim(container: Container, member_id: str, partner_id: str, order_id: str = "LM-1") -> tuple[Claim, str]:
    """A member's claim that support filed with the network; and the network's ticket of it."""
    claim, _ = a_claim(container, member_id, partner_id, order_id)
    filed = container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")
    assert filed.lost_order_id is not None
    return claim, filed.lost_order_id


def test_support_files_a_claim_with_the_network_with_the_member_s_click_and_receipt(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    claim, click_id = a_claim(container, new_member_id(), lamoda)

    filed = container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")

    [order] = fake_admitad.lost_orders()
    assert (filed.state, filed.lost_order_id) == (ClaimState.FILED, str(order["id"]))
    assert (order["advcampaign"], order["order_id"], order["subid"]) == (16421, "LM-1", click_id)
    assert (order["order_date"], order["order_price"]) == (ORDERED.isoformat(), "4000.00")
    assert order["estimated_reward"] == "200.00"  # 5% of 4,000, the whole commission the member's rate is of
    assert order["attachment"]["content_type"] == "application/pdf"
    assert order["attachment"]["size"] == len(PDF.content)


def test_a_claim_is_filed_with_the_network_once(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    claim, _ = a_claim(container, new_member_id(), lamoda)
    container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")

    with pytest.raises(Conflict) as again:
        container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-2")

    assert again.value.code == "claim_already_resolved"
    assert len(fake_admitad.lost_orders()) == 1


def test_while_one_agent_files_a_claim_another_cannot_until_the_filing_s_lease_is_over(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    claim, _ = a_claim(container, new_member_id(), lamoda)
    container.claims.take_for_filing(claim.claim_id, NOW)  # agent A, whose function then dies mid-call

    with pytest.raises(Conflict) as refused:
        container.lost_orders.file(
            claim.claim_id, "the member sent the receipt", actor="agent-b", now=NOW + timedelta(seconds=30)
        )
    filed = container.lost_orders.file(
        claim.claim_id, "the member sent the receipt", actor="agent-b", now=NOW + timedelta(minutes=3)
    )

    assert refused.value.code == "filing_in_progress"
    assert filed.state is ClaimState.FILED
    assert len(fake_admitad.lost_orders()) == 1


def test_a_filing_whose_answer_was_lost_is_not_filed_again(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    # Given a filing the network took, whose answer never reached the platform (a 502 after filing)
    claim, _ = a_claim(container, new_member_id(), lamoda, order_id="LM-LOST")
    container.admitad_api.file_lost_order(
        LostOrder(
            "16421",
            "LM-LOST",
            ORDERED,
            Decimal("4000.00"),
            Decimal("200"),
            "c",
            "first try",
            b"%PDF",
            "application/pdf",
        )
    )

    # When support files the claim again
    filed = container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")

    # Then the claim carries the network's ticket of the first filing, and the network has it once
    [order] = fake_admitad.lost_orders()
    assert (filed.state, filed.lost_order_id) == (ClaimState.FILED, str(order["id"]))


def test_a_network_that_fails_to_file_leaves_the_claim_open_to_file_again(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    claim, _ = a_claim(container, new_member_id(), lamoda)
    fake_admitad.answer_next(503, b'{"error": "maintenance"}', path="/lost_orders/create/")

    with pytest.raises(UpstreamUnavailable):
        container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")
    state_after_failure = container.claims.queue(ClaimState.OPEN, 200, None).items
    filed = container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")

    assert claim.claim_id in {getattr(item, "claim_id", None) for item in state_after_failure}
    assert filed.state is ClaimState.FILED


@pytest.mark.parametrize(
    ("changes", "receipt", "code"),
    [
        ({}, None, "receipt_required"),
        (
            {"network": "direct", "tracking_url": "https://lamoda.example/go?c={click_id}"},
            PDF,
            "lost_orders_not_supported",
        ),
        ({"network_campaign_id": None}, PDF, "partner_without_campaign"),
    ],
)
def test_what_the_network_cannot_look_for_is_refused_and_the_claim_stays_open(
    fake_admitad: FakeAdmitad,
    container: Container,
    new_member_id: Callable[[], str],
    changes: dict[str, object],
    receipt: Receipt | None,
    code: str,
) -> None:
    fields: dict[str, object] = {"name": "Lamoda", "accrual_days": 30, "network_campaign_id": "16421", **changes}
    container.catalog.put_partner(partner("lamoda-x", **fields), actor="test")
    claim, _ = a_claim(container, new_member_id(), "lamoda-x", receipt=receipt)

    with pytest.raises(InvalidInput) as refused:
        container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")

    assert refused.value.code == code
    assert fake_admitad.lost_orders() == []
    assert container.claim_repository.claim(claim.claim_id).state is ClaimState.OPEN  # type: ignore[union-attr]


def test_a_rejected_lost_order_declines_the_claim_with_the_network_s_reason(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    member = new_member_id()
    _, ticket = a_filed_claim(container, member, lamoda)

    fake_admitad.answer_lost_order(ticket, "rejected", "The order was cancelled by the buyer")
    followed = container.lost_orders.follow()

    [mine] = container.claims.member_claims(member, None, None).items
    assert (followed.rejected, mine.state) == (1, ClaimState.DECLINED)
    assert mine.resolution_reason == "The network rejected the order: The order was cancelled by the buyer"
    assert container.ledger.balances(member) == Balances()


def test_an_accepted_lost_order_pays_through_the_network_s_report_of_it_once(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    # Given a claim filed with Admitad that Admitad accepts
    member = new_member_id()
    _, ticket = a_filed_claim(container, member, lamoda)
    fake_admitad.answer_lost_order(ticket, "accepted")

    # When the schedule follows the answer, and the daily reconciliation pulls the order it now reports
    followed = container.lost_orders.follow()
    container.reconciliation.reconcile("admitad", now=datetime.now(UTC) + timedelta(minutes=1))

    # Then the claim is accepted, and the member's cashback of the order is pending (5% of 4,000), with the
    # first-purchase bonus it earns
    [mine] = container.claims.member_claims(member, None, None).items
    assert (followed.accepted, mine.state) == (1, ClaimState.ACCEPTED)
    pending = sorted((t.kind.value, t.status, t.amount) for t in container.ledger.transactions(member).items)
    assert pending == [("bonus", Status.PENDING, 200), ("purchase", Status.PENDING, 200)]
    assert container.lost_orders.follow().accepted == 0  # answered claims are not asked about again


def test_a_claim_support_credits_while_the_network_looks_is_not_closed_again_by_its_answer(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    from cashback.claims.rules import Resolution

    member = new_member_id()
    claim, ticket = a_filed_claim(container, member, lamoda)
    container.claims.resolve(claim.claim_id, Resolution.CREDIT, "goodwill", actor="agent-2", amount=150)
    fake_admitad.answer_lost_order(ticket, "rejected", "no such order")

    followed = container.lost_orders.follow()

    [mine] = container.claims.member_claims(member, None, None).items
    assert (followed.rejected, mine.state, mine.bonus) == (0, ClaimState.CREDITED, 150)


def test_the_pass_answers_what_it_can_and_then_fails_for_what_the_network_did_not_answer(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    member = new_member_id()
    tickets = [a_filed_claim(container, member, lamoda, order_id)[1] for order_id in ("LM-1", "LM-2")]
    fake_admitad.answer_lost_order(tickets[1], "rejected", "duplicate")
    for _ in range(3):  # every try the client makes
        fake_admitad.answer_next(500, b"{}", path=f"/lost_orders/{tickets[0]}/")

    with pytest.raises(UpstreamUnavailable):
        container.lost_orders.follow()

    states = {c.order_id: c.state for c in container.claims.member_claims(member, None, None).items}
    assert states == {"LM-1": ClaimState.FILED, "LM-2": ClaimState.DECLINED}


def test_a_filing_the_network_has_no_record_of_goes_back_to_support_s_open_queue(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    member = new_member_id()
    claim, _ = a_claim(container, member, lamoda)
    filed = container.lost_orders.file(claim.claim_id, "the member sent the receipt", actor="agent-1")
    fake_admitad.reset()  # the network's records of it are gone

    followed = container.lost_orders.follow()

    [mine] = container.claims.member_claims(member, None, None).items
    assert followed.reopened >= 1
    assert (mine.state, mine.lost_order_id) == (ClaimState.OPEN, None)
    assert filed.lost_order_id is not None
    again = container.lost_orders.file(claim.claim_id, "filed anew", actor="agent-1")
    assert again.state is ClaimState.FILED


def test_a_claim_support_credits_while_the_network_files_it_keeps_the_credit_and_the_ticket(
    fake_admitad: FakeAdmitad, container: Container, new_member_id: Callable[[], str], lamoda: str
) -> None:
    from cashback.claims.rules import Resolution
    from cashback.networks.lost_orders import LostOrderService

    member = new_member_id()
    claim, _ = a_claim(container, member, lamoda)

    class CreditedMeanwhile:
        """Admitad, slow to answer: agent B credits the claim by hand before the filing returns."""

        def file_lost_order(self, order: LostOrder) -> str:
            container.claims.resolve(claim.claim_id, Resolution.CREDIT, "goodwill", actor="agent-b", amount=150)
            return container.admitad_api.file_lost_order(order)

        def lost_order(self, ticket_id: str) -> LostOrderAnswer:
            return container.admitad_api.lost_order(ticket_id)

        def find_lost_order(self, campaign_id: str, order_id: str, order_date: date) -> str | None:
            return container.admitad_api.find_lost_order(campaign_id, order_id, order_date)

    agent_a = LostOrderService(container.claims, container.catalog, lambda network: CreditedMeanwhile())
    with pytest.raises(Conflict) as refused:
        agent_a.file(claim.claim_id, "the member sent the receipt", actor="agent-a")

    [mine] = container.claims.member_claims(member, None, None).items
    [order] = fake_admitad.lost_orders()
    assert refused.value.code == "claim_already_resolved"
    assert (mine.state, mine.bonus, mine.lost_order_id) == (ClaimState.CREDITED, 150, str(order["id"]))
