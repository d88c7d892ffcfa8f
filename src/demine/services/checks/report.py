"""What `demine check` reports: findings, their severities and counts per check."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"

# Every check, in the order findings are listed; counts name each one, found or not.
CHECKS = (
    "invalid_geometry",
    "ledger_imbalance",
    "orphan",
    "swapped_lat_lon",
    "unvalidated_edit",
    "tally_mismatch",
    "audit_chain",
    "duplicate",
    "overlap",
    "gap",
    "sliver",
    "outside_gazetteer",
)


@dataclass(frozen=True)
class Finding:
    """One data quality problem with one record (or a pair of records)."""

    check: str
    severity: str
    layer: str
    record: str | None
    detail: str
    other: str | None = None
    area_m2: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready values."""
        data = asdict(self)
        if self.area_m2 is not None:
            data["area_m2"] = round(self.area_m2, 3)
        return data


@dataclass
class CheckReport:
    """All findings, and how many rows of each layer were checked."""

    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Findings per check (zero for checks that found nothing)."""
        counts = dict.fromkeys(CHECKS, 0)
        for finding in self.findings:
            counts[finding.check] = counts.get(finding.check, 0) + 1
        return counts

    @property
    def has_errors(self) -> bool:
        """Whether any finding is an error (the command then exits 1)."""
        return any(f.severity == ERROR for f in self.findings)

    def sorted(self) -> None:
        """Errors first, then by check, layer and record."""
        order = {name: i for i, name in enumerate(CHECKS)}
        self.findings.sort(key=lambda f: (f.severity != ERROR, order.get(f.check, 99), f.layer,
                                          f.record or "", f.other or ""))

    def page(self, *, checks: list[str] | None = None, layer: str | None = None,
             severity: str | None = None, offset: int = 0, limit: int = 1000) -> dict[str, Any]:
        """The findings these filters keep, a page at a time, with their ``total``; ``counts``
        and ``checked`` cover every check."""
        kept = [f for f in self.findings
                if (not checks or f.check in checks) and (layer is None or f.layer == layer)
                and (severity is None or f.severity == severity)]
        return {"findings": [f.as_dict() for f in kept[offset: offset + limit]],
                "total": len(kept), "counts": self.counts, "checked": dict(self.checked)}

    def as_dict(self) -> dict[str, Any]:
        """``{"findings": [...], "counts": {...}, "checked": {...}}``."""
        return {"findings": [f.as_dict() for f in self.findings], "counts": self.counts,
                "checked": dict(self.checked)}


def m2(value: float) -> str:
    """An area for a sentence: "1,234.5 m²"."""
    return f"{value:,.1f} m²"
