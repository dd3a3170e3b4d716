"""Workflows of the checkout context: the order saga, its models and how it is started."""
