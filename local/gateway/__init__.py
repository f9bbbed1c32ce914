"""The project's local API gateway: template.yaml's HTTP API routes on 127.0.0.1, handlers run in-process.

It plays API Gateway's part as a client would notice it: the same routes and route precedence, the
payload v2.0 event, the JWT and IAM authorizers (with tokens minted by `local.tokens`), the response
mapping, the error bodies API Gateway writes itself, and the 10 MB request limit. It also serves the
local-only routes of API.md (`/_local/...`) that let people and tests drive the stack end to end, and
delivers the tables' streams to the functions subscribed to them, as Lambda's event source mappings do.
"""

from local.gateway.server import LocalGateway

__all__ = ["LocalGateway"]
