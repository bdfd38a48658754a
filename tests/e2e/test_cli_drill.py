"""``lifeboat drill start|end|show`` (SPEC §14), run as the real program against an
installation the demo filled and synced, on SQLite and PostgreSQL: a wrong passkey starts
nothing; a drill routes its test number to the BCP copy until ``drill end``; ``drill show``
lists it running, then ended, with what it counted."""

from __future__ import annotations

import re

from lifeboat.store.directory import TenantRepo
from tests.e2e.lifeboat_process import describe, run_lifeboat
from tests.e2e.test_cli_switch_history import _voice_number
from tests.e2e.test_cli_sync import cells, pairs
from tests.sync_fixture import store_platform

LIST_COLUMNS = 9  # id, status, started, ends/ended, ended by, calls routed, pilot logins, first call, first login


def test_drill_start_show_route_end(installation):
    flags = installation.flags()
    demo = run_lifeboat("demo", "--users", "5", *flags)
    assert demo.returncode == 0, describe(demo)
    passkey = re.search(r"BCP passkey:\s+(\S+)", demo.stdout).group(1)
    assert run_lifeboat("sync", "run", *flags).returncode == 0
    number = _primary_voice_number(installation)
    start = ("drill", "start", "--number", number, "--user", "agent1", "--minutes", "30", "--passkey-stdin", *flags)

    wrong = run_lifeboat(*start, input="WRONG-WRONG-WRONG-WRONG\n")
    assert wrong.returncode == 1, describe(wrong)
    assert "wrong_passkey" in wrong.stderr
    nothing = run_lifeboat("drill", "show", *flags)
    assert nothing.returncode == 0 and "no drill yet." in nothing.stdout, describe(nothing)
    assert _route(number, flags)["tenant_kind"] == "primary"

    started = run_lifeboat(*start, input=passkey + "\n")
    assert started.returncode == 0, describe(started)
    drill_id = re.search(r"drill (\d+) started", started.stdout).group(1)
    shown = pairs(started.stdout)
    assert (shown["status"], shown["numbers"], shown["pilots"]) == ("running", number, "agent1")
    assert shown["started by"] == "operator:cli"
    again = run_lifeboat(*start, input=passkey + "\n")
    assert again.returncode == 1 and "drill_running" in again.stderr, describe(again)

    running = _listed(flags)
    assert [(row[0], row[1], row[4]) for row in running] == [(drill_id, "running", "-")]

    assert _route(number, flags)["tenant_kind"] == "bcp"  # the BCP copy answers the test number

    ended = run_lifeboat("drill", "end", *flags)  # no id: the running drill
    assert ended.returncode == 0, describe(ended)
    assert f"drill {drill_id} ended" in ended.stdout
    assert _route(number, flags)["tenant_kind"] == "primary"
    nothing_running = run_lifeboat("drill", "end", *flags)
    assert nothing_running.returncode == 1 and "no_running_drill" in nothing_running.stderr, describe(nothing_running)

    [row] = _listed(flags)
    assert (row[0], row[1], row[4]) == (drill_id, "ended", "operator:cli")
    assert row[5] == "0" and row[6] == "0"  # `lifeboat route` is no call (README, Drills); no pilot logged in
    assert row[7] == row[8] == "-"
    one = run_lifeboat("drill", "show", drill_id, *flags)
    assert one.returncode == 0, describe(one)
    detail = pairs(one.stdout)
    assert (detail["status"], detail["ended by"], detail["calls routed"]) == ("ended", "operator:cli", "0")
    assert "ended (UTC)" in detail and detail["readiness at start"] in ("pass", "warn", "fail")
    missing = run_lifeboat("drill", "show", "999999", *flags)
    assert missing.returncode == 1 and "drill_not_found" in missing.stderr, describe(missing)


def _primary_voice_number(installation) -> str:
    store = store_platform(installation.data_dir, installation.config)
    try:
        with store.directory.read() as conn:
            primary = TenantRepo(conn).by_name("Acme Contact Center")
        return _voice_number(store, primary.id)
    finally:
        store.close()


def _route(number: str, flags: list[str]) -> dict[str, str]:
    result = run_lifeboat("route", number, *flags)
    assert result.returncode == 0, describe(result)
    return pairs(result.stdout)


def _listed(flags: list[str]) -> list[list[str]]:
    result = run_lifeboat("drill", "show", *flags)
    assert result.returncode == 0, describe(result)
    header = next(line for line in result.stdout.splitlines() if "pilot logins" in line)
    assert all(word in header for word in ("status", "started", "ends/ended", "ended by", "calls routed"))
    return [row for row in cells(result.stdout) if len(row) == LIST_COLUMNS and row[0].isdigit()]
