"""theory.fitting and theory.verdicts: known slopes, CI coverage, plateaus, contraction, verdict rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.fitting import eps_exponent, fit_contraction, fit_loglog, log_ratio, plateau, slope_difference
from theory.verdicts import FAIL, INCONCLUSIVE, PASS, TOL, bound_verdict, combine, range_verdict, rate_verdict

T = np.array([2.0**k for k in range(9, 15)])


@settings(max_examples=40)
@given(st.floats(-1.5, 0.5), st.floats(-3, 3), st.integers(1, 5))
def test_noise_free_power_law_gives_its_exponent_exactly(slope, logc, seeds):
    V = np.exp(logc) * T[:, None] ** slope * np.ones((1, seeds))
    fit = fit_loglog(T, V, n_boot=200)
    assert fit.slope == pytest.approx(slope, abs=1e-9)
    assert fit.intercept == pytest.approx(logc, abs=1e-8)
    assert fit.ci[0] == pytest.approx(slope, abs=1e-9) and fit.ci[1] == pytest.approx(slope, abs=1e-9)
    assert fit.theil_sen == pytest.approx(slope, abs=1e-9)


def test_point_estimate_is_least_squares_on_mean_log_values():
    rng = np.random.default_rng(5)
    V = np.exp(rng.standard_normal((6, 4))) * T[:, None] ** -0.4
    ref = np.polyfit(np.log(T), np.log(V).mean(axis=1), 1)[0]
    assert fit_loglog(T, V).slope == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("seeds", [4, 8])
def test_ci_covers_a_known_slope_at_about_the_nominal_rate(seeds):
    """Log-normal noise around C·T^(−1/2): the 95% interval covers −1/2 in ≥ 88% of 200 replicates."""
    rng = np.random.default_rng(seeds)
    hits = 0
    for _ in range(200):
        V = 3.0 * T[:, None] ** -0.5 * np.exp(0.2 * rng.standard_normal((len(T), seeds)))
        lo, hi = fit_loglog(T, V, n_boot=500).ci
        hits += lo <= -0.5 <= hi
    assert hits >= 176


def test_fit_is_deterministic_and_rejects_bad_input():
    V = np.exp(np.random.default_rng(0).standard_normal((6, 3))) * T[:, None] ** -0.5
    assert fit_loglog(T, V).as_dict() == fit_loglog(T, V).as_dict()
    with pytest.raises(ValueError, match="positive"):
        fit_loglog(T, -V)
    with pytest.raises(ValueError, match="seeds"):
        fit_loglog(T, V[:3])


def test_eps_exponent():
    assert eps_exponent(-0.5) == 4.0
    assert eps_exponent(-2.0 / 3.0) == pytest.approx(3.0)
    assert eps_exponent(0.1) == math.inf


def test_slope_difference_and_log_ratio_on_known_data():
    rng = np.random.default_rng(3)
    noise = np.exp(0.1 * rng.standard_normal((len(T), 6)))
    a, b = T[:, None] ** -0.5 * noise, 2.0 * T[:, None] ** (-2.0 / 3.0) * noise  # common random numbers
    diff, (lo, hi) = slope_difference(T, a, b)
    assert diff == pytest.approx(-1.0 / 6.0, abs=1e-12) and lo == pytest.approx(diff) == hi
    est, (lo, hi) = log_ratio(np.array([1.0, 2.0, 4.0]), np.array([2.0, 4.0, 8.0]))
    assert est == pytest.approx(math.log(2.0)) and lo == pytest.approx(math.log(2.0)) == hi


def test_plateau_is_the_tail_mean():
    t = np.arange(0, 101, 10)
    v = np.where(t >= 50, 2.0, 100.0)
    v[-1] = 4.0
    assert plateau(t, v) == pytest.approx((2.0 * 5 + 4.0) / 6)


def test_contraction_recovers_a_geometric_rate():
    t = np.arange(0, 3001, 10)
    gap = 5.0 * 0.99**t + 1e-9
    out = fit_contraction(t, gap)
    # points down to 10 × floor carry a log-offset ≤ log 1.1; an OLS slope over a span S moves by ≤ 6·that/S
    span = 10.0 * (out["points"] - 1)
    assert out["rate"] == pytest.approx(-math.log(0.99), abs=6 * math.log(1.1) / span)
    assert 1e-9 <= out["floor"] <= 1e-9 + 5.0 * 0.99**2250  # median over the last quarter
    assert fit_contraction(t[:2], gap[:2])["points"] < 3


class _Fit:
    def __init__(self, lo, hi):
        self.ci, self.slope = (lo, hi), (lo + hi) / 2
        self.eps_exponent, self.theil_sen, self.theil_sen_ci = eps_exponent(self.slope), self.slope, (lo, hi)


@pytest.mark.parametrize("ci,predicted,expected", [
    ((-0.51, -0.49), -0.5, PASS),
    ((-0.51, -0.49), -2.0 / 3.0, FAIL),       # a −1/2 rate never passes for −2/3 (tol = half the gap)
    ((-0.68, -0.65), -0.5, PASS),             # faster than claimed but inside tol_fast: consistent
    ((-0.80, -0.70), -0.5, INCONCLUSIVE),     # straddles p − tol_fast
    ((-0.10, 0.02), -2.0 / 3.0, FAIL),
    ((-0.60, -0.40), -0.5, INCONCLUSIVE),     # straddles p + tol
    ((-0.95, -0.90), -0.5, INCONCLUSIVE),     # transient: far steeper than predicted
])
def test_rate_verdict_rules(ci, predicted, expected):
    assert rate_verdict(_Fit(*ci), predicted).verdict == expected


def test_tolerance_separates_the_two_exponents():
    assert -0.5 - TOL > -2.0 / 3.0 + TOL - 1e-12


def test_range_bound_and_combine():
    assert range_verdict((0.9, 1.1), 0.75, 1.25, "x").verdict == PASS
    assert range_verdict((1.3, 1.4), 0.75, 1.25, "x").verdict == FAIL
    assert range_verdict((1.2, 1.4), 0.75, 1.25, "x").verdict == INCONCLUSIVE
    assert range_verdict((-1.0, -0.1), -np.inf, 0.0, "x").verdict == PASS
    assert bound_verdict(1.0, 1.0).verdict == PASS
    assert bound_verdict(1.0 + 1e-6, 1.0, rtol=1e-9).verdict == FAIL
    assert bound_verdict(math.nan, 1.0).verdict == FAIL
    p, f, i = (range_verdict(c, 0, 1, "x") for c in ((0.2, 0.3), (2, 3), (0.5, 2)))
    assert combine([p, p]).verdict == PASS
    assert combine([p, i]).verdict == INCONCLUSIVE
    assert combine([p, i, f]).verdict == FAIL
    assert combine([]).verdict == INCONCLUSIVE
