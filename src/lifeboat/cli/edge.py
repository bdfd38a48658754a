"""``lifeboat edge config|run|list``: the voice edge, a Kamailio SIP server (SPEC §12)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lifeboat.cli.common import CLI_OPERATOR, ConfigFile, DataDir, app, console, fail, open_platform
from lifeboat.edge.config import ANSWER_CODES, EdgeSettings
from lifeboat.errors import LifeboatError

edge_app = typer.Typer(help="The voice edge: the SIP server the carrier points the numbers at.", no_args_is_help=True)
app.add_typer(edge_app, name="edge")

Name = Annotated[str, typer.Option("--name", help="This edge's name (registered with lifeboat; names its token).")]
Listen = Annotated[str, typer.Option("--listen", help="Address for SIP over UDP and TCP.")]
Port = Annotated[int, typer.Option("--port", help="SIP port (UDP and TCP).")]
Api = Annotated[str, typer.Option("--api", help="lifeboat's routing API.")]
TokenFile = Annotated[
    Path | None, typer.Option("--token-file", help="A voice token; without it one is minted from --data-dir/--config.")
]
RpcListen = Annotated[
    str, typer.Option("--rpc-listen", help="Address of the edge's JSON-RPC (lifeboat must reach it).")
]
RpcPort = Annotated[
    int | None, typer.Option("--rpc-port", help="Port of the edge's JSON-RPC (default: SIP port + 20).")
]
RunDir = Annotated[Path | None, typer.Option("--run-dir", help="Kamailio's run folder (default: a new private one).")]
Children = Annotated[int, typer.Option("--children", min=1, max=256, help="SIP workers per transport.")]
Debug = Annotated[
    int, typer.Option("--debug", min=-1, max=3, help="Kamailio's log level: -1 errors, 0 warnings, 3 every step.")
]


def _settings(
    name: str,
    listen: str,
    port: int,
    api: str,
    token_file: Path | None,
    data_dir: Path | None,
    config: Path | None,
    rpc_listen: str,
    rpc_port: int | None,
    run_dir: Path,
    children: int,
    debug: int,
) -> EdgeSettings:
    from lifeboat.edge.software import module_dir_or_default

    return EdgeSettings(
        name=name,
        api=api,
        token=_token(name, token_file, data_dir, config),
        run_dir=run_dir,
        module_dir=module_dir_or_default(),
        listen=listen,
        port=port,
        rpc_listen=rpc_listen,
        rpc_port=rpc_port if rpc_port is not None else port + 20,
        children=children,
        debug=debug,
    )


def _token(name: str, token_file: Path | None, data_dir: Path | None, config: Path | None) -> str:
    if token_file is not None:
        return token_file.read_text().strip()
    from lifeboat.services.tenancy.auth import create_voice_token

    try:
        return create_voice_token(open_platform(data_dir, config), CLI_OPERATOR, f"edge {name}")
    except LifeboatError as exc:
        fail(exc)
        raise  # fail() exits; for the type checker


@edge_app.command("config")
def edge_config(
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: standard output).")] = None,
    name: Name = "edge",
    listen: Listen = "127.0.0.1",
    port: Port = 5060,
    api: Api = "http://127.0.0.1:8000",
    token_file: TokenFile = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    rpc_listen: RpcListen = "127.0.0.1",
    rpc_port: RpcPort = None,
    run_dir: Annotated[Path, typer.Option("--run-dir", help="Kamailio's run folder.")] = Path("/run/lifeboat-edge"),
    children: Children = 16,
    debug: Debug = 0,
) -> None:
    """Write the edge's Kamailio configuration (it holds the voice token: keep it private)."""
    from lifeboat.edge.config import render
    from lifeboat.edge.process import write_config

    args = (name, listen, port, api, token_file, data_dir, config, rpc_listen, rpc_port, run_dir, children, debug)
    try:
        settings = _settings(*args)
        if out is None:
            sys.stdout.write(render(settings))
        else:
            write_config(settings, out)
            console.print(f"wrote {out} (edge {name}, SIP {listen}:{port}, RPC {settings.rpc_url})")
    except LifeboatError as exc:
        fail(exc)


@edge_app.command("run")
def edge_run(
    name: Name = "edge",
    listen: Listen = "127.0.0.1",
    port: Port = 5060,
    api: Api = "http://127.0.0.1:8000",
    token_file: TokenFile = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    rpc_listen: RpcListen = "127.0.0.1",
    rpc_port: RpcPort = None,
    run_dir: RunDir = None,
    children: Children = 16,
    debug: Debug = 0,
) -> None:
    """Write the configuration and run the SIP server in the foreground (Ctrl-C stops it)."""
    import logging
    import tempfile

    from lifeboat.edge import process
    from lifeboat.edge.software import find_kamailio

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        kamailio = find_kamailio()
        folder = run_dir or Path(tempfile.mkdtemp(prefix=f"lifeboat-edge-{name}-"))
        args = (name, listen, port, api, token_file, data_dir, config, rpc_listen, rpc_port, folder, children, debug)
        settings = _settings(*args)
        cfg = process.write_config(settings, folder / "kamailio.cfg")
    except LifeboatError as exc:
        fail(exc)
    console.print(f"edge {name}: SIP on {listen}:{port} (UDP, TCP), RPC {settings.rpc_url}, asking {api}")
    raise typer.Exit(process.run(kamailio, settings, cfg))


@edge_app.command("list")
def edge_list(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """The registered edges: address, when last heard from, answers by SIP code."""
    from lifeboat.services.bcp.edges import list_edges

    platform = open_platform(data_dir, config)
    try:
        edges = list_edges(platform, CLI_OPERATOR)
    except LifeboatError as exc:
        fail(exc)
    table = Table("name", "rpc", "last heard", *ANSWER_CODES, title=f"{len(edges)} voice edges")
    for edge in edges:
        counts = [str(edge.answers.get(code, 0)) for code in ANSWER_CODES]
        table.add_row(edge.name, edge.rpc_url, edge.last_heard_at.isoformat(timespec="seconds"), *counts)
    console.print(table)
