"""The failback report and the results of applying it, as the API answers them and the CLI
and the console show them."""

from __future__ import annotations

from typing import Any

from lifeboat.domain.failback import FailbackItem


def report_view(items: list[FailbackItem]) -> dict[str, Any]:
    return {"items": [item.to_dict() for item in items], "total": len(items)}


def results_view(results: list[dict[str, Any]]) -> dict[str, Any]:
    applied = sum(1 for r in results if r["status"] == "applied")
    return {"results": results, "applied": applied, "failed": len(results) - applied}
