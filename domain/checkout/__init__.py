"""Checkout (the edge): priced orders, synchronous authorization, the ledger and its outbox."""
