"""``lifeboat switch --history`` (SPEC §10, §14), run as the real program against an
installation the demo filled, on SQLite and PostgreSQL: a readable table of the switches
and what each measured."""

from __future__ import annotations

import re

from lifeboat.domain.access import Principal
from lifeboat.services.bcp.routing import lookup
from lifeboat.store.directory import TenantRepo
from lifeboat.store.plans import PlanRepo
from tests.e2e.lifeboat_process import describe, run_lifeboat
from tests.e2e.test_cli_sync import cells
from tests.sync_fixture import store_platform

EDGE = Principal("voice", 0, "edge")  # a voice-edge token's principal: what asks for routes


def test_history_lists_each_switch_with_its_measured_times(installation):
    demo = run_lifeboat("demo", "--users", "5", *installation.flags())
    assert demo.returncode == 0, describe(demo)
    passkey = re.search(r"BCP passkey:\s+(\S+)", demo.stdout).group(1)
    assert run_lifeboat("sync", "run", *installation.flags()).returncode == 0
    empty = run_lifeboat("switch", "--history", *installation.flags())
    assert empty.returncode == 0 and "no switch yet." in empty.stdout, describe(empty)

    for to in ("bcp", "primary"):
        done = run_lifeboat("switch", "--to", to, "--passkey-stdin", *installation.flags(), input=passkey + "\n")
        assert done.returncode == 0, describe(done)
    store = store_platform(installation.data_dir, installation.config)
    try:
        with store.directory.read() as conn:
            primary = TenantRepo(conn).by_name("Acme Contact Center")
            plan = PlanRepo(conn).of_tenant(primary.id)
        number = _voice_number(store, primary.id)
        assert lookup(store, EDGE, number)["tenant_id"] == primary.id  # the revert's first call
    finally:
        store.close()

    result = run_lifeboat("switch", "--history", *installation.flags())

    assert result.returncode == 0, describe(result)
    header = next(line for line in result.stdout.splitlines() if "first call" in line)
    assert all(word in header for word in ("to", "by", "switch", "first login", "RPO"))
    revert, switch = [row for row in cells(result.stdout) if len(row) == 8 and row[1] in ("bcp", "primary")]
    assert (revert[1], switch[1]) == ("primary", "bcp")
    assert revert[2] == switch[2] == "operator:cli"
    assert revert[3] == switch[3] == str(plan.primary_tenant_id)
    assert re.fullmatch(r"[0-9.]+ ms", switch[4]) and re.fullmatch(r"[0-9.]+ ms", revert[4])
    assert re.fullmatch(r"[0-9.e-]+ s", revert[5]) and switch[5] == "-"  # no call while BCP was active
    assert revert[6] == switch[6] == "-"  # nobody logged in
    assert re.fullmatch(r"[0-9.e-]+ s", switch[7]) and re.fullmatch(r"[0-9.e-]+ s", revert[7])


def _voice_number(store, tenant_id: int) -> str:
    region = store.region("na1")
    with store.region_unit(region, write=False) as uow:
        rows = uow.entities.data_of_type([tenant_id], "points-of-contact")
    return next(data["address"] for _, _, data in rows if data["channel"] == "voice" and data.get("is_active", True))
