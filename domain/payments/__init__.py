"""Payments: a mock payment service provider (authorize, capture, void) kept in PostgreSQL."""
