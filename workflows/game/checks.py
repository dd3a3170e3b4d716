"""What a table refuses before anything enters its history: the rules of the Update validators.

Pure functions of the table's state, so the validators stay one line each and the rules read
in one place. Every refusal is a non-retryable ApplicationError typed with its error code.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError

from domain.game import GameError, Hand, HandOver, IllegalAction, NotInHand, NotYourTurn
from domain.game.rules import TableRules
from workflows.game.models import (
    REMEMBERED_SEAT_KEYS,
    ActRequest,
    SeatState,
    SitRequest,
    TableState,
)


def refuse(code: str, message: str, **details: Any) -> ApplicationError:
    """A refusal the caller sees as `code` (problem details, or the gateway's error frame)."""
    return ApplicationError(message, details or None, type=code, non_retryable=True)


def seat_of(state: TableState, user_id: str) -> SeatState | None:
    """The seat `user_id` holds, if any."""
    return next((s for s in state.seats if s.user_id == user_id), None)


def free_seats(state: TableState, joining: dict[int, str], rules: TableRules) -> list[int]:
    """Seats neither taken nor being bought into, lowest first."""
    taken = {s.seat for s in state.seats} | set(joining)
    return [n for n in range(rules.max_seats) if n not in taken]


def check_sit(
    state: TableState,
    rules: TableRules,
    joining: dict[int, str],
    request: SitRequest,
) -> None:
    """Refuse a sit at a closed or full table, a second seat, a buy-in outside the limits."""
    if state.closed:
        raise refuse("INVALID_STATE", "the table is closed")
    if seat_of(state, request.user_id) is not None or request.user_id in joining.values():
        raise refuse("ALREADY_SEATED", f"{request.user_id} is already seated at this table")
    if not rules.min_buy_in <= request.buy_in <= rules.max_buy_in:
        raise refuse(
            "VALIDATION_FAILED",
            f"buy_in must be between {rules.min_buy_in} and {rules.max_buy_in}",
        )
    free = free_seats(state, joining, rules)
    if request.seat is not None:
        if not 0 <= request.seat < rules.max_seats:
            raise refuse("VALIDATION_FAILED", f"seat must be between 0 and {rules.max_seats - 1}")
        if request.seat not in free:
            raise refuse("SEAT_TAKEN", f"seat {request.seat} is taken")
    elif not free:
        raise refuse("TABLE_FULL", "every seat is taken")


def check_act(state: TableState, hand: Hand | None, request: ActRequest) -> None:
    """Refuse an action from a stranger, out of turn, or against the rules (with the legal ones)."""
    if seat_of(state, request.user_id) is None:
        raise refuse("NOT_SEATED", f"{request.user_id} has no seat at this table")
    if hand is None or hand.is_over:
        raise refuse("NOT_YOUR_TURN", "no hand is in progress", to_act=None)
    try:
        # The same checks `apply` makes first; the hand changes only in the handler.
        hand.check(request.user_id, request.action, request.amount)
    except (NotYourTurn, HandOver, NotInHand):
        raise refuse("NOT_YOUR_TURN", f"it is {hand.to_act}'s turn", to_act=hand.to_act) from None
    except IllegalAction as exc:
        legal = hand.legal_actions(request.user_id)
        raise refuse(
            "ILLEGAL_ACTION",
            f"{exc.reason}; legal: {', '.join(exc.legal) or 'none'}",
            legal_actions=legal.actions,
            call_amount=legal.call_amount,
            min_raise_to=legal.min_raise_to,
            max_raise_to=legal.max_raise_to,
        ) from None
    except GameError as exc:
        raise refuse("ILLEGAL_ACTION", str(exc)) from None


def remember_seat_answer(state: TableState, key: str, answer: dict[str, Any]) -> None:
    """Keep a sit's answer under its idempotency key (the newest REMEMBERED_SEAT_KEYS)."""
    state.seat_answers[key] = answer
    while len(state.seat_answers) > REMEMBERED_SEAT_KEYS:
        state.seat_answers.pop(next(iter(state.seat_answers)))


def seat_answer(state: TableState, key: str) -> dict[str, Any]:
    """The remembered answer of a sit: its seat, or its refusal raised again."""
    answer = state.seat_answers[key]
    if "error" in answer:
        raise refuse(str(answer["error"]), str(answer.get("detail", "")))
    return answer
