"""Issue 11's acceptance, through the stack `make run` starts (`python -m local.run`, DynamoDB Local keeping
its data in a directory): the certificate code reaches the member by SMS and the email code by email, and
neither is written anywhere in DynamoDB Local's files, in any spelling.

The stack runs in a process of its own, as `make run` does: one process hosts one stack's functions.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.dynamodb import free_port
from local.template import REPO
from tests.fixtures.dynamodb_local import ApiClient, random_phone

READY_SECONDS = 90
CERTIFICATE_CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]\b")
EMAIL_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


class Stack:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = free_port()
        self.api = ApiClient(f"http://127.0.0.1:{self.port}")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Stack:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        environment["PYTHONPATH"] = os.pathsep.join([str(REPO / "layers" / "cashback" / "python"), str(REPO)])
        environment["LOCAL_STACK_FILE"] = str(self.data_dir.parent / "local-stack.json")
        command = [sys.executable, "-m", "local.run", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        self._process = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        ready = threading.Event()
        threading.Thread(target=self._keep_output, args=(self._process, ready), daemon=True).start()
        if not ready.wait(READY_SECONDS) or self._process.poll() is not None:
            self.stop()
            raise AssertionError(f"local.run did not start within {READY_SECONDS} s:\n{self.output()}")
        return self

    def _keep_output(self, process: subprocess.Popen[bytes], ready: threading.Event) -> None:
        # Read to the end: a full pipe would block the stack's logging, and with it the stack.
        assert process.stdout is not None
        with self.log.open("wb") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                if b"Cashback platform running on" in line:
                    ready.set()
        ready.set()  # it exited: start() looks at why

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def database_bytes(self) -> dict[str, bytes]:
        return {str(path): path.read_bytes() for path in self.data_dir.rglob("*") if path.is_file()}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path / "dynamodb", tmp_path / "local-run.log").start()
    try:
        yield running
    finally:
        running.stop()
        print(running.output())  # pytest shows it when the test failed


def spellings(code: str) -> set[bytes]:
    bare = code.replace("-", "")
    grouped = {code, bare, " ".join(code.split("-"))}
    return {variant.encode() for text in grouped for variant in (text.upper(), text.lower())}


def test_codes_reach_the_member_and_no_database_file_holds_them(stack: Stack) -> None:
    api = stack.api
    # Given a member signed in with a locally minted token, enrolled, saving for a smartphone, with bonuses
    phone, email = random_phone(), "member@example.com"
    token = api.post("/_local/token", json={"phone": phone}).json()["token"]
    member_id = api.post("/members", token=token).json()["member_id"]
    assert api.patch("/members/me", json={"goal": "smartphone"}, token=token).status == 200
    admin = api.post("/_local/token", json={"role": "admin"}).json()["token"]
    credit = api.post(
        "/admin/adjustments",
        json={"member_id": member_id, "amount": 1_500, "reason": "Cashback for October"},
        token=admin,
        headers={"Idempotency-Key": f"seed-{member_id}"},
    )
    assert credit.status == 201, credit.text

    # When they buy a certificate and ask to confirm their email
    bought = api.post(
        "/certificates", json={"denomination": 1_000}, token=token, headers={"Idempotency-Key": "codes-order-1"}
    )
    assert bought.status == 201, bought.text
    assert api.post("/members/me/email", json={"email": email}, token=token).status == 202
    delivered = api.get("/_local/outbox", limit=200).json()["items"]

    # Then the SMS to their phone holds the certificate's code, and the email to them the email code
    [sms] = [m for m in delivered if m["kind"] == "sms" and m.get("to") == phone]
    [certificate_code] = CERTIFICATE_CODE.findall(sms["body"])
    if "code" in bought.json():
        assert certificate_code == bought.json()["code"]
    [mail] = [m for m in delivered if m["kind"] == "email" and m.get("to") == email]
    [email_code] = EMAIL_CODE.findall(mail["body"]["text"])
    confirmed = api.post("/members/me/email/confirm", json={"code": email_code}, token=token)
    assert confirmed.status == 200, confirmed.text

    # And once the stack has stopped, no file of DynamoDB Local's data holds either code in any spelling,
    # while the same search finds the certificate's id there (the search sees the data)
    stack.stop()
    files = stack.database_bytes()
    certificate_id = bought.json()["certificate_id"].encode()
    assert any(certificate_id in content for content in files.values()), f"no certificate id in {list(files)}"
    for spelling in spellings(certificate_code):
        holding = [path for path, content in files.items() if spelling in content]
        assert not holding, f"{spelling!r} is stored in {holding}"
    digits_only = re.compile(rb"(?<![0-9])" + email_code.encode() + rb"(?![0-9])")
    holding = [path for path, content in files.items() if digits_only.search(content)]
    assert not holding, f"the email code {email_code} is stored in {holding}"
