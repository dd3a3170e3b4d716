"""Chip balances: accounts, two-phase reservations, table pots and a checksum-chained ledger."""
