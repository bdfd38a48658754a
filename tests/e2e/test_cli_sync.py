"""``lifeboat sync plan|run|status|history`` and ``lifeboat checklist`` (SPEC §10), run as
the real program against an installation, on SQLite and PostgreSQL: readable tables, and
exit codes a script can trust (run: 0 when it succeeded, 1 when held, paused or failed).

``lifeboat demo`` makes the data: a primary tenant, a BCP tenant paired with it, sync on
and its first run queued (no worker runs here: ``sync run`` carries the run out itself).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from lifeboat.domain.access import Principal
from lifeboat.services.bcp.pairing import update_settings
from lifeboat.services.entities.crud import create_entity, delete_entity
from lifeboat.store.correlations import CorrelationRepo
from lifeboat.store.directory import TenantRepo
from lifeboat.store.plans import PlanRepo
from lifeboat.store.region import EntityRepo
from tests.e2e.lifeboat_process import Installation, describe, run_lifeboat
from tests.sync_fixture import store_platform

COUNT_KEYS = ("created", "adopted", "updated", "deactivated", "deleted", "unchanged", "failed")
TEST_OPERATOR = Principal("operator", 0, "cli-test")


class Center:
    """The demo's tenants in an installation, and the ``lifeboat`` program pointed at it."""

    def __init__(self, install: Installation):
        self.install = install
        self.store = store_platform(install.data_dir, install.config)
        with self.store.directory.read() as conn:
            primary = TenantRepo(conn).by_name("Acme Contact Center")
            self.plan = PlanRepo(conn).of_tenant(primary.id)
        self.primary_id, self.bcp_id = self.plan.primary_tenant_id, self.plan.bcp_tenant_id

    def cli(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        result = run_lifeboat(*args, *self.install.flags())
        assert result.returncode == expect, describe(result)
        return result

    def entities(self, tenant_id: int, type_name: str) -> list[Any]:
        region = self.store.region("na1" if tenant_id == self.primary_id else "eu1")
        with region.db.read() as conn:
            return EntityRepo(conn, region.id_block).all_of(tenant_id, [type_name])

    def correlations(self) -> dict[tuple[str, int], int]:
        with self.store.region("eu1").db.read() as conn:
            return {(c.type, c.primary_id): c.bcp_id for c in CorrelationRepo(conn, self.bcp_id).all()}

    def in_scope_counts(self) -> dict[str, int]:
        """Per type, how many primary entities a run copies (voice points of contact only)."""
        region = self.store.region("na1")
        with region.db.read() as conn:
            rows = EntityRepo(conn, region.id_block).rows(self.primary_id).values()
        counts: dict[str, int] = {}
        for row in rows:
            if row.type != "points-of-contact" or row.natural_key.startswith("voice|"):
                counts[row.type] = counts.get(row.type, 0) + 1
        return counts


@pytest.fixture
def center(installation: Installation) -> Iterator[Center]:
    result = run_lifeboat("demo", "--users", "20", *installation.flags())
    assert result.returncode == 0, describe(result)
    loaded = Center(installation)
    yield loaded
    loaded.store.close()


def cells(output: str) -> list[list[str]]:
    """The body rows of every table printed, as lists of cell texts."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.lstrip().startswith("│")
    ]


def pairs(output: str) -> dict[str, str]:
    """A two-column table (``sync status``) as a dict."""
    return {row[0]: row[1] for row in cells(output) if len(row) == 2}


def counts(output: str) -> dict[str, dict[str, int]]:
    """The per-type counts table (``sync plan``, ``sync run``)."""
    return {
        row[0]: dict(zip(COUNT_KEYS, map(int, row[1:])))
        for row in cells(output)
        if len(row) == 1 + len(COUNT_KEYS) and all(c.isdigit() for c in row[1:])
    }


def created(per_type: dict[str, int]) -> dict[str, dict[str, int]]:
    """The counts of a first run: every type created, the business unit adopted."""
    out = {t: dict.fromkeys(COUNT_KEYS, 0) | {"created": n} for t, n in per_type.items()}
    out["business-unit"] = dict.fromkeys(COUNT_KEYS, 0) | {"adopted": 1}
    return out


def test_plan_run_status_history_and_checklist_against_a_data_dir(center):
    status = pairs(center.cli("sync", "status").stdout)
    assert status["primary"] == f"Acme Contact Center ({center.primary_id}, na1)"
    assert status["BCP"] == f"Acme Contact Center BCP ({center.bcp_id}, eu1)"
    assert (status["sync"], status["schedule"], status["last run"]) == ("enabled", "daily", "none")

    plan = center.cli("sync", "plan").stdout
    expected = created(center.in_scope_counts())
    assert counts(plan) == expected
    changes = [row for row in cells(plan) if len(row) == 6]
    assert {row[0] for row in changes} == {"create", "adopt"}
    assert len(changes) == 50 and f"and {sum(sum(c.values()) for c in expected.values()) - 50} more" in plan
    assert center.correlations() == {} and len(center.entities(center.bcp_id, "skills")) == 0  # a plan writes nothing

    run = center.cli("sync", "run").stdout
    run_id = int(re.search(r"run (\d+): succeeded in [0-9.]+ s", run).group(1))
    assert counts(run) == expected
    corr = center.correlations()
    assert len(corr) == sum(center.in_scope_counts().values())

    history = center.cli("sync", "history").stdout
    assert "1 runs" in history
    [row] = cells(history)
    assert (row[0], row[1], row[2]) == (str(run_id), "enable", "succeeded")
    assert (int(row[5]), row[6], row[7]) == (len(corr), "0", "0")

    checklist = center.cli("checklist").stdout
    rows = [row for row in cells(checklist) if len(row) == 7 and row[0]]  # row[0] empty: a wrapped line
    assert re.search(rf"{len(rows)} references", checklist) and rows
    assert {row[5] for row in rows} <= {"remapped", "unchanged", "possible_id"}
    # a free-text id names the entity it equals; nothing else claims a match
    assert all(re.match(r"[a-z-]+ \S", row[6]) for row in rows if row[5] == "possible_id")
    assert all(row[6] == "" for row in rows if row[5] != "possible_id")
    remapped = [row for row in rows if row[5] == "remapped"]
    assert remapped and all(int(row[4]) in corr.values() and int(row[3]) != int(row[4]) for row in remapped)
    todo = [
        row for row in cells(center.cli("checklist", "--todo").stdout) if len(row) == 7 and row[0]
    ]  # row[0] empty: a wrapped line
    assert todo and {row[5] for row in todo} == {"possible_id"}  # nothing else needs a developer

    again = center.cli("sync", "run").stdout
    again_id = int(re.search(r"run (\d+): succeeded", again).group(1))
    assert {t: {k: v for k, v in c.items() if v and k != "unchanged"} for t, c in counts(again).items()} == {
        t: {} for t in expected
    }
    assert sum(c["unchanged"] for c in counts(again).values()) == len(corr)
    status = pairs(center.cli("sync", "status", "--tenant", str(center.bcp_id)).stdout)
    assert status["last run"].startswith(f"{again_id} succeeded at ")
    assert status["last success"] != "never"

    update_settings(center.store, TEST_OPERATOR, center.primary_id, {"script_ids": "keep"})
    center.cli("sync", "run")  # new settings: every script is compared again, and copied as it is
    kept = [
        row for row in cells(center.cli("checklist", "--todo").stdout) if len(row) == 7 and row[0]
    ]  # row[0] empty: a wrapped line
    assert {row[5] for row in kept} == {"possible_id", "to fix (keep)"}
    assert len([row for row in kept if row[5] == "to fix (keep)"]) == len(remapped)


def test_run_exits_1_when_held_and_0_when_forced_and_1_while_paused(center):
    center.cli("sync", "run")
    extra = [
        create_entity(center.store, TEST_OPERATOR, center.primary_id, "skills", {"name": f"Overflow {n}"})
        for n in range(10)
    ]
    assert counts(center.cli("sync", "run").stdout)["skills"]["created"] == 10
    synced = len(center.entities(center.bcp_id, "skills"))
    for skill in extra[:5]:  # 5 of 16: over 30%
        delete_entity(center.store, TEST_OPERATOR, center.primary_id, "skills", skill.id)

    plan = center.cli("sync", "plan").stdout
    assert "held if scheduled" in plan and "skills" in plan
    held = center.cli("sync", "run", expect=1).stdout
    assert re.search(r"run \d+: held", held) and "sync_held" in held and f"skills: 5 of {synced}" in held
    assert len(center.entities(center.bcp_id, "skills")) == synced

    forced = center.cli("sync", "run", "--force").stdout
    assert re.search(r"run \d+: succeeded", forced) and counts(forced)["skills"]["deleted"] == 5
    assert len(center.entities(center.bcp_id, "skills")) == synced - 5

    with center.store.directory.write() as conn:
        PlanRepo(conn).update(center.plan.id, active_side="bcp")
    paused = center.cli("sync", "run", expect=1)
    assert "sync_paused" in paused.stderr
    assert "paused while BCP is active" in center.cli("sync", "status").stdout


def test_commands_name_the_problem_with_its_code(installation):
    empty = run_lifeboat("sync", "status", *installation.flags())
    assert empty.returncode == 1 and "tenant_required" in empty.stderr and "no BCP plan" in empty.stderr
    assert run_lifeboat("demo", "--users", "5", *installation.flags()).returncode == 0

    for args in (("sync", "run"), ("checklist",)):
        unknown = run_lifeboat(*args, "--tenant", "987654321", *installation.flags())
        assert unknown.returncode == 1 and "tenant_not_found" in unknown.stderr, describe(unknown)
