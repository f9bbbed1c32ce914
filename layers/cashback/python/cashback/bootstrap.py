"""The composition root: what each function needs, built from its settings once per container.

A handler module builds one `Container` at import (its settings are validated then, at cold start) and
asks it for its context's service. Nothing here touches AWS until a service is first used: clients,
tables and secrets are built on first use and then kept for the container's life. The local stack and
the tests build their containers here too, passing their own stand-ins (secrets, member tokens, the
settlement queue) instead of the AWS ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cashback.platform.config import MissingSetting, Settings
from cashback.platform.secrets import Secret, Secrets, SecretsManagerSecrets

if TYPE_CHECKING:  # the modules themselves are imported on first use: a handler pays only for its own
    from pynamodb.connection import Connection

    from cashback.catalog.repository import CatalogRepository
    from cashback.catalog.service import CatalogService
    from cashback.certificates.service import CertificateService
    from cashback.claims.receipt_store import ReceiptStore
    from cashback.claims.repository import ClaimRepository
    from cashback.claims.service import ClaimService
    from cashback.clicks.service import ClickService
    from cashback.ledger.repository import Ledger
    from cashback.ledger.service import LedgerService
    from cashback.members.service import MemberService
    from cashback.networks.actions import ActionStatistics, LostOrders
    from cashback.networks.admitad_api import AdmitadApi
    from cashback.networks.lost_orders import LostOrderService
    from cashback.networks.service import ReconciliationService
    from cashback.notifications.service import NotificationService
    from cashback.outbox.relay import EventPublisher
    from cashback.outbox.repository import OutboxRepository
    from cashback.payments.service import PaymentService
    from cashback.platform.web.id_tokens import MemberTokenVerifier
    from cashback.postbacks.service import PostbackService
    from cashback.rates.service import RateService, RateSource
    from cashback.settlement.service import SettlementQueue, SettlementService


class Container:
    def __init__(
        self,
        settings: Settings,
        *,
        secrets: Secrets | None = None,
        member_tokens: MemberTokenVerifier | None = None,
        settlement_queue: SettlementQueue | None = None,
        publisher: EventPublisher | None = None,
        action_statistics: Callable[[str], ActionStatistics] | None = None,
        rate_source: RateSource | None = None,
    ) -> None:
        self.settings = settings
        self.secrets: Secrets = secrets or SecretsManagerSecrets(settings)
        self._member_tokens = member_tokens
        self._settlement_queue = settlement_queue
        self._publisher = publisher
        # A network's statistics of actions, by network name (the reconciliation's source of truth).
        self.action_statistics = action_statistics
        # Where the official rates come from: the CBR unless given (the local stack's fixed rates).
        self._rate_source = rate_source

    @classmethod
    def from_environment(cls) -> Container:
        """The deployed wiring: Secrets Manager, Cognito's verifier, SQS, EventBridge."""
        return cls(Settings.from_environment())

    # --- plumbing ---------------------------------------------------------------------------------

    @cached_property
    def dynamodb(self) -> Connection:
        """One botocore-backed connection for transactions and batch reads across tables."""
        from pynamodb.connection import Connection

        return Connection(region=self.settings.region)

    def secret_key(self, secret: Secret) -> bytes:
        return self.secrets.value(secret).encode()

    @cached_property
    def member_tokens(self) -> MemberTokenVerifier | None:
        """Who checks member tokens on public routes; None (everyone anonymous) where no pool is configured."""
        if self._member_tokens is not None:
            return self._member_tokens
        if not self.settings.user_pool_id or not self.settings.user_pool_client_id:
            return None
        from cashback.platform.web.id_tokens import IdTokenVerifier

        return IdTokenVerifier.cognito(
            self.settings.region, self.settings.user_pool_id, self.settings.user_pool_client_id
        )

    @cached_property
    def settlement_queue(self) -> SettlementQueue:
        if self._settlement_queue is not None:
            return self._settlement_queue
        from cashback.settlement.service import SqsQueue

        if not self.settings.settlement_queue_url:
            raise MissingSetting("SETTLEMENT_QUEUE_URL is not set: this function was not given the queue")
        return SqsQueue(self.settings.settlement_queue_url)

    @cached_property
    def publisher(self) -> EventPublisher:
        if self._publisher is not None:
            return self._publisher
        from cashback.outbox.relay import EventPublisher

        return EventPublisher(self.settings.event_bus_name)

    # --- repositories -----------------------------------------------------------------------------

    @cached_property
    def ledger(self) -> Ledger:
        from cashback.ledger.repository import Ledger

        return Ledger(self.settings.table("LEDGER_TABLE"), self.dynamodb)

    @cached_property
    def outbox(self) -> OutboxRepository:
        from cashback.outbox.repository import OutboxRepository

        return OutboxRepository(self.settings.table("OUTBOX_TABLE"))

    @cached_property
    def catalog_repository(self) -> CatalogRepository:
        from cashback.catalog.repository import CatalogRepository

        return CatalogRepository(self.settings.table("CATALOG_TABLE"), self.dynamodb)

    @cached_property
    def claim_repository(self) -> ClaimRepository:
        from cashback.claims.repository import ClaimRepository

        return ClaimRepository(self.settings.table("CLAIMS_TABLE"), self.dynamodb)

    # --- services ---------------------------------------------------------------------------------

    @cached_property
    def members(self) -> MemberService:
        from cashback.members.promo_code_repository import PromoCodeRepository
        from cashback.members.repository import MemberRepository
        from cashback.members.service import MemberService

        table = self.settings.table("MEMBERS_TABLE")
        return MemberService(
            MemberRepository(table, self.dynamodb),
            PromoCodeRepository(table, self.dynamodb),
            self.ledger,
            self.outbox,
            email_code_key=lambda: self.secret_key(Secret.EMAIL_CODE),
            subscriber_prefixes=self.settings.subscriber_prefixes,
        )

    @cached_property
    def ledger_service(self) -> LedgerService:
        from cashback.ledger.service import LedgerService

        return LedgerService(self.ledger, self.members)

    @cached_property
    def catalog(self) -> CatalogService:
        from cashback.catalog.service import CatalogService

        return CatalogService(
            self.catalog_repository,
            link_signing_key=lambda: self.secret_key(Secret.LINK_SIGNING),
            cache_seconds=self.settings.catalog_cache_seconds,
            public_base_url=self.settings.public_base_url,
        )

    @cached_property
    def clicks(self) -> ClickService:
        from cashback.clicks.repository import ClickRepository
        from cashback.clicks.service import ClickService

        return ClickService(
            ClickRepository(self.settings.table("CLICKS_TABLE"), self.settings.region),
            # The catalog's pynamodb repository is built on the first partner a container looks up, so that
            # the redirect's cold import stays near a bare botocore client's.
            lambda partner_id: self.catalog_repository.get(partner_id),
            link_signing_key=lambda: self.secret_key(Secret.LINK_SIGNING),
            cache_seconds=self.settings.catalog_cache_seconds,
            sign_in_url=self.settings.sign_in_url,
        )

    @cached_property
    def postbacks(self) -> PostbackService:
        from cashback.postbacks.conversions import FirstPurchaseTerms
        from cashback.postbacks.credentials import NetworkCredentials
        from cashback.postbacks.service import PostbackService

        return PostbackService(
            self.ledger,
            clicks=self.clicks,
            orphans=self.claim_repository,
            credentials=NetworkCredentials(lambda: self.secrets.value(Secret.POSTBACK_CREDENTIALS)),
            first_purchase=FirstPurchaseTerms(min_order=Decimal(self.settings.first_purchase_min_order)),
            # Only a function given the rates table converts other currencies (the postbacks function).
            rates=self.rates if self.settings.rates_table else None,
        )

    @cached_property
    def claims(self) -> ClaimService:
        from cashback.claims.service import ClaimService

        return ClaimService(
            self.claim_repository,
            self.ledger,
            members=self.members,
            catalog=self.catalog,
            clicks=self.clicks,
            postbacks=self.postbacks,
            receipts=self.receipts,
        )

    @cached_property
    def receipts(self) -> ReceiptStore:
        """Members' receipts in S3; the client is built on the first receipt. Path-style addressing: a
        custom endpoint (moto, locally) has no `<bucket>.` host names."""
        from functools import cache

        import boto3
        from botocore.config import Config

        from cashback.claims.receipt_store import ReceiptStore

        region = self.settings.region
        config = Config(s3={"addressing_style": "path"})
        return ReceiptStore(
            cache(lambda: boto3.client("s3", region_name=region, config=config)), self.settings.receipts_bucket
        )

    @cached_property
    def certificates(self) -> CertificateService:
        from cashback.certificates.repository import CertificateRepository
        from cashback.certificates.service import CertificateService

        return CertificateService(
            CertificateRepository(self.settings.table("LEDGER_TABLE"), self.dynamodb),
            self.ledger,
            self.outbox,
            members=self.members,
            code_key=lambda: self.secret_key(Secret.CERTIFICATE_CODE),
        )

    @cached_property
    def settlement(self) -> SettlementService:
        from cashback.settlement.repository import SettlementRepository
        from cashback.settlement.service import SettlementService

        return SettlementService(
            SettlementRepository(self.settings.table("LEDGER_TABLE"), self.dynamodb),
            self.ledger,
            self.outbox,
            # Looked up on the first send: the top-up answers function settles no one and has no queue.
            _QueueOnFirstSend(lambda: self.settlement_queue),
            members=self.members,
        )

    @cached_property
    def payments(self) -> PaymentService:
        from cashback.payments.repository import PaymentRepository
        from cashback.payments.service import PaymentService

        return PaymentService(
            self.ledger,
            self.members,
            PaymentRepository(self.settings.table("LEDGER_TABLE")),
            own_product_rates=self.settings.own_product_rates,
        )

    @cached_property
    def notifications(self) -> NotificationService:
        """SMS through SNS and email through SES v2; each client is built on its first message."""
        from functools import cache

        import boto3

        from cashback.certificates.rules import derive_code
        from cashback.members.email_codes import derive_email_code
        from cashback.notifications.senders import SesEmail, SnsSms
        from cashback.notifications.service import CodeDerivers, NotificationService

        if not self.settings.email_sender_address:
            raise MissingSetting("EMAIL_SENDER_ADDRESS is not set: this function was not given the sender")
        region = self.settings.region
        codes = CodeDerivers(
            certificate=lambda member_id, order_key, nonce: derive_code(
                self.secret_key(Secret.CERTIFICATE_CODE), member_id, order_key, nonce
            ),
            email=lambda member_id, nonce: derive_email_code(self.secret_key(Secret.EMAIL_CODE), member_id, nonce),
        )
        return NotificationService(
            self.outbox,
            sms=SnsSms(cache(lambda: boto3.client("sns", region_name=region)), self.settings.sms_sender_id),
            email=SesEmail(
                cache(lambda: boto3.client("sesv2", region_name=region)), self.settings.email_sender_address
            ),
            codes=codes,
        )

    # --- official exchange rates ------------------------------------------------------------------

    @cached_property
    def rates(self) -> RateService:
        from cashback.rates.cbr import CbrDailyRates
        from cashback.rates.repository import RatesRepository
        from cashback.rates.service import RateService

        return RateService(
            RatesRepository(self.settings.table("RATES_TABLE")), source=self._rate_source or CbrDailyRates()
        )

    # --- partner networks' APIs ---------------------------------------------------------------------

    @cached_property
    def admitad_api(self) -> AdmitadApi:
        """Admitad's statistics and lost orders; its client credentials are read on the first request."""
        from cashback.networks.admitad_api import AdmitadApi, credentials_from_json

        return AdmitadApi(
            self.settings.admitad_api_url,
            credentials=lambda: credentials_from_json(self.secrets.value(Secret.ADMITAD_API)),
            website_id=self.settings.admitad_website_id or None,
        )

    @cached_property
    def lost_orders(self) -> LostOrderService:
        from cashback.networks.lost_orders import LostOrderService

        return LostOrderService(self.claims, self.catalog, self._lost_orders_at)

    def _lost_orders_at(self, network: str) -> LostOrders:
        if network == "admitad":
            return self.admitad_api
        raise MissingSetting(f"the network {network!r} takes no lost orders")

    @cached_property
    def reconciliation(self) -> ReconciliationService:
        from cashback.networks.repository import ReconciliationRepository
        from cashback.networks.service import ReconciliationService

        return ReconciliationService(
            ReconciliationRepository(self.settings.table("RECONCILIATIONS_TABLE")),
            statistics=self._statistics_of,
            conversions=self.postbacks,
        )

    def _statistics_of(self, network: str) -> ActionStatistics:
        # Looked up when a run first pages, so that a report or a start needs no client. Tests may give
        # their own source; otherwise the network's API client.
        if self.action_statistics is not None:
            return self.action_statistics(network)
        if network == "admitad":
            return self.admitad_api
        raise MissingSetting(f"no statistics source is configured for the network {network!r}")


class _QueueOnFirstSend:
    def __init__(self, queue: Callable[[], SettlementQueue]) -> None:
        self._queue = queue

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        self._queue().send(messages)
