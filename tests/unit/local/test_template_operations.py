"""What makes the deployed stack operable, checked on template.yaml itself: every asynchronous path keeps
what it could not deliver, every place failures collect is alarmed, deploys roll back on errors, and the
money and its keys survive a stack deleted or edited by mistake."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import FUNCTION_TYPE, load_template, resources_of_type

ASYNC_EVENT_TYPES = ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2")
MONEY_TABLES = ("MembersTable", "LedgerTable", "OutboxTable", "ClicksTable", "ClaimsTable")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def properties(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def alarmed_metrics(template: dict[str, Any]) -> set[tuple[str, str]]:
    """(metric, what it is about) of every alarm: a queue, a function or a table's logical id."""
    found = set()
    for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values():
        for dimension in properties(alarm).get("Dimensions") or []:
            value = dimension["Value"]
            target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0] if isinstance(value, dict) else value
            found.add((properties(alarm)["MetricName"], target))
    return found


def test_every_asynchronously_invoked_function_keeps_the_events_it_failed(template: dict[str, Any]) -> None:
    for logical_id, function in resources_of_type(template, FUNCTION_TYPE).items():
        events = (properties(function).get("Events") or {}).values()
        asynchronous = [e for e in events if e["Type"] in ASYNC_EVENT_TYPES]
        if not asynchronous:
            continue
        on_failure = properties(function).get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure")
        assert on_failure, f"{logical_id}: an async invocation that fails its retries would be dropped"
        for event in asynchronous:
            assert "DeadLetterConfig" in event["Properties"], f"{logical_id}: undeliverable events would be dropped"


def test_every_place_failures_collect_is_alarmed(template: dict[str, Any]) -> None:
    alarmed = alarmed_metrics(template)
    queues = resources_of_type(template, "AWS::SQS::Queue")
    work_queues = {q for q, r in queues.items() if "RedrivePolicy" in properties(r)}
    for queue in set(queues) - work_queues:  # every other queue holds failures
        assert ("ApproximateNumberOfMessagesVisible", queue) in alarmed, f"{queue} fills up unnoticed"


def test_every_function_is_alarmed_on_errors_and_throttles_and_rolls_back_on_errors(template: dict[str, Any]) -> None:
    alarmed = alarmed_metrics(template)
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    for logical_id, function in resources_of_type(template, FUNCTION_TYPE).items():
        assert ("Errors", logical_id) in alarmed
        assert ("Throttles", logical_id) in alarmed
        gates = [a["Ref"] for a in properties(function).get("DeploymentPreference", {}).get("Alarms", [])]
        assert any(properties(alarms[a])["MetricName"] == "Errors" for a in gates), f"{logical_id} never rolls back"


def test_schedules_are_named_per_stage(template: dict[str, Any]) -> None:
    for function in resources_of_type(template, FUNCTION_TYPE).values():
        for event in (properties(function).get("Events") or {}).values():
            if event["Type"] == "ScheduleV2":
                assert "${Stage}" in event["Properties"]["Name"]["Fn::Sub"]


def test_money_tables_are_protected_and_every_table_recoverable(template: dict[str, Any]) -> None:
    for logical_id, table in resources_of_type(template, "AWS::DynamoDB::Table").items():
        assert properties(table)["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["DeletionPolicy"] == "Retain"
        if logical_id in MONEY_TABLES:
            assert properties(table)["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}


def test_secrets_outlive_the_stack_and_no_deploy_rewrites_their_values(template: dict[str, Any]) -> None:
    for logical_id, secret in resources_of_type(template, "AWS::SecretsManager::Secret").items():
        assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain", logical_id
    for logical_id in ("PostbackSecrets", "CertificateCodeSecret"):
        written = {"SecretString", "GenerateSecretString"} & set(properties(template["Resources"][logical_id]))
        assert not written, f"{logical_id}: a template edit would replace the value the operator relies on"


def test_every_bucket_is_private_encrypted_tls_only_and_expires_what_it_keeps(template: dict[str, Any]) -> None:
    # moto enforces none of this: a bucket that serves the public, keeps receipts for ever or speaks plain
    # HTTP would pass every other test.
    buckets = resources_of_type(template, "AWS::S3::Bucket")
    assert buckets, "the receipts bucket is gone"
    policies = resources_of_type(template, "AWS::S3::BucketPolicy").values()
    for logical_id, bucket in buckets.items():
        settings = properties(bucket)
        assert set(settings["PublicAccessBlockConfiguration"].values()) == {True}, logical_id
        assert len(settings["PublicAccessBlockConfiguration"]) == 4, logical_id
        [encryption] = settings["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), logical_id
        rules = settings["LifecycleConfiguration"]["Rules"]
        expiring = [r for r in rules if r.get("ExpirationInDays") and r["Status"] == "Enabled"]
        assert expiring, f"{logical_id} keeps objects for ever"
        tls_only = [
            statement
            for policy in policies
            if properties(policy)["Bucket"] == {"Ref": logical_id}
            for statement in properties(policy)["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": False}}
        ]
        assert tls_only, f"{logical_id} answers plain HTTP"
