"""The IAM proof's parts: what a call needs, what a policy allows, and whose call it is.

The proof itself runs at the end of every test session (tests/fixtures/iam.py); these tests pin down the
rules it applies, on a small template of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from local.gateway.function_host import FunctionHost
from local.iam.attribution import current_function, running_as
from local.iam.calls import Need, needs
from local.iam.policies import PolicyError, allowed, function_grants
from local.iam.proof import check, denied_lines, unused_lines
from local.iam.recorder import CallRecorder, Use
from local.iam.stack import Stack, queue_url
from local.settlement_queue import CONSUMER, InProcessQueue
from local.template import REPO, CloudFormationLoader, load_template, resources_of_type, table_names
from tests.fixtures.handlers import invoke, sample_event

TEMPLATE = """
Resources:
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/reader
      Handler: app.lambda_handler
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue
          SECRET_ARN: !Ref Secret
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:Get*, dynamodb:Query]
              Resource: !GetAtt LedgerTable.Arn
            - Effect: Allow
              Action: dynamodb:*
              Resource: !GetAtt MembersTable.Arn
            - Effect: Allow
              Action: [dynamodb:PutItem]
              Resource: !Sub ${LedgerTable.Arn}/index/*
            - Effect: Allow
              Action: [sqs:SendMessage]
              Resource: !GetAtt Queue.Arn
            - Effect: Allow
              Action: [secretsmanager:GetSecretValue]
              Resource: !Ref Secret
            - Effect: Allow
              Action: [events:PutEvents]
              Resource: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default
  Crud:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/crud
      Handler: app.lambda_handler
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref LedgerTable}
        - SQSSendMessagePolicy: {QueueName: !GetAtt Queue.QueueName}
  ByUrl:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/by_url
      Handler: app.lambda_handler
      Policies:
        - Statement:
            - Effect: Allow
              Action: [sqs:SendMessage]
              Resource: !Ref Queue
  LedgerTable:
    Type: AWS::DynamoDB::Table
  MembersTable:
    Type: AWS::DynamoDB::Table
  Queue:
    Type: AWS::SQS::Queue
  Secret:
    Type: AWS::SecretsManager::Secret
"""
LEDGER, MEMBERS = "t-ledger", "t-members"


@pytest.fixture
def stack() -> Stack:
    template = yaml.load(TEMPLATE, Loader=CloudFormationLoader)  # noqa: S506 (a SafeLoader subclass)
    return Stack(template, {"LedgerTable": LEDGER, "MembersTable": MEMBERS})


def permitted(stack: Stack, function: str, operation: str, **params: Any) -> dict[Need, bool]:
    service = {"SendMessageBatch": "sqs", "GetSecretValue": "secretsmanager", "PutEvents": "events"}
    grants = function_grants(stack)[function]
    return {need: allowed(grants, need) for need in needs(stack, service.get(operation, "dynamodb"), operation, params)}


def described(stack: Stack, verdict: dict[Need, bool]) -> dict[str, bool]:
    return {f"{need.action} on {stack.describe(need.resource)}": ok for need, ok in verdict.items()}


# ------------------------------------------------------------------------------------- what calls need


def test_an_action_is_allowed_by_a_wildcard_in_the_policy(stack: Stack) -> None:
    # Given a policy with dynamodb:* on the members table and dynamodb:Get* on the ledger table
    # When the function deletes a member item and reads a ledger item
    deleted = permitted(stack, "Reader", "DeleteItem", TableName=MEMBERS, Key={})
    read = permitted(stack, "Reader", "GetItem", TableName=LEDGER, Key={})
    # Then both are allowed
    assert described(stack, deleted) == {"dynamodb:DeleteItem on MembersTable": True}
    assert described(stack, read) == {"dynamodb:GetItem on LedgerTable": True}


def test_a_query_on_an_index_needs_the_index_arn(stack: Stack) -> None:
    # Given dynamodb:Query on the ledger table's ARN only (the index ARN has PutItem, not Query)
    # When the function queries the table, then an index of it
    on_table = permitted(stack, "Reader", "Query", TableName=LEDGER)
    on_index = permitted(stack, "Reader", "Query", TableName=LEDGER, IndexName="by_time")
    # Then the table query is allowed and the index query is not
    assert described(stack, on_table) == {"dynamodb:Query on LedgerTable": True}
    assert described(stack, on_index) == {"dynamodb:Query on LedgerTable/index/by_time": False}


def test_a_transaction_needs_the_action_of_each_item_on_its_table(stack: Stack) -> None:
    # Given a function with dynamodb:Get* on the ledger table and dynamodb:* on the members table
    # When it writes a transaction that puts and deletes ledger items and checks a member
    verdict = permitted(
        stack,
        "Reader",
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": LEDGER, "Item": {}}},
            {"Delete": {"TableName": LEDGER, "Key": {}}},
            {"ConditionCheck": {"TableName": MEMBERS, "Key": {}, "ConditionExpression": "x"}},
        ],
    )
    # Then each item needs its own action: the ledger's put and delete are refused, the check is allowed
    assert described(stack, verdict) == {
        "dynamodb:PutItem on LedgerTable": False,
        "dynamodb:DeleteItem on LedgerTable": False,
        "dynamodb:ConditionCheckItem on MembersTable": True,
    }


def test_batch_and_transactional_reads_need_their_own_actions(stack: Stack) -> None:
    # When the function batch-reads both tables and transactionally reads the ledger
    batch = permitted(stack, "Reader", "BatchGetItem", RequestItems={LEDGER: {"Keys": []}, MEMBERS: {"Keys": []}})
    transact = permitted(stack, "Reader", "TransactGetItems", TransactItems=[{"Get": {"TableName": LEDGER, "Key": {}}}])
    # Then BatchGetItem is needed on each table (dynamodb:Get* does not cover it), TransactGetItems needs GetItem
    assert described(stack, batch) == {
        "dynamodb:BatchGetItem on LedgerTable": False,
        "dynamodb:BatchGetItem on MembersTable": True,
    }
    assert described(stack, transact) == {"dynamodb:GetItem on LedgerTable": True}


def test_queues_and_secrets_are_known_by_the_variables_the_template_binds_to_them(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the queue URL and secret ARN a test created, in the variables the template binds to them
    url = "https://sqs.eu-central-1.amazonaws.com/123456789012/settlement-1a2b"
    arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:link-AbCdEf"
    monkeypatch.setenv("QUEUE_URL", url)
    monkeypatch.setenv("SECRET_ARN", arn)
    # When the function sends a batch, reads the secret, reads another secret and publishes an event
    sent = permitted(stack, "Reader", "SendMessageBatch", QueueUrl=url)
    secret = permitted(stack, "Reader", "GetSecretValue", SecretId=arn)
    other = permitted(stack, "Reader", "GetSecretValue", SecretId="other")
    published = permitted(stack, "Reader", "PutEvents", Entries=[{"Detail": "{}"}, {"EventBusName": "audit"}])
    # Then they resolve to the template's queue and secret; the unknown secret and the audit bus are refused
    assert described(stack, sent) == {"sqs:SendMessage on Queue": True}
    assert described(stack, secret) == {"secretsmanager:GetSecretValue on Secret": True}
    assert described(stack, other) == {"secretsmanager:GetSecretValue on secret:other": False}
    assert described(stack, published) == {
        "events:PutEvents on event-bus/default": True,
        "events:PutEvents on event-bus/audit": False,
    }


def test_sam_policy_templates_are_expanded_and_a_queue_url_is_no_arn(stack: Stack) -> None:
    # Given DynamoDBCrudPolicy and SQSSendMessagePolicy, and a policy that names the queue by its URL (!Ref)
    url = queue_url("Queue")
    # Then the CRUD template covers the table and its indexes, and the URL allows nothing
    assert set(permitted(stack, "Crud", "Query", TableName=LEDGER, IndexName="by_time").values()) == {True}
    assert set(permitted(stack, "Crud", "BatchWriteItem", RequestItems={LEDGER: []}).values()) == {True}
    assert set(permitted(stack, "Crud", "SendMessageBatch", QueueUrl=url).values()) == {True}
    assert set(permitted(stack, "ByUrl", "SendMessageBatch", QueueUrl=url).values()) == {False}


@pytest.mark.parametrize(
    "policy",
    [
        {"Statement": [{"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {}}]},
        {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]},
        "AmazonDynamoDBFullAccess",
        {"DynamoDBStreamReadPolicy": {"TableName": "t", "StreamName": "s"}},
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": {"Fn::ImportValue": "x"}}]},
    ],
)
def test_what_the_proof_cannot_read_stops_it(stack: Stack, policy: Any) -> None:
    template = dict(stack.template)
    template["Resources"] = {**template["Resources"], "Crud": {**template["Resources"]["Crud"]}}
    template["Resources"]["Crud"]["Properties"] = {"Policies": [policy]}
    with pytest.raises(PolicyError):
        function_grants(Stack(template, stack.table_names))


# -------------------------------------------------------------------------------------------- verdict


def test_the_verdict_names_function_action_and_table_and_the_grants_no_call_needed(stack: Stack) -> None:
    # Given the crud function's only use, a GetItem on the ledger, and a function the template lacks
    uses = [
        Use("Crud", Need("dynamodb:GetItem", stack.table(LEDGER)), "tests/test_x.py::test_y"),
        Use("Ghost", Need("dynamodb:GetItem", stack.table(LEDGER))),
        Use("Reader", Need("dynamodb:DeleteItem", stack.table(LEDGER))),
    ]
    grants = function_grants(stack)
    verdict = check(grants, uses)
    # Then the two refused uses fail the proof, by name
    assert verdict.failed
    assert denied_lines(verdict, stack, grants) == [
        "function Ghost (a function template.yaml does not have) needs dynamodb:GetItem on LedgerTable",
        "function Reader needs dynamodb:DeleteItem on LedgerTable",
    ]
    # And the grants nothing needed are listed, the used GetItem on the ledger among none of them
    unused = unused_lines(verdict, stack)
    assert "function Crud allows dynamodb:GetItem on LedgerTable: no test exercises it" not in unused
    assert "function Crud allows dynamodb:DeleteItem on LedgerTable: no test exercises it" in unused
    by_url = f"function ByUrl allows sqs:SendMessage on {queue_url('Queue')}: no test exercises it"
    assert by_url in unused


# ------------------------------------------------------------------------------------------ attribution


@pytest.fixture
def recorder() -> Iterator[CallRecorder]:
    template = load_template()
    recorder = CallRecorder(Stack(template, table_names(template, "cashback-test")))
    recorder.install()  # over the session's own recorder: uninstalled first, it restores that one
    yield recorder
    recorder.uninstall()


def recorded(recorder: CallRecorder) -> set[tuple[str, str, str]]:
    return {(u.function, u.need.action, recorder.stack.describe(u.need.resource)) for u in recorder.uses}


@pytest.mark.usefixtures("moto_tables")
def test_a_handler_invoked_by_a_test_makes_its_calls_as_its_function(recorder: CallRecorder) -> None:
    # When a test reads a table itself, then invokes the ledger handler
    import boto3

    boto3.client("dynamodb").scan(TableName="cashback-test-members")
    invoke("ledger", sample_event("ledger-balance"))
    # Then only the handler's calls are recorded, as the LedgerFunction's
    assert recorded(recorder)
    assert {function for function, _, _ in recorded(recorder)} == {"LedgerFunction"}
    assert ("LedgerFunction", "dynamodb:GetItem", "LedgerTable") in recorded(recorder)


def test_the_gateway_runs_each_function_as_itself() -> None:
    template = load_template()
    claims = {"ClaimsFunction": lambda event, context: current_function.get()}
    host = FunctionHost(template, table_names(template, "cashback-test"), REPO, claims)
    assert host.invoke("ClaimsFunction", {}) == "ClaimsFunction"
    assert current_function.get() is None


def test_settlement_messages_are_handled_as_the_worker_whoever_sent_them() -> None:
    # Given the in-process queue, sent to while the start function runs
    handled_as: list[str | None] = []
    queue = InProcessQueue(lambda message: handled_as.append(current_function.get()))
    with running_as("SettlementStartFunction"):
        queue.send([{"members": ["m-1"]}, {"members": ["m-2"]}])
        # Then each message is handled as the worker, and the sender is itself again afterwards
        assert current_function.get() == "SettlementStartFunction"
    assert handled_as == [CONSUMER, CONSUMER]


def test_the_in_process_queue_is_consumed_by_the_function_the_template_gives_the_queue() -> None:
    template = load_template()
    consumers = {
        logical_id
        for logical_id, function in resources_of_type(template, "AWS::Serverless::Function").items()
        for event in (function["Properties"].get("Events") or {}).values()
        if event["Type"] == "SQS" and event["Properties"]["Queue"] == {"Fn::GetAtt": ["SettlementQueue", "Arn"]}
    }
    assert consumers == {CONSUMER}


def test_every_policy_of_the_template_is_readable_by_the_proof() -> None:
    template = load_template()
    grants = function_grants(Stack(template, table_names(template, "cashback-test")))
    assert set(grants) == set(resources_of_type(template, "AWS::Serverless::Function"))


BUCKET_TEMPLATE = """
Resources:
  Keeper:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/keeper
      Handler: app.lambda_handler
      Environment:
        Variables:
          RECEIPTS_BUCKET: !Ref ReceiptsBucket
      Policies:
        - Statement:
            - Effect: Allow
              Action: [s3:PutObject, s3:GetObject]
              Resource: !Sub ${ReceiptsBucket.Arn}/receipts/*
  ReceiptsBucket:
    Type: AWS::S3::Bucket
"""


def test_s3_object_calls_need_their_action_on_the_objects_arn() -> None:
    # Given a function allowed to put and get objects under receipts/ of the template's bucket
    template = yaml.load(BUCKET_TEMPLATE, Loader=CloudFormationLoader)  # noqa: S506 (a SafeLoader subclass)
    stack = Stack(template, {})
    bucket = stack.ref("ReceiptsBucket")
    grants = function_grants(stack)["Keeper"]

    def verdict(operation: str, key: str) -> dict[str, bool]:
        found = needs(stack, "s3", operation, {"Bucket": bucket, "Key": key})
        return {f"{need.action} on {stack.describe(need.resource)}": allowed(grants, need) for need in found}

    # When it puts a receipt, deletes one (no grant), and puts an object outside receipts/ (wrong prefix)
    # Then the put is allowed, the delete and the put elsewhere are reported, each on the bucket by name
    assert verdict("PutObject", "receipts/c-1") == {"s3:PutObject on ReceiptsBucket/receipts/c-1": True}
    assert verdict("DeleteObject", "receipts/c-1") == {"s3:DeleteObject on ReceiptsBucket/receipts/c-1": False}
    assert verdict("PutObject", "exports/c-1") == {"s3:PutObject on ReceiptsBucket/exports/c-1": False}
    # And the bucket resolves as the local stack names it
    assert stack.get_att("ReceiptsBucket", "Arn") == f"arn:aws:s3:::{bucket}"
    assert bucket == "cashback-receipts"
