"""Inventory: the catalog with prices, stock, and reservations taken for orders."""
