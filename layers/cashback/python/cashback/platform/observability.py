"""One logger and metrics set per function; the service name comes from POWERTOOLS_SERVICE_NAME.

No powertools Tracer: the X-Ray SDK under it is in maintenance mode (end of support 2027-02-25) and cost
each handler ~150 ms of cold import. Lambda's active tracing (template.yaml, Tracing: Active) still
records every invocation's segment.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
