"""``lifeboat switch``, ``route``, ``readiness`` and ``voice-token``: the emergency commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
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

STATUS_COLOUR = {"pass": "green", "warn": "yellow", "fail": "red"}


@app.command()
def switch(
    to: Annotated[str | None, typer.Option("--to", help="bcp (switch) or primary (revert).")] = None,
    tenant: TenantOpt = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    passkey_stdin: Annotated[
        bool, typer.Option("--passkey-stdin", help="Read the passkey from standard input.")
    ] = False,
    history: Annotated[
        bool, typer.Option("--history", help="List the past switches and what each measured; switch nothing.")
    ] = False,
) -> None:
    """Switch voice and logins to the BCP tenant, or revert (prompts for the passkey); --history lists them."""
    import sys

    from lifeboat.domain.records import Side
    from lifeboat.services.bcp.switchover import switch_to

    if history:
        print_switch_history(data_dir, config, tenant)
        return
    if to not in tuple(Side):
        console.print("[red]error[/red] --to must be bcp or primary")
        raise typer.Exit(2)
    passkey = sys.stdin.readline().strip() if passkey_stdin else typer.prompt("Passkey", hide_input=True)
    platform = open_platform(data_dir, config)
    try:
        result = switch_to(platform, CLI_OPERATOR, pick_tenant(platform, tenant), {"to": to, "passkey": passkey})
    except LifeboatError as exc:
        fail(exc)
    verb = "switched to the BCP tenant" if result["event"] == "switched" else "reverted to the primary tenant"
    console.print(
        f"[bold green]{verb}[/bold green] (tenant {result['active_tenant_id']}, epoch {result['epoch']}) "
        f"in {result['switch_ms']} ms; {result['sessions_ended']} sessions ended — users log in again."
    )
    console.print("sync is paused until you revert." if result["sync_paused"] else "sync resumes on its schedule.")
    print_readiness(result["readiness"])


HISTORY_LIMIT = 50


def print_switch_history(data_dir: Path | None, config: Path | None, tenant: int | None) -> None:
    """The newest switches as a table: who, when, where to, and the measured times."""
    from lifeboat.services.bcp.switch_history import list_switches
    from lifeboat.views.bcp import switch_view

    platform = open_platform(data_dir, config)
    try:
        records, total = list_switches(
            platform, CLI_OPERATOR, pick_tenant(platform, tenant), limit=HISTORY_LIMIT, offset=0
        )
    except LifeboatError as exc:
        fail(exc)
    table = Table("at (UTC)", "to", "by", "from tenant", "switch", "first call", "first login", "RPO", title="switches")
    for view in map(switch_view, records):
        table.add_row(
            view["at"][:19].replace("T", " "),
            view["to"],
            view["by"],
            str(view["from_tenant_id"]),
            _figure(view["switch_ms"], " ms"),
            _figure(view["first_call_s"], " s"),
            _figure(view["first_login_s"], " s"),
            _figure(view["rpo_s"], " s") if view["last_sync_at"] else "never synced",
        )
    console.print(table if records else "no switch yet.")
    if total > len(records):
        console.print(f"the newest {len(records)} of {total} switches.")


def _figure(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:g}{unit}"


@app.command()
def route(number: str, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Where a dialled number goes now."""
    from lifeboat.services.bcp.routing import route as route_number

    platform = open_platform(data_dir, config)
    try:
        answer = route_number(platform, number)
    except LifeboatError as exc:
        fail(exc)
    table = Table("", "", show_header=False, title=f"route of {number}")
    for key in (
        "tenant_id",
        "tenant_kind",
        "region",
        "cluster",
        "point_of_contact_id",
        "channel",
        "skill_id",
        "script_path",
        "epoch",
    ):
        table.add_row(key, str(answer[key]))
    console.print(table)


@app.command()
def readiness(tenant: TenantOpt = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Is the BCP tenant ready to take the calls? Each check pass/warn/fail."""
    from lifeboat.services.bcp.readiness import readiness as readiness_report

    platform = open_platform(data_dir, config)
    try:
        report = readiness_report(platform, CLI_OPERATOR, pick_tenant(platform, tenant))
    except LifeboatError as exc:
        fail(exc)
    print_readiness(report)
    if report["status"] == "fail":
        raise typer.Exit(1)


@app.command("voice-token")
def voice_token(name: str, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Create a token for the carrier / voice edge to ask for routes (shown once)."""
    from lifeboat.services.tenancy.auth import create_voice_token

    platform = open_platform(data_dir, config)
    try:
        token = create_voice_token(platform, CLI_OPERATOR, name)
    except LifeboatError as exc:
        fail(exc)
    console.print(f"voice token for [bold]{name}[/bold] (shown once):\n{token}")


def print_readiness(report: dict[str, Any]) -> None:
    colour = STATUS_COLOUR[report["status"]]
    table = Table("check", "status", "detail", title=f"readiness: [{colour}]{report['status']}[/{colour}]")
    for check in report["checks"]:
        c = STATUS_COLOUR[check["status"]]
        table.add_row(check["name"], f"[{c}]{check['status']}[/{c}]", check["message"])
    console.print(table)
    skills = next((c.get("skills") for c in report["checks"] if c["name"] == "voice_skill_agents"), None) or []
    empty = [s["name"] for s in skills if s["agents"] == 0]
    if empty:
        console.print("voice skills with no BCP agent: " + ", ".join(empty[:20]) + (" …" if len(empty) > 20 else ""))


@app.command()
def passkey(tenant: TenantOpt = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Make a new switch passkey for a plan (the old one stops working); shown once."""
    from lifeboat.services.bcp.pairing import regenerate_passkey

    platform = open_platform(data_dir, config)
    try:
        new = regenerate_passkey(platform, CLI_OPERATOR, pick_tenant(platform, tenant))
    except LifeboatError as exc:
        fail(exc)
    console.print(f"new passkey (shown once; the old one no longer works):\n[bold]{new}[/bold]")
