"""The shapes of the answers: what the API returns as JSON and the CLI prints (and next the
console renders), built from the records and values the services return.

Services return records (``Entity``, ``Tenant``, ``BcpPlan``, ``SyncRun``, ``PlanStatus``, …);
a face calls a service, then a view here. Views are pure: they import the domain (and the
base modules) only, never a service or the store, so no service can come to depend on how a
face shows its result.

    entities.py   public_view: an entity as the API answers it
    tenants.py    tenant_view, login_view (the /auth/login answer)
    bcp.py        plan_view (from a PlanStatus), settings_view, run_view
    alerts.py     subscription_view, delivery_view
    audit.py      audit_row_view: one row of a tenant's audit log
"""
