"""Claims on DynamoDB Local: support's credit and the claim's resolution are one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.transactions import TransactWrite

from cashback.bootstrap import Container
from cashback.claims.rules import ClaimState, Resolution
from cashback.claims.service import ClaimService
from cashback.ledger.repository import Ledger
from cashback.ledger.rules import Balances
from cashback.platform.errors import Conflict
from tests.builders import a_member, a_recorded_click
from tests.unit.catalog.support import partner


def test_two_agents_crediting_one_claim_at_once_credit_it_once(
    container: Container, new_member_id: Callable[[], str]
) -> None:
    # Given a member's open claim for a Lamoda order
    member = a_member(container, member_id=new_member_id()).member_id
    container.catalog.put_partner(partner("lamoda", name="Lamoda", accrual_days=30), actor="test")
    order_date = (datetime.now(UTC) - timedelta(days=60)).date()
    a_recorded_click(
        container, member_id=member, partner_id="lamoda", clicked_at=datetime.now(UTC) - timedelta(days=61)
    )
    claim = container.claims.file_claim(member, "lamoda", "LM-9", order_date, "4990.00")

    # When agent B credits 300 between agent A's read and A's write of a credit of 150
    def agent_b_first(write: TransactWrite) -> None:
        container.claims.resolve(claim.claim_id, Resolution.CREDIT, "Lamoda confirmed", actor="agent-b", amount=300)
        write._commit()

    racing = Ledger(container.settings.table("LEDGER_TABLE"), container.dynamodb, commit=agent_b_first)
    agent_a = ClaimService(
        container.claim_repository,
        racing,
        members=container.members,
        catalog=container.catalog,
        clicks=container.clicks,
        postbacks=container.postbacks,
        receipts=container.receipts,
    )
    with pytest.raises(Conflict) as refused:
        agent_a.resolve(claim.claim_id, Resolution.CREDIT, "Goodwill", actor="agent-a", amount=150)

    # Then A is told the claim is already resolved, and the member was credited B's 300 once
    assert refused.value.code == "claim_already_resolved"
    resolved = container.claim_repository.claim(claim.claim_id)
    assert resolved is not None
    assert (resolved.state, resolved.bonus) == (ClaimState.CREDITED, 300)
    assert container.ledger.balances(member) == Balances(available=300)
