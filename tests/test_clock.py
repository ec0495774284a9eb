"""Clocks: virtual time moves only when slept on or advanced, and never backwards."""

import asyncio

import pytest

from personalize_sim import ConfigError
from personalize_sim.clock import VirtualClock


def test_virtual_time_moves_only_when_slept_on_or_advanced():
    clock = VirtualClock(start=5.0, epoch=1_000.0)
    assert clock.now() == 5.0 and clock.wall() == 1_000.0
    clock.sleep(0.25)
    asyncio.run(clock.asleep(0.75))
    clock.advance(1.0)
    assert clock.now() == 7.0 and clock.wall() == 1_002.0


def test_a_clock_never_runs_backwards():
    clock = VirtualClock()
    with pytest.raises(ConfigError, match=r"^seconds: got -1; a finite number >= 0"):
        clock.advance(-1)
    clock.sleep(-1)  # sleeping a negative time is no time at all
    assert clock.now() == 0.0
