"""Workflows of the game context: one long-running workflow per poker table."""
