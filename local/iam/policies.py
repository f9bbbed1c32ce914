"""What each function's policies in template.yaml allow: a small evaluator of the statements the template
writes (inline `Statement`s and the SAM policy templates below), enough to prove that every AWS call the
tests saw a function make is allowed.

Only what the template uses is understood, and anything else is refused loudly rather than guessed:
`Effect: Allow` statements with `Action` and `Resource` (strings or lists, IAM wildcards `*` and `?`),
resources written as strings, `!GetAtt`, `!Ref`, `!Sub`, `!Join`, and `!Select` of a `!Split`. A Deny, a
Condition, NotAction, NotResource, a managed policy or an unknown policy template raise `PolicyError`.

Not modelled (none is a call the function's code makes): the execution role's AWSLambdaBasicExecutionRole,
the event source mappings' own permissions (SQS polling, stream reads) and X-Ray tracing, all of which
SAM adds itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from local.iam.calls import Need
from local.iam.stack import Stack, UnresolvableError
from local.template import FUNCTION_TYPE, resources_of_type


class PolicyError(UnresolvableError):
    pass


@dataclass(frozen=True, order=True)
class Grant:
    """One action on one resource that a function's policy allows; either may hold IAM wildcards."""

    action: str
    resource: str

    def allows(self, need: Need) -> bool:
        return _pattern(self.action, ignore_case=True).fullmatch(need.action) is not None and (
            _pattern(self.resource, ignore_case=False).fullmatch(need.resource) is not None
        )


@lru_cache(maxsize=1024)
def _pattern(wildcard: str, *, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in wildcard)
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _table_resources() -> list[Any]:
    arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}"
    return [
        {"Fn::Sub": [arn, {"tableName": {"Ref": "TableName"}}]},
        {"Fn::Sub": [arn + "/index/*", {"tableName": {"Ref": "TableName"}}]},
    ]


# SAM's policy templates (samtranslator/policy_templates_data/policy_templates.json), as SAM expands them.
POLICY_TEMPLATES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "DynamoDBCrudPolicy": (
        "TableName",
        [
            {
                "Effect": "Allow",
                "Action": [
                    *("dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan"),
                    *("dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"),
                    *("dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"),
                ],
                "Resource": _table_resources(),
            }
        ],
    ),
    "DynamoDBReadPolicy": (
        "TableName",
        [
            {
                "Effect": "Allow",
                "Action": [
                    *("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem"),
                    "dynamodb:DescribeTable",
                ],
                "Resource": _table_resources(),
            }
        ],
    ),
    "DynamoDBWritePolicy": (
        "TableName",
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
                "Resource": _table_resources(),
            }
        ],
    ),
    "SQSSendMessagePolicy": (
        "QueueName",
        [
            {
                "Effect": "Allow",
                "Action": ["sqs:SendMessage*"],
                "Resource": {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}",
                        {"queueName": {"Ref": "QueueName"}},
                    ]
                },
            }
        ],
    ),
    "EventBridgePutEventsPolicy": (
        "EventBusName",
        [
            {
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${eventBusName}",
                        {"eventBusName": {"Ref": "EventBusName"}},
                    ]
                },
            }
        ],
    ),
    "AWSSecretsManagerGetSecretValuePolicy": (
        "SecretArn",
        [
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": {"Fn::Sub": ["${secretArn}", {"secretArn": {"Ref": "SecretArn"}}]},
            }
        ],
    ),
}


class Resolver:
    """Resolves the intrinsics of one policy; `variables` are a policy template's parameters."""

    def __init__(self, stack: Stack, variables: Mapping[str, str] | None = None) -> None:
        self._stack = stack
        self._variables = dict(variables or {})

    def value(self, node: Any) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and len(node) == 1:
            [(function, argument)] = node.items()
            if function == "Ref":
                return self._variables[argument] if argument in self._variables else self._stack.ref(argument)
            if function == "Fn::GetAtt":
                resource, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._stack.get_att(resource, attribute)
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::Join":
                separator, parts = argument
                return str(separator).join(self.value(part) for part in parts)
            if function == "Fn::Select" and isinstance(argument[1], dict) and set(argument[1]) == {"Fn::Split"}:
                separator, text = argument[1]["Fn::Split"]
                return self.value(text).split(str(separator))[int(argument[0])]
        raise PolicyError(f"{node!r} is not understood by the IAM proof")

    def _sub(self, argument: Any) -> str:
        text, extra = (argument, {}) if isinstance(argument, str) else argument
        local = {name: self.value(value) for name, value in extra.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal}
                return "${" + name[1:] + "}"
            if name in local:
                return local[name]
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self._stack.get_att(resource, attribute)
            return self.value({"Ref": name})

        return re.sub(r"\$\{([^}]+)\}", substitute, str(text))


def _strings(value: Any, resolver: Resolver) -> list[str]:
    return [resolver.value(item) for item in (value if isinstance(value, list) else [value])]


def _statement_grants(statement: Mapping[str, Any], resolver: Resolver, where: str) -> list[Grant]:
    unsupported = {"NotAction", "NotResource", "NotPrincipal", "Condition", "Principal"} & set(statement)
    if unsupported:
        raise PolicyError(f"{where}: {', '.join(sorted(unsupported))} is not understood by the IAM proof")
    if statement.get("Effect") != "Allow":
        raise PolicyError(f"{where}: the IAM proof understands Effect: Allow only, not {statement.get('Effect')!r}")
    actions, resources = statement.get("Action"), statement.get("Resource")
    if actions is None or resources is None:
        raise PolicyError(f"{where}: a statement needs Action and Resource")
    return [Grant(a, r) for a in _strings(actions, resolver) for r in _strings(resources, resolver)]


def _policy_grants(policy: Any, stack: Stack, where: str) -> list[Grant]:
    if isinstance(policy, dict) and "Statement" in policy:
        statements, resolver = policy["Statement"], Resolver(stack)
    elif isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)) in POLICY_TEMPLATES:
        [(name, arguments)] = policy.items()
        parameter, statements = POLICY_TEMPLATES[name]
        if not isinstance(arguments, dict) or set(arguments) != {parameter}:
            raise PolicyError(f"{where}: {name} takes {{{parameter}: ...}}, not {arguments!r}")
        resolver = Resolver(stack, {parameter: Resolver(stack).value(arguments[parameter])})
    else:
        raise PolicyError(f"{where}: {policy!r} is neither an inline policy nor a known SAM policy template")
    if isinstance(statements, dict):
        statements = [statements]
    return [grant for statement in statements for grant in _statement_grants(statement, resolver, where)]


def function_grants(stack: Stack) -> dict[str, list[Grant]]:
    """Every function of the template -> what its policies allow (empty for a function without any)."""
    grants = {}
    for logical_id, resource in resources_of_type(stack.template, FUNCTION_TYPE).items():
        policies = (resource.get("Properties") or {}).get("Policies") or []
        if not isinstance(policies, list):
            policies = [policies]
        grants[logical_id] = [
            grant
            for number, policy in enumerate(policies)
            for grant in _policy_grants(policy, stack, f"{logical_id} Policies[{number}]")
        ]
    return grants


def allowed(grants: Iterable[Grant], need: Need) -> bool:
    return any(grant.allows(need) for grant in grants)
