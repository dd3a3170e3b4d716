"""The embedded stack: Temporal dev server, PostgreSQL and Valkey, each from a pip wheel."""
