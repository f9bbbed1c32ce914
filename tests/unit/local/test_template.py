"""template.yaml read as the local stack reads it, and checked where cfn-lint does not look."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.template import (
    REPO,
    event_rules,
    function_environment,
    functions,
    http_routes,
    load_template,
    resources_of_type,
    stream_subscriptions,
    table_names,
)

PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}

# API.md's routes and who may call them: member -> the JWT authorizer, pos/admin -> IAM, public -> none.
CONTRACT_AUTH = {
    "POST /members": "jwt",
    "GET /members/me": "jwt",
    "PATCH /members/me": "jwt",
    "POST /members/me/email": "jwt",
    "POST /members/me/email/confirm": "jwt",
    "POST /members/me/promo-codes": "jwt",
    "GET /members/me/balance": "jwt",
    "GET /members/me/transactions": "jwt",
    "POST /members/me/claims": "jwt",
    "GET /members/me/claims": "jwt",
    "GET /categories": "none",
    "GET /partners": "none",
    "GET /partners/{partner_id}": "none",
    "GET /go/{partner_id}": "none",
    "POST /clicks": "jwt",
    "GET /postbacks/{network}": "none",
    "POST /postbacks/{network}": "none",
    "POST /certificates": "jwt",
    "GET /certificates": "jwt",
    "POST /certificates/redeem": "iam",
    "POST /certificates/{certificate_id}/sms": "jwt",
    "PUT /admin/partners/{partner_id}": "iam",
    "POST /admin/partners/{partner_id}/promotions": "iam",
    "POST /admin/promo-codes": "iam",
    "POST /admin/adjustments": "iam",
    "GET /admin/claims": "iam",
    "POST /admin/claims/{claim_id}/resolve": "iam",
    "POST /admin/settlements": "iam",
    "GET /admin/settlements/{month}": "iam",
    "POST /admin/reconciliations": "iam",
    "GET /admin/reconciliations/{run_id}": "iam",
    "GET /openapi.json": "none",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------- loading


def test_short_tags_are_read_as_their_long_form(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
Resources:
  Thing:
    Properties:
      A: !Ref Stage
      B: !GetAtt Table.Arn
      C: !GetAtt [Table, StreamArn]
      D: !Sub "arn:${AWS::Partition}:x"
      E: !If [IsProd, 1, !Ref AWS::NoValue]
      F: !Join ["-", [a, !Select [0, !Split [",", "x,y"]]]]
      G: !Equals [!Ref Stage, prod]
      H: !FindInMap [Map, Key, Value]
      I: !Base64 text
      J: !ImportValue shared
      K: !And [!Not [!Condition IsProd], !Or [!Condition A, !Condition B]]
      L: !Select [0, !GetAZs ""]
      M: !Cidr [10.0.0.0/16, 2, 8]
""",
    )

    properties = load_template(path)["Resources"]["Thing"]["Properties"]

    assert properties["A"] == {"Ref": "Stage"}
    assert properties["B"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert properties["C"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert properties["D"] == {"Fn::Sub": "arn:${AWS::Partition}:x"}
    assert properties["E"] == {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}
    assert properties["F"] == {"Fn::Join": ["-", ["a", {"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]}]]}
    assert properties["G"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert properties["H"] == {"Fn::FindInMap": ["Map", "Key", "Value"]}
    assert properties["I"] == {"Fn::Base64": "text"}
    assert properties["J"] == {"Fn::ImportValue": "shared"}
    assert properties["K"] == {
        "Fn::And": [{"Fn::Not": [{"Condition": "IsProd"}]}, {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}]
    }
    assert properties["L"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert properties["M"] == {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}


def test_an_unknown_tag_is_refused_rather_than_guessed(tmp_path: Path) -> None:
    path = _write(tmp_path, "Resources:\n  X: !Transform {Name: x}\n")

    with pytest.raises(Exception, match="Transform"):
        load_template(path)


# -------------------------------------------------------------------------------------------- tables


def test_each_table_gets_a_local_name_from_its_logical_id(template: dict[str, Any]) -> None:
    names = table_names(template, "cashback-local")

    assert names["MembersTable"] == "cashback-local-members"
    assert names["LedgerTable"] == "cashback-local-ledger"
    assert names["OutboxTable"] == "cashback-local-outbox"
    assert set(names) == set(resources_of_type(template, "AWS::DynamoDB::Table"))
    assert all(3 <= len(name) <= 255 for name in names.values())


def test_table_names_are_kebab_case_without_the_table_suffix() -> None:
    template = {
        "Resources": {
            logical_id: {"Type": "AWS::DynamoDB::Table"}
            for logical_id in ("PostbackOrphansTable", "APIKeysTable", "Idempotency", "Table")
        }
    }

    names = table_names(template, "p")

    assert names == {
        "PostbackOrphansTable": "p-postback-orphans",
        "APIKeysTable": "p-api-keys",
        "Idempotency": "p-idempotency",
        "Table": "p-table",
    }


# ------------------------------------------------------------------------------------------- environment


def test_a_function_sees_global_and_own_variables_with_local_table_names(template: dict[str, Any]) -> None:
    names = table_names(template, "cashback-local")

    environment = function_environment(template, "MembersFunction", names)

    assert environment["MEMBERS_TABLE"] == "cashback-local-members"
    assert environment["LEDGER_TABLE"] == "cashback-local-ledger"
    assert environment["STAGE"] == "dev"  # a parameter's default
    assert environment["POWERTOOLS_SERVICE_NAME"] == "members"  # the function's own value wins
    assert environment["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"


def test_variables_without_a_local_value_are_left_out() -> None:
    template = {
        "Parameters": {"Size": {"Type": "Number", "Default": 5}, "NoDefault": {"Type": "String"}},
        "Globals": {"Function": {"Environment": {"Variables": {"FLAG": True, "SIZE": {"Ref": "Size"}}}}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Environment": {
                        "Variables": {
                            "QUEUE_ARN": {"Fn::GetAtt": ["Queue", "Arn"]},
                            "URL": {"Fn::Sub": "https://${AWS::Region}"},
                            "SECRET": {"Ref": "NoDefault"},
                            "TABLE": {"Ref": "ThingsTable"},
                            "COUNT": 3,
                        }
                    }
                },
            }
        },
    }

    environment = function_environment(template, "Fn", {"ThingsTable": "p-things"})

    assert environment == {"FLAG": "true", "SIZE": "5", "TABLE": "p-things", "COUNT": "3"}


# ------------------------------------------------------------------------------------------------ routes


def test_every_route_of_the_template_belongs_to_the_contract_with_its_callers_auth(template: dict[str, Any]) -> None:
    routes = {route.route_key: route.auth for route in http_routes(template)}

    undocumented = set(routes) - set(CONTRACT_AUTH)
    assert not undocumented, f"routes missing from API.md (or from CONTRACT_AUTH here): {sorted(undocumented)}"
    wrong = {key: (auth, CONTRACT_AUTH[key]) for key, auth in routes.items() if auth != CONTRACT_AUTH[key]}
    assert not wrong, f"route: (template's auth, contract's auth): {wrong}"


def test_the_first_routes_are_served_with_the_right_auth(template: dict[str, Any]) -> None:
    routes = {route.route_key: route for route in http_routes(template)}

    assert routes["POST /members"].auth == "jwt"  # the HttpApi's default authorizer
    assert routes["GET /members/me/balance"].auth == "jwt"
    assert routes["POST /admin/adjustments"].auth == "iam"
    assert routes["GET /openapi.json"].auth == "none"
    assert routes["POST /members"].function_logical_id == "MembersFunction"
    assert routes["POST /members"].code_uri == "functions/members"
    assert routes["POST /members"].handler == "app.lambda_handler"


def test_every_function_has_its_handler_file(template: dict[str, Any]) -> None:
    for spec in functions(template).values():
        module, _, attribute = spec.handler.rpartition(".")
        source = REPO / spec.code_uri / f"{module.replace('.', '/')}.py"
        assert source.is_file(), f"{spec.logical_id}: {source} does not exist"
        assert re.search(rf"^def {attribute}\(|^{attribute}\s*=", source.read_text(), re.M), (
            f"{spec.logical_id}: {source.name} defines no {attribute}"
        )


def test_rules_and_schedules_are_read_from_function_events() -> None:
    template = {
        "Resources": {
            "Payments": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "Paid": {
                            "Type": "EventBridgeRule",
                            "Properties": {"Pattern": {"source": ["operator.payments"]}},
                        },
                        "Monthly": {
                            "Type": "ScheduleV2",
                            "Properties": {"ScheduleExpression": "cron(0 3 1 * ? *)", "Input": '{"month": "last"}'},
                        },
                        "Api": {"Type": "HttpApi", "Properties": {"Path": "/x", "Method": "GET"}},
                    }
                },
            }
        }
    }

    paid, monthly = event_rules(template)

    assert (paid.event_id, paid.pattern, paid.is_schedule) == ("Paid", {"source": ["operator.payments"]}, False)
    assert (monthly.schedule, monthly.input, monthly.is_schedule) == ("cron(0 3 1 * ? *)", '{"month": "last"}', True)


def test_a_template_without_rules_has_none(template: dict[str, Any]) -> None:
    assert event_rules({"Resources": {}}) == []
    assert all(rule.function_logical_id in functions(template) for rule in event_rules(template))


# -------------------------------------------------------------------------------------------- references


def _intrinsics(node: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Condition") and len(node) == 1:
                yield where, key, value
            yield from _intrinsics(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _intrinsics(value, f"{where}[{index}]")


def _sam_generated(template: dict[str, Any]) -> set[str]:
    # Resources SAM adds that a template may reference: a function's role when it names none, and an HTTP
    # API's `$default` stage (what a custom domain's mapping points at).
    roles = {
        f"{logical_id}Role"
        for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items()
        if "Role" not in (resource.get("Properties") or {})
    }
    stages = {
        f"{logical_id}ApiGatewayDefaultStage"
        for logical_id, resource in resources_of_type(template, "AWS::Serverless::HttpApi").items()
        if (resource.get("Properties") or {}).get("StageName") == "$default"
    }
    return roles | stages


def test_every_reference_names_something_that_exists(template: dict[str, Any]) -> None:
    resources = set(template.get("Resources") or {}) | _sam_generated(template)
    parameters = set(template.get("Parameters") or {})
    conditions = set(template.get("Conditions") or {})
    problems = []
    for where, kind, value in _intrinsics(template, "template"):
        if kind == "Ref":
            if value not in resources | parameters | PSEUDO_PARAMETERS:
                problems.append(f"{where}: Ref {value}")
        elif kind == "Fn::GetAtt":
            if value[0] not in resources:
                problems.append(f"{where}: GetAtt {value}")
        elif kind == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
            for name in re.findall(r"\$\{(?!!)([^}]+)\}", text):
                target = name.split(".")[0] if "::" not in name else name
                if target not in resources | parameters | PSEUDO_PARAMETERS | set(variables):
                    problems.append(f"{where}: Sub ${{{name}}}")
        elif kind == "Fn::If" and value[0] not in conditions:
            problems.append(f"{where}: If {value[0]}")
        elif kind == "Condition" and isinstance(value, str) and value not in conditions:
            problems.append(f"{where}: Condition {value}")
    assert not problems, "references to nothing:\n" + "\n".join(problems)


def test_every_authorizer_a_route_names_is_defined(template: dict[str, Any]) -> None:
    for api_id, api in resources_of_type(template, "AWS::Serverless::HttpApi").items():
        auth = (api.get("Properties") or {}).get("Auth") or {}
        defined = set(auth.get("Authorizers") or {}) | {"NONE"}
        if auth.get("EnableIamAuthorizer"):
            defined.add("AWS_IAM")
        if "DefaultAuthorizer" in auth:
            assert auth["DefaultAuthorizer"] in defined, f"{api_id}: DefaultAuthorizer is not defined"
        for function_id, function in resources_of_type(template, "AWS::Serverless::Function").items():
            for event_id, event in ((function.get("Properties") or {}).get("Events") or {}).items():
                properties = event.get("Properties") or {}
                if event.get("Type") != "HttpApi" or properties.get("ApiId") != {"Ref": api_id}:
                    continue
                named = (properties.get("Auth") or {}).get("Authorizer")
                assert named is None or named in defined, f"{function_id}.{event_id}: authorizer {named} undefined"


def test_every_stream_event_reads_a_table_of_the_template_with_a_bounded_retry() -> None:
    template = load_template()
    tables = resources_of_type(template, "AWS::DynamoDB::Table")

    subscriptions = stream_subscriptions(template)

    assert "OutboxRelayFunction" in {s.function_logical_id for s in subscriptions}
    for subscription in subscriptions:
        table = tables[subscription.table_logical_id]
        assert table["Properties"]["StreamSpecification"]["StreamViewType"]
        assert subscription.report_batch_item_failures, subscription
        assert subscription.maximum_retry_attempts >= 0, f"{subscription}: retried until the record expires"
