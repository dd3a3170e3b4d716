"""Fronts of the checkout context: the edge API that takes orders, and the outbox relay."""
