"""The local gateway answers any method as API Gateway does: a method no route has is 404 `Not Found`
(TRACE, PROPFIND, anything), never the standard library's 501 page."""

from __future__ import annotations

import http.client
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.gateway.server import LocalGateway
from tests.fixtures.dynamodb_local import ApiClient, MintMemberToken

NOT_FOUND = {"message": "Not Found"}
ROUTED_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}  # what the template's routes use


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT", "MKCOL", "LOCK", "BREW"])
@pytest.mark.parametrize("path", ["/partners", "/members/me", "/no/such/route", "/_local/outbox"])
def test_a_method_no_route_has_is_api_gateways_404(api: ApiClient, method: str, path: str) -> None:
    response = api.request(method, path)

    assert (response.status, response.json()) == (404, NOT_FOUND)
    assert response.headers["Content-Type"] == "application/json"


def test_trace_does_not_echo_the_request(api: ApiClient, member_token: MintMemberToken) -> None:
    token, _ = member_token()

    response = api.request("TRACE", "/members/me", token=token, headers={"X-Secret": "do-not-echo"})

    assert (response.status, response.json()) == (404, NOT_FOUND)
    assert b"do-not-echo" not in response.body
    assert token.encode() not in response.body


def test_an_unknown_method_with_a_body_leaves_the_connection_usable(local_gateway: LocalGateway) -> None:
    # The body is read with its request: left unread, it would be taken for the next request on the connection.
    connection = http.client.HTTPConnection(local_gateway.host, local_gateway.port, timeout=30)
    try:
        connection.request("PROPFIND", "/partners", body=b"<a></a>", headers={"Content-Type": "application/xml"})
        first = connection.getresponse()
        first_body = first.read()
        connection.request("GET", "/partners")
        second = connection.getresponse()
        second.read()
    finally:
        connection.close()

    assert (first.status, json.loads(first_body)) == (404, NOT_FOUND)
    assert second.status == 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.from_regex(r"\A[A-Z][A-Z-]{0,15}\Z").filter(lambda m: m not in ROUTED_METHODS))
def test_any_unrouted_method_is_404(api: ApiClient, method: str) -> None:
    response = api.request(method, "/partners")

    assert (response.status, response.json()) == (404, NOT_FOUND)
