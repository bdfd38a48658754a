"""The voice edges (SPEC §12): they register, lifeboat lists them and flushes their caches.

An edge reports itself with its voice token when it starts and every few seconds after:
name, the address of its JSON-RPC, and the answers it gave by SIP code (counted by the edge,
which answers from its cache and its last known routes without asking lifeboat, so only it
can count every answer). After a switch or revert has committed, every registered edge is
told to flush its route cache, in parallel and with a short time-out: an edge that misses
the message still follows within the 5 s of its cache, and the switch never waits long or
fails for an edge.

Any holder of a voice token can register an edge, and lifeboat then calls its RPC address:
so that address must be an IP literal inside the operator's ``edge_rpc_networks`` (loopback
and the private ranges unless set), checked when the edge reports and again before a flush
(the setting may have narrowed since). Redirects are never followed.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx2

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.addresses import edge_rpc_problem
from lifeboat.domain.records import VoiceEdge
from lifeboat.edge.config import ANSWER_CODES, NAME
from lifeboat.edge.rpc import rpc
from lifeboat.errors import Forbidden, Invalid, Unavailable
from lifeboat.store.tables import now

log = logging.getLogger("lifeboat.edges")
FLUSH_TIMEOUT_S = 0.5
RPC_URL = re.compile(r"^https?://[A-Za-z0-9.:_\[\]-]{1,253}(/[A-Za-z0-9._~/-]{0,40})?$")
FIELDS = ("name", "rpc_url", "answers")


def report_edge(platform: Platform, principal: Principal, payload: object) -> VoiceEdge:
    """Register an edge, or record that it is still there with its counters."""
    if principal.kind != "voice":
        raise Forbidden("Edges report with a voice token.", code="voice_token_required")
    name, rpc_url, answers = _checked(payload)
    _refuse_unless_allowed(rpc_url, platform.settings.edge_rpc_networks)
    with platform.directory_unit() as uow:
        uow.edges.report(name, rpc_url, principal.name, answers, now())
    return next(e for e in list_all(platform) if e.name == name)


def _checked(payload: object) -> tuple[str, str, dict[str, int]]:
    if not isinstance(payload, dict):
        raise Invalid.fields([{"field": "body", "code": "not_an_object", "message": "must be {name, rpc_url}"}])
    problems = [{"field": k, "code": "unknown_field", "message": "is not a field"} for k in payload if k not in FIELDS]
    name, rpc_url, answers = payload.get("name"), payload.get("rpc_url"), payload.get("answers", {})
    if not isinstance(name, str) or not NAME.match(name):
        problems.append({"field": "name", "code": "invalid", "message": "letters, digits, '.', '_', '-' (≤ 63)"})
    if not isinstance(rpc_url, str) or not RPC_URL.match(rpc_url):
        problems.append({"field": "rpc_url", "code": "invalid", "message": "must be http(s)://host:port/RPC"})
    if not isinstance(answers, dict) or not all(
        code in ANSWER_CODES and isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**53
        for code, n in answers.items()
    ):
        problems.append({"field": "answers", "code": "invalid", "message": f"counts by code {', '.join(ANSWER_CODES)}"})
    if problems:
        raise Invalid.fields(problems)
    assert isinstance(name, str) and isinstance(rpc_url, str) and isinstance(answers, dict)  # checked above
    return name, rpc_url, {code: answers.get(code, 0) for code in ANSWER_CODES}


def _refuse_unless_allowed(rpc_url: str, networks: list[str]) -> None:
    problem = edge_rpc_problem(urlsplit(rpc_url).hostname or "", networks)
    if problem is not None:
        raise Invalid(
            "An edge's RPC address must be an IP address in a network the operator allows (edge_rpc_networks).",
            code="edge_rpc_not_allowed",
            details={"errors": [{"field": "rpc_url", "code": "edge_rpc_not_allowed", "message": problem}]},
        )


def list_edges(platform: Platform, principal: Principal) -> list[VoiceEdge]:
    if not principal.is_operator:
        raise Forbidden("Only an operator may list the voice edges.", code="operator_required")
    return list_all(platform)


def list_all(platform: Platform) -> list[VoiceEdge]:
    with platform.directory_unit(write=False) as uow:
        return uow.edges.all()


def flush_edges(platform: Platform) -> dict[str, bool]:
    """Tell every registered edge to forget its cached routes; which ones confirmed."""
    edges = list_all(platform)
    if not edges:
        return {}
    networks = platform.settings.edge_rpc_networks
    with ThreadPoolExecutor(max_workers=min(16, len(edges))) as pool:
        answers = pool.map(lambda edge: _flush(edge, networks), edges)
        confirmed = dict(zip([e.name for e in edges], answers, strict=True))
    heard = [name for name, ok in confirmed.items() if ok]
    if heard:
        with platform.directory_unit() as uow:
            for name in heard:
                uow.edges.heard(name, now())
    return confirmed


def _flush(edge: VoiceEdge, networks: list[str]) -> bool:
    problem = edge_rpc_problem(urlsplit(edge.rpc_url).hostname or "", networks)
    if problem is not None:  # registered before the setting narrowed: not called
        log.warning("voice edge %s not flushed: its RPC address is not allowed now: %s", edge.name, problem)
        return False
    try:
        rpc(edge.rpc_url, "htable.flush", ["routes"], timeout=FLUSH_TIMEOUT_S)
        return True
    except (httpx2.HTTPError, ValueError, Unavailable) as exc:  # ValueError: an answer that is not JSON
        log.warning("voice edge %s (%s) did not flush its routes: %s", edge.name, edge.rpc_url, exc)
        return False
