"""What every command shares: the Typer apps, the data options, opening the platform,
and printing an error with its code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.config import load_settings
from lifeboat.domain.access import Principal
from lifeboat.errors import LifeboatError

app = typer.Typer(
    help="lifeboat: business continuity for cloud contact centers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
operator_app = typer.Typer(help="Operator (account representative) accounts.", no_args_is_help=True)
sync_app = typer.Typer(help="The one-way sync into the BCP tenant.", no_args_is_help=True)
app.add_typer(operator_app, name="operator")
app.add_typer(sync_app, name="sync")
console = Console()
err_console = Console(stderr=True)

# The command line acts as the platform's own operator account: whoever can read the data
# directory and the configuration can already do everything.
CLI_OPERATOR = Principal("operator", 0, "cli")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data folder (default ./lifeboat-data; env LIFEBOAT_DATA_DIR).")
]
ConfigFile = Annotated[Path | None, typer.Option("--config", help="TOML settings file (env LIFEBOAT_CONFIG).")]
TenantOpt = Annotated[int | None, typer.Option("--tenant", help="Either tenant of the plan (default: the only plan).")]


def open_platform(data_dir: Path | None, config: Path | None, *, migrate: bool = True) -> Platform:
    try:
        settings = load_settings(config, data_dir=data_dir)
    except LifeboatError as exc:
        fail(exc)
    platform = build_platform(settings)
    if migrate and settings.auto_migrate:
        migrate_platform(platform, skip_down=True)
    return platform


def fail(exc: LifeboatError) -> None:
    err_console.print(f"[red]error[/red] {exc.code}: {exc.message}")
    for item in exc.details.get("errors", []):
        err_console.print(f"  {item.get('field')}: {item.get('message')} ({item.get('code')})")
    for item in exc.details.get("problems", []):
        err_console.print(f"  {item.get('code')}: {item.get('message')}")
    raise typer.Exit(1)


def pick_tenant(platform: Platform, tenant: int | None) -> int:
    """The tenant named, or the primary tenant of the only plan there is."""
    from lifeboat.services.bcp.pairing import only_plan_tenant

    return tenant if tenant is not None else only_plan_tenant(platform)
