"""What the table shows: the lobby summary, a seat, and the table as one viewer sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.game import Hand, TableRules
from workflows.game.models import SeatState, TableState


def seat_view(seat: SeatState) -> dict[str, Any]:
    """One seat as every player may see it."""
    return {"seat": seat.seat, "user_id": seat.user_id, "stack": seat.stack, "status": seat.status}


def table_summary(state: TableState, hand_in_progress: bool) -> dict[str, Any]:
    """The lobby's line for this table; `version` orders summaries written late."""
    c = state.config
    return {
        "table_id": c.table_id,
        "name": c.name,
        "small_blind": c.small_blind,
        "big_blind": c.big_blind,
        "min_buy_in": c.min_buy_in,
        "max_buy_in": c.max_buy_in,
        "max_seats": c.max_seats,
        "action_timeout_seconds": c.action_timeout_seconds,
        "seated": len(state.seats),
        "hand_in_progress": hand_in_progress,
        "hands_played": state.hands_played,
        "moderator": c.created_by,
        "version": state.event_seq,
    }


def _hand_view(
    hand: Hand, viewer: str | None, rules: TableRules, deadline: datetime | None
) -> dict[str, Any]:
    legal = hand.legal_actions(viewer) if viewer is not None else None
    view: dict[str, Any] = {
        "hand_id": hand.hand_id,
        "street": hand.street,
        "board": hand.board,
        "pot": hand.pot_total,
        "to_act": hand.to_act,
        "button_seat": hand.button_seat,
        "players": hand.players,
        "street_bets": hand.street_bets,
        "folded": sorted(hand.folded),
        "all_in": sorted(hand.all_in),
        "action_timeout_seconds": rules.action_timeout_seconds,
        # When the clock acts for `to_act` (ms since the epoch, the workflow's clock).
        "turn_deadline_ms": None if deadline is None else int(deadline.timestamp() * 1000),
    }
    if legal is not None and legal.actions:
        view["legal_actions"] = {
            "actions": legal.actions,
            "call_amount": legal.call_amount,
            "min_raise_to": legal.min_raise_to,
            "max_raise_to": legal.max_raise_to,
        }
    return view


def table_view(
    state: TableState,
    hand: Hand | None,
    joining: dict[int, str],
    viewer: str | None,
    rules: TableRules,
    deadline: datetime | None = None,
) -> dict[str, Any]:
    """The table as `viewer` sees it: its own hole cards, never anyone else's."""
    live = hand if hand is not None and not hand.is_over else None
    stacks = live.stacks if live is not None else {}
    seats = []
    for seat in state.seats:
        shown = seat_view(seat)
        if seat.user_id in stacks:
            shown["stack"] = stacks[seat.user_id]
            shown["in_hand"] = seat.user_id not in live.folded  # type: ignore[union-attr]
        seats.append(shown)
    seats += [
        {"seat": n, "user_id": u, "stack": 0, "status": "joining"} for n, u in joining.items()
    ]
    c = state.config
    view: dict[str, Any] = {
        "table_id": c.table_id,
        "name": c.name,
        "small_blind": c.small_blind,
        "big_blind": c.big_blind,
        "min_buy_in": c.min_buy_in,
        "max_buy_in": c.max_buy_in,
        "max_seats": c.max_seats,
        "action_timeout_seconds": c.action_timeout_seconds,
        "hands_played": state.hands_played,
        "last_event_seq": state.event_seq,
        "seats": sorted(seats, key=lambda s: int(s["seat"])),
        "hand": None if live is None else _hand_view(live, viewer, rules, deadline),
    }
    if live is not None and viewer is not None and viewer in live.players:
        view["hole_cards"] = live.hole_cards(viewer)
    return view


def table_details(state: TableState, hand: Hand | None) -> str:
    """The line the Temporal UI shows as the table's current details."""
    seated = ", ".join(f"{s.user_id} ({s.stack})" for s in state.seats) or "nobody"
    if hand is None:
        return f"{state.config.name}: waiting · seated: {seated}"
    return (
        f"{state.config.name}: hand {state.hands_played} · {hand.street} · "
        f"pot {hand.pot_total} · to act: {hand.to_act} · seated: {seated}"
    )
