"""How tools find a running `make run` stack: the state file local.run writes while it serves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from local import stack_state
from local.stack_state import LocalStack

STACK = LocalStack("http://127.0.0.1:8123", {"LEDGER_TABLE": "cashback-local-ledger"}, os.getpid())


@pytest.fixture
def state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / ".data" / "local-stack.json"
    monkeypatch.setenv("LOCAL_STACK_FILE", str(path))
    return path


def _finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_running_stack_is_found_from_its_file(state_file: Path) -> None:
    assert stack_state.find() is None
    stack_state.write(STACK)
    assert stack_state.find() == STACK


def test_a_file_left_by_a_killed_stack_is_no_stack(state_file: Path) -> None:
    stack_state.write(LocalStack(STACK.endpoint, STACK.tables, _finished_pid()))
    assert stack_state.find() is None


def test_a_stack_removes_its_own_file_only(state_file: Path) -> None:
    stack_state.write(STACK)
    stack_state.remove(os.getpid() + 1)  # another stack, stopping, leaves this one's file alone
    assert state_file.exists()
    stack_state.remove(os.getpid())
    assert not state_file.exists()
    stack_state.remove(os.getpid())  # and there is nothing to remove twice


def test_the_environment_is_pointed_at_a_running_stack(state_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_TABLE", "cashback-prod-ledger")
    # Set, then deleted: monkeypatch restores only what it saw, and the stack sets it (other tests use moto).
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "unset-after-this-test")
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
    stack_state.write(STACK)
    assert stack_state.use_running_stack() == STACK
    assert os.environ["LEDGER_TABLE"] == "cashback-local-ledger"
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == STACK.endpoint


def test_without_a_stack_the_environment_is_left_alone(state_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_TABLE", "cashback-prod-ledger")
    assert stack_state.use_running_stack() is None
    assert os.environ["LEDGER_TABLE"] == "cashback-prod-ledger"
