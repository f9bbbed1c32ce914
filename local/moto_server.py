"""moto as the local stack's SNS, SES, EventBridge, SQS and S3: an endpoint on 127.0.0.1 that the functions'
boto3 clients reach through `AWS_ENDPOINT_URL_<SERVICE>`, answered by moto's backends in this process.

moto's own `ThreadedMotoServer` needs Flask, which this project does not install. moto answers a request
for any service in-process (that is how `mock_aws` serves botocore), so a standard-library HTTP server in
front of that is the whole server. Running in this process is also what lets `local.outbox` read what was
delivered straight from moto's backends.

The service of a request is the one its SigV4 credential scope names, as in moto's server.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.background_server import BackgroundServer
from local.gateway.account import region

# Endpoint variables set for the functions: everything they call that is not DynamoDB (DynamoDB Local's).
# botocore reads `AWS_ENDPOINT_URL_<service id>`: EventBridge's is EVENTBRIDGE, not EVENTS.
SERVICES = ("SNS", "SESV2", "SES", "EVENTBRIDGE", "SQS", "S3")
# A signing name whose endpoint host differs from it.
HOST_PREFIXES = {"ses": "email"}
ARCHIVE = "local-outbox"  # keeps what the outbox relay puts on the default bus, for `/_local/outbox`
ARCHIVED_SOURCES = ("cashback.outbox",)
_SCOPE = re.compile(r"Credential=[^/]*/\d{8}/([^/]+)/([^/]+)/aws4_request")


def _moto_response(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, Any, Any]:
    from botocore.awsrequest import AWSPreparedRequest
    from botocore.compat import HTTPHeaders
    from moto.core.botocore_stubber import BotocoreStubber

    prepared_headers = HTTPHeaders()
    for name, value in headers:
        prepared_headers[name] = value
    request = AWSPreparedRequest(method=method, url=url, headers=prepared_headers, body=body, stream_output=False)
    answer = BotocoreStubber().process_request(request)
    if answer is None:
        return 404, {}, b"no moto backend for this request"
    return answer


def _internal_failure(request_headers: Any, message: str) -> tuple[int, dict[str, str], str]:
    """A 500 in the request's protocol (JSON or the query protocol's XML), so that botocore reads it."""
    content_type = request_headers.get("Content-Type", "")
    if "json" in content_type or request_headers.get("X-Amz-Target"):
        body = json.dumps({"__type": "InternalFailure", "message": message})
        return 500, {"Content-Type": "application/json", "x-amzn-ErrorType": "InternalFailure"}, body
    escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = (
        "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
        f"<Message>{escaped}</Message></Error></ErrorResponse>"
    )
    return 500, {"Content-Type": "text/xml"}, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scope = _SCOPE.search(self.headers.get("Authorization", ""))
        status: int
        headers: Any
        answer: Any
        if scope is None:
            status, headers, answer = 400, {}, b"unsigned request: no SigV4 credential scope"
        else:
            signing_region, service = scope.groups()
            host = f"{HOST_PREFIXES.get(service, service)}.{signing_region}.amazonaws.com"
            url = f"https://{host}{self.path}"
            forwarded = [(k, v) for k, v in self.headers.items() if k.lower() != "host"] + [("Host", host)]
            try:
                status, headers, answer = _moto_response(self.command, url, forwarded, body)
            except Exception as error:  # a moto bug: answer as AWS answers its own failures
                traceback.print_exc()
                status, headers, answer = _internal_failure(self.headers, f"moto: {type(error).__name__}: {error}")
        payload = answer.encode() if isinstance(answer, str) else bytes(answer or b"")
        self.send_response(int(status))
        for name, value in dict(headers or {}).items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return str(DEFAULT_ACCOUNT_ID)  # moto's, for any access key it was not told about


class MotoServer(BackgroundServer):
    """moto on `127.0.0.1:port` (0 picks a free one); a context manager."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", senders: Iterable[str] = (), buckets: Iterable[str] = ()
    ) -> None:
        super().__init__(port, host)
        self.senders = tuple(senders)
        self.buckets = tuple(buckets)

    @property
    def environment(self) -> dict[str, str]:
        """The variables that send the functions' clients of these services here."""
        return {f"AWS_ENDPOINT_URL_{service}": self.url for service in SERVICES}

    def start(self) -> MotoServer:
        self._serve(_Server((self.host, self.port), _Handler), "local-moto")
        self.prepare()
        return self

    def prepare(self) -> None:
        """What the stack needs moto to hold before anything is sent: the senders' verified email identities,
        the archive of the default bus and the template's buckets. Idempotent, and cheap enough to call
        before each delivery: a test's `mock_aws` in the same process resets every moto backend."""
        from moto.events.models import events_backends
        from moto.s3.models import s3_backends
        from moto.ses.models import ses_backends

        ses = ses_backends[_account()][region()]
        for sender in self.senders:
            ses.verify_email_identity(sender)  # a no-op for one already verified
        events = events_backends[_account()][region()]
        if ARCHIVE not in events.archives:
            bus = events.describe_event_bus("default")
            pattern = json.dumps({"source": list(ARCHIVED_SOURCES)})
            events.create_archive(ARCHIVE, bus.arn, "what left through the default bus", pattern, "0")
        s3 = s3_backends[_account()]["global"]
        for bucket in self.buckets:
            if bucket not in s3.buckets:
                s3.create_bucket(bucket, region())


# ------------------------------------------------------------------------------ what moto was sent


def sent_sms(provider_message_id: str) -> tuple[str, str] | None:
    """(phone, text) of the SMS that SNS accepted under `provider_message_id`."""
    from moto.sns.models import sns_backends

    found: tuple[str, str] | None = sns_backends[_account()][region()].sms_messages.get(provider_message_id)
    return found


def sent_email(provider_message_id: str) -> dict[str, Any] | None:
    """{"to", "subject", "text"} of the email that SES accepted under `provider_message_id`."""
    from moto.ses.models import ses_backends

    for message in ses_backends[_account()][region()].sent_messages:
        if getattr(message, "id", None) == provider_message_id:
            destinations = getattr(message, "destinations", {}) or {}
            to = [*destinations.get("ToAddresses", [])] if isinstance(destinations, dict) else list(destinations)
            return {"to": to, "subject": getattr(message, "subject", None), "text": getattr(message, "body", None)}
    return None


def archived_events() -> list[dict[str, Any]]:
    """The events the default bus received from the outbox relay, oldest first."""
    from moto.events.models import events_backends

    archive = events_backends[_account()][region()].archives.get(ARCHIVE)
    return [dict(event) for event in archive.events] if archive is not None else []
