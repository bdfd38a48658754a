"""Login timing benchmark (issue 7, item 6): does the time of a refused login tell whether
the username exists?

    .venv/bin/python bench/login_bench.py                 # SQLite and PostgreSQL, 50 tries each
    .venv/bin/python bench/login_bench.py --tries 200 --no-postgres

For each backend (SQLite always; PostgreSQL as in ``bench/foundation.py``) it builds a
tenant with one user, with the DEFAULT argon2 cost (the point is the hash's time), and
times ``POST /api/v1/auth/login`` through the in-process test client, interleaving:

- a known user with a wrong password,
- an unknown username (a different one each time),
- the known user with the right password (for scale: it also opens a session).

The throttle stays on, with limits raised out of reach for the run (its reads and writes
are part of every failed login). Printed: median, p95 and minimum of each kind, the median of
the per-round differences (known wrong minus unknown; rounds interleave, so a change of load
on a shared machine touches both alike), and one argon2 verification alone for scale. A
second pass with argon2 at its cheapest (as the tests hash) shows what the rest of the path
costs without the hash's noise. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path
from time import perf_counter

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from lifeboat.api.app import create_app
from lifeboat.bootstrap import build_platform, migrate_platform
from lifeboat.config import Settings
from lifeboat.domain.access import Principal
from lifeboat.services.entities.crud import create_entity
from lifeboat.services.tenancy.tenants import create_tenant

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # for foundation and the tests.postgres_server it uses

OPERATOR = Principal("operator", 0, "bench")
PASSWORD = "correct horse battery"
NO_LIMITS = {"login_max_failures_per_username": 1_000_000, "login_max_failures_per_address": 1_000_000}
KINDS = ("known user, wrong password", "unknown username", "known user, right password")


CHEAP = {"password_time_cost": 1, "password_memory_kib": 64}


def measure(settings: Settings, tries: int, label: str) -> dict[str, list[float]]:
    platform = build_platform(settings.model_copy(update=NO_LIMITS))
    user = f"bench.user.{label}"
    try:
        migrate_platform(platform)
        tenant = create_tenant(platform, OPERATOR, f"Login Bench {label}", "na1")
        create_entity(
            platform,
            OPERATOR,
            tenant.id,
            "users",
            {
                "username": user,
                "email": "bench@example.com",
                "first_name": "Bench",
                "last_name": "User",
                "password": PASSWORD,
            },
        )
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        with TestClient(create_app(platform)) as client:
            attempts = {
                KINDS[0]: lambda n: (user, "wrong password"),
                KINDS[1]: lambda n: (f"nobody.{label}.{n}", "wrong password"),
                KINDS[2]: lambda n: (user, PASSWORD),
            }
            for n in range(-3, tries):  # three rounds of warm-up (the dummy hash is made on first use)
                for kind, attempt in attempts.items():
                    username, password = attempt(n)
                    started = perf_counter()
                    client.post("/api/v1/auth/login", json={"username": username, "password": password})
                    if n >= 0:
                        times[kind].append((perf_counter() - started) * 1000)
        return times
    finally:
        platform.close()


def argon2_alone(settings: Settings, tries: int) -> list[float]:
    hasher = PasswordHasher(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib)
    stored, times = hasher.hash(PASSWORD), []
    for _ in range(tries):
        started = perf_counter()
        with contextlib.suppress(VerificationError):
            hasher.verify(stored, "wrong password")
        times.append((perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def table(rows: list[tuple[str, dict[str, list[float]]]], title: str) -> Table:
    out = Table("backend", "attempt", "median ms", "p95 ms", "min ms", title=title)
    for backend, times in rows:
        for kind, values in times.items():
            out.add_row(backend, kind, f"{statistics.median(values):.1f}", f"{p95(values):.1f}", f"{min(values):.1f}")
        gaps = [k - u for k, u in zip(times[KINDS[0]], times[KINDS[1]])]
        out.add_row(
            backend,
            "known wrong − unknown, per round",
            f"{statistics.median(gaps):+.1f}",
            f"{p95(gaps):+.1f}",
            f"{min(gaps):+.1f}",
        )
    return out


def run(backends: list[tuple[str, Settings]], tries: int, cheap: bool) -> list[tuple[str, dict[str, list[float]]]]:
    rows = []
    for backend, settings in backends:
        settings = settings.model_copy(update=CHEAP) if cheap else settings
        times = measure(settings, tries, "cheap" if cheap else "default")
        if not cheap:
            times["argon2 verify alone"] = argon2_alone(settings, tries)
        rows.append((backend, times))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        backends = [("sqlite", Settings(data_dir=Path(tmp) / "sqlite"))]
        if not args.no_postgres:
            import foundation  # its PostgreSQL server: LIFEBOAT_BENCH_POSTGRES_URL or a throwaway one

            pg = stack.enter_context(foundation.postgres_settings(Path(tmp) / "pg", console))
            backends += [("postgresql", pg)] if pg is not None else []
        for cheap in (False, True):
            cost = "argon2 at its cheapest (the rest of the path)" if cheap else "default argon2 cost"
            rows = run(backends, args.tries, cheap)
            console.print(table(rows, f"POST /auth/login, {args.tries} tries each, {cost}"))


if __name__ == "__main__":
    main()
