"""Use cases: one function per thing a user does. Entrypoints (api, cli, jobs) call these and nothing below.
They return records and values; how a face shows them is ``lifeboat.views`` (no service imports it).

Where each use case lives (start here):

  tenancy/ — who and where; imports nothing of entities/ or bcp/
    tenants.py        create a tenant in a region, list and get them; open_tenant / require_operator:
                      may this principal enter this tenant?
    auth.py           operators, sessions, voice tokens; authenticate a bearer token; verify_password
    login.py          global login: one username and password, the BCP type decides the tenant
    throttle.py       failed logins slow guessing down (per username, per client address)
    usernames.py      usernames are unique across tenants: the directory's login index claims
    audit.py          read a tenant's audit log (region trail merged with the directory's)
    status.py         region status from a live database check; the configured regions

  entities/ — a tenant's configuration; imports tenancy/
    crud.py           list/get/create/update/delete an entity; the business unit
    escalation.py     nobody grants more than they hold: checks on role and user writes
    bulk.py           load many drafts in one region transaction (demo, benchmarks)
    drafts.py         drafts naming each other, checked and given ids in write order
    references.py     what a Studio script refers to
    stored_values.py  find stored free-form values over today's limits

  bcp/ — continuity; imports tenancy/, entities/, alerts
    pairing.py        pair two tenants into a plan, the passkey, the sync settings; open_bcp_plan
    sync.py           ask for a run, carry one out (the worker's part), dry run, runs, correlations,
                      the script checklist, wait_for_run
    status.py         plan_status: a plan's tenants, runs and access counts (a PlanStatus)
    access.py         employees' BCP type from a CSV; access counts per tenant
    readiness.py      is the BCP tenant ready to take the calls?
    switchover.py     switch to the BCP tenant and back (passkey, lock-out)
    routing.py        where a dialled number goes now (in-memory route table)

  alerts.py           alert subscriptions, emit (outbox), deliver_due (webhooks, email)
  webhook_targets.py  where a webhook may go (checked at subscribe and at send)
  monitor.py          watch the regions: region_down / region_up alerts
  gauges.py           the shared state /metrics reads at scrape time (RPO per plan, regions, edges)
  spanning.py         write_across: the one pattern for a write over the directory and a region
"""
