"""Requests that cannot be read are INVALID_ARGUMENT with an `error-code`, never INTERNAL.

Without this, a message whose bytes do not parse fails inside gRPC's deserializer and the
client sees INTERNAL with no code. Two size limits apply: a message above TRANSPORT_MAX_BYTES
is refused by gRPC itself with RESOURCE_EXHAUSTED before any of it is buffered (gRPC's own
status for "larger than this server receives"; it cannot carry trailing metadata because no
handler runs), and a readable message above MAX_REQUEST_BYTES, far more than any
BalanceService request needs, is refused here with INVALID_ARGUMENT / PAYLOAD_TOO_LARGE.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from grpc import aio

from domain.errors import CODE_TABLE, ErrorCode

MAX_REQUEST_BYTES = 256 * 1024
TRANSPORT_MAX_BYTES = 4 * 1024 * 1024


class _Unreadable:
    """Stands in for a request whose bytes were refused; the guarded handler aborts on it."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        self.code = code
        self.detail = detail


# The stubs make these generic; at run time they are plain classes.
if TYPE_CHECKING:
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
    _Interceptor: TypeAlias = aio.ServerInterceptor[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
    _Interceptor = aio.ServerInterceptor


class RequestGuard(_Interceptor):
    """Parses unary requests itself, so bad bytes get a status and a code like any bad input."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        """Wrap the handler's deserializer and behaviour; streaming handlers pass unchanged."""
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or handler.request_deserializer is None:
            return handler
        parse: Callable[[bytes], Any] = handler.request_deserializer
        # The servicer's methods are coroutines on an aio server.
        behaviour: Callable[..., Awaitable[Any]] = handler.unary_unary

        def deserialize(raw: bytes) -> Any:
            if len(raw) > MAX_REQUEST_BYTES:
                return _Unreadable(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"requests are limited to {MAX_REQUEST_BYTES} bytes",
                )
            try:
                return parse(raw)
            except Exception:
                return _Unreadable(ErrorCode.VALIDATION_FAILED, "the request bytes do not parse")

        async def guarded(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            if isinstance(request, _Unreadable):
                await context.abort(
                    CODE_TABLE[request.code].grpc_status,
                    request.detail,
                    (("error-code", request.code.value),),
                )
            return await behaviour(request, context)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=deserialize,
            response_serializer=handler.response_serializer,
        )
