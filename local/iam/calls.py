"""What one AWS API call needs from IAM: the actions and the resources they act on.

Most calls need the action of their own name on the resource they name. The exceptions are why this
module exists: a TransactWriteItems needs the item-level action of each of its items on that item's table
(Put -> PutItem, Update -> UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem), a
TransactGetItems needs GetItem, a batch needs its own action on every table it touches, a Query or Scan
on an index needs the index's ARN, SendMessageBatch is authorised as sqs:SendMessage, and an SES v2
SendEmail needs ses:SendEmail on the identity of its From address. An S3 call on an object needs its
action on that object's ARN (`arn:aws:s3:::<bucket>/<key>`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from local.iam.stack import Stack, bus_arn, object_arn, ses_identity_arn

ANY_RESOURCE = "*"

TRANSACT_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
SQS_ACTIONS = {  # batch operations are authorised by the single message's action
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}

S3_OBJECT_OPERATIONS = ("PutObject", "GetObject", "DeleteObject")


@dataclass(frozen=True, order=True)
class Need:
    action: str  # "dynamodb:BatchGetItem"
    resource: str  # an ARN, or "*" where the call names no resource


def needs(stack: Stack, iam_prefix: str, operation: str, params: Mapping[str, Any]) -> set[Need]:
    """Everything `operation` with `params` needs, as (action, resource ARN) pairs."""
    if iam_prefix == "dynamodb":
        return set(_dynamodb(stack, operation, params))
    if iam_prefix == "sqs" and "QueueUrl" in params:
        return {Need(SQS_ACTIONS.get(operation, f"sqs:{operation}"), stack.queue(params["QueueUrl"]))}
    if iam_prefix == "secretsmanager" and "SecretId" in params:
        return {Need(f"secretsmanager:{operation}", stack.secret(params["SecretId"]))}
    if iam_prefix == "events" and operation == "PutEvents":
        buses = {entry.get("EventBusName") or "default" for entry in params["Entries"]}
        return {Need("events:PutEvents", bus_arn(bus)) for bus in buses}
    if iam_prefix == "s3" and operation in S3_OBJECT_OPERATIONS:
        return {Need(f"s3:{operation}", object_arn(params["Bucket"], params["Key"]))}
    if iam_prefix == "ses" and operation == "SendEmail" and "FromEmailAddress" in params:
        return {Need("ses:SendEmail", ses_identity_arn(params["FromEmailAddress"]))}
    # Not modelled: the call's own action on any resource, which only a `Resource: "*"` grant allows.
    return {Need(f"{iam_prefix}:{operation}", ANY_RESOURCE)}


def _dynamodb(stack: Stack, operation: str, params: Mapping[str, Any]) -> Iterator[Need]:
    if operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            for kind, request in item.items():
                yield Need(TRANSACT_WRITE_ACTIONS[kind], stack.table(request["TableName"]))
    elif operation == "TransactGetItems":
        for item in params["TransactItems"]:
            yield Need("dynamodb:GetItem", stack.table(item["Get"]["TableName"]))
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        for table in params["RequestItems"]:
            yield Need(f"dynamodb:{operation}", stack.table(table))
    elif "TableName" in params:
        resource = stack.table(params["TableName"])
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        yield Need(f"dynamodb:{operation}", resource)
    else:
        yield Need(f"dynamodb:{operation}", ANY_RESOURCE)
