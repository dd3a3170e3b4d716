"""An invariant check's outcome, shared by the order and balance checks and the report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_SHOWN = 5


@dataclass(frozen=True)
class Check:
    """One invariant: whether it held, how many things it looked at, and what broke it."""

    name: str
    checked: int
    offenders: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when nothing broke it."""
        return not self.offenders

    @property
    def detail(self) -> str:
        """The first offenders, for the report."""
        if self.passed:
            return f"{self.checked} checked"
        shown = "; ".join(self.offenders[:_SHOWN])
        more = len(self.offenders) - _SHOWN
        return f"{len(self.offenders)} of {self.checked}: {shown}" + (
            f" (+{more} more)" if more > 0 else ""
        )


def check(name: str, checked: int, offenders: Iterable[str]) -> Check:
    """A Check from any iterable of offender descriptions."""
    return Check(name, checked, tuple(offenders))
