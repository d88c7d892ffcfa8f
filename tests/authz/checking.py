"""Comparing what the API answered with what the oracle expects."""

from __future__ import annotations

from dataclasses import dataclass, field

from .oracle import Oracle, Rec
from .rules import PERSONAL_FIELDS


@dataclass
class Report:
    """Mismatches found by one test."""

    cases: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        """Record a mismatch."""
        self.problems.append(problem)

    def check(self, floor: int = 1) -> None:
        """Fail on any mismatch; make sure the test ran cases."""
        assert self.cases >= floor, f"only {self.cases} cases ran"
        assert not self.problems, "\n".join(self.problems[:40])


def leaks(response, rec: Rec) -> bool:
    """Whether a refusal's body names the record (its code or name)."""
    body = response.text
    return bool(rec.code and rec.code in body) or bool(rec.row.get("name")
                                                       and rec.row["name"] in body)


def check_personal(report: Report, oracle: Oracle, role: str, rec: Rec, item: dict,
                    where: str) -> None:
    if rec.layer != "casualties":
        return
    for name in PERSONAL_FIELDS:
        expected = rec.row[name] if oracle.sees_personal(role) else None
        if item.get(name) != expected:
            report.add(f"{where}: {role} got {name}={item.get(name)!r} of {rec.code}, "
                       f"expected {expected!r}")
