"""``lifeboat drill start|end|show``: prove the BCP tenant with test numbers and pilot users,
without an outage (SPEC §14)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from lifeboat.cli.common import (
    CLI_OPERATOR,
    ConfigFile,
    DataDir,
    TenantOpt,
    app,
    console,
    fail,
    open_platform,
    pick_tenant,
)
from lifeboat.errors import LifeboatError

drill_app = typer.Typer(help="Drills: test numbers route to BCP and pilots log in there; nothing else changes.")
app.add_typer(drill_app, name="drill", no_args_is_help=True)

HISTORY_LIMIT = 50
DrillId = Annotated[int | None, typer.Argument(help="The drill's id (default: the running drill).", show_default=False)]


@drill_app.command("start")
def start(
    numbers: Annotated[list[str], typer.Option("--number", help="A test number (E.164 voice number); repeat.")],
    users: Annotated[list[str] | None, typer.Option("--user", help="A pilot's username; repeat.")] = None,
    minutes: Annotated[int, typer.Option("--minutes", help="Time limit, 1 to 480.")] = 60,
    passkey_stdin: Annotated[
        bool, typer.Option("--passkey-stdin", help="Read the passkey from standard input.")
    ] = False,
    tenant: TenantOpt = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Start a drill (prompts for the passkey): only these numbers route to BCP, only these users log in there."""
    import sys

    from lifeboat.services.bcp import drills
    from lifeboat.views.bcp import drill_view

    passkey = sys.stdin.readline().strip() if passkey_stdin else typer.prompt("Passkey", hide_input=True)
    platform = open_platform(data_dir, config)
    body = {"numbers": numbers, "users": users or [], "minutes": minutes, "passkey": passkey}
    try:
        drill = drills.start(platform, CLI_OPERATOR, pick_tenant(platform, tenant), body)
    except LifeboatError as exc:
        fail(exc)
    console.print(
        f"[bold green]drill {drill.id} started[/bold green]; it ends at {_when(drill.ends_at.isoformat())} UTC "
        f"unless `lifeboat drill end` ends it first."
    )
    _print_drill(drill_view(drill))


@drill_app.command("end")
def end(
    drill_id: DrillId = None, tenant: TenantOpt = None, data_dir: DataDir = None, config: ConfigFile = None
) -> None:
    """End a drill by hand: every number routes and every user logs in as before."""
    from lifeboat.services.bcp import drills
    from lifeboat.views.bcp import drill_view

    platform = open_platform(data_dir, config)
    try:
        tenant_id = pick_tenant(platform, tenant)
        target = drill_id if drill_id is not None else drills.running(platform, CLI_OPERATOR, tenant_id).id
        drill = drills.end(platform, CLI_OPERATOR, tenant_id, target)
    except LifeboatError as exc:
        fail(exc)
    console.print(f"[bold green]drill {drill.id} ended[/bold green]; everything routes and logs in as before.")
    _print_drill(drill_view(drill))


@drill_app.command("show")
def show(
    drill_id: DrillId = None, tenant: TenantOpt = None, data_dir: DataDir = None, config: ConfigFile = None
) -> None:
    """One drill with its counters, or the past drills (newest first) without an id."""
    if drill_id is None:
        _print_drills(data_dir, config, tenant)
        return
    from lifeboat.services.bcp import drills
    from lifeboat.views.bcp import drill_view

    platform = open_platform(data_dir, config)
    try:
        drill = drills.get(platform, CLI_OPERATOR, pick_tenant(platform, tenant), drill_id)
    except LifeboatError as exc:
        fail(exc)
    _print_drill(drill_view(drill))


def _print_drills(data_dir: Path | None, config: Path | None, tenant: int | None) -> None:
    from lifeboat.services.bcp import drills
    from lifeboat.views.bcp import drill_view

    platform = open_platform(data_dir, config)
    try:
        records, total = drills.page(
            platform, CLI_OPERATOR, pick_tenant(platform, tenant), limit=HISTORY_LIMIT, offset=0
        )
    except LifeboatError as exc:
        fail(exc)
    table = Table(
        "id", "status", "started (UTC)", "ends/ended (UTC)", "ended by", "calls routed", "pilot logins",
        "first call", "first login", title="drills",
    )  # fmt: skip
    for view in map(drill_view, records):
        table.add_row(
            str(view["id"]),
            view["status"],
            _when(view["started_at"]),
            _when(view["ended_at"] or view["ends_at"]),
            escape(view["ended_by"] or "-"),
            str(view["calls_routed"]),
            str(view["pilot_logins"]),
            _seconds(view["first_call_s"]),
            _seconds(view["first_login_s"]),
        )
    console.print(table if records else "no drill yet.")
    if total > len(records):
        console.print(f"the newest {len(records)} of {total} drills.")


def _print_drill(view: dict[str, Any]) -> None:
    table = Table("", "", show_header=False, title=f"drill {view['id']}")
    rows = {
        "status": view["status"],
        "numbers": ", ".join(view["numbers"]),
        "pilots": ", ".join(view["users"]) or "-",
        "started by": view["started_by"],
        "started (UTC)": _when(view["started_at"]),
        "ends (UTC)" if view["ended_at"] is None else "ended (UTC)": _when(view["ended_at"] or view["ends_at"]),
        "ended by": view["ended_by"] or "-",
        "calls routed": str(view["calls_routed"]),
        "pilot logins": str(view["pilot_logins"]),
        "first call": _seconds(view["first_call_s"]),
        "first login": _seconds(view["first_login_s"]),
        "readiness at start": view["readiness"].get("status", "-"),
    }
    for key, value in rows.items():
        table.add_row(key, escape(value))
    console.print(table)


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"
