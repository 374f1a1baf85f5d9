"""web._handoff: a value kept by a POST is taken once by the GET its redirect leads to, and not
after its lifetime; a handle nobody was given takes nothing."""

from __future__ import annotations

from web._handoff import Handoffs


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_value_is_taken_once():
    handoffs = Handoffs(Clock())
    handle = handoffs.keep(("ivy", "cvk_secret"))
    assert len(handle) >= 43  # 256 random bits
    assert handoffs.take(handle) == ("ivy", "cvk_secret")
    assert handoffs.take(handle) is None  # a reload finds it gone


def test_a_value_lapses_after_its_lifetime_and_is_forgotten():
    clock = Clock()
    handoffs = Handoffs(clock, lifetime=60)
    late, forgotten = handoffs.keep("late"), handoffs.keep("forgotten")
    clock.now += 60
    assert handoffs.take(late) is None
    handoffs.keep("another")  # keeping prunes what lapsed
    assert forgotten not in handoffs._held


def test_an_unknown_or_missing_handle_takes_nothing():
    handoffs = Handoffs(Clock())
    handoffs.keep("kept")
    assert handoffs.take(None) is None and handoffs.take("") is None and handoffs.take("guess") is None
