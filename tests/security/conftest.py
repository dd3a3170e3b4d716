"""The security and bad-input suite: counts what it tried and reports it when the session ends."""

from __future__ import annotations

import pytest

from tests.security.tally import write_report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave the per-category counts where the proof report reads them."""
    write_report()
