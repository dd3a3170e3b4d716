"""The game front's way to its tables: start, query and update their workflows.

Temporal's answers become the platform's errors here: a validator's refusal keeps its code
(`NOT_YOUR_TURN`, `ILLEGAL_ACTION`, `TABLE_FULL`, ...), an unknown or closed table is
`TABLE_NOT_FOUND`, an unreachable Temporal is `UNAVAILABLE`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import DomainError, ErrorCode, Unavailable
from domain.game.lobby import TableDirectory
from domain.game.metrics import TABLES_OPENED, timed_action
from domain.game.money import TABLE_ID
from workflows.game.models import (
    GAME_TASK_QUEUE,
    ActRequest,
    LeaveRequest,
    SitRequest,
    TableConfig,
    TableState,
    ViewRequest,
    table_workflow_id,
)
from workflows.game.table import TABLE_ID as TABLE_ID_ATTRIBUTE
from workflows.game.table import TableWorkflow
from workflows.game.views import table_summary

T = TypeVar("T")


def new_table_id() -> str:
    """`t` and ten hex digits: short, and usable inside balance account ids."""
    return "t" + uuid.uuid4().hex[:10]


def _refusal(exc: ApplicationError) -> DomainError:
    code = exc.type if exc.type and exc.type in ErrorCode.__members__ else ErrorCode.INVALID_STATE
    fields: dict[str, Any] = {}
    if exc.details and isinstance(exc.details[0], dict):
        fields = dict(exc.details[0])
    return DomainError(exc.message, code=ErrorCode(code), **fields)


class Tables:
    """Tables as workflows on the `game` task queue, and their lobby directory."""

    def __init__(
        self, client: Client, directory: TableDirectory, task_queue: str = GAME_TASK_QUEUE
    ) -> None:
        self._client = client
        self.directory = directory
        self._task_queue = task_queue

    def _handle(self, table_id: str) -> WorkflowHandle[Any, Any]:
        if not TABLE_ID.match(table_id):
            raise DomainError(f"no table {table_id[:80]!r}", code=ErrorCode.TABLE_NOT_FOUND)
        return self._client.get_workflow_handle(table_workflow_id(table_id))

    async def _call(self, table_id: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError):
                raise _refusal(cause) from None
            raise DomainError(str(cause or exc), code=ErrorCode.INVALID_STATE) from None
        except WorkflowQueryFailedError as exc:
            raise DomainError(str(exc), code=ErrorCode.INTERNAL) from None
        except RPCError as exc:
            if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                raise DomainError(
                    f"no open table {table_id!r}", code=ErrorCode.TABLE_NOT_FOUND
                ) from None
            if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
                raise Unavailable("Temporal is unreachable; retry shortly") from None
            raise

    async def open(self, config: TableConfig) -> dict[str, Any]:
        """Start the table's workflow and list it in the lobby at once."""
        state = TableState(config)
        try:
            await self._client.start_workflow(
                TableWorkflow.run,
                state,
                id=table_workflow_id(config.table_id),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(TABLE_ID_ATTRIBUTE, config.table_id)]
                ),
                static_summary=f"Poker table {config.name} "
                f"({config.small_blind}/{config.big_blind}, {config.max_seats} seats)",
            )
        except RPCError as exc:
            if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
                raise Unavailable("Temporal is unreachable; retry shortly") from None
            raise
        TABLES_OPENED.inc()
        summary = table_summary(state, False)
        await self.directory.put(summary)
        return summary

    async def view(self, table_id: str, viewer: str | None) -> dict[str, Any]:
        """The table as `viewer` sees it."""
        handle = self._handle(table_id)
        view: dict[str, Any] = await self._call(
            table_id, handle.query(TableWorkflow.view, ViewRequest(viewer))
        )
        return view

    async def sit(self, table_id: str, request: SitRequest) -> dict[str, Any]:
        """Buy in and take a seat; the same idempotency key gives the same answer."""
        handle = self._handle(table_id)
        update_id = f"sit-{request.user_id}-{request.idempotency_key}"
        answer: dict[str, Any] = await self._call(
            table_id, handle.execute_update(TableWorkflow.sit, request, id=update_id[:200])
        )
        return answer

    async def leave(self, table_id: str, user_id: str) -> dict[str, Any]:
        """Leave the table (a live hand of the player is folded at once)."""
        handle = self._handle(table_id)
        answer: dict[str, Any] = await self._call(
            table_id, handle.execute_update(TableWorkflow.leave, LeaveRequest(user_id))
        )
        return answer

    async def act(self, table_id: str, request: ActRequest) -> dict[str, Any]:
        """One action of the player to act."""
        handle = self._handle(table_id)
        with timed_action():
            view: dict[str, Any] = await self._call(
                table_id, handle.execute_update(TableWorkflow.act, request)
            )
        return view
