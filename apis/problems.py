"""HTTP problem details (RFC 9457) for every FastAPI front, from the one table of codes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from apis.errors import http_status
from domain.errors import DomainError, ErrorCode, Unavailable
from infra.redis import failed_in_client

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem with the platform's stable `code`; extra fields say more."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str


def _problem_response(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        "model": Problem,
        "description": description,
        "content": {PROBLEM_JSON: {"schema": schema}},
    }


# Every route can answer these (documented, so clients and schema checks know the shape);
# FastAPI's own 422 schema is replaced, as validation errors are problems too.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": _problem_response("Bad input, missing credentials, or a rule of the domain said no"),
    "5XX": _problem_response("A dependency is down (503 with Retry-After) or an internal error"),
}

_STATUS_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.VALIDATION_FAILED,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.VALIDATION_FAILED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    422: ErrorCode.VALIDATION_FAILED,
    429: ErrorCode.RATE_LIMITED,
}


def problem(
    status: int,
    code: ErrorCode | str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response with a stable `code`."""
    body: dict[str, Any] = {
        "type": f"https://saga.dev/problems/{str(code).lower().replace('_', '-')}",
        "title": str(code).replace("_", " ").capitalize(),
        "status": status,
        "code": str(code),
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def domain_problem(error: DomainError) -> JSONResponse:
    """The problem response of a domain error, with Retry-After for outages."""
    headers: dict[str, str] = {}
    if error.code is ErrorCode.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, Unavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif http_status(error.code) == 503:
        headers["Retry-After"] = "1"
    extra = {k: v for k, v in error.fields.items() if k != "retry_after_seconds"}
    return problem(http_status(error.code), error.code, error.detail, headers=headers, **extra)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of `app` a problem-details response; none is a bare 500 traceback."""

    @app.exception_handler(DomainError)
    async def on_domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem(422, ErrorCode.VALIDATION_FAILED, "the request is not valid", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, ErrorCode.INTERNAL)
        return problem(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(asyncpg.DataError)
    async def on_bad_value(_: Request, exc: asyncpg.DataError) -> JSONResponse:
        # A value PostgreSQL cannot store (SQLSTATE class 22) is bad input that slipped past
        # validation: still the client's 422, never a 500.
        return problem(422, ErrorCode.VALIDATION_FAILED, "a value in the request is not storable")

    for outage in DATABASE_OUTAGES:
        app.add_exception_handler(outage, _on_database_outage)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if failed_in_client(exc):
            # redis-py failing inside itself (a connection torn down under a command while a
            # cluster master fails over): the store did not answer, as with a ConnectionError.
            log.warning(
                "the Redis client failed on %s %s: %r", request.method, request.url.path, exc
            )
            return problem(
                503,
                ErrorCode.UNAVAILABLE,
                "the store did not answer; retry with the same Idempotency-Key",
                headers={"Retry-After": "1"},
            )
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, ErrorCode.INTERNAL, "an unexpected error occurred; it was logged")


# PostgreSQL restarting, refusing or dropping connections is an outage the client may retry
# with the same Idempotency-Key (DESIGN.md: a dependency outage is a 503 with Retry-After).
DATABASE_OUTAGES: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


async def _on_database_outage(_: Request, exc: Exception) -> JSONResponse:
    return problem(
        503,
        ErrorCode.UNAVAILABLE,
        "the database is unavailable; retry shortly",
        headers={"Retry-After": "1"},
    )
