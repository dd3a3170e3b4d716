"""The gRPC floor: BalanceService served the way `saga api balance` serves it, doing no work.

Same grpc.aio server, same options, same guarded handler registration, same uvloop and frozen
start-up heap; every method answers an empty response at once, with no token check, no Redis
and no metrics. What one process spends per call here is what gRPC in Python costs before the
balance service does anything, so the bench divides by it.
Run: .venv/bin/python -m bench.noop_grpc PORT
"""

from __future__ import annotations

import sys
from typing import Any

from grpc import aio

from apis.balance.rpc.guard import TRANSPORT_MAX_BYTES, add_guarded_service
from apis.balance.rpc.server import SERVICE
from infra.event_loop import freeze_startup_heap, run_service
from protos.balance.v1 import balance_pb2 as pb


class NoWorkServicer:
    """Answers Credit, Reserve and CommitReservation with empty responses."""

    async def Credit(self, request: Any, context: Any) -> pb.MutationResponse:
        return pb.MutationResponse()

    async def Reserve(self, request: Any, context: Any) -> pb.ReservationResponse:
        return pb.ReservationResponse()

    async def CommitReservation(self, request: Any, context: Any) -> pb.ReservationResponse:
        return pb.ReservationResponse()

    def __getattr__(self, name: str) -> Any:
        async def unimplemented(request: Any, context: Any) -> Any:
            raise NotImplementedError(name)

        return unimplemented


async def serve(port: int) -> None:
    """Serve until killed."""
    server = aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", TRANSPORT_MAX_BYTES),
        ],
    )
    add_guarded_service(server, SERVICE, NoWorkServicer())
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    freeze_startup_heap()
    await server.wait_for_termination()


if __name__ == "__main__":
    run_service(serve(int(sys.argv[1])))
