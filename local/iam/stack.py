"""The template's resources as the IAM proof names them: one ARN per resource, the same whether it comes
from a policy (`!GetAtt LedgerTable.Arn`, `!Sub ${LedgerTable.Arn}/index/*`, `!Ref LinkSigningSecret`) or
from a call the tests recorded (TableName "cashback-test-ledger", a queue URL, a secret id).

Tables keep the physical names the tests create them with (local/template.py `table_names`), so a call's
TableName maps straight to its ARN. Queues and secrets get a stand-in name, their logical id: a call's
queue URL or secret id is matched to the resource through the variable that the template binds to it
(`SETTLEMENT_QUEUE_URL: !Ref SettlementQueue`), read from the process's environment at call time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from local.template import BUCKET_TYPE, FUNCTION_TYPE, TABLE_TYPE, bucket_names, resources_of_type

PARTITION = "aws"
REGION = "eu-central-1"
ACCOUNT_ID = "123456789012"
PSEUDO_PARAMETERS = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "cashback",
}

QUEUE_TYPE = "AWS::SQS::Queue"
SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)


class UnresolvableError(ValueError):
    """An intrinsic or resource the proof cannot turn into a value: fixed here, never guessed."""


def table_arn(name: str) -> str:
    return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"


def bucket_arn(name: str) -> str:
    return f"arn:{PARTITION}:s3:::{name}"


def object_arn(bucket: str, key: str) -> str:
    return f"{bucket_arn(bucket)}/{key}"


def queue_arn(name: str) -> str:
    return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:{name}"


def queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"


def secret_arn(name: str) -> str:
    return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}"


def ses_identity_arn(identity: str) -> str:
    return f"arn:{PARTITION}:ses:{REGION}:{ACCOUNT_ID}:identity/{identity}"


def bus_arn(name: str) -> str:
    return name if name.startswith("arn:") else f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:event-bus/{name}"


class Stack:
    BOUND_TYPES = (QUEUE_TYPE, SECRET_TYPE)

    def __init__(self, template: Mapping[str, Any], table_names: Mapping[str, str]) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.parameters: Mapping[str, Any] = template.get("Parameters") or {}
        self.table_names = dict(table_names)
        self._tables_by_name = {name: logical_id for logical_id, name in table_names.items()}
        self.bound_variables = self._bound_variables()
        # Buckets keep the names the local stack creates them with, so a call's Bucket maps to its ARN.
        self.bucket_names = bucket_names(template)
        # ARN -> logical id, to name resources in reports ("LedgerTable/index/by_time").
        self._names: dict[str, str] = {table_arn(name): logical_id for logical_id, name in table_names.items()}
        for logical_id, name in self.bucket_names.items():
            self._names[bucket_arn(name)] = logical_id
        for logical_id in resources_of_type(template, QUEUE_TYPE):
            self._names[queue_arn(logical_id)] = logical_id
        for logical_id in resources_of_type(template, SECRET_TYPE):
            self._names[secret_arn(logical_id)] = logical_id

    def _type(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise UnresolvableError(f"{logical_id} is no resource of template.yaml")
        return str(resource.get("Type"))

    def _bound_variables(self) -> dict[str, str]:
        """Variable -> queue or secret it holds, from every function's (and the globals') environment."""
        sections = [(self.template.get("Globals") or {}).get("Function") or {}]
        sections += [r.get("Properties") or {} for r in resources_of_type(self.template, FUNCTION_TYPE).values()]
        bound = {}
        for section in sections:
            for variable, value in ((section.get("Environment") or {}).get("Variables") or {}).items():
                target = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
                if isinstance(target, str) and target in self.resources and self._type(target) in self.BOUND_TYPES:
                    bound[variable] = target
        return bound

    # ------------------------------------------------------------------------- the template's intrinsics

    def ref(self, logical_id: str) -> str:
        if logical_id in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[logical_id]
        if logical_id in self.parameters:
            if "Default" not in self.parameters[logical_id]:
                raise UnresolvableError(f"parameter {logical_id} has no default")
            return str(self.parameters[logical_id]["Default"])
        kind = self._type(logical_id)
        if kind == TABLE_TYPE:
            return self.table_names[logical_id]
        if kind == QUEUE_TYPE:
            return queue_url(logical_id)  # a URL, not an ARN: a policy naming a queue by !Ref matches nothing
        if kind == SECRET_TYPE:
            return secret_arn(logical_id)
        if kind == BUCKET_TYPE:
            return self.bucket_names[logical_id]
        raise UnresolvableError(f"!Ref {logical_id} ({kind}) is not understood by the IAM proof")

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._type(logical_id)
        if kind == TABLE_TYPE and attribute == "Arn":
            return table_arn(self.table_names[logical_id])
        if kind == TABLE_TYPE and attribute == "StreamArn":
            return table_arn(self.table_names[logical_id]) + "/stream/*"
        if kind == BUCKET_TYPE and attribute == "Arn":
            return bucket_arn(self.bucket_names[logical_id])
        if kind == QUEUE_TYPE and attribute == "Arn":
            return queue_arn(logical_id)
        if kind == QUEUE_TYPE and attribute == "QueueName":
            return logical_id
        if kind == QUEUE_TYPE and attribute == "QueueUrl":
            return queue_url(logical_id)
        raise UnresolvableError(f"!GetAtt {logical_id}.{attribute} ({kind}) is not understood by the IAM proof")

    # ------------------------------------------------------------------------------- what calls name

    def table(self, name: str) -> str:
        return table_arn(name)

    def _bound_resource(self, value: str) -> str | None:
        for variable, logical_id in self.bound_variables.items():
            if os.environ.get(variable) == value:
                return logical_id
        return None

    def queue(self, url: str) -> str:
        logical_id = self._bound_resource(url)
        return queue_arn(logical_id or url.rstrip("/").rsplit("/", 1)[-1])

    def secret(self, secret_id: str) -> str:
        logical_id = self._bound_resource(secret_id)
        if logical_id is not None:
            return secret_arn(logical_id)
        return secret_id if secret_id.startswith("arn:") else secret_arn(secret_id)

    # ------------------------------------------------------------------------------------ reports

    def describe(self, arn: str) -> str:
        """The resource as the template names it: "LedgerTable", "LedgerTable/index/*", "event-bus/default"."""
        for known in sorted(self._names, key=len, reverse=True):
            if arn == known or arn.startswith(known + "/"):
                return self._names[known] + arn[len(known) :]
        return re.sub(rf"^arn:{PARTITION}:[a-z0-9-]+:{REGION}:{ACCOUNT_ID}:", "", arn)  # "event-bus/default"
