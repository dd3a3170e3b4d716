"""How many bad inputs each category tried, for the proof report (SAGA_PROOF_DIR/bad_input.json)."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

_LOCK = threading.Lock()
_TRIED: Counter[str] = Counter()
REPORT_NAME = "bad_input.json"


def tried(category: str, count: int = 1) -> None:
    """Count `count` bad inputs sent in `category` (fuzz threads call this too)."""
    with _LOCK:
        _TRIED[category] += count


def totals() -> dict[str, int]:
    """Every category's count so far."""
    with _LOCK:
        return dict(sorted(_TRIED.items()))


def write_report() -> Path | None:
    """Write the counts to $SAGA_PROOF_DIR/bad_input.json, if that variable is set."""
    directory = os.environ.get("SAGA_PROOF_DIR")
    counts = totals()
    if not directory or not counts:
        return None
    path = Path(directory) / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(counts, indent=2) + "\n")
    return path
