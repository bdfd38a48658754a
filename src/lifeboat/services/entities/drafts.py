"""Drafts of entities for a bulk load, and how they become entities with ids.

A draft is ``(type, local key, payload)``. A payload may name another draft of the same
load by its local key, ``{"role_id": Ref("role:admin")}``, or an existing entity by its id.
``batch_drafts`` checks every payload as a single create would (``domain.entities.validate``,
the Studio script reader, file size and digest: ``services.entities.crud.prepare_for_storage``),
skips a draft whose natural key already exists in the tenant, and gives the new ones ids,
write group after write group in the sync's own order, through the sync's own ``IdBook``
(``domain.graph``). A link that closes a cycle (users name a team, teams name a lead user)
is filled in at the end of its group, once its target has an id: entities are only written
once the batch is made, so the "patch" happens before anything reaches the database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from lifeboat.config import Settings
from lifeboat.domain.entities import ENTITY_TYPES, Entity, EntityType, Link, entity_type, validate
from lifeboat.domain.graph import IdBook, write_groups
from lifeboat.errors import Invalid, LifeboatError
from lifeboat.services.entities.crud import prepare_for_storage
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now

MAX_REPORTED_ERRORS = 200
HashPassword = Callable[[str], str]


@dataclass(frozen=True)
class Ref:
    """A reference, inside a draft's payload, to another draft of the same load."""

    key: str


class Draft(NamedTuple):
    type: str  # API name of an entity type, e.g. "skills"
    key: str  # local key, unique within one load, e.g. "skill:12"
    payload: dict[str, Any]


@dataclass
class TypeCounts:
    created: int = 0
    skipped: int = 0  # its natural key existed already


def batch_drafts(
    settings: Settings, tenant_id: int, repo: EntityRepo, drafts: Sequence[Draft], hash_password: HashPassword
) -> DraftBatch:
    """The entities to create (with ids from ``repo``'s counter) and what was skipped.

    Raises ``Invalid`` listing every problem, each field prefixed with the draft's local
    key (``"user:7.email"``); the caller's transaction then gives the ids back.
    """
    check_drafts(drafts)
    return DraftBatch(settings, tenant_id, repo, hash_password).make(drafts)


def check_drafts(drafts: Sequence[Draft]) -> None:
    """Known types and distinct local keys: checked before any database is opened."""
    for draft in drafts:
        entity_type(draft.type)  # NotFound for an unknown type
    twice = sorted(key for key, n in Counter(d.key for d in drafts).items() if n > 1)
    if twice:
        raise Invalid.fields(
            [
                {"field": key, "code": "duplicate_local_key", "message": "is the key of two drafts"}
                for key in twice[:MAX_REPORTED_ERRORS]
            ]
        )


@dataclass
class _Waiting:
    entity: Entity
    draft: Draft
    fields: dict[str, Any]  # field -> raw value still holding Refs


class DraftBatch:
    """Validates the drafts and turns the new ones into entities with ids. It writes only
    the id counter, in the caller's transaction, so a failed load gives its ids back."""

    def __init__(self, settings: Settings, tenant_id: int, repo: EntityRepo, hash_password: HashPassword):
        self.settings = settings
        self.tenant_id = tenant_id
        self.repo = repo
        self.hash_password = hash_password
        self.stamp = now()
        self.book: IdBook[str, _Waiting] = IdBook()  # local key -> id, new or existing
        self.counts: dict[str, TypeCounts] = {}
        self.entities: list[Entity] = []
        self.usernames: dict[str, int] = {}
        self.errors: list[dict[str, str]] = []
        self.done: set[str] = set()  # types batched already
        self.new_keys: set[tuple[str, str]] = set()

    @property
    def ids(self) -> dict[str, int]:
        """The id of every draft's entity, created or found by its natural key."""
        return self.book.ids

    def make(self, drafts: Sequence[Draft]) -> DraftBatch:
        existing = self.repo.rows(self.tenant_id).values()  # ids, types and keys only: no JSON to parse
        self.type_of_id = {row.id: row.type for row in existing}
        self.id_of_key = {(row.type, row.natural_key): row.id for row in existing}
        self.type_of_draft = {d.key: d.type for d in drafts}
        by_type: dict[str, list[Draft]] = defaultdict(list)
        for draft in drafts:
            by_type[draft.type].append(draft)
        for group in write_groups():
            for type_name in group:
                if by_type[type_name]:
                    self._plan_type(ENTITY_TYPES[type_name], by_type[type_name])
                self.done.add(type_name)
            # Every id of the group is given: references inside a cycle resolve now.
            self.book.settle(self._fill_in)
        if self.errors:
            raise Invalid.fields(self.errors[:MAX_REPORTED_ERRORS])
        return self

    def _plan_type(self, kind: EntityType, drafts: list[Draft]) -> None:
        self.counts[kind.name] = TypeCounts()
        new = [prepared for draft in drafts if (prepared := self._prepare(kind, draft)) is not None]
        new_ids = self.book.give([draft.key for draft, *_ in new], self.repo.new_ids)
        for (draft, data, content, later), entity_id in zip(new, new_ids):
            entity = Entity(entity_id, self.tenant_id, kind.name, data, self.stamp, self.stamp, content)
            self.entities.append(entity)
            self.type_of_id[entity_id] = kind.name
            if later:
                self.book.wait(_Waiting(entity, draft, later))
            if kind.login_key is not None:  # claimed in the directory's login index by the loader
                self.usernames[data[kind.login_key]] = entity_id
        self.counts[kind.name].created = len(new)

    def _prepare(self, kind: EntityType, draft: Draft) -> tuple[Draft, dict[str, Any], Any, Any] | None:
        """(draft, data, content, deferred fields) for a new entity; None when skipped or invalid."""
        try:
            payload, later = self._resolve(kind, draft.payload)
            data = validate(kind, payload)
            key = (kind.name, kind.key_of(data))
            if key in self.new_keys:
                raise Invalid.fields(
                    [
                        {
                            "field": ",".join(kind.natural_key) or kind.name,
                            "code": "duplicate_natural_key",
                            "message": f"another draft has the same natural key ({key[1]})",
                        }
                    ]
                )
            if key in self.id_of_key:
                self.book.know(draft.key, self.id_of_key[key])
                self.counts[kind.name].skipped += 1
                return None
            self.new_keys.add(key)
            self._check_links(kind, data)
            data, content = prepare_for_storage(self.settings, kind, data, self.hash_password)
            return draft, data, content, later
        except LifeboatError as exc:
            self._error(draft, exc)
            return None

    def _resolve(self, kind: EntityType, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The payload with Refs replaced by ids, and the link fields that must wait (their
        Refs name drafts that have no id yet)."""
        if not isinstance(payload, dict):
            return payload, {}  # validate() says why
        resolved = dict(payload)
        bad: dict[str, dict[str, str]] = {}
        waiting = self.book.resolve(kind, resolved, lambda link, value: self._ref_key(link, value, bad))
        if bad:
            raise Invalid.fields(list(bad.values()))
        return resolved, {name: payload[name] for name in waiting}

    def _ref_key(self, link: Link, value: Any, bad: dict[str, dict[str, str]]) -> str | None:
        """A Ref's local key, for the book to give its id (or to wait while its draft, of a type
        still to come, has none); None for any other value, left for validate(), and for a Ref
        that can never have an id, noted in ``bad``."""
        if not isinstance(value, Ref):
            return None
        target = self.type_of_draft.get(value.key)
        if value.key in self.book.ids or (target is not None and target not in self.done):
            return value.key
        code, why = (
            ("unknown_ref", "no draft of this load has that local key")
            if target is None
            else ("ref_to_invalid_draft", "that draft is invalid, so it is not created")
        )
        bad.setdefault(link.field, {"field": link.field, "code": code, "message": f"Ref({value.key!r}): {why}"})
        return None

    def _fill_in(self, item: _Waiting) -> bool:
        """Fill the waiting fields in if their targets have ids now; True when done."""
        kind = item.entity.kind
        try:
            resolved, still = self._resolve(kind, item.fields)
            if still:
                return False
            item.entity.data = {**item.entity.data, **validate(kind, resolved, current=item.entity.data)}
            self._check_links(kind, item.entity.data)
        except LifeboatError as exc:
            self._error(item.draft, exc)
        return True

    def _check_links(self, kind: EntityType, data: dict[str, Any]) -> None:
        """Every id must name an entity of the right type in this tenant (or of this load)."""
        errors = [
            {
                "field": link.field,
                "code": "unknown_reference",
                "message": f"{link.target} {i} does not exist in this tenant",
            }
            for link in kind.links
            for i in link.ids(data)
            if self.type_of_id.get(i) != link.target
        ]
        if errors:
            raise Invalid.fields(errors)

    def _error(self, draft: Draft, exc: LifeboatError) -> None:
        found = exc.details.get("errors") if isinstance(exc, Invalid) else None
        for item in found or [{"field": "", "code": exc.code, "message": exc.message}]:
            where = f"{draft.key}.{item['field']}" if item["field"] else draft.key
            self.errors.append({**item, "field": where})
