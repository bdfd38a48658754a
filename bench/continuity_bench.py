"""Continuity benchmark (issue 4, "Show"): the switch with 10,000 sessions open, and routing.

    .venv/bin/python bench/continuity_bench.py                # profile L scale, SQLite + PostgreSQL
    .venv/bin/python bench/continuity_bench.py --users 1000 --no-postgres --http-seconds 3

For each backend (SQLite always; PostgreSQL as in ``bench/foundation.py``: the server named
by ``LIFEBOAT_BENCH_POSTGRES_URL``, else a throwaway local one when its binaries are there)
it builds a paired tenant -- the demo profile at ``--users`` scale in na1 (at 10,000 users:
1,000 voice and 200 digital points of contact), an empty BCP tenant in eu1, one sync run --
and prints:

- switch: ``switch_to`` with the real passkey at the default argon2 cost, back and forth,
  each time with ``--sessions`` sessions of the plan's tenants open (written straight into
  the sessions table: logging in 10,000 times would measure argon2). Shown: the switch as
  the answer reports it (``switch_ms``), the argon2 verification of the passkey inside it,
  the switch without that verification, the whole call (which adds the readiness report)
  and the first routing lookup after it (which rebuilds the routing table);
- routing in-process: ``services.bcp.routing.route`` over a mix of numbers (routable voice
  numbers, sms numbers, unknown numbers), one thread, with the default
  ``route_cache_ttl_s`` of 1 s so the table rebuilds are in the steady state; also with
  the table warm (no rebuild), and the time of one rebuild;
- routing over HTTP: one ``lifeboat serve`` process on a free loopback port, driven by
  ``wrk`` (Debian package ``wrk``) with a voice token over the routable voice numbers:
  requests per second, latency, and the server's CPU time per request (wrk and the server
  share the host, and other work on it slows every figure; 1000 / that CPU time is what
  one free core would serve).

Figures are printed, never asserted; the targets of issue 4 are said to be met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import uvicorn
from argon2 import PasswordHasher
from rich.console import Console
from rich.table import Table

from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.config import Settings
from lifeboat.demo.center import load_contact_center
from lifeboat.demo.profile import PROFILE_L, Profile, phone_number, scaled
from lifeboat.domain.access import Principal
from lifeboat.errors import Conflict, NotFound
from lifeboat.jobs import work_once
from lifeboat.services.bcp import routing
from lifeboat.services.bcp.pairing import create_plan, update_settings
from lifeboat.services.bcp.switchover import switch_to
from lifeboat.services.tenancy.auth import create_voice_token, hash_token
from lifeboat.services.tenancy.tenants import create_tenant
from lifeboat.store.directory import Session, SessionRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # for foundation and the tests.postgres_server it uses

TARGETS = {"switch_ms": 200, "route_per_s": 20_000, "http_per_s": 1_500}
BENCH_OPERATOR = Principal("operator", 0, "bench")
Say = Callable[[str], None]
UNKNOWN_NUMBERS = [f"+1999555{i:04d}" for i in range(50)]


@dataclass
class Pair:
    platform: Platform
    settings: Settings
    primary_id: int
    bcp_id: int
    passkey: str
    users: dict[int, list[tuple[int, str]]]  # tenant -> (user id, username)
    voice: list[str]  # numbers of the voice points of contact
    sms: list[str]


@dataclass
class Switch:
    to: str
    sessions_ended: int
    reported_ms: float  # switch_ms of the answer
    argon2_ms: float
    argon2_cpu_ms: float
    call_ms: float  # the whole switch_to call, readiness report included
    first_route_ms: float


class TimedHasher:
    """The platform's PasswordHasher, timing each verify (the passkey check of a switch):
    wall time, and the CPU time of its threads (what it would take on an idle host)."""

    def __init__(self, hasher: PasswordHasher):
        self._hasher, self.verify_s, self.verify_cpu_s = hasher, 0.0, 0.0

    def verify(self, hash_: str, password: str) -> bool:
        started, cpu = perf_counter(), time.process_time()
        try:
            return self._hasher.verify(hash_, password)
        finally:
            self.verify_s += perf_counter() - started
            self.verify_cpu_s += time.process_time() - cpu

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hasher, name)


# --------------------------------------------------------------------------- the tenant pair


def build_pair(settings: Settings, profile: Profile, say: Say) -> Pair:
    platform = build_platform(settings)
    migrate_platform(platform)
    primary = create_tenant(platform, BENCH_OPERATOR, "Bench primary", "na1")
    bcp = create_tenant(platform, BENCH_OPERATOR, "Bench BCP", "eu1")
    started = perf_counter()
    load_contact_center(platform, BENCH_OPERATOR, primary.id, profile)
    say(f"loaded the primary tenant in {perf_counter() - started:.1f} s")
    _, passkey = create_plan(platform, BENCH_OPERATOR, primary.id, bcp.id)
    update_settings(platform, BENCH_OPERATOR, primary.id, {"enabled": True})
    started = perf_counter()
    run = work_once(platform)
    say(f"synced into the BCP tenant: run {run.status} in {perf_counter() - started:.1f} s")
    platform.passwords = TimedHasher(platform.passwords)
    users = {t.id: _users(platform, t.region, t.id) for t in (primary, bcp)}
    voice = [phone_number(i) for i in range(profile.voice_contacts)]
    sms = [phone_number(profile.voice_contacts + j) for j in range(profile.digital_contacts) if j % 3 == 2]
    return Pair(platform, settings, primary.id, bcp.id, passkey, users, voice, sms)


def _users(platform: Platform, region_name: str, tenant_id: int) -> list[tuple[int, str]]:
    region = platform.region(region_name)
    with region.db.read() as conn:
        users = EntityRepo(conn, region.id_block).all_of(tenant_id, ("users",), with_content=False)
    return [(u.id, u.data["username"]) for u in users]


def open_sessions(pair: Pair, count: int, active_id: int) -> None:
    """``count`` sessions: nine in ten of the active tenant's users, the rest of the other's."""
    other_id = pair.bcp_id if active_id == pair.primary_id else pair.primary_id
    expires = now() + timedelta(hours=12)
    with pair.platform.directory.write() as conn:
        repo = SessionRepo(conn)
        for i in range(count):
            tenant_id = other_id if i % 10 == 9 else active_id
            user_id, username = pair.users[tenant_id][i % len(pair.users[tenant_id])]
            repo.create(Session(hash_token(secrets.token_urlsafe(16)), "user", user_id, tenant_id, username, expires))


# --------------------------------------------------------------------------- measurements


def measure_switches(pair: Pair, sessions: int, rounds: int) -> list[Switch]:
    results = []
    for i in range(rounds):
        to, active = ("bcp", pair.primary_id) if i % 2 == 0 else ("primary", pair.bcp_id)
        open_sessions(pair, sessions, active)
        pair.platform.passwords.verify_s = pair.platform.passwords.verify_cpu_s = 0.0
        started = perf_counter()
        answer = switch_to(pair.platform, BENCH_OPERATOR, pair.primary_id, {"to": to, "passkey": pair.passkey})
        call_ms = (perf_counter() - started) * 1000
        started = perf_counter()
        routing.route(pair.platform, pair.voice[0])
        first_route_ms = (perf_counter() - started) * 1000
        hasher = pair.platform.passwords
        results.append(
            Switch(
                to,
                answer["sessions_ended"],
                answer["switch_ms"],
                hasher.verify_s * 1000,
                hasher.verify_cpu_s * 1000,
                call_ms,
                first_route_ms,
            )
        )
    return results


def number_mix(pair: Pair) -> list[str]:
    """Eight in ten routable voice numbers, one sms number, one unknown number."""
    mix = []
    for i in range(1000):
        kind = i % 10
        pool = pair.sms if kind == 8 else UNKNOWN_NUMBERS if kind == 9 else pair.voice
        mix.append(pool[(i * 7919) % len(pool)])
    return mix


def lookups_per_second(platform: Platform, numbers: list[str], seconds: float) -> tuple[float, int]:
    """(lookups per second, table rebuilds seen) over ``seconds`` of one thread's lookups."""
    done, rebuilds, table = 0, 0, platform.caches.get(routing.CACHE)
    started = perf_counter()
    deadline = started + seconds
    while perf_counter() < deadline:
        for number in numbers:
            with contextlib.suppress(NotFound, Conflict):
                routing.route(platform, number)
        done += len(numbers)
        if platform.caches.get(routing.CACHE) is not table:  # each rebuild makes a new table
            table = platform.caches[routing.CACHE]
            rebuilds += 1
    return done / (perf_counter() - started), rebuilds


def measure_routing(pair: Pair, seconds: float) -> dict[str, float]:
    platform, numbers = pair.platform, number_mix(pair)
    ttl = platform.settings.route_cache_ttl_s
    steady, rebuilds = lookups_per_second(platform, numbers, seconds)
    build_ms = statistics.median(_timed_ms(lambda: routing._build(platform, None)) for _ in range(5))
    platform.settings.route_cache_ttl_s = 1e9
    try:
        warm, _ = lookups_per_second(platform, numbers, min(seconds, 3))
    finally:
        platform.settings.route_cache_ttl_s = ttl
    return {
        "ttl_s": ttl,
        "steady": steady,
        "rebuilds": rebuilds,
        "seconds": seconds,
        "warm": warm,
        "build_ms": build_ms,
    }


def _timed_ms(fn: Callable[[], object]) -> float:
    started = perf_counter()
    fn()
    return (perf_counter() - started) * 1000


# --------------------------------------------------------------------------- over HTTP


WRK_SCRIPT = """
local numbers = {%s}
local i = 0
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/voice/route?number=" .. numbers[(i %% #numbers) + 1])
end
"""


def measure_http(pair: Pair, workdir: Path, seconds: float, connections: int, threads: int, say: Say) -> dict | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        say("http: skipped (no wrk; apt-get install -y wrk)")
        return None
    token = create_voice_token(pair.platform, BENCH_OPERATOR, "bench voice edge")
    numbers = ", ".join(json.dumps(n.replace("+", "%2B")) for n in pair.voice)
    script = workdir / "route.lua"
    script.write_text(WRK_SCRIPT % (numbers, token))
    with serving(pair.settings, workdir) as (base_url, pid):
        command = [wrk, f"-t{threads}", f"-c{connections}", "--latency", "-s", str(script)]
        _run(command + ["-d2s", base_url], seconds)  # warm-up: pools, caches, the routing table
        cpu_before = _cpu_s(pid)
        output = _run(command + [f"-d{seconds:g}s", base_url], seconds)
        cpu_s = _cpu_s(pid) - cpu_before
    figures = parse_wrk(output)
    # CPU time per request tells what one core can do when the host is busy with other work.
    return figures | {
        "connections": connections,
        "threads": threads,
        "seconds": seconds,
        "cpu_ms": cpu_s * 1000 / max(figures["requests"], 1),
    }


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(command: list[str], seconds: float) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def serving(settings: Settings, workdir: Path) -> Iterator[tuple[str, int]]:
    """``lifeboat serve`` (one process) on a free loopback port, stopped at the end."""
    config = workdir / "lifeboat.toml"
    config.write_text(settings_toml(settings))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFEBOAT_")}
    log = (workdir / "serve.log").open("ab")
    program = str(Path(sys.executable).with_name("lifeboat"))
    process = subprocess.Popen(
        [program, "serve", "--host", "127.0.0.1", "--port", str(port), "--config", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url + "/api/v1/status", process, workdir / "serve.log")
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settings_toml(settings: Settings) -> str:
    lines = [f"data_dir = {json.dumps(str(settings.data_dir))}"]
    if settings.directory_url:
        lines.append(f"directory_url = {json.dumps(settings.directory_url)}")
    for region in settings.regions:
        lines += ["", "[[regions]]"] + [
            f"{key} = {json.dumps(value)}" for key, value in region.model_dump().items() if value is not None
        ]
    return "\n".join(lines) + "\n"


def _wait_ready(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.2)
    raise RuntimeError(f"lifeboat serve did not become ready:\n{log.read_text(errors='replace')[-3000:]}")


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> dict:
    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(value) * UNITS[unit]

    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output)
    percentiles = {p: ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "avg_ms": ms(latency.group(1)),
        "max_ms": ms(latency.group(3)),
        **{f"p{p}_ms": v for p, v in percentiles.items()},
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


# --------------------------------------------------------------------------- run and report


@dataclass
class Figures:
    backend: str
    switches: list[Switch]
    routing: dict
    http: dict | None


def measure(backend: str, settings: Settings, args: argparse.Namespace, workdir: Path, console: Console) -> Figures:
    def say(message: str) -> None:
        console.print(f"[dim]{backend}[/dim] {message}")

    pair = build_pair(settings, scaled(args.users), say)
    try:
        switches = measure_switches(pair, args.sessions, args.switches)
        say(f"{len(switches)} switches measured")
        figures = measure_routing(pair, args.route_seconds)
        say("in-process routing measured")
        http = (
            None
            if args.http_seconds <= 0
            else measure_http(pair, workdir, args.http_seconds, args.connections, args.wrk_threads, say)
        )
        return Figures(backend, switches, figures, http)
    finally:
        pair.platform.close()


def switch_table(results: list[Figures]) -> Table:
    table = Table(
        "backend",
        "switches",
        "sessions ended",
        "switch ms median / max",
        "argon2 ms median (CPU ms)",
        "without argon2 ms median / max",
        "whole call ms median",
        "first route after ms median",
        title="switch_to with the real passkey (default argon2 cost), sessions open each time",
        caption="switch ms: switch_ms of the answer (permission, passkey, the one transaction, commit); "
        "argon2: the passkey's verification inside it, wall time (CPU time of its threads); "
        "whole call: plus the readiness report the answer carries; first route after: the lookup "
        "that rebuilds the routing table",
    )
    for r in results:
        s = r.switches
        reported, argon2 = [x.reported_ms for x in s], [x.argon2_ms for x in s]
        without = [x.reported_ms - x.argon2_ms for x in s]
        table.add_row(
            r.backend,
            str(len(s)),
            f"{min(x.sessions_ended for x in s):,}",
            f"{statistics.median(reported):.0f} / {max(reported):.0f}",
            f"{statistics.median(argon2):.0f} ({statistics.median(x.argon2_cpu_ms for x in s):.0f})",
            f"{statistics.median(without):.0f} / {max(without):.0f}",
            f"{statistics.median(x.call_ms for x in s):.0f}",
            f"{statistics.median(x.first_route_ms for x in s):.0f}",
        )
    return table


def routing_table(results: list[Figures]) -> Table:
    table = Table(
        "backend",
        "in-process lookups/s (ttl 1 s)",
        "rebuilds",
        "warm table lookups/s",
        "rebuild ms",
        "HTTP requests/s",
        "HTTP latency ms avg / p50 / p99 / max",
        "server CPU ms / request",
        "HTTP non-2xx, socket errors",
        title="voice routing",
        caption="in-process: one thread, 8 routable voice : 1 sms : 1 unknown number; "
        "HTTP: one `lifeboat serve` process, wrk over the routable voice numbers with a voice token; "
        "server CPU: user + system time of the server process per request",
    )
    for r in results:
        g, h = r.routing, r.http
        http = (
            ("skipped",) * 4
            if h is None
            else (
                f"{h['per_s']:,.0f} ({h['connections']} conn, {h['seconds']:g} s)",
                f"{h['avg_ms']:.1f} / {h.get('p50_ms', 0):.1f} / {h.get('p99_ms', 0):.1f} / {h['max_ms']:.0f}",
                f"{h['cpu_ms']:.2f}",
                f"{h['non_2xx']}, {h['socket_errors']}",
            )
        )
        table.add_row(
            r.backend,
            f"{g['steady']:,.0f}",
            f"{g['rebuilds']} in {g['seconds']:g} s",
            f"{g['warm']:,.0f}",
            f"{g['build_ms']:.0f}",
            *http,
        )
    return table


def verdicts(results: list[Figures]) -> list[str]:
    lines = []
    for r in results:
        switch = statistics.median(x.reported_ms for x in r.switches)
        without = statistics.median(x.reported_ms - x.argon2_ms for x in r.switches)
        checks = [
            (
                "switch under 200 ms (median)",
                switch < TARGETS["switch_ms"],
                f"{switch:.0f} ms; without the passkey's argon2 {without:.0f} ms",
            ),
            (
                "in-process routing over 20,000/s",
                r.routing["steady"] > TARGETS["route_per_s"],
                f"{r.routing['steady']:,.0f}/s",
            ),
        ]
        if r.http is not None:
            checks.append(
                ("HTTP routing over 1,500/s", r.http["per_s"] > TARGETS["http_per_s"], f"{r.http['per_s']:,.0f}/s")
            )
        lines += [f"{r.backend}: target {what}: {'met' if ok else 'NOT met'} ({value})" for what, ok, value in checks]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--users", type=int, default=PROFILE_L.users, help="employees; the rest scales (default: profile L)"
    )
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions open at each switch")
    parser.add_argument("--switches", type=int, default=6, help="switches, alternately to BCP and back")
    parser.add_argument("--route-seconds", type=float, default=5.0, help="length of the in-process routing run")
    parser.add_argument("--http-seconds", type=float, default=10.0, help="length of the wrk run (0: no HTTP)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    console = Console(width=160)
    console.print(
        f"profile: {scaled(args.users)}; {args.sessions:,} sessions; host: {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
    )
    speedups = [name for name in ("httptools", "uvloop") if importlib.util.find_spec(name)]
    parts = f"with {' and '.join(speedups)}" if speedups else "h11 parser and asyncio loop (no httptools/uvloop)"
    console.print(f"lifeboat serve: uvicorn {uvicorn.__version__}, {parts}")
    results = []
    with tempfile.TemporaryDirectory(prefix="lifeboat-continuity-") as tmp:
        results.append(measure("sqlite", Settings(data_dir=Path(tmp) / "sqlite"), args, Path(tmp), console))
        if not args.no_postgres:
            import foundation  # its PostgreSQL server: LIFEBOAT_BENCH_POSTGRES_URL or a throwaway one

            with foundation.postgres_settings(Path(tmp) / "pg", console) as settings:
                if settings is not None:
                    results.append(measure("postgresql", settings, args, Path(tmp), console))
    console.print(switch_table(results))
    console.print(routing_table(results))
    for line in verdicts(results):
        console.print(line)
    console.print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the host slows every figure)")


if __name__ == "__main__":
    main()
