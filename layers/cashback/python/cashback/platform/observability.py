"""One logger, tracer and metrics set per function; the service name comes from POWERTOOLS_SERVICE_NAME."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
