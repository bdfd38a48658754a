"""The escalation rule: no one grants or reaches a permission they do not hold. Pure.

A role *carries* its permissions; a user carries the permissions of its role (even while
that role is inactive: anyone who may edit roles could turn it on again). An entity is
*stronger* than someone when it carries a permission they lack.

A write by a tenant user is refused when

- the entity as it is now is stronger than the writer (editing, deactivating or deleting
  a stronger role or user: their password, username, role, BCP type, anything), or
- the entity as it would be is stronger than the writer (a role given a permission the
  writer lacks, a user given — themselves included — a role stronger than the writer's).

Operators are exempt: they may do everything on every tenant already.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Entity types that carry permissions, and so fall under the rule.
CARRIERS = frozenset({"roles", "users"})

TARGET_STRONGER = "target_stronger"
GRANTS_MORE = "grants_more"


@dataclass(frozen=True)
class Escalation:
    """Why a write is refused, with the permissions the writer lacks."""

    reason: str  # TARGET_STRONGER or GRANTS_MORE
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        lacking = ", ".join(self.missing)
        if self.reason == TARGET_STRONGER:
            return f"This is stronger than you: it carries permissions you do not hold ({lacking}); nothing changed."
        return f"You cannot give permissions you do not hold ({lacking}); nothing changed."


def is_stronger(theirs: Iterable[str], mine: frozenset[str]) -> bool:
    return not set(theirs) <= mine


def escalation(
    held: frozenset[str] | None, *, before: Iterable[str] | None, after: Iterable[str] | None
) -> Escalation | None:
    """The refusal of a write, or None when it is allowed.

    ``held`` is the writer's permissions (None for an operator); ``before`` what the entity
    carries now (None when it is created), ``after`` what it will carry (None when deleted).
    """
    if held is None:
        return None
    for reason, carried in ((TARGET_STRONGER, before), (GRANTS_MORE, after)):
        if carried is not None and is_stronger(carried, held):
            return Escalation(reason, tuple(sorted(set(carried) - held)))
    return None
