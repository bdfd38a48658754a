"""The registered voice edges, as the API and ``lifeboat edge list`` show them."""

from __future__ import annotations

from typing import Any

from lifeboat.domain.records import VoiceEdge


def edge_view(edge: VoiceEdge) -> dict[str, Any]:
    return {
        "name": edge.name,
        "rpc_url": edge.rpc_url,
        "token_name": edge.token_name,
        "answers": edge.answers,
        "registered_at": edge.registered_at.isoformat(),
        "last_heard_at": edge.last_heard_at.isoformat(),
    }
