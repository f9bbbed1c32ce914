"""Conversions and their deliveries, kept in the ledger's table so that they are read and written in the
same DynamoDB transactions as the member's purchase (`ledger/plans.py`):

- `CONVERSION#<network>:<id>` / `STATE`: the member and click it is bound to and the latest report.
- `CONVERSION#<network>:<id>` / `DELIVERY#<fingerprint>`: each distinct notification received, what it
  did (applied, stale), when; a repeat of one finds it and is answered without a write.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cashback.ledger.money import format_amount
from cashback.ledger.plans import ItemKey, RawItem, Record, version_of
from cashback.postbacks.conversions import Conversion, Report
from cashback.postbacks.rules import Postback, PostbackStatus

CONVERSION_PREFIX = "CONVERSION#"
STATE_SK = "STATE"
DELIVERY_PREFIX = "DELIVERY#"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class ConversionRecords:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def state_key(self, conversion_key: str) -> ItemKey:
        return ItemKey(self._table_name, CONVERSION_PREFIX + conversion_key, STATE_SK)

    def delivery_key(self, conversion_key: str, report: Report) -> ItemKey:
        return ItemKey(self._table_name, CONVERSION_PREFIX + conversion_key, DELIVERY_PREFIX + report.fingerprint)

    def conversion(self, key: str, item: RawItem | None) -> Conversion | None:
        if item is None:
            return None
        commission = item.get("commission", {}).get("S")
        tariff = item.get("tariff", {}).get("S")
        return Conversion(
            key=key,
            member_id=item["member_id"]["S"],
            click_id=item["click_id"]["S"],
            partner_id=item["partner_id"]["S"],
            latest=Report(
                status=PostbackStatus(item["status"]["S"]),
                order_amount=Decimal(item["order_amount"]["S"]),
                reported_at=datetime.fromisoformat(item["reported_at"]["S"]),
                commission=Decimal(commission) if commission else None,
                tariff=tariff or None,
            ),
            version=version_of(item),
        )

    def state(self, conversion: Conversion, report: Report, cashback: int, updated_at: datetime) -> Record:
        """The conversion at `report`, written only if it is still as it was read (or still new)."""
        attributes: RawItem = {
            "member_id": _s(conversion.member_id),
            "click_id": _s(conversion.click_id),
            "partner_id": _s(conversion.partner_id),
            "status": _s(report.status.value),
            "order_amount": _s(format_amount(report.order_amount)),
            "reported_at": _s(report.reported_at.isoformat()),
            "cashback": {"N": str(cashback)},
            "updated_at": _s(updated_at.isoformat()),
        }
        if report.commission is not None:
            attributes["commission"] = _s(format_amount(report.commission))
        if report.tariff:
            attributes["tariff"] = _s(report.tariff)
        return Record(self.state_key(conversion.key), attributes, conversion.version)

    def delivery(self, postback: Postback, report: Report, outcome: str, received_at: datetime) -> Record:
        attributes: RawItem = {
            "status": _s(report.status.value),
            "order_amount": _s(format_amount(report.order_amount)),
            "reported_at": _s(report.reported_at.isoformat()),
            "outcome": _s(outcome),
            "received_at": _s(received_at.isoformat()),
            "raw": {"M": {k: _s(v) for k, v in postback.raw.items()}},
        }
        return Record(self.delivery_key(postback.key, report), attributes)
