"""The ``lifeboat`` command line: thin commands over the same services as the API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.config import load_settings
from lifeboat.errors import LifeboatError

app = typer.Typer(help="lifeboat: business continuity for cloud contact centers.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
operator_app = typer.Typer(help="Operator (account representative) accounts.", no_args_is_help=True)
app.add_typer(operator_app, name="operator")
console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Data folder (default ./lifeboat-data; env LIFEBOAT_DATA_DIR).")]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", help="TOML settings file (env LIFEBOAT_CONFIG).")]


def _platform(data_dir: Path | None, config: Path | None, *, migrate: bool = True) -> Platform:
    settings = load_settings(config, data_dir=data_dir)
    platform = build_platform(settings)
    if migrate and settings.auto_migrate:
        migrate_platform(platform, skip_down=True)
    return platform


def _fail(exc: LifeboatError) -> None:
    err_console.print(f"[red]error[/red] {exc.code}: {exc.message}")
    for item in exc.details.get("errors", []):
        err_console.print(f"  {item.get('field')}: {item.get('message')} ({item.get('code')})")
    raise typer.Exit(1)


@app.command()
def serve(
    data_dir: DataDir = None, config: ConfigFile = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the API server (migrating the databases first when auto_migrate is on)."""
    import uvicorn

    from lifeboat.api.app import create_app

    platform = _platform(data_dir, config)
    console.print(f"lifeboat listening on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(platform), host=host, port=port, log_level="info")


@app.command()
def migrate(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Upgrade the directory and every region database to the newest schema."""
    platform = _platform(data_dir, config, migrate=False)
    try:
        results = migrate_platform(platform, skip_down=True)
    except LifeboatError as exc:
        _fail(exc)
    table = Table("database", "result")
    for name, result in results.items():
        table.add_row(name, "[green]migrated[/green]" if result == "ok" else "[red]down: skipped[/red]")
    console.print(table)
    if "down" in results.values():
        raise typer.Exit(2)


@operator_app.command("create")
def operator_create(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
    data_dir: DataDir = None, config: ConfigFile = None,
) -> None:
    """Create an operator account (reads the password from stdin, or prompts)."""
    from lifeboat.services.auth import create_operator

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    platform = _platform(data_dir, config)
    try:
        operator_id = create_operator(platform, name, password)
    except LifeboatError as exc:
        _fail(exc)
    console.print(f"operator [bold]{name}[/bold] created (id {operator_id})")


@app.command()
def demo(
    data_dir: DataDir = None, config: ConfigFile = None,
    users: Annotated[int, typer.Option("--users", min=1, help="Number of employees in the demo contact center.")] = 50,
) -> None:
    """Load a realistic demo contact center (idempotent: running it twice adds nothing)."""
    from lifeboat.services.demo import load_demo, print_demo_summary

    platform = _platform(data_dir, config)
    try:
        summary = load_demo(platform, users=users, progress=console)
    except LifeboatError as exc:
        _fail(exc)
    print_demo_summary(console, summary)


def main() -> None:  # pragma: no cover - console entry point
    app()
