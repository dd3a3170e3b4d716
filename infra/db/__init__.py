"""PostgreSQL access: the connection pool and versioned SQL migrations."""
