"""JSON-RPC to an edge's Kamailio (module jsonrpcs over HTTP): what lifeboat and the runner ask."""

from __future__ import annotations

from typing import Any

import httpx2

from lifeboat.errors import Unavailable

RPC_TIMEOUT_S = 2.0


def rpc(url: str, method: str, params: list[Any] | None = None, *, timeout: float = RPC_TIMEOUT_S) -> Any:
    """One JSON-RPC call to an edge; Unavailable when it answers with an error."""
    request = {"jsonrpc": "2.0", "method": method, "params": params or [], "id": 1}
    response = httpx2.post(url, json=request, timeout=timeout, trust_env=False)
    answer = response.json()
    if "error" in answer:
        raise Unavailable(f"edge RPC {method}: {answer['error']}", code="edge_rpc_failed")
    return answer.get("result")
