"""The values the sync works with: options, changes and the plan (narrow rows and
correlations, which the store reads and writes too, are ``domain.records``).

A plan is data: typed changes in a deterministic order, serialisable to JSON, shown by
the dry run and the CLI, and carried out by ``sync.apply``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lifeboat.domain.json_limits import JsonLimits
from lifeboat.domain.records import ChangeAction, Correlation, Row
from lifeboat.domain.scripts import ScriptDocument, SlotReferences
from lifeboat.errors import Conflict

__all__ = [
    "Change",
    "ChangeAction",
    "Correlation",
    "Options",
    "ParsedScript",
    "Pending",
    "Plan",
    "Progress",
    "Refresh",
    "Row",
]

# The keys of a type's counts, in the order the JSON report has always listed them: each
# ``ChangeAction.past``, then what was left alone and what failed.
COUNT_KEYS = ("created", "updated", "adopted", "deactivated", "deleted", "unchanged", "failed")
SAFETY_MIN_SYNCED = 10
SAFETY_MAX_SHARE = 0.30
REMOVALS = (ChangeAction.DELETE, ChangeAction.DEACTIVATE)

# What a run reports as it goes: a step name and how many entities it covers.
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Pending:
    """A reference to an entity this very run creates or adopts; resolved by apply."""

    type: str
    primary_id: int

    def __str__(self) -> str:
        return f"pending:{self.type}:{self.primary_id}"


@dataclass(frozen=True)
class Options:
    types: frozenset[str]
    script_ids: str = "remap"  # remap / keep
    remap_free_text: bool = False
    full: bool = False  # compare every entity, not only those whose version moved
    # Adopt uncorrelated BCP entities with a primary entity's natural key: the first run
    # only (SPEC §4.4). Later, such a BCP-only entity is left alone and the clash reported.
    adopt: bool = True
    # Primary ids compared field by field whatever their versions say: what an earlier
    # attempt of the same run wrote, so that a resumed run sees it again (sync.resume).
    revisit: frozenset[int] = frozenset()
    # Free-form values over these limits are not copied; each is reported as a failed entity.
    json_limits: JsonLimits = JsonLimits()


@dataclass(frozen=True)
class ParsedScript:
    """A primary script read once by the planner, its references found: apply rewrites it with
    the final ids without reading it again. ``unreadable``: why it could not be read (then it
    is copied as it is)."""

    document: ScriptDocument | None
    references: SlotReferences = field(default_factory=list)
    unreadable: dict[str, Any] | None = None


@dataclass(slots=True)
class Change:
    """What apply does to one BCP entity. A value like the others here, but not frozen: a
    first sync makes one per entity, and a frozen dataclass's ``__init__`` of this many
    fields costs five times a plain one. Nothing changes a change once planned (apply makes
    a new one with ``dataclasses.replace``)."""

    action: ChangeAction  # a plain string is taken too (see __post_init__)
    type: str
    key: str  # natural key, for people
    primary_id: int
    bcp_id: int | None  # None for a create: apply allocates it
    primary_version: int = 0
    fields: tuple[str, ...] = ()  # fields that change
    data: dict[str, Any] | None = None  # the BCP fields to write; may hold Pending values
    content: bytes | None = None
    drift: tuple[str, ...] = ()  # fields edited by hand in BCP that this change overwrites
    notes: dict[str, Any] | None = None  # unresolved references, script checklist
    complete: bool = True  # False: a reference stays unresolved; look again next run
    expected_version: int = 0  # the BCP entity's version when planned (0 for a create)
    script: ParsedScript | None = field(default=None, compare=False, repr=False)  # a script's content, read

    def __post_init__(self) -> None:
        if not isinstance(self.action, ChangeAction):  # e.g. Change("create", ...) in a test
            self.action = ChangeAction(self.action)

    @property
    def existing_id(self) -> int:
        """The BCP entity an update, adoption, deactivation or deletion writes over (a create
        has none: apply gives it its id)."""
        if self.bcp_id is None:
            raise ValueError(f"a {self.action} of {self.type} {self.key!r} has no BCP entity")
        return self.bcp_id

    def to_dict(self) -> dict[str, Any]:
        out = {
            "action": self.action,
            "type": self.type,
            "name": self.key,
            "primary_id": self.primary_id,
            "bcp_id": self.bcp_id,
            "fields": list(self.fields),
        }
        if self.drift:
            out["drift"] = list(self.drift)
        if self.notes and self.notes.get("unresolved"):
            out["unresolved"] = self.notes["unresolved"]
        return out


@dataclass(frozen=True)
class Refresh:
    """Bookkeeping only: the entities agree, the correlation learns the new versions (both:
    a BCP edit since undone must not count as drift on a later run)."""

    type: str
    primary_id: int
    primary_version: int
    notes: dict[str, Any] | None = None
    complete: bool = True
    bcp_id: int = 0
    bcp_version: int = 0


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    refreshes: list[Refresh] = field(default_factory=list)
    forget: list[Correlation] = field(default_factory=list)  # correlations with nothing left on either side
    unchanged: Counter[str] = field(default_factory=Counter)
    failed: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    synced_before: Counter[str] = field(default_factory=Counter)  # correlations per type at the start

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (type_name, action), n in Counter((c.type, c.action) for c in self.changes).items():
            out.setdefault(type_name, dict.fromkeys(COUNT_KEYS, 0))[action.past] = n
        for type_name, n in self.unchanged.items():
            out.setdefault(type_name, dict.fromkeys(COUNT_KEYS, 0))["unchanged"] += n
        for failure in self.failed:
            out.setdefault(failure["type"], dict.fromkeys(COUNT_KEYS, 0))["failed"] += 1
        return out

    @property
    def drift(self) -> list[dict[str, Any]]:
        return [
            {"type": c.type, "name": c.key, "primary_id": c.primary_id, "bcp_id": c.bcp_id, "fields": list(c.drift)}
            for c in self.changes
            if c.drift
        ]

    def unsafe(self) -> list[dict[str, Any]]:
        """Types where the run would delete or deactivate over 30% of what is synced."""
        removals = Counter(c.type for c in self.changes if c.action in REMOVALS)
        return [
            {"type": t, "removals": n, "synced": self.synced_before[t], "share": round(n / self.synced_before[t], 3)}
            for t, n in sorted(removals.items())
            if self.synced_before[t] >= SAFETY_MIN_SYNCED and n > SAFETY_MAX_SHARE * self.synced_before[t]
        ]

    def raise_if_unsafe(self, *, force: bool) -> None:
        unsafe = self.unsafe()
        if unsafe and not force:
            summary = ", ".join(f"{u['type']}: {u['removals']} of {u['synced']}" for u in unsafe)
            raise Conflict(
                f"The run would delete or deactivate more than {SAFETY_MAX_SHARE:.0%} of the synced entities "
                f"of a type ({summary}); nothing was written. Run it by hand with force to proceed.",
                code="sync_held",
                details={"unsafe": unsafe},
            )

    @property
    def is_empty(self) -> bool:
        return not (self.changes or self.refreshes or self.forget)

    def to_dict(self) -> dict[str, Any]:
        return {"changes": [c.to_dict() for c in self.changes], **self.summary()}

    def summary(self) -> dict[str, Any]:
        """``to_dict`` without the list of changes (a run's report: a first sync has one per entity)."""
        return {
            "counts": self.counts(),
            "drift": self.drift,
            "warnings": self.warnings,
            "errors": self.failed,
            "unsafe": self.unsafe(),
        }
