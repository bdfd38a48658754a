"""``lifeboat failback show|apply``: what changed in the BCP tenant during the outage, and
copying chosen changes back into the primary."""

from __future__ import annotations

import json
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

failback_app = typer.Typer(help="Changes made in the BCP tenant since the switch, copied back by choice.")
app.add_typer(failback_app, name="failback", no_args_is_help=True)


@failback_app.command("show")
def show(tenant: TenantOpt = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Every BCP entity created, changed, deactivated or deleted since the last switch to BCP."""
    from lifeboat.services.bcp.failback import failback_report
    from lifeboat.views.failback import report_view

    platform = open_platform(data_dir, config)
    try:
        items = report_view(failback_report(platform, CLI_OPERATOR, pick_tenant(platform, tenant)))["items"]
    except LifeboatError as exc:
        fail(exc)
    if not items:
        console.print("nothing changed in the BCP tenant since the last switch to it.")
        return
    table = Table("item", "action", "name", "primary id", "field", "before", "after", title="Failback report")
    for item in items:
        for n, change in enumerate(item["changes"] or [{"field": "", "before": None, "after": None}]):
            head = [item["id"], item["action"], item["name"], str(item["primary_id"] or "new")] if n == 0 else [""] * 4
            table.add_row(*head, change["field"], _short(change["before"]), _short(change["after"]))
    console.print(table)
    console.print("apply with: lifeboat failback apply ITEM [ITEM …]")


@failback_app.command("apply")
def apply(
    items: Annotated[list[str], typer.Argument(help="Item ids from `lifeboat failback show`.")],
    tenant: TenantOpt = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Copy the chosen items into the primary (each on its own; a failed one changes nothing)."""
    from lifeboat.services.bcp.failback import apply_failback
    from lifeboat.views.failback import results_view

    platform = open_platform(data_dir, config)
    try:
        answer = results_view(apply_failback(platform, CLI_OPERATOR, pick_tenant(platform, tenant), {"items": items}))
    except LifeboatError as exc:
        fail(exc)
    table = Table("item", "status", "primary id", "error", title="Failback")
    for r in answer["results"]:
        error = f"{r['error']['code']}: {r['error']['message']}" if r["error"] else ""
        colour = "green" if r["status"] == "applied" else "red"
        table.add_row(r["id"], f"[{colour}]{r['status']}[/{colour}]", str(r["primary_id"] or ""), error)
    console.print(table)
    if answer["failed"]:
        raise typer.Exit(1)


def _short(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"
