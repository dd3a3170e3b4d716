"""A poker table as one long-running workflow: seats, hands, the action clock, the money.

Seats and actions arrive as Workflow Updates whose validators refuse what the rules refuse
(out of turn, illegal, a full table) before anything enters history. The workflow deals the
next hand by itself, runs each player's clock as a timer, shuffles with the workflow's own
deterministic randomness (and commits to the deck with a salted SHA-256 before the first
card), and continues as new between hands so its history stays bounded. What a step changes
outside (chips in the balance service, events for players, the lobby) is queued and applied
in order by one activity, each effect at most once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from domain.game import Hand, TableRules
    from workflows.game.checks import (
        check_act,
        check_sit,
        free_seats,
        refuse,
        remember_seat_answer,
        seat_answer,
        seat_of,
    )
    from workflows.game.dealer import deal
    from workflows.game.effects import ONE_EFFECT_PER_STEP, Effects
    from workflows.game.events import TableEvents
    from workflows.game.models import (
        ActRequest,
        BuyInInput,
        LeaveRequest,
        SeatState,
        SitRequest,
        TableState,
        ViewRequest,
    )
    from workflows.game.money_steps import BuyInRefused, buy_in, cash_out
    from workflows.game.views import seat_view, table_details, table_summary, table_view

TABLE_ID = SearchAttributeKey.for_keyword("TableId")
TABLE_PLAYERS = SearchAttributeKey.for_keyword_list("TablePlayers")
HANDS_PLAYED = SearchAttributeKey.for_int("HandsPlayed")


# Not sandboxed: at 50 busy tables the sandbox's per-activation machinery was a quarter of the
# worker's CPU per action (bench/poker.py, docs/poker.md). The rules are plain domain code with
# no clock, randomness or I/O of their own (the shuffle takes `workflow.random()`), and every
# recorded history in tests/replay/table/ is replayed in CI, so a change that breaks
# determinism still fails there.
@workflow.defn(name="TableWorkflow", sandboxed=False)
class TableWorkflow:
    """One cash table: No-Limit Hold'em, 2 to 10 seats."""

    @workflow.init
    def __init__(self, state: TableState) -> None:
        self._s = state
        c = state.config
        self._rules = TableRules(
            small_blind=c.small_blind,
            big_blind=c.big_blind,
            min_buy_in=c.min_buy_in,
            max_buy_in=c.max_buy_in,
            max_seats=c.max_seats,
            action_timeout_seconds=c.action_timeout_seconds,
            rake_bps=c.rake_bps,
            rake_cap=c.rake_cap,
        )
        self._hand: Hand | None = None
        self._events = TableEvents(state)
        self._effects = Effects()
        self._joining: dict[int, str] = {}
        self._in_flight: set[str] = set()
        self._actions = 0
        self._hands_this_run = 0
        # When the player to act got the turn: their clock runs from there.
        self._turn_started: datetime | None = None
        self._one_effect_per_step = False

    @workflow.run
    async def run(self, state: TableState) -> None:
        """Deal hands while two or more seated players have chips; continue as new now and then."""
        # At a fixed point, the first thing of every run: a run recorded without the patch
        # replays without it from start to end.
        self._one_effect_per_step = workflow.patched(ONE_EFFECT_PER_STEP)
        self._effects.lobby_joins = self._one_effect_per_step
        self._publish_table_changed()
        while True:
            await workflow.wait_condition(
                lambda: self._effects.pending or self._leavers() != [] or self._can_deal()
            )
            await self._effects.flush()
            await self._cash_out_leavers()
            if not self._can_deal():
                continue
            await workflow.sleep(timedelta(seconds=self._s.config.next_hand_delay_seconds))
            await self._effects.flush()
            await self._cash_out_leavers()
            if self._can_deal():
                await self._play_hand()
            if (
                self._hands_this_run >= self._s.config.hands_per_run
                or workflow.info().is_continue_as_new_suggested()
            ):
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and not self._effects.pending
                )
                await self._effects.flush()
                workflow.continue_as_new(self._s)

    # -- queries -------------------------------------------------------------------------------

    @workflow.query
    def view(self, request: ViewRequest) -> dict[str, Any]:
        """The table as `request.viewer` sees it: hole cards only its own."""
        deadline = None
        if self._turn_started is not None:
            deadline = self._turn_started + timedelta(seconds=self._rules.action_timeout_seconds)
        return table_view(self._s, self._hand, self._joining, request.viewer, self._rules, deadline)

    # -- seats ---------------------------------------------------------------------------------

    @workflow.update
    async def sit(self, request: SitRequest) -> dict[str, Any]:
        """Buy in (reserve in the wallet, commit into the seat account) and take a seat."""
        key = request.idempotency_key
        if key in self._in_flight:
            await workflow.wait_condition(lambda: key not in self._in_flight)
        if key in self._s.seat_answers:
            return seat_answer(self._s, key)
        seat = request.seat
        if seat is None:
            seat = free_seats(self._s, self._joining, self._rules)[0]
        self._joining[seat] = request.user_id
        self._in_flight.add(key)
        self._s.sittings += 1
        sitting = self._s.sittings
        try:
            await buy_in(
                BuyInInput(self._s.config.table_id, request.user_id, request.buy_in, sitting)
            )
        except BuyInRefused as refused:
            remember_seat_answer(self._s, key, {"error": refused.code, "detail": refused.detail})
            raise refused.refusal() from None
        finally:
            self._joining.pop(seat, None)
            self._in_flight.discard(key)
        taken = SeatState(seat, request.user_id, request.buy_in, sitting)
        self._s.seats.append(taken)
        self._s.seats.sort(key=lambda s: s.seat)
        self._upsert_players()
        self._effects.add(self._events.table_event({"kind": "seat.taken", **seat_view(taken)}))
        self._publish_table_changed()
        remember_seat_answer(
            self._s, key, {"table_id": self._s.config.table_id, **seat_view(taken)}
        )
        return seat_answer(self._s, key)

    @sit.validator
    def _check_sit(self, request: SitRequest) -> None:
        key = request.idempotency_key
        if key not in self._s.seat_answers and key not in self._in_flight:
            check_sit(self._s, self._rules, self._joining, request)

    @workflow.update
    def leave(self, request: LeaveRequest) -> dict[str, Any]:
        """Fold a live hand of the player at once; the stack goes home when no hand runs."""
        seat = seat_of(self._s, request.user_id)
        assert seat is not None  # the validator refused anyone else
        seat.status = "leaving"
        if self._hand is not None and request.user_id in self._hand.players:
            events = self._hand.fold_out(request.user_id)
            self._actions += 1
            self._turn_started = workflow.now()
            self._effects.add(self._events.hand_events(self._hand, events))
        self._publish_table_changed()
        return {"table_id": self._s.config.table_id, **seat_view(seat)}

    @leave.validator
    def _check_leave(self, request: LeaveRequest) -> None:
        if seat_of(self._s, request.user_id) is None:
            raise refuse("NOT_SEATED", f"{request.user_id} has no seat at this table")

    # -- actions -------------------------------------------------------------------------------

    @workflow.update
    def act(self, request: ActRequest) -> dict[str, Any]:
        """Apply the player's action; the answer is the table as that player sees it."""
        assert self._hand is not None  # the validator refused otherwise
        events = self._hand.apply(request.user_id, request.action, request.amount)
        self._actions += 1
        self._turn_started = workflow.now()
        self._effects.add(self._events.hand_events(self._hand, events))
        return self.view(ViewRequest(request.user_id))

    @act.validator
    def _check_act(self, request: ActRequest) -> None:
        check_act(self._s, self._hand, request)

    # -- one hand ------------------------------------------------------------------------------

    async def _play_hand(self) -> None:
        self._hands_this_run += 1
        hand, effects = deal(self._s, self._rules, self._events)
        self._hand = hand
        self._turn_started = workflow.now()
        self._effects.add(effects)
        self._publish_table_changed()
        while not hand.is_over:
            await self._run_clock(hand)
            await self._flush_unless_over(hand)
        result = hand.result
        assert result is not None
        for seat in self._s.seats:
            if seat.user_id in result.final_stacks:
                seat.stack = result.final_stacks[seat.user_id]
        self._hand = None
        self._turn_started = None
        workflow.upsert_search_attributes([HANDS_PLAYED.value_set(self._s.hands_played)])
        self._publish_table_changed()
        await self._effects.flush()

    async def _run_clock(self, hand: Hand) -> None:
        """Wait for the player to act, or for their clock: check if legal, else fold."""
        actor = hand.to_act
        seen = self._actions
        started = self._turn_started or workflow.now()
        deadline = started + timedelta(seconds=self._rules.action_timeout_seconds)

        def moved() -> bool:
            return self._effects.pending or hand.to_act != actor or self._actions != seen

        while hand.to_act == actor and self._actions == seen and not hand.is_over:
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining <= 0:
                assert actor is not None
                action, amount = hand.timeout_action(actor)
                events = hand.apply(actor, action, amount)
                self._actions += 1
                self._turn_started = workflow.now()
                self._effects.add(self._events.hand_events(hand, events, timed_out=actor))
                return
            try:
                await workflow.wait_condition(moved, timeout=timedelta(seconds=remaining))
            except TimeoutError:
                continue
            await self._flush_unless_over(hand)

    async def _flush_unless_over(self, hand: Hand) -> None:
        """Apply what the turn changed; a hand's last step waits for its books to close.

        The settlement, the hand's last events and the lobby's new line then go in one call
        (ONE_EFFECT_PER_STEP), and the action that ended the hand is answered one local
        activity sooner.
        """
        if not (self._one_effect_per_step and hand.is_over):
            await self._effects.flush()

    # -- effects -------------------------------------------------------------------------------

    def _publish_table_changed(self) -> None:
        summary = table_summary(self._s, self._hand is not None)
        self._effects.add(self._events.lobby_update(summary))
        workflow.set_current_details(table_details(self._s, self._hand))

    async def _cash_out_leavers(self) -> None:
        if self._hand is not None:
            return
        for seat in self._leavers():
            if seat.stack > 0:
                await cash_out(self._s.config.table_id, seat)
            self._s.seats.remove(seat)
            self._upsert_players()
            self._effects.add(self._events.table_event({"kind": "seat.left", **seat_view(seat)}))
            self._publish_table_changed()
        await self._effects.flush()

    # -- bookkeeping ---------------------------------------------------------------------------

    def _can_deal(self) -> bool:
        if self._hand is not None or self._s.closed:
            return False
        ready = [s for s in self._s.seats if s.status == "seated" and s.stack > 0]
        return len(ready) >= 2

    def _leavers(self) -> list[SeatState]:
        if self._hand is not None:
            return []
        return [s for s in self._s.seats if s.status == "leaving"]

    def _upsert_players(self) -> None:
        workflow.upsert_search_attributes(
            [TABLE_PLAYERS.value_set([s.user_id for s in self._s.seats])]
        )
