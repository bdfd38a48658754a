"""What a Studio script refers to (SPEC §3), as the script developer needs to know it."""

from __future__ import annotations

from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import entity_type
from lifeboat.domain.scripts import find_references, parse_script
from lifeboat.services.entities.crud import _must_get
from lifeboat.services.tenancy.tenants import open_tenant


def script_references(platform: Platform, principal: Principal, tenant_id: int, script_id: int) -> list[dict[str, Any]]:
    tenant, region = open_tenant(platform, principal, tenant_id, "studio.view")
    with platform.region_unit(region, write=False) as uow:
        script = _must_get(uow.entities, tenant, entity_type("scripts"), script_id)
        entities = uow.entities.all_of(tenant.id, with_content=False)
    known = {e.id: e.type for e in entities}
    names = {e.id: e.natural_key for e in entities}
    paths = {(e.type, e.data["path"]) for e in entities if e.type in ("scripts", "files")}
    document = parse_script(script.data["content"], max_bytes=platform.settings.max_script_bytes)
    out = []
    for ref in find_references(document, known_ids=known):
        row = ref._asdict()
        row["exists"] = _exists(ref.kind, ref.target, ref.value, known, paths)
        if ref.kind == "possible_id":
            row["matched"] = {"type": ref.target, "id": int(ref.value), "name": names.get(int(ref.value))}
        out.append(row)
    return out


def _exists(kind: str, target: str, value: Any, known: dict[int, str], paths: set[tuple[str, str]]) -> bool | None:
    if kind in ("id", "possible_id"):
        return known.get(int(value)) == target
    if kind == "path":
        return (target, value) in paths
    return None
