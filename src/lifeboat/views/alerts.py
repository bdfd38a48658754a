"""Alert subscriptions and their recent deliveries."""

from __future__ import annotations

from typing import Any

from lifeboat.domain.records import Subscription


def subscription_view(sub: Subscription) -> dict[str, Any]:
    """A subscription without its secret (a webhook's secret is shown once, by the face that
    created it)."""
    return {
        "id": sub.id,
        "tenant_id": sub.tenant_id,
        "kind": sub.kind,
        "target": sub.target,
        "events": sub.events,
        "created_at": sub.created_at.isoformat(),
    }


def subscription_with_recent(sub: Subscription, recent: list[dict[str, Any]]) -> dict[str, Any]:
    return {**subscription_view(sub), "recent": [delivery_view(d) for d in recent]}


def delivery_view(row: dict[str, Any]) -> dict[str, Any]:
    """One outbox row: its event, status and attempts, and why it failed in words a tenant may read."""
    error = row["last_error"]
    if error is not None and not error.startswith("not delivered: "):
        error = "not delivered"  # written before errors were classed; its text may tell what answered
    return {
        "event": row["event"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_error": error,
        "created_at": row["created_at"].isoformat(),
    }
