"""Figures of `litopys bench`: each one paired with a reference measured in the same run."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured figure, its same-run reference, and the target on their ratio (or on the value)."""

    key: str  # e.g. "retrieval.p95_ms_100k"
    label: str
    value: float
    unit: str = ""
    reference: float | None = None
    reference_label: str = ""
    target: str = ""  # e.g. "<= 1.10"; checked against ``ratio`` when there is a reference, else ``value``
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference is None or not self.reference or math.isnan(self.reference):
            return None
        return self.value / self.reference

    @property
    def met(self) -> bool | None:
        if not self.target:
            return None
        op, bound = self.target.split()
        x = self.ratio if self.reference is not None else self.value
        if x is None or math.isnan(x):
            return None
        checks: dict[str, Callable[[float, float], bool]] = {
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
        }
        return checks[op](x, float(bound))

    def as_dict(self) -> dict[str, object]:
        def r(x: float | None) -> float | None:
            return None if x is None or math.isnan(x) else round(x, 4)

        return {
            "label": self.label,
            "value": r(self.value),
            "unit": self.unit,
            "reference": r(self.reference),
            "reference_label": self.reference_label,
            "ratio": r(self.ratio),
            "target": self.target or None,
            "met": self.met,
            "note": self.note or None,
        }


@dataclass
class BenchReport:
    """Everything one bench run measured, plus what was a subset and what was skipped."""

    quick: bool
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    def as_dict(self) -> dict[str, object]:
        return {
            "quick": self.quick,
            "figures": {f.key: f.as_dict() for f in self.figures},
            "notes": self.notes,
            "section_seconds": {k: round(v, 1) for k, v in self.seconds.items()},
        }

    def table(self):
        """A rich table: figure, ours, reference, ratio, target, met."""
        from rich.table import Table

        table = Table(title="litopys bench" + (" --quick" if self.quick else ""), show_lines=False)
        for name, justify in (
            ("figure", "left"),
            ("ours", "right"),
            ("reference (same run)", "left"),
            ("ratio", "right"),
            ("target", "left"),
            ("met", "center"),
        ):
            table.add_column(name, justify=justify)
        for f in self.figures:
            ref = "" if f.reference is None else f"{_fmt(f.reference)} {f.unit} {f.reference_label}".strip()
            met = {True: "yes", False: "NO", None: ""}[f.met]
            label = f"{f.label} [dim]({f.key})[/dim]" + (f"\n[dim]{f.note}[/dim]" if f.note else "")
            table.add_row(
                label,
                f"{_fmt(f.value)} {f.unit}".strip(),
                ref,
                "" if f.ratio is None else f"{f.ratio:.3f}",
                f.target,
                met,
            )
        return table


def _fmt(x: float) -> str:
    if x is None or math.isnan(x):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"
