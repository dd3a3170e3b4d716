"""Token checks of the gateway, channel rules and frame validation: no server needed."""

from __future__ import annotations

import time

import jwt
import pytest

from apis.auth import authenticate, bearer_token
from domain.errors import Unauthenticated
from domain.gateway.channels import ChannelKind, InvalidChannel, parse_channel
from domain.gateway.frames import FrameError, SubscribeFrame, TableActionFrame, parse_client_frame
from infra.tokens import TokenKind, issue_token

SECRET = "unit-test-secret-that-is-long-enough"


def test_a_valid_token_gives_its_claims() -> None:
    claims = authenticate(SECRET, issue_token(SECRET, "alice", ttl_seconds=60))
    assert (claims.subject, claims.kind) == ("alice", TokenKind.USER)
    service = authenticate(SECRET, issue_token(SECRET, "game", kind=TokenKind.SERVICE))
    assert service.is_service


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (jwt.encode({"sub": "a", "iat": 1, "exp": 9999999999}, "", algorithm="none"), "'none'"),
        (issue_token("another-secret-that-is-long-enough!", "a"), "bad signature"),
        (issue_token(SECRET, "a", ttl_seconds=-60), "expired"),
        (jwt.encode({"iss": "saga", "iat": 1, "exp": 9999999999}, SECRET), "'sub'"),
        (jwt.encode({"sub": " ", "iss": "saga", "iat": 1, "exp": 9999999999}, SECRET), "'sub'"),
        (jwt.encode({"sub": "a", "iss": "saga", "iat": 1}, SECRET), "'exp'"),
        (jwt.encode({"sub": "a", "iss": "x", "iat": 1, "exp": 9999999999}, SECRET), "issuer"),
        ("not.a.token", "malformed"),
        ("", "required"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(token: str, reason: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        authenticate(SECRET, token)
    assert reason in refused.value.detail


def test_expiry_is_checked_against_the_given_clock() -> None:
    now = time.time()
    token = issue_token(SECRET, "bob", ttl_seconds=30, now=now)
    assert authenticate(SECRET, token, now=now + 29).subject == "bob"
    with pytest.raises(Unauthenticated, match="expired"):
        authenticate(SECRET, token, now=now + 31)


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


def test_channels_and_who_may_read_them() -> None:
    assert parse_channel("lobby").kind is ChannelKind.LOBBY
    table = parse_channel("table:42")
    assert (table.kind, table.key, table.name) == (ChannelKind.TABLE, "42", "table:42")
    mine = parse_channel("user:alice")
    assert mine.readable_by("alice")
    assert not mine.readable_by("bob")
    assert parse_channel("presence:alice").readable_by("bob")
    for bad in ("", "lobby:1", "table:", "table:a b", "gateway:all", "user:" + "x" * 200, 5):
        with pytest.raises(InvalidChannel):
            parse_channel(bad)


def test_client_frames_are_validated() -> None:
    frame = parse_client_frame('{"type": "subscribe", "channel": "lobby", "id": "r1"}')
    assert isinstance(frame, SubscribeFrame)
    assert frame.id == "r1"
    action = parse_client_frame('{"type": "table.action", "table_id": "t", "action": "bet"}')
    assert isinstance(action, TableActionFrame)
    assert action.amount is None
    for raw, message in [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"type": "nope"}', "unknown frame type"),
        ('{"type": "subscribe"}', "channel"),
        ('{"type": "table.action", "table_id": "t", "action": "bet", "amount": -1}', "amount"),
    ]:
        with pytest.raises(FrameError) as error:
            parse_client_frame(raw)
        assert message in error.value.message
        assert error.value.code == "VALIDATION_FAILED"
