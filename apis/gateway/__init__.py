"""The players' edge: HTTP proxy and WebSocket hub on port 4000."""
