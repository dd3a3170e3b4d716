"""Composition: the `saga` CLI, the supervisor, the embedded stack, worker hosting, the proof."""

import infra  # noqa: F401  (sets GRPC_ENABLE_FORK_SUPPORT before anything loads gRPC)
