"""sipp, driven from the tests: one generated scenario per expected answer, one call each.

sipp exits 0 only when the call went as the scenario says: the expected reply code, and for
a 302 a Contact that matches (``ereg ... check_it``); a negative reply to an INVITE is ACKed
with ``[last_Via:]`` as a carrier would.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from tests.e2e.lifeboat_process import free_port

SIPP_TIMEOUT_S = 20

REQUEST = """\
      {method} sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{number}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 {method}
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
"""
ACK = """\
      ACK sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
"""


def scenario(method: str, number: str, code: int, header: str | None = None, pattern: str | None = None) -> str:
    """A scenario: send METHOD to NUMBER, expect CODE (and HEADER matching PATTERN), ACK an INVITE's reply."""
    check = ""
    if header is not None and pattern is not None:
        check = (
            f'<action><ereg regexp="{escape(pattern)}" search_in="hdr" header="{header}:" check_it="true"'
            f' assign_to="seen"/><log message="{header}: [$seen]"/></action>'
        )
    ack = f"<send><![CDATA[\n{ACK.format(number=number)}\n    ]]></send>" if method == "INVITE" else ""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="{method} {code}">
  <send retrans="500"><![CDATA[
{REQUEST.format(method=method, number=number)}
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="{code}">{check}</recv>
  {ack}
</scenario>
"""


def sipp_path() -> str | None:
    return shutil.which("sipp")


def call(
    folder: Path,
    port: int,
    *,
    number: str,
    expect: int,
    transport: str = "udp",
    method: str = "INVITE",
    header: str | None = None,
    pattern: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """One call from a free local port; the result says what sipp saw (exit 0: as expected)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{method}-{expect}-{transport}-{number.lstrip('+')}.xml"
    path.write_text(scenario(method, number, expect, header, pattern))
    command = [
        "sipp",
        *("-sf", str(path), "-m", "1", "-t", "u1" if transport == "udp" else "t1"),
        *("-i", "127.0.0.1", "-p", str(free_port()), "-timeout", "10s", "-timeout_error"),
        *("-trace_err", "-error_file", str(folder / "errors.log"), "-nostdin"),
        f"127.0.0.1:{port}",
    ]
    return subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=SIPP_TIMEOUT_S, cwd=folder
    )


def explain(result: subprocess.CompletedProcess[str], folder: Path) -> str:
    errors = folder / "errors.log"
    tail = errors.read_text(errors="replace")[-3000:] if errors.is_file() else "(no error file)"
    return f"sipp exit {result.returncode}\n{result.stderr[-2000:]}\n--- errors\n{tail}"
