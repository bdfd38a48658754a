"""Python's cyclic garbage collector, paused while a sync reads, plans and writes.

A first sync of a large tenant holds a few hundred thousand objects at once (both tenants'
fields, the plan, the rows being written) and frees them by reference counting: it makes
no reference cycles. The collector, started every 700 new objects, walks them again and
again as they pile up -- about a third of the CPU time of a first sync of profile L. Runs
in several threads share one pause; the collector is back as it was when the last ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False  # whether the collector was on when the first holder paused it


@contextmanager
def paused() -> Iterator[None]:
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
