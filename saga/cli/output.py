"""The console every `saga` command prints through."""

from __future__ import annotations

import sys

from rich.console import Console


def make_console() -> Console:
    """A terminal-width console, or a wide one that never wraps links when output is piped."""
    if sys.stdout.isatty():
        return Console()
    return Console(width=160, soft_wrap=True)
