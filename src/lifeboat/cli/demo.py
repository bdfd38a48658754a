"""``lifeboat demo``: load the demo contact center and print how to use it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lifeboat.cli.common import ConfigFile, DataDir, app, console, fail, open_platform
from lifeboat.errors import LifeboatError

if TYPE_CHECKING:
    from lifeboat.demo.center import DemoSummary

API_URL = "http://127.0.0.1:8000"
ServerUrl = Annotated[str, typer.Option("--url", help="Where `lifeboat serve` will answer (for the printed hints).")]


@app.command()
def demo(
    data_dir: DataDir = None,
    config: ConfigFile = None,
    users: Annotated[int, typer.Option("--users", min=1, help="Number of employees in the demo contact center.")] = 50,
    url: ServerUrl = API_URL,
) -> None:
    """Load a realistic demo contact center (idempotent: running it twice adds nothing)."""
    from lifeboat.demo.center import load_demo

    platform = open_platform(data_dir, config)
    try:
        summary = load_demo(platform, users=users, say=_say)
    except LifeboatError as exc:
        fail(exc)
    print_demo_summary(console, summary, url=url.rstrip("/"))


def _say(message: str) -> None:
    console.print(f"[dim]demo[/dim] {escape(message)}")


def print_demo_summary(console: Console, summary: DemoSummary, *, url: str = API_URL) -> None:
    if summary.already_loaded:
        console.print("[bold]The demo was already loaded[/bold]: nothing was added.")
    else:
        console.print(
            f"[bold green]Demo loaded[/bold green]: {summary.created:,} entities created in {summary.seconds:.1f} s."
        )
    console.print(_counts_table(summary))
    _print_tenants(console, summary)
    _print_logins(console, summary, url)


def _counts_table(summary: DemoSummary) -> Table:
    table = Table("type", "created", "already there", title=f"{summary.primary.name} (tenant {summary.primary.id})")
    for name, counts in summary.counts.items():  # in the order the types were created
        table.add_row(name, f"{counts.created:,}", f"{counts.skipped:,}")
    table.add_row("business-unit", "time zone set" if summary.business_unit_updated else "0", "1")
    return table


def _print_tenants(console: Console, summary: DemoSummary) -> None:
    p, b = summary.primary, summary.bcp
    console.print(f"Primary tenant: [bold]{escape(p.name)}[/bold]  id {p.id}, region {p.region}")
    if b is None:
        console.print("No BCP tenant: configure a second region to get one.")
        return
    console.print(
        f"BCP tenant:     [bold]{escape(b.name)}[/bold]  id {b.id}, region {b.region}, paired; "
        "sync is on (the server's worker runs the first sync)"
    )
    if summary.passkey:
        console.print(
            f"BCP passkey:    [bold]{summary.passkey}[/bold]  (shown this once: it switches voice "
            "and logins to the BCP tenant; keep it safe)"
        )
    else:
        console.print("BCP passkey:    shown when the plan was made; `lifeboat passkey` makes a new one")


def _print_logins(console: Console, summary: DemoSummary, url: str) -> None:
    operator = f"{summary.operator} (operator, every tenant)"
    if not summary.operator_created:
        operator += " [existing account: its password was left as it was]"
    accounts = [operator] + [f"{name} ({role})" for name, role in summary.logins.items()]
    # admin may enter either paired tenant (BCP type multiple): naming the tenant gets a
    # token at once, where a login without it answers with the tenants to choose from.
    body = json.dumps({"username": "admin", "password": summary.password, "tenant_id": summary.primary.id})
    login = f"curl -s -X POST {url}/api/v1/auth/login -H 'Content-Type: application/json' -d '{body}'"
    skills = (
        f"curl -s '{url}/api/v1/tenants/{summary.primary.id}/skills?limit=5' "
        "-H 'Authorization: Bearer <token from the login answer>'"
    )
    console.print()
    console.print("[bold]How to log in[/bold]")
    lines = [
        f"  password of every demo account: {summary.password}",
        f"  accounts: {', '.join(accounts)}",
        "  start the server: lifeboat serve (with the same --data-dir), then",
        f"  API docs: {url}/docs",
        f"  log in:   {login}",
        "            (without tenant_id, admin gets the list of tenants to choose from; agent1 goes straight in)",
        f"  then:     {skills}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
