"""Core commands: serve, worker, migrate, operator create, check-stored."""

from __future__ import annotations

import logging
import sys
import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from lifeboat import logs
from lifeboat.bootstrap import migrate_platform
from lifeboat.cli.common import ConfigFile, DataDir, app, console, fail, open_platform, operator_app
from lifeboat.errors import LifeboatError


class Format(StrEnum):
    text = "text"
    json = "json"


class Worker(StrEnum):  # the values of jobs.WorkerMode (not imported here: every command would pay for it)
    process = "process"
    thread = "thread"
    off = "off"


LogFormat = Annotated[
    Format,
    typer.Option(
        case_sensitive=False,
        envvar="LIFEBOAT_LOG_FORMAT",
        help="text: readable lines; json: one JSON object per line (time, level, request_id, route, status, …).",
    ),
]


@app.command()
def serve(
    data_dir: DataDir = None,
    config: ConfigFile = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    access_log: Annotated[
        bool,
        typer.Option(
            envvar="LIFEBOAT_ACCESS_LOG",
            help="Log every request (off: only answers of 500 and up; the voice edge's lookups would flood it).",
        ),
    ] = False,
    log_format: LogFormat = Format.text,
    worker: Annotated[
        Worker,
        typer.Option(
            case_sensitive=False,
            help="Where the sync worker runs: process (a child process, the default: a sync never slows the API), "
            "thread (inside the server), off (none here: run `lifeboat worker`).",
        ),
    ] = Worker.process,
) -> None:
    """Run the API server with the sync scheduler and a worker (migrating first when auto_migrate is on)."""
    import uvicorn

    from lifeboat.api.app import create_app
    from lifeboat.jobs import WorkerMode

    logs.configure(log_format)
    platform = open_platform(data_dir, config)
    listening = f"lifeboat listening on http://{host}:{port}  (API docs: http://{host}:{port}/docs)"
    if log_format == "json":  # every line of the output is then JSON
        logging.getLogger("lifeboat").info(listening)
    else:
        console.print(listening)
    app = create_app(platform, run_jobs=True, worker=WorkerMode(worker.value), access_log=access_log)
    # log_config=None: uvicorn keeps the handlers set above; its own access line is replaced
    # by the request middleware's, which carries the request id and the route template.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@app.command()
def migrate(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Upgrade the directory and every region database to the newest schema."""
    platform = open_platform(data_dir, config, migrate=False)
    try:
        results = migrate_platform(platform, skip_down=True)
    except LifeboatError as exc:
        fail(exc)
    table = Table("database", "result")
    for name, result in results.items():
        table.add_row(name, "[green]migrated[/green]" if result == "ok" else "[red]down: skipped[/red]")
    console.print(table)
    if "down" in results.values():
        raise typer.Exit(2)


@operator_app.command("create")
def operator_create(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Create an operator account (reads the password from stdin, or prompts)."""
    from lifeboat.services.tenancy.auth import create_operator

    password = (
        sys.stdin.readline().rstrip("\r\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    platform = open_platform(data_dir, config)
    try:
        operator_id = create_operator(platform, name, password)
    except LifeboatError as exc:
        fail(exc)
    console.print(f"operator [bold]{name}[/bold] created (id {operator_id})")


@app.command("check-stored")
def check_stored(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """List stored values over the JSON limits (max_json_depth, max_json_bytes, max_script_bytes);
    exit code 1 if there is any, 2 if a region could not be read."""
    from lifeboat.services.entities.stored_values import check_stored_values

    result = check_stored_values(open_platform(data_dir, config))
    if result.findings:
        table = Table("region", "tenant", "type", "id", "field", "problem", title="stored values over the limits")
        for f in result.findings:
            table.add_row(
                f["region"],
                str(f["tenant_id"]),
                f["type"],
                str(f["id"]),
                str(f["field"]),
                f"{f['code']}: {f['message']}",
            )
        console.print(table)
    for name in result.regions_down:
        console.print(f"[red]region {name} is down: not checked[/red]")
    console.print(f"{result.checked} stored values checked, {len(result.findings)} over the limits")
    if result.findings or result.regions_down:
        raise typer.Exit(1 if result.findings else 2)


@app.command("worker")
def worker(
    data_dir: DataDir = None,
    config: ConfigFile = None,
    threads: Annotated[int, typer.Option(help="Worker threads in this process.")] = 1,
    scheduler: Annotated[bool, typer.Option(help="Also queue scheduled runs.")] = True,
    log_format: LogFormat = Format.text,
    metrics_port: Annotated[
        int | None, typer.Option(help="Answer Prometheus scrapes of this worker's sync runs on this port.")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address of --metrics-port; no token there: keep it private.")] = (
        "127.0.0.1"
    ),
) -> None:
    """Run sync workers (and the scheduler) until interrupted."""
    from lifeboat.jobs import start_background

    logs.configure(log_format)
    platform = open_platform(data_dir, config)
    if metrics_port is not None:
        platform.metrics.serve(metrics_host, metrics_port)
        console.print(f"metrics on http://{metrics_host}:{metrics_port}/")
    stop = start_background(platform, workers=threads, scheduler=scheduler)
    console.print(f"lifeboat worker: {threads} worker thread(s){' + scheduler' if scheduler else ''}; Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop()
