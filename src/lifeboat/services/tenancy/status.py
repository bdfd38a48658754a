"""Region status from a live database check."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lifeboat.bootstrap import Platform


def region_status(platform: Platform) -> dict[str, Any]:
    """Check every database at once, so one slow, unreachable region does not add up."""
    regions = list(platform.regions.values())
    with ThreadPoolExecutor(max_workers=len(regions) + 1) as pool:
        directory = pool.submit(platform.directory.is_up)
        checks = [pool.submit(r.db.is_up) for r in regions]
        results = [c.result() for c in checks]
        return {
            "directory": "up" if directory.result() else "down",
            "regions": [
                {"name": r.name, "status": "up" if ok else "down", "voice_cluster": r.voice_cluster}
                for r, ok in zip(regions, results)
            ],
        }


def configured_regions(platform: Platform) -> list[dict[str, Any]]:
    return [{"name": r.name, "voice_cluster": r.voice_cluster} for r in platform.regions.values()]
