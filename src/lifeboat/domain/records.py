"""Records that several layers share: plain values, written by the store, read by the sync,
the services and the faces. Only what more than one layer needs lives here; a record of
one layer stays beside its code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """Enough of an entity to decide whether its fields must be read at all."""

    id: int
    type: str
    natural_key: str
    version: int


@dataclass(frozen=True)
class Correlation:
    """Which primary entity a BCP entity copies, and the versions of both when last synced."""

    type: str
    primary_id: int
    bcp_id: int
    primary_version: int  # 0: references were still pending or unresolved when written
    bcp_version: int
