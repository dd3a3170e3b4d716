"""The ground floor: settings, tokens, telemetry, database and serving helpers for every layer."""

import os

# gRPC's fork handlers run in every child forked while gRPC is loaded. Our processes fork only
# to exec another program at once (ManagedProcess), so the handlers have nothing to protect,
# and in a child forked while gRPC's poller is busy they can abort it before the exec: a
# Valkey started by a test that had just served gRPC died with SIGABRT that way. gRPC reads
# this when it is first imported, so it is set here, in the package every process imports
# before anything that loads gRPC.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
