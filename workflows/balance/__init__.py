"""Workflows of the balance context: reservation expiry and ledger verification."""
