"""Who can call what, as template.yaml deploys it: members sign in by SMS code or password with a verified
phone; admin and pos callers are separate roles, each allowed only its own routes, and the functions are
told which role is which."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from local.template import FUNCTION_TYPE, caller_role, function_environment, http_routes, load_template
from local.template import resources_of_type as of_type

CONTEXT = {"AWS::Partition": "aws", "AWS::Region": "eu-central-1", "AWS::AccountId": "123456789012", "HttpApi": "api1"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return dict(template["Resources"][logical_id]["Properties"])


def test_members_sign_in_by_sms_code_or_password_with_a_phone_cognito_verifies(template: dict[str, Any]) -> None:
    pool = props(template, "MemberUserPool")

    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert pool["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"] == ["SMS_OTP", "PASSWORD"]
    assert pool["UsernameAttributes"] == ["phone_number"]
    assert pool["AutoVerifiedAttributes"] == ["phone_number"]
    assert pool["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"] == ["phone_number"]
    sms = pool["SmsConfiguration"]
    assert sms["SnsCallerArn"] == {"Fn::GetAtt": ["CognitoSmsRole", "Arn"]}
    # The role Cognito sends SMS with is usable by this pool's configuration only (its external id)
    trust = props(template, "CognitoSmsRole")["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "cognito-idp.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["sts:ExternalId"] == sms["ExternalId"]


def test_the_app_client_signs_in_by_choice_and_cannot_write_what_it_must_not(template: dict[str, Any]) -> None:
    client = props(template, "MemberUserPoolClient")

    assert "ALLOW_USER_AUTH" in client["ExplicitAuthFlows"]
    assert not {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"} & set(client["ExplicitAuthFlows"])
    assert client["GenerateSecret"] is False  # a mobile app keeps no secret
    assert client["WriteAttributes"] == ["phone_number"]  # never phone_number_verified
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def _allowed(template: dict[str, Any], role: str, method: str, path: str) -> bool:
    arn = f"arn:aws:execute-api:eu-central-1:123456789012:api1/$default/{method}{path}"
    patterns = caller_role(template, role, CONTEXT).invoke_resources
    return any(fnmatch.fnmatchcase(arn, p.replace("[", "[[]")) for p in patterns)


def _concrete(path: str) -> str:
    return path.replace("{partner_id}", "p-1").replace("{claim_id}", "c-1").replace("{month}", "2026-10")


def test_each_operator_role_may_invoke_its_own_routes_only(template: dict[str, Any]) -> None:
    iam_routes = [r for r in http_routes(template) if r.auth == "iam"]
    assert iam_routes

    for route in iam_routes:
        path = _concrete(route.path)
        admin, pos = (
            _allowed(template, "AdminCallerRole", route.method, path),
            _allowed(template, "PosCallerRole", route.method, path),
        )
        if route.path.startswith("/admin/"):
            assert (admin, pos) == (True, False), route.route_key
        else:
            assert (admin, pos) == (False, True), route.route_key
    assert not _allowed(template, "PosCallerRole", "GET", "/certificates/redeem")


def test_a_terminals_session_is_named_by_its_principals_tags(template: dict[str, Any]) -> None:
    [trust] = props(template, "PosCallerRole")["AssumeRolePolicyDocument"]["Statement"]

    session = trust["Condition"]["StringEquals"]["sts:RoleSessionName"]
    assert session == "${aws:PrincipalTag/cashback-store-id}@${aws:PrincipalTag/cashback-terminal-id}"
    assert set(trust["Condition"]["StringLike"]) == {
        "aws:PrincipalTag/cashback-store-id",
        "aws:PrincipalTag/cashback-terminal-id",
    }


def test_each_function_with_operator_routes_knows_the_role_its_callers_assume(template: dict[str, Any]) -> None:
    expected = {
        "ADMIN_CALLER_ROLE": caller_role(template, "AdminCallerRole", CONTEXT).name,
        "POS_CALLER_ROLE": caller_role(template, "PosCallerRole", CONTEXT).name,
    }
    for function_id in of_type(template, FUNCTION_TYPE):
        routes = [r for r in http_routes(template) if r.function_logical_id == function_id and r.auth == "iam"]
        environment = function_environment(template, function_id, {})
        for route in routes:
            variable = "ADMIN_CALLER_ROLE" if route.path.startswith("/admin/") else "POS_CALLER_ROLE"
            assert environment.get(variable) == expected[variable], (function_id, route.route_key)
