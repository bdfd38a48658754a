"""Id allocation: unique across every region and tenant, and below 2**53.

The id space is cut into blocks of 2**40 ids. Block 0 belongs to the directory
(tenants, operators); each region owns the block named by its ``id_block`` setting.
Inside a database, ids come from a one-row counter advanced in the caller's
transaction, so an id is never handed out twice, and a rolled-back write gives its
ids back.
"""

from __future__ import annotations

BLOCK_BITS = 40
BLOCK_SIZE = 1 << BLOCK_BITS
MAX_ID = (1 << 53) - 1
MAX_BLOCK = MAX_ID // BLOCK_SIZE - 1
DIRECTORY_BLOCK = 0


def block_range(block: int) -> tuple[int, int]:
    """First and last id of a block. Id 0 is never used."""
    if not 0 <= block <= MAX_BLOCK:
        raise ValueError(f"id block {block} is outside 0..{MAX_BLOCK}")
    first = block * BLOCK_SIZE
    return max(first, 1), first + BLOCK_SIZE - 1


def block_of(entity_id: int) -> int:
    return entity_id >> BLOCK_BITS


def is_id(value: int) -> bool:
    """Whether ``value`` lies in the id space; nothing outside it can exist (or fit a BIGINT)."""
    return 0 < value <= MAX_ID
