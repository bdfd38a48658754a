"""Running one edge: Kamailio in the foreground, registered with lifeboat while it runs.

Kamailio answers calls on its own; this process only starts it, tells lifeboat where the
edge's RPC is (so that a switch can flush the edge's route cache) and, every
``REPORT_EVERY_S``, reports again with the edge's answer counters. Lifeboat being down
never stops the edge: the report is tried again at the next tick.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import httpx2

from lifeboat.edge.config import ANSWER_CODES, EdgeSettings, render
from lifeboat.edge.rpc import rpc
from lifeboat.edge.software import Kamailio
from lifeboat.errors import Unavailable

log = logging.getLogger("lifeboat.edge")
REPORT_EVERY_S = 10.0
RETRY_REGISTER_S = 1.0
READY_TIMEOUT_S = 15.0
REPORT_TIMEOUT_S = 5.0


def write_config(settings: EdgeSettings, path: Path) -> Path:
    """Write the configuration readable by its owner only: it holds the voice token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(render(settings))
    return path


def kamailio_command(kamailio: Kamailio, settings: EdgeSettings, config: Path) -> list[str]:
    # -DD: no fork into the background; -E: log to standard error; -Y/-P: its own run dir.
    return [
        str(kamailio.program),
        *("-DD", "-E", "-f", str(config), "-Y", str(settings.run_dir)),
        *("-P", str(settings.run_dir / "kamailio.pid"), "-m", "64", "-M", "8"),
    ]


def run(kamailio: Kamailio, settings: EdgeSettings, config: Path) -> int:
    """Run the edge until Kamailio ends or a signal ends it; Kamailio's exit status."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(kamailio_command(kamailio, settings, config))
    stop = threading.Event()

    def forward(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        process.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    reporter = threading.Thread(target=_report_loop, args=(settings, process, stop), daemon=True)
    reporter.start()
    try:
        return process.wait()
    finally:
        stop.set()


def _report_loop(settings: EdgeSettings, process: subprocess.Popen[bytes], stop: threading.Event) -> None:
    if not wait_ready(settings, process):
        return
    registered = False
    while not stop.is_set() and process.poll() is None:
        try:
            report(settings)
            registered = True
        except (httpx2.HTTPError, ValueError, Unavailable) as exc:
            log.warning("edge %s: could not report to %s: %s", settings.name, settings.api, exc)
        # Until lifeboat knows the edge, a switch cannot flush it: register again soon.
        stop.wait(REPORT_EVERY_S if registered else RETRY_REGISTER_S)


def wait_ready(settings: EdgeSettings, process: subprocess.Popen[bytes] | None = None) -> bool:
    """True once the edge's RPC answers (Kamailio has bound its sockets)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        try:
            rpc(settings.rpc_url, "core.version")
            return True
        except (httpx2.HTTPError, Unavailable):
            time.sleep(0.1)
    return False


def report(settings: EdgeSettings) -> dict[str, Any]:
    """Register (or re-register) with lifeboat: name, RPC address, answers by code."""
    body = {"name": settings.name, "rpc_url": settings.rpc_url, "answers": answer_counts(settings.rpc_url)}
    response = httpx2.post(
        f"{settings.api.rstrip('/')}/api/v1/voice/edges",
        json=body,
        headers={"Authorization": f"Bearer {settings.token}"},
        timeout=REPORT_TIMEOUT_S,
        trust_env=False,
    )
    if response.status_code != 200:
        raise Unavailable(
            f"lifeboat answered {response.status_code}: {response.text[:200]}", code="edge_not_registered"
        )
    answer: dict[str, Any] = response.json()
    return answer


def answer_counts(rpc_url: str) -> dict[str, int]:
    """The edge's own counters of the answers it gave (statistics ``answers_<code>``)."""
    lines = rpc(rpc_url, "stats.get_statistics", ["script:"]) or []
    counts = dict.fromkeys(ANSWER_CODES, 0)
    for line in lines:  # "script:answers_302 = 7"
        name, _, value = str(line).partition(" = ")
        code = name.removeprefix("script:answers_")
        if code in counts and value.strip().isdigit():
            counts[code] = int(value)
    return counts
