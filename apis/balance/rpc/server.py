"""The grpc.aio server: BalanceService, standard health checking and server reflection."""

from __future__ import annotations

from typing import Any

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from apis.balance.rpc.guard import TRANSPORT_MAX_BYTES, add_guarded_service
from apis.balance.rpc.servicer import BalanceServicer
from domain.balance.book import BalanceBook
from protos.balance.v1 import balance_pb2

SERVICE = balance_pb2.DESCRIPTOR.services_by_name["BalanceService"]
SERVICE_NAME = SERVICE.full_name


async def start_grpc_server(
    book: BalanceBook, jwt_secret: str, address: str
) -> tuple[aio.Server, Any, int]:
    """Start serving on `address` (port 0 picks one); the server, its health and its port."""
    server = aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", TRANSPORT_MAX_BYTES),
        ],
    )
    add_guarded_service(server, SERVICE, BalanceServicer(book, jwt_secret))
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    await server.start()
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, health_servicer, port
