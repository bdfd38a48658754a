"""The rules of some entity types that fields and links cannot say, as functions the
``ENTITY_TYPES`` table names (``EntityType.prepare``, ``check``, ``sync_scope``). Pure.

Nothing here knows which type it serves: the table says which type uses which rule, so a
new type reuses one by naming it, and no code outside the table compares type names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lifeboat.domain import fields as f
from lifeboat.domain.json_limits import DEFAULT_MAX_DEPTH
from lifeboat.domain.records import Row
from lifeboat.domain.scripts import DEFAULT_MAX_SCRIPT_BYTES, parse_script
from lifeboat.errors import TooLarge

DEFAULT_MAX_FILE_BYTES = 10 * 1_048_576
HashPassword = Callable[[str], str]


@dataclass(frozen=True)
class Limits:
    """How large what storage preparation accepts may be (from the settings)."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_script_bytes: int = DEFAULT_MAX_SCRIPT_BYTES
    max_json_depth: int = DEFAULT_MAX_DEPTH


# Turns validated fields, in place, into what is stored; returns the bytes kept beside the
# row (a file's content), or None. The password hasher is given, not built: a bulk load
# hashes each distinct password once.
Prepare = Callable[[dict[str, Any], Limits, HashPassword], "bytes | None"]
# Problems between fields once each is valid on its own, as ``{field, code, message}``.
Check = Callable[[dict[str, Any]], list[dict[str, str]]]
# Whether the sync copies an entity (it reads rows, not fields: the natural key is all it has).
SyncScope = Callable[[Row], bool]


def hash_password_field(data: dict[str, Any], limits: Limits, hash_password: HashPassword) -> bytes | None:
    """A password is never stored: its hash is (``password_hash``, a stored secret)."""
    if "password" in data:
        data["password_hash"] = hash_password(data.pop("password"))
    return None


def keep_file_bytes(data: dict[str, Any], limits: Limits, hash_password: HashPassword) -> bytes | None:
    """The bytes go beside the row; the row keeps their size and checksum."""
    if "content" not in data:
        return None
    content: bytes = data.pop("content")
    if len(content) > limits.max_file_bytes:
        raise TooLarge(
            f"The file is {len(content)} bytes; the limit is {limits.max_file_bytes}.",
            code="file_too_large",
            details={"size": len(content), "limit": limits.max_file_bytes},
        )
    data.update(file_facts(content))
    return content


def read_script(data: dict[str, Any], limits: Limits, hash_password: HashPassword) -> bytes | None:
    """A Studio script is stored as read (JSON object, JSON text or XML), once it reads."""
    document = parse_script(data["content"], max_bytes=limits.max_script_bytes, max_depth=limits.max_json_depth)
    data["content"] = document.raw
    return None


def file_facts(content: bytes) -> dict[str, Any]:
    return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def point_of_contact_address(data: dict[str, Any]) -> list[dict[str, str]]:
    """The address must suit the channel: E.164 for voice, an email address for email."""
    address = data.get("address")
    if not isinstance(address, str):
        return []
    if data.get("channel") == "voice" and not f.E164.match(address):
        return [{"field": "address", "code": "bad_e164", "message": "a voice address must be E.164, e.g. +15551234567"}]
    if data.get("channel") == "email" and not f.EMAIL.fullmatch(address):
        return [{"field": "address", "code": "bad_email", "message": "an email address is required"}]
    return []


def _address_rule(channel: str, pattern: str) -> dict[str, Any]:
    return {
        "if": {"required": ["channel"], "properties": {"channel": {"const": channel}}},
        "then": {"properties": {"address": {"pattern": pattern}}},
    }


# ``point_of_contact_address`` as far as JSON Schema can say it on one body.
POINT_OF_CONTACT_ADDRESS_SCHEMA = (_address_rule("voice", f.E164.pattern), _address_rule("email", f.EMAIL.pattern))


def voice_only(row: Row) -> bool:
    """Only voice points of contact are synced (SPEC §4); their natural key is
    ``channel|address``."""
    return row.natural_key.startswith("voice|")
