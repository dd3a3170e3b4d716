"""A table's two money steps that run as activities of their own: buying in and cashing out.

Both are regular activities, retried with the same keys (table, user, sitting), so a crash
moves no chip twice. A buy-in the balance service refuses becomes the seat update's refusal,
typed with the balance service's error code.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.game import GameActivities
    from workflows.game.checks import refuse
    from workflows.game.effects import EFFECTS_RETRY
    from workflows.game.models import BuyInInput, CashOutInput, SeatState

_MONEY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=8,
)


class BuyInRefused(Exception):
    """The balance service said no (or could not be reached in time): why, as code and text."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def refusal(self) -> ApplicationError:
        """The seat update's answer."""
        return refuse(self.code, self.detail)


async def buy_in(request: BuyInInput) -> None:
    """Reserve in the wallet and commit into the seat account; BuyInRefused if it cannot."""
    try:
        await workflow.execute_activity_method(
            GameActivities.buy_in,
            request,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=_MONEY_RETRY,
            summary=f"buy-in {request.amount} for {request.user_id}",
        )
    except ActivityError as exc:
        cause = exc.cause
        code = cause.type if isinstance(cause, ApplicationError) and cause.type else "UNAVAILABLE"
        raise BuyInRefused(code or "UNAVAILABLE", str(cause or exc)) from None


async def cash_out(table_id: str, seat: SeatState) -> None:
    """The seat's stack back to the wallet, retried until the balance service answers."""
    await workflow.execute_activity_method(
        GameActivities.cash_out,
        CashOutInput(table_id, seat.user_id, seat.stack, seat.sitting),
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=EFFECTS_RETRY,
        summary=f"cash-out {seat.stack} to {seat.user_id}",
    )
