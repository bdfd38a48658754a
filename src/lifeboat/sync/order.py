"""The sync's order of entity types: now ``lifeboat.domain.graph``, shared with the bulk loader.

Kept only so that modules edited on other branches still import; ARCH-PLAN step 4b points
their imports at ``domain.graph`` and deletes this file.
"""

from __future__ import annotations

from lifeboat.domain.graph import SCRIPT_TARGETS, is_deferred, type_order, write_groups, write_order

sync_order = write_order

__all__ = ["SCRIPT_TARGETS", "is_deferred", "sync_order", "type_order", "write_groups"]
