"""Platform infrastructure: settings, the embedded stack, the supervisor and the `saga` CLI."""
