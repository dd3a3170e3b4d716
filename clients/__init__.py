"""Clients of the platform's own services, one package per context, shared by every caller."""
