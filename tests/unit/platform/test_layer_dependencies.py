"""The shared layer's dependencies: its lock against its requirements, and what it must not ship.

`make lock-check` (in `make lint`) resolves the requirements again and compares with the lock; these
checks need no network and say which pin is wrong.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LAYER = Path(__file__).resolve().parents[3] / "layers" / "cashback"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s\\;]+)")
# Lambda's python3.13 on arm64, where the layer runs: markers are evaluated there, not on this machine.
LAMBDA = {"python_version": "3.13", "python_full_version": "3.13.0", "platform_machine": "aarch64"}
LAMBDA |= {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "extra": ""}


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            pins[canonicalize_name(match[1])] = match[3]
    return pins


REQUIRED = _pins(LAYER / "requirements.txt")
LOCKED = _pins(LAYER / "requirements.lock")


def test_every_requirement_is_locked_at_its_pin() -> None:
    assert REQUIRED, "requirements.txt pins nothing?"
    drifted = {name: (pin, LOCKED.get(name)) for name, pin in REQUIRED.items() if LOCKED.get(name) != pin}
    assert not drifted, f"requirements.txt and requirements.lock disagree (pin, locked): {drifted}; run make lock"


@pytest.mark.parametrize("name", sorted(LOCKED))
def test_the_tests_run_the_locked_version(name: str) -> None:
    # requirements/dev.txt installs with the lock as constraints.
    assert metadata.version(name) == LOCKED[name]


@pytest.mark.parametrize("name", sorted(LOCKED))
def test_the_lock_satisfies_its_own_requirements(name: str) -> None:
    """Each locked package's own requirements on other locked packages hold at the locked versions: boto3
    and s3transfer fit the botocore the layer ships (and so shadows the runtime's with)."""
    unmet = []
    for line in metadata.requires(name) or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(LAMBDA):
            continue
        dependency = canonicalize_name(requirement.name)
        assert dependency in LOCKED, f"{name} needs {dependency}, which the lock lacks"
        if not requirement.specifier.contains(LOCKED[dependency], prereleases=True):
            unmet.append(f"{requirement} (locked {LOCKED[dependency]})")
    assert not unmet, f"{name} {LOCKED[name]}: {unmet}"


def test_a_shipped_botocore_comes_with_the_boto3_released_with_it() -> None:
    assert "botocore" in LOCKED, "nothing brings botocore any more: drop boto3 from the layer too"
    assert LOCKED["boto3"] == LOCKED["botocore"]
    assert "s3transfer" in LOCKED


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("aws-xray-sdk", "maintenance mode, end of support 2027-02-25; Lambda's active tracing stays"),
        ("phonenumbers", "phonenumberslite parses and formats the same without 19 MB of geodata"),
    ],
)
def test_the_layer_does_not_ship(name: str, why: str) -> None:
    assert name not in LOCKED, why
