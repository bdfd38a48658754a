"""Terse plain values for the sync unit tests: entities of either tenant, correlations,
a BCP tenant that already mirrors the primary, and the planner run the way a sync runs it
(narrow rows first, then the fields of only what ``needed`` asks for)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES, Entity
from lifeboat.domain.scripts import parse_script, rewrite_script
from lifeboat.sync.model import Change, Correlation, Options, Plan, Row
from lifeboat.sync.plan import Side, diff, needed

PRIMARY_TENANT, BCP_TENANT = 1, 2
BCP_OFFSET = 1_000_000  # a mirrored BCP copy's id is its primary's id plus this
STAMP = datetime(2024, 1, 1, tzinfo=UTC)
PASSWORD_HASH = "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"


def entity(
    type_name: str,
    id: int,
    *,
    version: int = 1,
    tenant: int = PRIMARY_TENANT,
    file_bytes: bytes | None = None,
    **data: Any,
) -> Entity:
    """An entity with the type's defaults for every field not given."""
    fields = {f.name: copy.deepcopy(f.default) for f in ENTITY_TYPES[type_name].fields if not f.write_only}
    return Entity(id, tenant, type_name, {**fields, **data}, STAMP, STAMP, file_bytes, version)


def business_unit(id: int, name: str = "Acme", **data: Any) -> Entity:
    return entity("business-unit", id, name=name, **data)


def hours(id: int, name: str, **data: Any) -> Entity:
    return entity("hours-of-operation", id, name=name, **data)


def disposition(id: int, name: str, **data: Any) -> Entity:
    return entity("dispositions", id, name=name, **data)


def skill(id: int, name: str, **data: Any) -> Entity:
    return entity("skills", id, name=name, **data)


def role(id: int, name: str, **data: Any) -> Entity:
    return entity("roles", id, name=name, **data)


def team(id: int, name: str, **data: Any) -> Entity:
    return entity("teams", id, name=name, **data)


def user(id: int, username: str, **data: Any) -> Entity:
    defaults = {
        "email": f"{username}@example.com",
        "first_name": username.title(),
        "last_name": "Agent",
        "password_hash": PASSWORD_HASH,
    }
    return entity("users", id, username=username, **{**defaults, **data})


def agent(id: int, user_id: int, **data: Any) -> Entity:
    return entity("agent-settings", id, user_id=user_id, **data)


def contact(id: int, address: str, *, channel: str = "voice", **data: Any) -> Entity:
    return entity("points-of-contact", id, name=f"{channel} {address}", channel=channel, address=address, **data)


def file(id: int, path: str, content: bytes = b"RIFF") -> Entity:
    return entity("files", id, file_bytes=content, path=path, size=len(content), sha256=f"sha-of-{content!r}")


def script(id: int, path: str, content: Any, **data: Any) -> Entity:
    return entity("scripts", id, path=path, content=content, **data)


def studio(*actions: tuple[str, str, str]) -> dict[str, Any]:
    """A Studio JSON script with one property per action: (action name, property, value)."""
    return {
        "header": {"name": "Inbound/Main"},
        "actions": {str(i): {"name": name} for i, (name, _, _) in enumerate(actions, 1)},
        "properties": {str(i): {"0": {"name": prop, "value": value}} for i, (_, prop, value) in enumerate(actions, 1)},
        "branches": {},
    }


def property_values(content: dict[str, Any]) -> list[str]:
    """Each action's first property value, in action order."""
    return [content["properties"][aid]["0"]["value"] for aid in content["actions"]]


# --- the BCP side ------------------------------------------------------------------------


def edited(e: Entity, *, version: int | None = None, **data: Any) -> Entity:
    """The same entity after an edit: new field values and a bumped version."""
    return Entity(
        e.id,
        e.tenant_id,
        e.type,
        {**copy.deepcopy(e.data), **data},
        e.created_at,
        e.updated_at,
        e.content,
        version if version is not None else e.version + 1,
    )


def bcp_twin(e: Entity, *, version: int = 1) -> Entity:
    """The BCP copy a finished run leaves of ``e``: id moved by ``BCP_OFFSET``, references
    translated the same way, lists in the order the store keeps them (sorted)."""
    data = copy.deepcopy(e.data)
    for link in e.kind.links:
        value = data.get(link.field)
        if value is None:
            continue
        if link.shape == "one":
            data[link.field] = value + BCP_OFFSET
        elif link.shape == "many":
            data[link.field] = sorted(v + BCP_OFFSET for v in value)
        else:
            items = [{**item, link.key: item[link.key] + BCP_OFFSET} for item in value]
            data[link.field] = sorted(items, key=lambda item: item[link.key])
    if e.type == "scripts":
        data["content"], _ = rewrite_script(parse_script(data["content"]), lambda _t, i: i + BCP_OFFSET)
    return Entity(e.id + BCP_OFFSET, BCP_TENANT, e.type, data, STAMP, STAMP, e.content, version)


def correlate(
    p: Entity, b: Entity, *, primary_version: int | None = None, bcp_version: int | None = None
) -> Correlation:
    return Correlation(
        p.type,
        p.id,
        b.id,
        p.version if primary_version is None else primary_version,
        b.version if bcp_version is None else bcp_version,
    )


def mirror(*primary: Entity) -> tuple[list[Entity], list[Correlation]]:
    """A BCP tenant fully in sync with ``primary``, and the correlations of the last run."""
    twins = [bcp_twin(e) for e in primary]
    return twins, [correlate(p, b) for p, b in zip(primary, twins)]


def twin_id(e: Entity) -> int:
    return e.id + BCP_OFFSET


# --- running the planner -----------------------------------------------------------------


def options(types: Iterable[str] | None = None, **kw: Any) -> Options:
    return Options(types=frozenset(ENTITY_TYPES if types is None else types), **kw)


def rows(entities: Iterable[Entity]) -> dict[int, Row]:
    return {e.id: Row(e.id, e.type, e.natural_key, e.version) for e in entities}


def sides(
    primary: Iterable[Entity], bcp: Iterable[Entity], correlations: list[Correlation], opts: Options
) -> tuple[Side, Side]:
    """Both tenants as ``sync.snapshot`` reads them: every row, and only the fields asked for."""
    primary, bcp = {e.id: e for e in primary}, {e.id: e for e in bcp}
    want_primary, want_bcp = needed(rows(primary.values()), rows(bcp.values()), correlations, opts)
    return (
        Side(PRIMARY_TENANT, rows(primary.values()), {i: primary[i] for i in want_primary}),
        Side(BCP_TENANT, rows(bcp.values()), {i: bcp[i] for i in want_bcp}),
    )


def plan_sync(
    primary: Iterable[Entity],
    bcp: Iterable[Entity] = (),
    correlations: Iterable[Correlation] = (),
    opts: Options | None = None,
    **option_values: Any,
) -> Plan:
    opts = opts or options(**option_values)
    correlations = list(correlations)
    primary_side, bcp_side = sides(primary, bcp, correlations, opts)
    return diff(primary_side, bcp_side, correlations, opts)


def the_change(plan: Plan, primary_id: int) -> Change:
    (change,) = [c for c in plan.changes if c.primary_id == primary_id]
    return change


def summary(plan: Plan) -> list[tuple[str, str, str]]:
    """(action, type, name) of every change, in plan order."""
    return [(c.action, c.type, c.key) for c in plan.changes]
