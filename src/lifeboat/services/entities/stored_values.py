"""Find stored free-form values over today's limits (``max_json_depth``, ``max_json_bytes``,
``max_script_bytes``): values kept from before the API checked them, or written around it.

The API refuses such values on input; this reads every region's entities and audit records
so an operator can see which are left (``lifeboat check-stored``). Reads still answer for
them (a value too deep to show is withheld) and the sync fails each such entity on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain import json_limits
from lifeboat.domain.entities import ENTITY_TYPES, free_form_fields, free_form_problems
from lifeboat.errors import Unavailable
from lifeboat.store.database import Region

BATCH = 500
FREE_FORM_TYPES = tuple(name for name, kind in ENTITY_TYPES.items() if free_form_fields(kind))


@dataclass
class StoredCheck:
    findings: list[dict[str, Any]] = field(default_factory=list)  # {region, tenant_id, type, id, field, code, message}
    regions_down: list[str] = field(default_factory=list)
    checked: int = 0  # entities and audit records read


def check_stored_values(platform: Platform) -> StoredCheck:
    result = StoredCheck()
    limits = platform.json_limits()
    for region in platform.regions.values():
        try:
            _check_region(platform, region, limits, result)
        except Unavailable:
            result.regions_down.append(region.name)
    return result


def _check_region(platform: Platform, region: Region, limits: json_limits.JsonLimits, result: StoredCheck) -> None:
    script_bytes = platform.settings.max_script_bytes
    with platform.region_unit(region, write=False) as uow:
        repo = uow.entities
        for entity in _loaded(
            repo.ids_across_tenants(FREE_FORM_TYPES),
            repo.load_across_tenants,
            result,
            region,
            lambda i: {"type": "unknown", "id": i},
        ):
            result.checked += 1
            for problem in free_form_problems(entity.kind, entity.data, limits, document_bytes=script_bytes):
                result.findings.append(_finding(region, entity.tenant_id, entity.type, entity.id, problem))
        audit = uow.audit_log
        for record in _loaded(
            audit.seqs_with_values(), audit.load, result, region, lambda seq: {"type": "audit", "id": seq}
        ):
            result.checked += 1
            for side in ("before", "after"):
                fields = record[side]
                for name, value in fields.items() if isinstance(fields, dict) else ():
                    over = json_limits.problem(value, limits, measure_size=False)
                    if over:
                        result.findings.append(
                            _finding(
                                region, record["tenant_id"], "audit", record["seq"], {**over, "field": f"{side}.{name}"}
                            )
                        )


def _loaded(
    ids: Sequence[int],
    load: Callable[[Sequence[int]], list[Any]],
    result: StoredCheck,
    region: Region,
    describe: Callable[[int], dict[str, Any]],
) -> Iterator[Any]:
    """Rows in batches. A value nested past Python's recursion cannot even be loaded: the
    batch is read again row by row and each such row reported instead of stopping the check."""
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        try:
            yield from load(batch)
            continue
        except RecursionError:
            pass
        for one in batch:
            try:
                yield from load([one])
            except RecursionError:
                result.findings.append(
                    {
                        "region": region.name,
                        "tenant_id": None,
                        **describe(one),
                        "field": None,
                        "code": "too_deep",
                        "message": "nested too deep to be read at all",
                    }
                )


def _finding(
    region: Region, tenant_id: int | None, type_name: str, id_: int, problem: dict[str, Any]
) -> dict[str, Any]:
    return {
        "region": region.name,
        "tenant_id": tenant_id,
        "type": type_name,
        "id": id_,
        "field": problem["field"],
        "code": problem["code"],
        "message": problem["message"],
    }
