"""The edge's settings and its Kamailio configuration, rendered from ``kamailio.cfg.j2``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from lifeboat.errors import Invalid

TEMPLATE = Path(__file__).with_name("kamailio.cfg.j2")
# What the template loads; software.py names the Debian package of each.
MODULES = (
    "kex",
    "corex",
    "tm",
    "sl",
    "pv",
    "textops",
    "siputils",
    "maxfwd",
    "xlog",
    "htable",
    "http_client",
    "jansson",
    "ctl",
    "xhttp",
    "jsonrpcs",
    "statistics",
)
ANSWER_CODES = ("302", "404", "480", "503")  # counted by the edge, per code
CACHE_S = 5  # SPEC §12: a route is reused for at most 5 s
REFRESH_AFTER_S = 2  # ... and refreshed after the reply once 2-4 s old, while it is in use
KNOWN_S = 3600  # the last known route answers for an hour while the API cannot
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,200}$")
ADDRESS = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")


@dataclass(frozen=True)
class EdgeSettings:
    name: str
    api: str
    token: str
    run_dir: Path
    module_dir: Path
    listen: str = "127.0.0.1"
    port: int = 5060
    rpc_listen: str = "127.0.0.1"
    rpc_port: int = 5080
    # Workers per transport: each lookup blocks one for up to api_timeout_s.
    children: int = 16
    api_timeout_s: int = 1  # whole seconds: the smallest http_client takes
    retry_after_s: int = 30
    debug: int = 0  # warnings (a failing routing API) and errors; 1 adds notices, 3 every step

    @property
    def rpc_url(self) -> str:
        """Where lifeboat reaches the edge's JSON-RPC (htable.flush, htable.dump)."""
        return f"http://{self.rpc_listen}:{self.rpc_port}/RPC"

    def checked(self) -> EdgeSettings:
        """The settings, or Invalid naming each value that would break the configuration."""
        problems = []
        if not NAME.match(self.name):
            problems.append(("name", "letters, digits, '.', '_' and '-' only (at most 63)"))
        if not TOKEN.match(self.token):
            problems.append(("token", "is not a lifeboat token"))
        if not re.match(r"^https?://[A-Za-z0-9.:_\[\]-]+(/[A-Za-z0-9._~/-]*)?$", self.api):
            problems.append(("api", "must be an http(s) URL such as http://127.0.0.1:8000"))
        for field, value in (("listen", self.listen), ("rpc_listen", self.rpc_listen)):
            if not ADDRESS.match(value):
                problems.append((field, "must be an IP address or host name"))
        for field, port in (("port", self.port), ("rpc_port", self.rpc_port)):
            if not 1 <= port <= 65535:
                problems.append((field, "must be a port between 1 and 65535"))
        if self.port == self.rpc_port and self.listen == self.rpc_listen:
            problems.append(("rpc_port", "must differ from the SIP port"))
        if problems:
            raise Invalid.fields([{"field": f, "code": "invalid", "message": m} for f, m in problems])
        return self


def render(settings: EdgeSettings) -> str:
    """The Kamailio configuration of one edge (it holds the voice token: keep it private)."""
    settings.checked()
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    template = environment.from_string(TEMPLATE.read_text())
    return template.render(
        name=settings.name,
        api=settings.api.rstrip("/"),
        token=settings.token,
        run_dir=settings.run_dir,
        module_dir=f"{settings.module_dir}/",
        modules=MODULES,
        listen=settings.listen,
        port=settings.port,
        rpc_listen=settings.rpc_listen,
        rpc_port=settings.rpc_port,
        children=settings.children,
        api_timeout_s=settings.api_timeout_s,
        retry_after_s=settings.retry_after_s,
        cache_s=CACHE_S,
        refresh_after_s=REFRESH_AFTER_S,
        refreshers=max(1, settings.children // 4),
        known_s=KNOWN_S,
        answer_codes=ANSWER_CODES,
        debug=settings.debug,
    )
