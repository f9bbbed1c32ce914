"""Proves the IAM proof would catch a removed grant, without running the suite once per removal.

The proof is a function of the recorded uses (which do not depend on the policies) and the template. So
for every action of every statement of every function's policies, this removes that one action from an
in-memory copy of the template and checks the uses the last test run recorded (`.cache/iam-proof/uses.json`,
written by tests/fixtures/iam.py) against it: an action the tests exercise must make the proof fail when it
is removed ("caught"); one the tests do not exercise cannot ("idle", the unused grants the proof lists).

    python -m local.iam.mutations [uses.json]
"""

from __future__ import annotations

import copy
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from local.iam.calls import Need
from local.iam.policies import function_grants
from local.iam.proof import check
from local.iam.recorder import Use
from local.iam.stack import Stack
from local.template import FUNCTION_TYPE, REPO, load_template, resources_of_type, table_names

USES = REPO / ".cache" / "iam-proof" / "uses.json"


def load_uses(path: Path) -> tuple[str, list[Use]]:
    data = json.loads(path.read_text())
    if not data.get("whole_suite"):
        print(f"{path} is from a run of part of the suite: only its calls count")
    uses = [Use(u["function"], Need(u["action"], u["resource"]), u["seen_in"]) for u in data["uses"]]
    return data["table_prefix"], uses


def removals(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(function, action, the template without that one action in that one statement) for every action."""
    for function, resource in resources_of_type(template, FUNCTION_TYPE).items():
        for p, policy in enumerate(resource["Properties"].get("Policies") or []):
            if not isinstance(policy, dict) or "Statement" not in policy:
                continue  # a SAM policy template is removed whole or not at all
            for s, statement in enumerate(policy["Statement"]):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    mutant = copy.deepcopy(template)
                    statements = mutant["Resources"][function]["Properties"]["Policies"][p]["Statement"]
                    remaining = [a for a in actions if a != action]
                    if remaining:
                        statements[s]["Action"] = remaining
                    else:
                        del statements[s]
                    yield function, action, mutant


def main(argv: Sequence[str]) -> int:
    path = Path(argv[0]) if argv else USES
    prefix, uses = load_uses(path)
    template = load_template()
    names = table_names(template, prefix)
    baseline = function_grants(Stack(template, names))
    if check(baseline, uses).failed:
        print("the recorded uses already fail the proof on template.yaml: fix that first")
        return 1
    counts = {"caught": 0, "redundant": 0, "idle": 0}
    for function, action, mutant in removals(template):
        own = [use for use in uses if use.function == function]
        stack = Stack(mutant, names)
        left = Counter(function_grants(stack)[function])
        removed = list((Counter(baseline[function]) - left).elements())
        verdict = check({function: list(left.elements())}, own)
        if verdict.failed:
            kind, first = "caught", verdict.denied[0]
            why = f"needs {first.need.action} on {stack.describe(first.need.resource)}"
        elif any(grant.allows(use.need) for grant in removed for use in own):
            kind, why = "redundant", "exercised, but another statement allows the same"
        else:
            kind, why = "idle", "no test exercises it"
        counts[kind] += 1
        print(f"{kind:9} {function} without {action}: {why}")
    print(", ".join(f"{count} {kind}" for kind, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
