"""Switching voice and logins between the primary and the BCP tenant, as a state machine.

    primary ──switch──▶ bcp ──revert──▶ primary       (manual only; epoch + 1 each time)

and the passkey lockout: five failed tries (a wrong passkey, or a request too malformed to
check one) within 15 minutes lock switching for the plan for 15 minutes from the fifth.
Pure values and functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lifeboat.domain.records import AlertEvent, Side
from lifeboat.errors import Conflict, Invalid

EVENTS = {(Side.PRIMARY, Side.BCP): AlertEvent.SWITCHED, (Side.BCP, Side.PRIMARY): AlertEvent.REVERTED}
MAX_WRONG = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
COUNTED = ("wrong_passkey", "bad_input")  # the outcomes of a try that count toward the lock


@dataclass(frozen=True)
class SwitchState:
    active_side: Side
    epoch: int


def transition(state: SwitchState, to: object) -> tuple[SwitchState, AlertEvent]:
    """The state after switching ``to`` a side, and the event it raises."""
    if not isinstance(to, str) or to not in tuple(Side):  # a request body may hold anything
        raise Invalid(
            '\'to\' must be "bcp" or "primary".',
            code="validation_failed",
            details={"errors": [{"field": "to", "code": "bad_choice", "message": "must be bcp or primary"}]},
        )
    if to == state.active_side:
        raise Conflict(
            f"The {to} tenant is already active.",
            code="already_active",
            details={"active_side": state.active_side, "epoch": state.epoch},
        )
    side = Side(to)
    return SwitchState(side, state.epoch + 1), EVENTS[(state.active_side, side)]


def locked_until(wrong_tries: list[datetime], now: datetime) -> datetime | None:
    """When switching unlocks, if it is locked now. ``wrong_tries`` are the counted failures."""
    tries = sorted(wrong_tries)
    for i in range(MAX_WRONG - 1, len(tries)):
        if tries[i] - tries[i - MAX_WRONG + 1] <= WINDOW and now < tries[i] + LOCK:
            return tries[i] + LOCK
    return None
