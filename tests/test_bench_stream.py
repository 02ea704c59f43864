"""The soak report's lag trend: a clip cycle is not growth, a steady rise is."""

import math

import pytest

from bench.stream import lag_trend


def test_a_lag_that_only_cycles_has_no_trend():
    cycling = [(t, 0.4 + 0.3 * math.sin(t / 7.0)) for t in range(0, 1200, 2)]
    assert lag_trend(cycling) == pytest.approx(0.0, abs=0.01)


def test_a_lag_that_grows_shows_its_rate_per_minute():
    growing = [(t, 0.2 + 0.1 * t / 60.0 + 0.2 * (t % 20 == 0)) for t in range(0, 1200, 2)]
    assert lag_trend(growing) == pytest.approx(0.1, abs=0.01)
    assert lag_trend([(0.0, 1.0)]) is None
