"""The verdict: every recorded use allowed by its function's policy, and the grants no use needed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from local.iam.policies import Grant, allowed
from local.iam.recorder import Use
from local.iam.stack import Stack


@dataclass(frozen=True)
class Verdict:
    denied: list[Use]  # uses the function's policy does not allow: each would fail in AWS
    unused: dict[str, list[Grant]]  # function -> grants that no recorded use needed
    problems: list[str]  # calls the proof could not translate
    functions: int  # how many functions made calls
    uses: int

    @property
    def failed(self) -> bool:
        return bool(self.denied or self.problems)


def check(grants: Mapping[str, Sequence[Grant]], uses: Iterable[Use], problems: Sequence[str] = ()) -> Verdict:
    uses = list(uses)
    denied = [use for use in uses if not allowed(grants.get(use.function, ()), use.need)]
    unused = {}
    for function, granted in grants.items():
        needed = [use.need for use in uses if use.function == function]
        idle = [grant for grant in granted if not any(grant.allows(need) for need in needed)]
        if idle:
            unused[function] = idle
    return Verdict(denied, unused, list(problems), len({use.function for use in uses}), len(uses))


def denied_lines(verdict: Verdict, stack: Stack, grants: Mapping[str, Sequence[Grant]]) -> list[str]:
    lines = []
    for use in verdict.denied:
        unknown = "" if use.function in grants else " (a function template.yaml does not have)"
        seen = f"  [first in {use.seen_in}]" if use.seen_in else ""
        resource = stack.describe(use.need.resource)
        lines.append(f"function {use.function}{unknown} needs {use.need.action} on {resource}{seen}")
    return lines + [f"could not translate: {problem}" for problem in verdict.problems]


def unused_lines(verdict: Verdict, stack: Stack) -> list[str]:
    return [
        f"function {function} allows {grant.action} on {stack.describe(grant.resource)}: no test exercises it"
        for function, idle in sorted(verdict.unused.items())
        for grant in idle
    ]
