"""Reading one tenant's configuration into values for the planner.

Reads happen in two steps inside one snapshot transaction: every entity narrowly (id,
type, natural key, version), then the full fields of only those the planner asks for.
That keeps a run with few changes fast however large the tenant is.
"""

from __future__ import annotations

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
            primary = Side(primary_tenant_id, primary_rows, primary_repo.many(primary_tenant_id, want_primary))
        bcp = Side(bcp_tenant_id, bcp_rows, bcp_repo.many(bcp_tenant_id, want_bcp))
    return primary, bcp, correlations
