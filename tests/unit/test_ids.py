"""The id space (lifeboat.ids): blocks that never overlap, every id below 2**53."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifeboat.ids import (
    BLOCK_SIZE,
    DIRECTORY_BLOCK,
    MAX_BLOCK,
    MAX_ID,
    block_of,
    block_range,
    is_id,
)


def test_the_largest_id_is_exact_in_javascript():
    assert MAX_ID == 2**53 - 1
    assert float(MAX_ID) == MAX_ID


def test_id_zero_is_never_handed_out():
    assert block_range(DIRECTORY_BLOCK)[0] == 1


def test_every_block_lies_below_2_to_the_53():
    _, last = block_range(MAX_BLOCK)

    assert last <= MAX_ID
    assert float(last) == last


@given(st.integers(0, MAX_BLOCK), st.integers(0, MAX_BLOCK))
def test_two_blocks_never_share_an_id(a, b):
    (a_first, a_last), (b_first, b_last) = block_range(a), block_range(b)

    assert (a == b) or a_last < b_first or b_last < a_first


@given(st.integers(0, MAX_BLOCK), st.integers(0, BLOCK_SIZE - 1))
def test_an_id_belongs_to_the_block_it_came_from(block, offset):
    first, last = block_range(block)
    entity_id = min(max(first, block * BLOCK_SIZE + offset), last)

    assert block_of(entity_id) == block


def test_consecutive_blocks_leave_no_gap():
    assert block_range(1)[1] + 1 == block_range(2)[0]


@pytest.mark.parametrize("block", [-1, MAX_BLOCK + 1])
def test_a_block_outside_the_id_space_is_refused(block):
    with pytest.raises(ValueError, match="outside"):
        block_range(block)


@pytest.mark.parametrize(
    ("value", "expected"), [(1, True), (MAX_ID, True), (0, False), (-1, False), (MAX_ID + 1, False), (2**63, False)]
)
def test_is_id_says_whether_a_number_lies_in_the_id_space(value, expected):
    assert is_id(value) is expected
