"""Run the benchmarks (``make bench``). They print figures; nothing here is a pass/fail test.

.venv/bin/python bench/run.py                 # profile L on SQLite, and PostgreSQL if available
.venv/bin/python bench/run.py --users 1000    # a smaller tenant in the same proportions
.venv/bin/python bench/run.py --no-postgres
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # for tests.postgres_server and the bench modules

import foundation  # noqa: E402
from lifeboat.demo.profile import PROFILE_L, scaled  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--users",
        type=int,
        default=PROFILE_L.users,
        help="employees in the tenant; the rest scales with them (default: profile L)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    foundation.run(scaled(args.users), postgres=not args.no_postgres)


if __name__ == "__main__":
    main()
