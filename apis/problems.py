"""HTTP problem details (RFC 9457) for every FastAPI front, from the one table of codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import CODE_TABLE, DomainError, ErrorCode, Unavailable

PROBLEM_JSON = "application/problem+json"

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
    if isinstance(error, Unavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif CODE_TABLE[error.code].http_status == 503:
        headers["Retry-After"] = "1"
    extra = {k: v for k, v in error.fields.items() if k != "retry_after_seconds"}
    return problem(error.mapping.http_status, error.code, error.detail, headers=headers, **extra)


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

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(500, ErrorCode.INTERNAL, "an unexpected error occurred; it was logged")
