"""template.yaml as the one source of truth for the local stack: tables, environment, routes and rules.

Only what the local stack needs is interpreted; intrinsic functions are resolved where a local value
exists (a table's local name, a parameter's default) and skipped where none does (ARNs, GetAtt).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

REPO = Path(__file__).resolve().parent.parent

TABLE_TYPE = "AWS::DynamoDB::Table"
BUCKET_TYPE = "AWS::S3::Bucket"
FUNCTION_TYPE = "AWS::Serverless::Function"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
RULE_EVENT_TYPES = ("EventBridgeRule", "CloudWatchEvent")
SCHEDULE_EVENT_TYPES = ("Schedule", "ScheduleV2")

Auth = Literal["jwt", "iam", "none"]


# --------------------------------------------------------------------------------------------- loading


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation's short tags (`!Ref X`) as their long form (`{"Ref": "X"}`)."""


def _long_form(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if name == "Fn::GetAtt" and isinstance(value, str):
            resource, _, attribute = value.partition(".")
            value = [resource, attribute]
        return {name: value}

    return construct


_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        tag: f"Fn::{tag}"
        for tag in (
            "GetAtt",
            "Sub",
            "If",
            "Equals",
            "Select",
            "Join",
            "Split",
            "FindInMap",
            "Base64",
            "ImportValue",
            "Not",
            "And",
            "Or",
            "GetAZs",
            "Cidr",
        )
    },
}
for _tag, _name in _SHORT_TAGS.items():
    CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(_name))


def load_template(path: Path = REPO / "template.yaml") -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 (a SafeLoader subclass)
    if not isinstance(template, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return template


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") == resource_type
    }


def _properties(resource: Mapping[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def _function_globals(template: Mapping[str, Any]) -> dict[str, Any]:
    return (template.get("Globals") or {}).get("Function") or {}


# ---------------------------------------------------------------------------------------------- tables


def _kebab(logical_id: str) -> str:
    # "PostbackOrphans" -> "postback-orphans", "APIKeys" -> "api-keys"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", logical_id).lower()


def table_names(template: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """Logical id of every table -> its local physical name, e.g. LedgerTable -> "<prefix>-ledger"."""
    names = {}
    for logical_id in resources_of_type(template, TABLE_TYPE):
        stem = logical_id.removesuffix("Table") or logical_id
        name = f"{prefix}-{_kebab(stem)}"
        if not 3 <= len(name) <= 255 or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"{logical_id}: {name!r} is not a valid DynamoDB table name")
        names[logical_id] = name
    return names


def _table_request(properties: Mapping[str, Any], name: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    index_fields = ("IndexName", "KeySchema", "Projection")
    for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if properties.get(kind):
            request[kind] = [{k: index[k] for k in index_fields if k in index} for index in properties[kind]]
    stream = properties.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return request


def create_tables(template: Mapping[str, Any], names: Mapping[str, str], endpoint_url: str | None) -> None:
    """Create every table of the template that does not exist yet; existing tables are left as they are."""
    import boto3  # imported here: loading the template alone should not pay for boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1",
    )
    existing = set(client.list_tables().get("TableNames", []))  # a local stack has few tables: one page
    for logical_id, resource in resources_of_type(template, TABLE_TYPE).items():
        name = names[logical_id]
        if name in existing:
            continue
        properties = _properties(resource)
        try:
            client.create_table(**_table_request(properties, name))
        except client.exceptions.ResourceInUseException:
            continue  # created meanwhile by a concurrent caller
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled") and ttl.get("AttributeName"):
            try:
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
            except Exception:  # noqa: S112  (TTL only expires data; a backend without it is still usable)
                continue


# --------------------------------------------------------------------------------------------- buckets


def bucket_names(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical id of every S3 bucket -> its local name, e.g. ReceiptsBucket -> "cashback-receipts". One
    name for every local stack and test: moto's buckets live in the process that serves them."""
    return {
        logical_id: f"cashback-{_kebab(logical_id.removesuffix('Bucket') or logical_id)}"
        for logical_id in resources_of_type(template, BUCKET_TYPE)
    }


def create_buckets(template: Mapping[str, Any], endpoint_url: str | None) -> None:
    """Create every bucket of the template that does not exist yet (moto's S3, through boto3)."""
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"
    client = boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=Config(s3={"addressing_style": "path"})
    )
    existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
    for name in bucket_names(template).values():
        if name not in existing:
            client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


# --------------------------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str
    memory_size: int
    timeout: int


def functions(template: Mapping[str, Any]) -> dict[str, FunctionSpec]:
    defaults = _function_globals(template)
    specs = {}
    for logical_id, resource in resources_of_type(template, FUNCTION_TYPE).items():
        properties = {**defaults, **_properties(resource)}
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=str(properties.get("CodeUri", "")),
            handler=str(properties.get("Handler", "")),
            memory_size=int(properties.get("MemorySize", 128)),
            timeout=int(properties.get("Timeout", 3)),
        )
    return specs


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def function_environment(
    template: Mapping[str, Any], function_logical_id: str, names: Mapping[str, str]
) -> dict[str, str]:
    """The function's environment as the local stack can know it; variables without a local value are left out."""
    resource = resources_of_type(template, FUNCTION_TYPE)[function_logical_id]
    global_variables = (_function_globals(template).get("Environment") or {}).get("Variables") or {}
    own_variables = (_properties(resource).get("Environment") or {}).get("Variables") or {}
    parameters = template.get("Parameters") or {}
    buckets = bucket_names(template)

    environment = {}
    for variable, value in {**global_variables, **own_variables}.items():
        resolved = _scalar(value)
        if isinstance(value, dict) and set(value) == {"Ref"}:
            target = value["Ref"]
            if target in names:
                resolved = names[target]
            elif target in buckets:
                resolved = buckets[target]
            elif target in parameters and "Default" in parameters[target]:
                resolved = _scalar(parameters[target]["Default"])
        elif isinstance(value, dict) and set(value) == {"Fn::Sub"}:
            resolved = substitute_parameters(template, value["Fn::Sub"])
        if resolved is not None:
            environment[variable] = resolved
    return environment


EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email_addresses(template: Mapping[str, Any], names: Mapping[str, str]) -> set[str]:
    """Every email address the template gives a function (the senders that SES must have verified)."""
    return {
        value
        for logical_id in functions(template)
        for value in function_environment(template, logical_id, names).values()
        if EMAIL_ADDRESS.fullmatch(value)
    }


def substitute_parameters(template: Mapping[str, Any], text: Any, extra: Mapping[str, str] | None = None) -> str | None:
    """A `!Sub` string whose every `${Name}` is a parameter with a default (or in `extra`); else None."""
    if not isinstance(text, str):
        return None
    parameters = template.get("Parameters") or {}
    known = {name: _scalar(p.get("Default")) for name, p in parameters.items() if "Default" in p} | dict(extra or {})
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = known.get(match.group(1))
        if found is None:
            missing = True
            return ""
        return found

    resolved = re.sub(r"\$\{([^}!]+)\}", value, text)
    return None if missing else resolved


@dataclass(frozen=True)
class CallerRole:
    """An IAM role the template defines for callers of its IAM-authorised routes, as the local gateway
    plays it: its name, and the execute-api resources its policies allow (IAM wildcards)."""

    logical_id: str
    name: str
    invoke_resources: tuple[str, ...]


def caller_role(template: Mapping[str, Any], logical_id: str, context: Mapping[str, str]) -> CallerRole:
    """`context` gives the pseudo parameters and resources the policies' `!Sub` strings name (the region,
    the account, the API's id)."""
    resource = resources_of_type(template, "AWS::IAM::Role")[logical_id]
    properties = _properties(resource)
    name = substitute_parameters(template, (properties.get("RoleName") or {}).get("Fn::Sub"), context)
    if name is None:
        raise ValueError(f"{logical_id}: RoleName must be a !Sub of parameters the local stack knows")
    allowed = []
    for policy in properties.get("Policies") or []:
        for statement in (policy.get("PolicyDocument") or {}).get("Statement") or []:
            actions = statement.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            if statement.get("Effect") != "Allow" or "execute-api:Invoke" not in actions:
                continue
            resources = statement.get("Resource")
            for item in resources if isinstance(resources, list) else [resources]:
                text = item.get("Fn::Sub") if isinstance(item, dict) else item
                resolved = substitute_parameters(template, text, context)
                if resolved is not None:
                    allowed.append(resolved)
    return CallerRole(logical_id, name, tuple(allowed))


def table_variables(template: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, str]:
    """Every variable that names a table, from every function ("LEDGER_TABLE" -> its local name)."""
    return {
        variable: value
        for logical_id in functions(template)
        for variable, value in function_environment(template, logical_id, names).items()
        if value in names.values()
    }


# ------------------------------------------------------------------------------------------------ routes


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # "/members/me", "/partners/{partner_id}", "/{proxy+}"
    function_logical_id: str
    code_uri: str
    handler: str
    auth: Auth
    event_id: str = ""

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def _auth_kind(authorizer: Any) -> Auth:
    if authorizer is None:
        return "none"
    if authorizer == "NONE":
        return "none"
    if authorizer == "AWS_IAM":
        return "iam"
    return "jwt"


def _default_authorizer(template: Mapping[str, Any], api_id: Any) -> Any:
    api_global = (template.get("Globals") or {}).get("HttpApi") or {}
    auth = dict(api_global.get("Auth") or {})
    if isinstance(api_id, dict) and "Ref" in api_id:
        api = resources_of_type(template, HTTP_API_TYPE).get(api_id["Ref"])
        if api is not None:
            auth.update(_properties(api).get("Auth") or {})
    return auth.get("DefaultAuthorizer")


def http_routes(template: Mapping[str, Any]) -> list[Route]:
    routes = []
    specs = functions(template)
    for logical_id, resource in resources_of_type(template, FUNCTION_TYPE).items():
        for event_id, event in (_properties(resource).get("Events") or {}).items():
            if event.get("Type") != "HttpApi":
                continue
            properties = event.get("Properties") or {}
            auth = properties.get("Auth") or {}
            authorizer = auth.get("Authorizer", _default_authorizer(template, properties.get("ApiId")))
            method = str(properties.get("Method", "ANY")).upper()
            routes.append(
                Route(
                    method="ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method,
                    path=str(properties.get("Path", "/{proxy+}")),  # no path: the API's $default route
                    function_logical_id=logical_id,
                    code_uri=specs[logical_id].code_uri,
                    handler=specs[logical_id].handler,
                    auth=_auth_kind(authorizer),
                    event_id=event_id,
                )
            )
    return routes


# ------------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class EventRule:
    """One function event that is not an HTTP route: an EventBridge pattern or a schedule."""

    function_logical_id: str
    event_id: str
    event_type: str  # "EventBridgeRule", "CloudWatchEvent", "Schedule" or "ScheduleV2"
    pattern: dict[str, Any] | None = None  # rules only
    schedule: str | None = None  # schedules only: "rate(1 day)", "cron(...)"
    input: str | None = None  # the target's fixed Input (a JSON string), if any
    input_path: str | None = None

    @property
    def is_schedule(self) -> bool:
        return self.event_type in SCHEDULE_EVENT_TYPES


def event_rules(template: Mapping[str, Any]) -> list[EventRule]:
    rules = []
    for logical_id, resource in resources_of_type(template, FUNCTION_TYPE).items():
        for event_id, event in (_properties(resource).get("Events") or {}).items():
            event_type = event.get("Type")
            properties = event.get("Properties") or {}
            target_input = properties.get("Input")
            common = {
                "function_logical_id": logical_id,
                "event_id": event_id,
                "event_type": event_type,
                "input": target_input if isinstance(target_input, str) else None,
                "input_path": properties.get("InputPath"),
            }
            if event_type in RULE_EVENT_TYPES:
                rules.append(EventRule(pattern=properties.get("Pattern") or {}, **common))
            elif event_type in SCHEDULE_EVENT_TYPES:
                expression = properties.get("Schedule") or properties.get("ScheduleExpression")
                rules.append(EventRule(schedule=_scalar(expression), **common))
    return rules


# ----------------------------------------------------------------------------------------------- streams


@dataclass(frozen=True)
class StreamSubscription:
    """One function event of `Type: DynamoDB`: Lambda's event source mapping on a table's stream."""

    function_logical_id: str
    event_id: str
    table_logical_id: str
    starting_position: str = "TRIM_HORIZON"  # or "LATEST"
    batch_size: int = 100  # Lambda's default for DynamoDB streams
    filters: tuple[dict[str, Any], ...] = ()  # FilterCriteria patterns; a record matching any is delivered
    report_batch_item_failures: bool = False
    maximum_retry_attempts: int = -1  # -1: until the record expires, Lambda's default
    enabled: bool = True


def _stream_table(stream: Any) -> str:
    # `!GetAtt OutboxTable.StreamArn`, the one way template.yaml names a stream
    if isinstance(stream, dict) and "Fn::GetAtt" in stream:
        resource, attribute = stream["Fn::GetAtt"]
        if attribute in ("StreamArn", "LatestStreamArn"):
            return str(resource)
    raise ValueError(f"unsupported DynamoDB event Stream {stream!r}: use !GetAtt <Table>.StreamArn")


def stream_subscriptions(template: Mapping[str, Any]) -> list[StreamSubscription]:
    subscriptions = []
    for logical_id, resource in resources_of_type(template, FUNCTION_TYPE).items():
        for event_id, event in (_properties(resource).get("Events") or {}).items():
            if event.get("Type") != "DynamoDB":
                continue
            properties = event.get("Properties") or {}
            filters = ((properties.get("FilterCriteria") or {}).get("Filters")) or []
            subscriptions.append(
                StreamSubscription(
                    function_logical_id=logical_id,
                    event_id=event_id,
                    table_logical_id=_stream_table(properties.get("Stream")),
                    starting_position=str(properties.get("StartingPosition", "TRIM_HORIZON")),
                    batch_size=int(properties.get("BatchSize", 100)),
                    filters=tuple(json.loads(f["Pattern"]) for f in filters),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (properties.get("FunctionResponseTypes") or []),
                    maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                    enabled=properties.get("Enabled", True) is not False,
                )
            )
    return subscriptions
