"""What a proof run measured: the figures table, the invariants, and the same as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from saga.proof.checks import Check

BAD_INPUT_FILE = "bad_input.json"


@dataclass(frozen=True)
class BadInputs:
    """What the fuzz tests tried, by surface, and how many of those tries misbehaved."""

    tried: dict[str, int]
    failures: int | None = None


@dataclass
class ProofReport:
    """The figures of one run; `passed` only if every invariant held and nothing was lost."""

    command: str
    load_seconds: float
    orders_submitted: int = 0
    orders_accepted: int = 0
    orders_declined: int = 0
    orders_confirmed: int = 0
    orders_failed: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)
    edge_answers: dict[str, int] = field(default_factory=dict)
    balance_calls: int = 0
    balance_refused: int = 0
    balance_answers: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    slowest_recovery_seconds: dict[str, float] = field(default_factory=dict)
    settle_seconds: float = 0.0
    bad_inputs: BadInputs | None = None
    orders_lost: int = 0
    chips_lost: int = 0
    hands_played: int = 0
    poker_actions: int = 0
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every invariant held, and no order or chip was lost."""
        return all(c.passed for c in self.checks) and not self.orders_lost and not self.chips_lost

    def figures(self) -> list[tuple[str, str]]:
        """(what, figure) rows of the report table."""
        seconds = max(self.load_seconds, 1e-9)
        faults = ", ".join(f"{t} {n}" for t, n in sorted(self.faults.items())) or "none"
        recovery = max(self.slowest_recovery_seconds.values(), default=0.0)
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(self.failure_reasons.items())) or "none"
        unavailable = sum(
            n for code, n in self.edge_answers.items() if not code.startswith(("2", "4"))
        )
        return [
            ("load held", f"{self.load_seconds:.0f} s of orders and balance calls under faults"),
            (
                "orders",
                f"{self.orders_submitted} submitted ({self.orders_submitted / seconds:.1f}/s), "
                f"{self.orders_accepted} accepted ({self.orders_accepted / seconds:.1f}/s), "
                f"{self.orders_declined} declined at the edge",
            ),
            (
                "order outcomes",
                f"{self.orders_confirmed} CONFIRMED, {self.orders_failed} FAILED and compensated "
                f"({reasons}); settled {self.settle_seconds:.0f} s after the load",
            ),
            ("edge retries", f"{unavailable} answers were 5xx or no answer; retried, same key"),
            (
                "balance calls",
                f"{self.balance_calls} applied ({self.balance_calls / seconds:.1f}/s), "
                f"{self.balance_refused} refused by rule, "
                f"{self.balance_answers.get('UNAVAILABLE', 0)} UNAVAILABLE retried",
            ),
            (
                "poker",
                f"{self.hands_played} hands played to the end, {self.poker_actions} bot actions",
            ),
            (
                "faults injected (SIGKILL)",
                f"{sum(self.faults.values())}: {faults}; slowest recovery {recovery:.1f} s",
            ),
            ("bad inputs tried", _bad_inputs(self.bad_inputs)),
            ("orders lost", str(self.orders_lost)),
            ("chips lost", str(self.chips_lost)),
            (
                "invariant checks passed",
                f"{sum(c.passed for c in self.checks)} of {len(self.checks)}",
            ),
        ]

    def table(self) -> Table:
        """The figures as a rich table."""
        table = Table(title="proof under faults", title_justify="left")
        table.add_column("what")
        table.add_column("figure")
        for what, figure in self.figures():
            table.add_row(what, figure)
        return table

    def checks_table(self) -> Table:
        """Every invariant and its outcome."""
        table = Table(title="invariants", title_justify="left")
        table.add_column("invariant")
        table.add_column("result")
        table.add_column("detail")
        for c in self.checks:
            table.add_row(c.name, "[green]passed[/]" if c.passed else "[red]FAILED[/]", c.detail)
        return table

    def to_json(self) -> str:
        """Every figure and check, machine-readable."""
        body: dict[str, Any] = asdict(self)
        body["checks"] = [
            {"name": c.name, "passed": c.passed, "checked": c.checked, "offenders": c.offenders}
            for c in self.checks
        ]
        body["passed"] = self.passed
        body["figures"] = dict(self.figures())
        return json.dumps(body, indent=2)


def read_bad_inputs(directory: str | None = None) -> BadInputs | None:
    """What the fuzz tests tried, from $SAGA_PROOF_DIR/bad_input.json, if they ran."""
    folder = directory or os.environ.get("SAGA_PROOF_DIR")
    if not folder:
        return None
    path = Path(folder) / BAD_INPUT_FILE
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(loaded, dict):
        return None
    failures = loaded.get("failures")
    source = loaded.get("by_surface") or loaded.get("surfaces") or loaded
    tried: dict[str, int] = {}
    if isinstance(source, dict):
        for name, value in source.items():
            # A surface is either a bare count or {"tried": n, ...}.
            count = value.get("tried", value.get("count")) if isinstance(value, dict) else value
            if isinstance(count, int) and not isinstance(count, bool) and name not in _TOTALS:
                tried[str(name)] = count
    if not tried:
        return None
    return BadInputs(tried, failures if isinstance(failures, int) else None)


_TOTALS = {"total", "failures", "passed"}


def _bad_inputs(bad: BadInputs | None) -> str:
    if bad is None:
        return "not run"
    parts = ", ".join(f"{name} {n}" for name, n in sorted(bad.tried.items()))
    if bad.failures is None:
        outcome = ""
    elif bad.failures == 0:
        outcome = "; the fuzz tests passed: no 5xx, no change"
    else:
        outcome = f"; {bad.failures} misbehaved"
    return f"{sum(bad.tried.values())} ({parts}){outcome}"
