"""Voice edge benchmark (SPEC §12, issue 10): how many calls per second one edge answers with
no failed call, how fast (p99 reply time as sipp measures it), and how often it asks the
routing API meanwhile.

    .venv/bin/python bench/edge_bench.py                       # 300, 1000, then step up
    .venv/bin/python bench/edge_bench.py --rates 300 1000 --no-step-up --seconds 20
    .venv/bin/python bench/edge_bench.py --children 8 --debug 1

It builds the demo (``lifeboat demo``, SQLite), starts ``lifeboat serve --access-log`` on it
and one ``lifeboat edge run`` in front, both on loopback, as tests/edge does. Each step,
sipp calls the edge at a fixed rate for ``--seconds``, each call an INVITE for one of the
demo's voice numbers in turn (``-inf``: many numbers, not one cached one), expecting the 302
and ACKing it. Per step: calls made, failed (with sipp's failure kinds), retransmissions,
the rate achieved, p50/p99/max of the INVITE -> 302 time (``-trace_rtt``), and the routing
API's lookups per second (``GET /voice/route`` lines of the server's access log, with
their p99 duration). After 300 and 1000 the rate goes up by ``--factor`` until a step fails
or ``--max-rate``. Figures are printed, never asserted. Everything shares the machine: sipp,
Kamailio and lifeboat compete for the same cores, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]  # for tests.e2e.lifeboat_process: the same way the tests start lifeboat

import httpx2  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from lifeboat.demo.profile import phone_number, scaled  # noqa: E402
from lifeboat.edge.software import find_kamailio  # noqa: E402
from lifeboat.errors import Unavailable  # noqa: E402
from tests.e2e.lifeboat_process import (  # noqa: E402
    API,
    Installation,
    describe,
    free_port,
    lifeboat_env,
    lifeboat_executable,
    run_lifeboat,
    wait_until,
)

PASSWORD = "lifeboat-demo"  # the demo's users' password
TARGET_P99_MS = 20.0
ROUTE = "/api/v1/voice/route"
SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="edge bench">
  <send retrans="500" start_rtd="1"><![CDATA[
      INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="302" rtd="1"/>
  <send><![CDATA[
      ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
</scenario>
"""


@dataclass
class Step:
    rate: int
    calls: int = 0
    failed: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    retransmissions: int = 0
    seconds: float = 0.0
    reply_ms: list[float] = field(default_factory=list)
    lookups: int = 0
    lookup_ms: list[float] = field(default_factory=list)

    @property
    def achieved(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def holds(self) -> bool:
        """No failed call, and the rate asked for was (nearly) reached."""
        return self.calls > 0 and self.failed == 0 and self.achieved >= 0.95 * self.rate


def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


# ------------------------------------------------------------------------ lifeboat and the edge


@dataclass
class Rig:
    folder: Path
    install: Installation
    api: str
    server_log: Path
    sip_port: int
    numbers: list[str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


def start(command: list[str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=lifeboat_env(), cwd=cwd
        )


def build_demo(folder: Path, users: int) -> Installation:
    install = Installation.sqlite(folder / "data")
    result = run_lifeboat("demo", *install.flags(), "--users", str(users), timeout=1800)
    if result.returncode != 0:
        raise SystemExit(describe(result))
    return install


def serve(rig: Rig, port: int) -> httpx2.Client:
    command = [lifeboat_executable(), "serve", "--host", "127.0.0.1", "--port", str(port), "--access-log"]
    rig.processes.append(start([*command, "--log-format", "json", *rig.install.flags()], rig.server_log, rig.folder))
    client = httpx2.Client(base_url=rig.api, timeout=60, trust_env=False)
    wait_until(lambda: _answers(client, "/readyz"), timeout=120, what="lifeboat serve")
    token = client.post(f"{API}/auth/login", json={"username": "operator", "password": PASSWORD}).json()
    client.headers["Authorization"] = f"Bearer {token['token']}"
    return client


def _answers(client: httpx2.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx2.HTTPError:
        return False


def start_edge(rig: Rig, operator: httpx2.Client, children: int, debug: int) -> None:
    command = [
        lifeboat_executable(),
        *("edge", "run", "--name", "bench", "--port", str(rig.sip_port), "--rpc-port", str(free_port())),
        *("--api", rig.api, "--run-dir", str(rig.folder / "edge"), "--children", str(children)),
        *("--debug", str(debug), *rig.install.flags()),
    ]
    rig.processes.append(start(command, rig.folder / "edge.log", rig.folder))

    def registered() -> bool:
        return any(e["name"] == "bench" for e in operator.get(f"{API}/voice/edges").json()["items"])

    wait_until(registered, timeout=60, what="the edge to register")


def routable_numbers(operator: httpx2.Client, users: int) -> list[str]:
    """The demo's voice numbers (as the demo made them) that the routing API redirects now."""
    numbers = [phone_number(i) for i in range(scaled(users).voice_contacts)]
    wait_until(
        lambda: operator.get(f"{API}/voice/route", params={"number": numbers[0]}).status_code == 200,
        timeout=300,
        what="the demo's numbers to be routable (first sync)",
    )
    return numbers


@contextlib.contextmanager
def rig(folder: Path, users: int, children: int, debug: int, console: Console) -> Iterator[Rig]:
    console.print(f"building the demo ({users} users, sqlite) in {folder} ...")
    install = build_demo(folder, users)
    port = free_port()
    made = Rig(folder, install, f"http://127.0.0.1:{port}", folder / "server.log", free_port(), [])
    try:
        operator = serve(made, port)
        made.numbers = routable_numbers(operator, users)
        start_edge(made, operator, children, debug)
        yield made
    finally:
        for process in reversed(made.processes):
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ------------------------------------------------------------------------ one step of load


def run_step(made: Rig, rate: int, seconds: float, *, warm: bool) -> Step:
    """One step; first (unless ``warm`` is off) each number once, so that the step measures
    the edge in use, its cache refreshed ahead, not the first lookup of every number."""
    if warm:
        _sipp(made, made.folder / f"warm-{rate}", rate=min(rate, 500), calls=len(made.numbers), seconds=1)
    log_lines = _line_count(made.server_log)
    started = time.monotonic()
    folder = _sipp(made, made.folder / f"step-{rate}", rate=rate, calls=max(1, round(rate * seconds)), seconds=seconds)
    step = Step(rate, seconds=time.monotonic() - started)
    _read_stats(step, folder / "stat.csv")
    step.reply_ms = _read_rtt(folder)
    step.lookup_ms = _lookups_since(made.server_log, log_lines)
    step.lookups = len(step.lookup_ms)
    return step


def _sipp(made: Rig, folder: Path, *, rate: int, calls: int, seconds: float) -> Path:
    folder.mkdir()
    (folder / "numbers.csv").write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in made.numbers))
    (folder / "edge.xml").write_text(SCENARIO)
    command = [
        *("sipp", "-sf", "edge.xml", "-inf", "numbers.csv", "-t", "u1", "-i", "127.0.0.1", "-p", str(free_port())),
        *("-r", str(rate), "-m", str(calls), "-l", str(rate * 3), "-buff_size", "4194304"),
        *("-trace_stat", "-stf", "stat.csv", "-fd", "1", "-trace_rtt", "-rtt_freq", "1"),
        *("-trace_err", "-error_file", "errors.log", "-timeout", f"{int(seconds) + 60}s", "-nostdin"),
        f"127.0.0.1:{made.sip_port}",
    ]
    subprocess.run(command, cwd=folder, capture_output=True, timeout=seconds + 120, stdin=subprocess.DEVNULL)
    return folder


def _line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def _read_stats(step: Step, path: Path) -> None:
    """The last line of sipp's statistics: calls, failures by kind, retransmissions."""
    rows = list(csv.DictReader(path.open(), delimiter=";")) if path.is_file() else []
    if not rows:
        return
    last = rows[-1]
    counts = {
        name.removesuffix("(C)"): int(value)
        for name, value in last.items()
        if name and name.endswith("(C)") and value.strip().isdigit()
    }
    step.calls = counts.get("SuccessfulCall", 0) + counts.get("FailedCall", 0)
    step.failed = counts.get("FailedCall", 0)
    step.retransmissions = counts.get("Retransmissions", 0)
    step.kinds = {k: v for k, v in counts.items() if k.startswith("Failed") and k != "FailedCall" and v}
    step.kinds.update({k: v for k, v in counts.items() if k in ("DeadCallMsgs", "OutOfCallMsgs") and v})
    elapsed = last.get("ElapsedTime(C)", "")  # "00:00:10:012000"
    with contextlib.suppress(ValueError):
        h, m, s, *rest = (float(part) for part in elapsed.split(":"))
        step.seconds = h * 3600 + m * 60 + s + (rest[0] / 1e6 if rest else 0) or step.seconds


def _read_rtt(folder: Path) -> list[float]:
    """Every INVITE -> 302 time sipp traced (``date_ms;response_time_ms;rtd_no``)."""
    values = []
    for path in folder.glob("*_rtt.csv"):
        for line in path.read_text().splitlines()[1:]:
            parts = line.split(";")
            with contextlib.suppress(ValueError, IndexError):
                values.append(float(parts[1]))
    return values


def _lookups_since(log: Path, skip: int) -> list[float]:
    """Durations (ms) of the routing API's lookups logged after line ``skip``."""
    durations = []
    with log.open(errors="replace") as lines:
        for number, line in enumerate(lines):
            if number < skip or ROUTE not in line:
                continue
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if record.get("route") == ROUTE:
                    durations.append(float(record.get("duration_ms", math.nan)))
    return durations


# ------------------------------------------------------------------------ the table


def table(steps: list[Step], title: str) -> Table:
    out = Table(title=title)
    for column in ("calls/s asked", "achieved", "calls", "failed", "failure kinds", "retrans"):
        out.add_column(column, justify="right")
    for column in ("p50 ms", "p99 ms", "max ms", "API lookups/s", "API p99 ms", "holds"):
        out.add_column(column, justify="right")
    for s in steps:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.kinds.items())) or "-"
        out.add_row(
            str(s.rate),
            f"{s.achieved:.0f}",
            str(s.calls),
            str(s.failed),
            kinds,
            str(s.retransmissions),
            f"{percentile(s.reply_ms, 0.5):.1f}",
            f"{percentile(s.reply_ms, 0.99):.1f}",
            f"{max(s.reply_ms, default=math.nan):.1f}",
            f"{s.lookups / s.seconds:.1f}" if s.seconds else "-",
            f"{percentile(s.lookup_ms, 0.99):.1f}",
            "yes" if s.holds and percentile(s.reply_ms, 0.99) < TARGET_P99_MS else ("calls ok" if s.holds else "no"),
        )
    return out


def rates(first: list[int], factor: float, max_rate: int, step_up: bool) -> Iterator[int]:
    yield from first
    rate = max(first)
    while step_up and rate < max_rate:
        rate = min(max_rate, int(rate * factor) // 50 * 50 or rate + 50)
        yield rate


def missing_software() -> str | None:
    try:
        find_kamailio()
    except Unavailable as exc:
        return exc.message
    return None if shutil.which("sipp") else "sipp not found (apt-get install sip-tester)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000, help="demo size; a tenth of it are voice numbers")
    parser.add_argument("--rates", type=int, nargs="+", default=[300, 1000], help="calls/s of the first steps")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument("--factor", type=float, default=1.5, help="step up by this much after the first steps")
    parser.add_argument("--max-rate", type=int, default=10000)
    parser.add_argument("--no-step-up", action="store_true", help="only the rates of --rates")
    parser.add_argument("--children", type=int, default=8, help="the edge's SIP workers per transport")
    parser.add_argument("--debug", type=int, default=0, help="the edge's Kamailio log level")
    parser.add_argument("--cold", action="store_true", help="no warm-up call per number before each step")
    parser.add_argument("--keep", action="store_true", help="keep the folder (sipp's files, the logs)")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 160))
    problem = missing_software()
    if problem:
        console.print(f"cannot run the edge benchmark: {problem}")
        raise SystemExit(2)
    steps: list[Step] = []
    kept = contextlib.nullcontext(tempfile.mkdtemp(prefix="edge-bench-")) if args.keep else None
    with kept or tempfile.TemporaryDirectory(prefix="edge-bench-") as tmp:
        with rig(Path(tmp), args.users, args.children, args.debug, console) as made:
            console.print(f"{len(made.numbers)} voice numbers, edge with {args.children} children, debug={args.debug}")
            for rate in rates(args.rates, args.factor, args.max_rate, not args.no_step_up):
                steps.append(run_step(made, rate, args.seconds, warm=not args.cold))
                console.print(table(steps[-1:], f"{rate} calls/s for {args.seconds:g} s"))
                if not steps[-1].holds and rate > max(args.rates):
                    break
    title = (
        f"One edge on loopback, sqlite demo of {args.users} users ({len(made.numbers)} numbers), "
        f"{args.children} children, {args.seconds:g} s per step; target: 1000 calls/s, 0 failed, "
        f"p99 < {TARGET_P99_MS:g} ms"
    )
    console.print(table(steps, title))
    held = [s.rate for s in steps if s.holds]
    console.print(f"highest rate with no failed call: {max(held) if held else 'none'} calls/s")


if __name__ == "__main__":
    main()
