"""An entity as the API answers it."""

from __future__ import annotations

import base64
from typing import Any

from lifeboat.domain import json_limits
from lifeboat.domain.entities import Entity


def public_view(entity: Entity, *, with_content: bool = False) -> dict[str, Any]:
    """Its id, its public fields (never a secret), then its timestamps; a file's bytes as
    base64 only ``with_content``. A stored value too deep to answer with is shown as null and
    named in ``withheld``."""
    fields, withheld = json_limits.readable(entity.kind.public(entity.data))
    out = {"id": entity.id, **fields}
    if withheld:
        out["withheld"] = withheld
    if with_content and entity.kind.has_content and entity.content is not None:
        out["content"] = base64.b64encode(entity.content).decode("ascii")
    out["created_at"] = entity.created_at.isoformat()
    out["updated_at"] = entity.updated_at.isoformat()
    return out
