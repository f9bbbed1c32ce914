"""A promo code's usage limit holds under concurrent applies, on DynamoDB Local's real transactions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from cashback.bootstrap import Container
from cashback.ledger.repository import Ledger
from cashback.members.promo_codes import PromoCode
from cashback.members.service import MemberService
from cashback.platform.errors import DomainError
from cashback.platform.web.identity import MemberIdentity


def enrolled(members: MemberService, new_member_id: Callable[[], str], n: int) -> list[MemberIdentity]:
    people = [MemberIdentity(sub=new_member_id(), phone=f"+7903{uuid.uuid4().int % 10**7:07d}") for _ in range(n)]
    for person in people:
        members.enrol(person.sub, person.phone)
    return people


def test_thirty_members_racing_for_a_code_limited_to_ten_get_exactly_ten(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    members = container.members
    now = datetime.now(UTC)
    code = f"RACE{new_member_id()[-8:].upper()}"
    members.create_promo_code(PromoCode(code, 100, now - timedelta(hours=1), now + timedelta(days=1), 10), actor="t")
    people = enrolled(members, new_member_id, 30)
    start = threading.Barrier(len(people))

    def apply(person: MemberIdentity) -> str:
        start.wait()
        try:
            members.apply_promo_code(person.sub, code)
        except DomainError as error:
            return error.code
        return "applied"

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        results = list(pool.map(apply, people))

    assert results.count("applied") == 10
    assert set(results) == {"applied", "promo_code_used_up"}
    promo = members._promo_codes.get(code)
    assert promo is not None
    assert promo.uses == 10
    assert sum(ledger.balances(p.sub).available for p in people) == 1_000


def test_one_member_applying_a_code_from_five_devices_at_once_gets_it_once(
    container: Container, ledger: Ledger, new_member_id: Callable[[], str]
) -> None:
    members = container.members
    now = datetime.now(UTC)
    code = f"TWICE{new_member_id()[-8:].upper()}"
    members.create_promo_code(PromoCode(code, 250, now - timedelta(hours=1), now + timedelta(days=1), 100), actor="t")
    [person] = enrolled(members, new_member_id, 1)

    def apply(_: int) -> str:
        try:
            members.apply_promo_code(person.sub, code)
        except DomainError as error:
            return error.code
        return "applied"

    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(apply, range(5)))

    assert results.count("applied") == 1
    assert ledger.balances(person.sub).available == 250
    promo = members._promo_codes.get(code)
    assert promo is not None
    assert promo.uses == 1
