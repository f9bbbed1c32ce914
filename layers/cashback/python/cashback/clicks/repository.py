"""Clicks in DynamoDB: `CLICK#<click id>` / `CLICK`, written once, kept until the TTL in `expires_at`.

This is the redirect's hot path, so it talks to DynamoDB through a bare botocore client rather than
pynamodb: one PutItem per click with nothing else on the way, short timeouts, and no model layer to import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cashback.clicks.rules import FULL_COMMISSION_SHARE, MAX_USER_AGENT, Click, ClickSeen
from cashback.ledger.plans import ItemKey
from cashback.platform.errors import Conflict

CLICK_SK = "CLICK"


def partition(click_id: str) -> str:
    return f"CLICK#{click_id}"


def _item(click: Click) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": partition(click.click_id)},
        "sk": {"S": CLICK_SK},
        "click_id": {"S": click.click_id},
        "member_id": {"S": click.member_id},
        "partner_id": {"S": click.partner_id},
        "rate_percent": {"S": str(click.rate_percent)},
        "network": {"S": click.network},
        "accrual_days": {"N": str(click.accrual_days)},
        "clicked_at": {"S": click.clicked_at.isoformat()},
        "user_agent": {"S": click.user_agent[:MAX_USER_AGENT]},
        "expires_at": {"N": str(int(click.expires_at.timestamp()))},
        "commission_share_percent": {"S": str(click.commission_share_percent)},
    }
    if click.goods_rates:
        item["goods_rates"] = {"M": {tariff: {"S": str(rate)} for tariff, rate in click.goods_rates.items()}}
    return item


class ClickRepository:
    def __init__(self, table_name: str, region: str) -> None:
        self._table_name = table_name
        self._region = region
        self._botocore_client: Any = None

    def _client(self) -> Any:
        # botocore rather than boto3: the client is all the redirect needs, and boto3 would add to the cold start.
        if self._botocore_client is None:
            import botocore.session
            from botocore.config import Config

            session = botocore.session.get_session()
            config = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 3})
            self._botocore_client = session.create_client("dynamodb", region_name=self._region, config=config)
        return self._botocore_client

    def record(self, click: Click) -> None:
        """Stores a new click: exactly one PutItem, refused if the id were ever taken."""
        client = self._client()
        try:
            client.put_item(
                TableName=self._table_name,
                Item=_item(click),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            raise Conflict(f"click {click.click_id} already exists", code="click_exists") from None

    def find(self, click_id: str) -> Click | None:
        """The click a postback names, with the rate frozen when the member clicked; None if it is unknown.

        A click stays findable until DynamoDB's TTL removes it, some time after its `expires_at`.
        """
        response = self._client().get_item(
            TableName=self._table_name,
            Key={"pk": {"S": partition(click_id)}, "sk": {"S": CLICK_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return None if item is None else click_from_item(item)

    def member_clicks(self, member_id: str, since: datetime, until: datetime) -> list[ClickSeen]:
        """The member's clicks between two times, oldest first (index `by_member`; a claim's look-back)."""
        client = self._client()
        seen: list[ClickSeen] = []
        start: dict[str, Any] | None = None
        while True:
            request: dict[str, Any] = {
                "TableName": self._table_name,
                "IndexName": "by_member",
                "KeyConditionExpression": "member_id = :m AND clicked_at BETWEEN :since AND :until",
                "ExpressionAttributeValues": {
                    ":m": {"S": member_id},
                    # Clicks are stored at UTC offsets, so their times sort as text.
                    ":since": {"S": since.astimezone(UTC).isoformat()},
                    ":until": {"S": until.astimezone(UTC).isoformat()},
                },
            }
            if start:
                request["ExclusiveStartKey"] = start
            response = client.query(**request)
            seen += [
                ClickSeen(
                    click_id=item["click_id"]["S"],
                    partner_id=item["partner_id"]["S"],
                    accrual_days=int(item["accrual_days"]["N"]),
                    clicked_at=datetime.fromisoformat(item["clicked_at"]["S"]),
                )
                for item in response.get("Items", [])
            ]
            start = response.get("LastEvaluatedKey")
            if not start:
                return seen

    def key(self, click_id: str) -> ItemKey:
        return ItemKey(self._table_name, partition(click_id), CLICK_SK)


def click_from_item(item: dict[str, Any]) -> Click:
    # Clicks made before goods rates and commission shares were frozen have neither: none, and 100%.
    return Click(
        click_id=item["click_id"]["S"],
        member_id=item["member_id"]["S"],
        partner_id=item["partner_id"]["S"],
        rate_percent=Decimal(item["rate_percent"]["S"]),
        network=item["network"]["S"],
        accrual_days=int(item["accrual_days"]["N"]),
        clicked_at=datetime.fromisoformat(item["clicked_at"]["S"]),
        user_agent=item.get("user_agent", {}).get("S", ""),
        goods_rates={tariff: Decimal(rate["S"]) for tariff, rate in item.get("goods_rates", {}).get("M", {}).items()},
        commission_share_percent=Decimal(item.get("commission_share_percent", {}).get("S", str(FULL_COMMISSION_SHARE))),
    )
