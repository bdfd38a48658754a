"""The composition root: settings in, a ``Platform`` of databases and services' tools out.

Nothing else builds engines. Entrypoints (the API app, the CLI, job loops) call
``build_platform`` once and pass the result down.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher

from lifeboat.config import Settings
from lifeboat.domain.json_limits import JsonLimits
from lifeboat.errors import NotFound
from lifeboat.metrics import Metrics
from lifeboat.migrations import migrate
from lifeboat.store import units
from lifeboat.store.database import Database, Region, build_engine
from lifeboat.store.units import DirectoryUnit, RegionUnit

__all__ = ["Platform", "build_platform", "migrate_platform"]


@dataclass
class Platform:
    settings: Settings
    directory: Database
    regions: dict[str, Region]
    passwords: PasswordHasher
    passkeys: PasswordHasher
    # Process-local caches (the routing table); rebuilt from the databases when stale.
    caches: dict[str, Any] = field(default_factory=dict)
    cache_lock: threading.Lock = field(default_factory=threading.Lock)
    # What this process counts for /metrics: a registry of its own (lifeboat.metrics).
    metrics: Metrics = field(default_factory=Metrics)

    def region(self, name: str) -> Region:
        try:
            return self.regions[name]
        except KeyError:
            raise NotFound(
                f"Region {name!r} is not configured.",
                code="region_not_found",
                details={"region": name, "configured": sorted(self.regions)},
            ) from None

    def directory_unit(self, *, write: bool = True) -> AbstractContextManager[DirectoryUnit]:
        """A transaction on the directory (``store.units``): commits when the block ends."""
        return units.directory_unit(self.directory, write=write)

    def region_unit(
        self, region: Region | str, *, write: bool = True, snapshot: bool = False
    ) -> AbstractContextManager[RegionUnit]:
        """A transaction on a region's database, given as a ``Region`` or by name."""
        found = self.region(region) if isinstance(region, str) else region
        return units.region_unit(found, write=write, snapshot=snapshot)

    def json_limits(self) -> JsonLimits:
        """How deep and large free-form JSON may be (settings max_json_depth, max_json_bytes)."""
        return JsonLimits(self.settings.max_json_depth, self.settings.max_json_bytes)

    def close(self) -> None:
        self.directory.dispose()
        for region in self.regions.values():
            region.db.dispose()


def build_platform(settings: Settings) -> Platform:
    if any(u.startswith("sqlite") for u in _urls(settings)):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    timeout = settings.database_connect_timeout_s
    directory = Database("directory", build_engine(settings.directory_database_url(), connect_timeout_s=timeout))
    regions = {
        r.name: Region(r, Database(r.name, build_engine(settings.region_database_url(r), connect_timeout_s=timeout)))
        for r in settings.regions
    }
    hasher = PasswordHasher(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib)
    # A passkey is 100 random bits, not a person's password: argon2's cost is there to slow
    # the guessing of weak secrets, which a passkey is not, and guesses are capped by the
    # lockout anyway. A light argon2id keeps the switch fast when every second counts.
    passkeys = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    return Platform(settings, directory, regions, hasher, passkeys)


def _urls(settings: Settings) -> list[str]:
    return [settings.directory_database_url(), *(settings.region_database_url(r) for r in settings.regions)]


def migrate_platform(platform: Platform, *, skip_down: bool = False) -> dict[str, str]:
    """Upgrade the directory and every region. Returns ``{database: "ok" | "down"}``."""
    results = {}
    migrate(platform.directory, "directory")
    results["directory"] = "ok"
    for region in platform.regions.values():
        if skip_down and not region.db.is_up():
            results[region.name] = "down"
            continue
        migrate(region.db, "region")
        results[region.name] = "ok"
    return results
