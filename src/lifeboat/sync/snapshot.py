"""Reading one tenant's configuration into values for the planner.

Reads happen in two steps inside one snapshot transaction: every entity narrowly (id,
type, natural key, version), then the fields (not the timestamps, which the planner never
looks at) of only those the planner asks for --
by lists of ids when they are few (a run with few changes stays fast however large the
tenant is), in one query over the tenant when they are most of it (a first sync).
"""

from __future__ import annotations

from collections.abc import Collection

from lifeboat.store.correlations import CorrelationRepo
from lifeboat.store.database import Region
from lifeboat.store.region import EntityRepo
from lifeboat.sync.model import Correlation, Options
from lifeboat.sync.plan import Side, needed


def read_sides(
    primary_region: Region, primary_tenant_id: int, bcp_region: Region, bcp_tenant_id: int, options: Options
) -> tuple[Side, Side, list[Correlation]]:
    """Both tenants and the correlations, with the fields the planner needs."""
    with bcp_region.db.read(snapshot=True) as bcp_conn:
        bcp_repo = EntityRepo(bcp_conn, bcp_region.id_block)
        correlations = CorrelationRepo(bcp_conn, bcp_tenant_id).all()
        bcp_rows = bcp_repo.rows(bcp_tenant_id)
        with primary_region.db.read(snapshot=True) as primary_conn:
            primary_repo = EntityRepo(primary_conn, primary_region.id_block)
            primary_rows = primary_repo.rows(primary_tenant_id)
            want_primary, want_bcp = needed(primary_rows, bcp_rows, correlations, options)
            full = primary_repo.to_compare(primary_tenant_id, want_primary, scan=_most_of(want_primary, primary_rows))
            primary = Side(primary_tenant_id, primary_rows, full)
        bcp = Side(
            bcp_tenant_id, bcp_rows, bcp_repo.to_compare(bcp_tenant_id, want_bcp, scan=_most_of(want_bcp, bcp_rows))
        )
    return primary, bcp, correlations


def _most_of(wanted: Collection[int], rows: Collection[int]) -> bool:
    """Whether the planner wants most of a tenant whole: then one query reads the tenant."""
    return len(wanted) * 2 > len(rows)
