"""How the Configuration pages show entities: a title a human recognises, the columns of a
list, and a stored entity's fields with the entities they refer to named and linked.

The entities referred to are read through the same service as GET /<type>/<id>, so a
reference the principal may not read is shown as its id, without a name or link."""

from __future__ import annotations

import json
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.console.entity_forms import JSON_INDENT, label_of
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import ENTITY_TYPES, Entity, EntityType, Link
from lifeboat.errors import Forbidden, NotFound
from lifeboat.services.entities import crud

MAX_NAMED = 50  # references named per field on a view page; the rest are shown as ids
BCP_TYPE_MEANING = {
    "none": "logs in to the primary tenant only",
    "single": "logs in to whichever tenant is active",
    "multiple": "chooses either tenant at login",
}
# The columns that say most in a list, beside the title and the status (others: the first scalar fields).
LIST_COLUMNS = {"users": ("first_name", "last_name", "email", "bcp_type"), "points-of-contact": ("channel", "address")}
SCALAR_KINDS = ("text", "select", "number")


def type_label(kind: EntityType) -> str:
    """``points-of-contact`` -> ``Points of contact``."""
    words = kind.name.replace("-", " ")
    return words[:1].upper() + words[1:]


# One of a type, for "New skill"; a type not named here is its own singular.
ONE = {
    "hours-of-operation": "hours of operation",
    "dispositions": "disposition",
    "skills": "skill",
    "roles": "role",
    "teams": "team",
    "users": "user",
    "agent-settings": "agent settings",
    "points-of-contact": "point of contact",
    "files": "file",
    "scripts": "script",
}


def one_label(kind: EntityType) -> str:
    """``points-of-contact`` -> ``point of contact`` (for "New point of contact")."""
    return ONE.get(kind.name, kind.name.replace("-", " "))


def title_of(entity: Entity) -> str:
    data = entity.data
    for name in ("name", "username", "path"):
        if data.get(name):
            return str(data[name])
    return f"{type_label(entity.kind)} {entity.natural_key or entity.id}"  # e.g. agent settings: by user id


def has_status(kind: EntityType) -> bool:
    return "is_active" in kind.field_names


def list_columns(kind: EntityType) -> list[str]:
    if kind.name in LIST_COLUMNS:
        return list(LIST_COLUMNS[kind.name])
    skip = {"name", "username", "path", "is_active"}
    plain = [x.name for x in kind.fields if x.name not in skip and not x.write_only and _is_scalar(x.spec.schema)]
    return plain[:3]


def _is_scalar(schema: dict[str, Any]) -> bool:
    return schema.get("type") in ("string", "integer") and "format" not in schema


def cell(entity: Entity, name: str) -> str:
    value = entity.data.get(name)
    return "—" if value is None or value == "" else str(value)


# --------------------------------------------------------------------------- a view page


def fields_shown(platform: Platform, principal: Principal, tenant_id: int, entity: Entity) -> list[dict[str, Any]]:
    """Every public field as {name, label, text | links | json | flag}; references named."""
    kind = entity.kind
    links = {link.field: link for link in kind.links}
    data = kind.public(entity.data)
    rows = []
    for spec in kind.fields:
        if spec.write_only or spec.name not in data:
            continue
        row: dict[str, Any] = {"name": spec.name, "label": label_of(spec.name)}
        value = data[spec.name]
        link = links.get(spec.name)
        if link is not None:
            row["links"] = _named(platform, principal, tenant_id, link, value)
        elif isinstance(value, bool):
            row["flag"] = value
        elif isinstance(value, (dict, list)):
            row["json"] = json.dumps(value, indent=JSON_INDENT, ensure_ascii=False)
        else:
            row["text"] = "—" if value is None or value == "" else str(value)
        rows.append(row)
    return rows


def _named(platform: Platform, principal: Principal, tenant_id: int, link: Link, value: Any) -> list[dict[str, Any]]:
    """The entities a reference field names: [{id, name, href, extra}] (name None: not readable)."""
    items = value if link.shape == "nested" else None
    ids = link.ids({link.field: value})
    out = []
    for position, target_id in enumerate(ids):
        entry: dict[str, Any] = {"id": target_id, "name": None, "href": None, "extra": ""}
        if position < MAX_NAMED:
            entry.update(_lookup(platform, principal, tenant_id, link.target, target_id))
        if items is not None:
            entry["extra"] = ", ".join(f"{k} {v}" for k, v in items[position].items() if k != link.key)
        out.append(entry)
    return out


def _lookup(platform: Platform, principal: Principal, tenant_id: int, type_name: str, target_id: int) -> dict[str, Any]:
    try:
        target = crud.get_entity(platform, principal, tenant_id, type_name, target_id)
    except NotFound:
        return {"missing": True}
    except Forbidden:
        return {}
    return {"name": title_of(target), "href": f"/config/{type_name}/{target_id}"}


def script_at(platform: Platform, principal: Principal, tenant_id: int, path: str) -> dict[str, Any] | None:
    """The script a point of contact names by path: {name, href}, None if none or not readable."""
    try:
        found, _ = crud.list_entities(platform, principal, tenant_id, "scripts", limit=20, offset=0, search=path)
    except Forbidden:
        return None
    exact = [s for s in found if s.data.get("path") == path]
    return {"name": path, "href": f"/config/scripts/{exact[0].id}"} if exact else None


def referrers_named(
    platform: Platform, principal: Principal, tenant_id: int, details: dict[str, Any]
) -> list[dict[str, Any]]:
    """The entities named in a refused delete (``entity_in_use``), with their titles where readable."""
    out = []
    for ref in details.get("referenced_by", [])[:MAX_NAMED]:
        type_name, ref_id = str(ref.get("type")), int(ref.get("id", 0))
        entry = {"type": type_label(ENTITY_TYPES[type_name]) if type_name in ENTITY_TYPES else type_name, "id": ref_id}
        entry.update(_lookup(platform, principal, tenant_id, type_name, ref_id))
        out.append(entry)
    return out
