"""The garbage collector pause around sync runs: shared by overlapping runs, always undone."""

from __future__ import annotations

import gc

import pytest

from lifeboat.sync import collector


@pytest.fixture(autouse=True)
def collector_restored():
    was_on = gc.isenabled()
    yield
    gc.enable() if was_on else gc.disable()


def test_the_collector_is_off_during_a_run_and_on_again_after_it():
    gc.enable()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_runs_turn_it_back_on_only_when_the_last_one_ends():
    gc.enable()
    first, second = collector.paused(), collector.paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_program_stays_off():
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_a_run_that_raises_still_turns_it_back_on():
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("the run failed")
    assert gc.isenabled()
