"""The one table of error codes: each code renders on both fronts."""

from __future__ import annotations

import grpc

from apis.errors import STATUS, grpc_status, http_status
from domain.errors import RETRYABLE, ErrorCode


def test_every_code_has_an_http_and_a_grpc_status() -> None:
    assert set(STATUS) == set(ErrorCode)
    for code in ErrorCode:
        assert 400 <= http_status(code) < 600
        assert grpc_status(code) is not grpc.StatusCode.OK


def test_retryable_codes_are_outages_or_limits() -> None:
    # A retry of a business refusal would only repeat it; these are the ones worth retrying.
    assert all(http_status(code) in (429, 500, 502, 503, 504) for code in RETRYABLE)
    assert ErrorCode.INSUFFICIENT_FUNDS not in RETRYABLE


def test_the_game_codes_of_design_section_7() -> None:
    assert http_status(ErrorCode.NOT_YOUR_TURN) == 409
    assert http_status(ErrorCode.ILLEGAL_ACTION) == 409
    assert http_status(ErrorCode.TABLE_NOT_FOUND) == 404
    assert http_status(ErrorCode.TABLE_FULL) == 409
    assert http_status(ErrorCode.SEAT_TAKEN) == 409
    assert http_status(ErrorCode.ALREADY_SEATED) == 409
