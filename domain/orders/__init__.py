"""Orders: order records and their lifecycle, created from the edge's ledger entries."""
