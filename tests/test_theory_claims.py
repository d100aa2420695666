"""Claim logic on hand-made run records (no engine): schedules, rate, neighborhood and bound verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from byzref.errors import ConfigError
from theory import FAIL, PASS, NeighborhoodClaim, RateClaim, Scale, Schedule
from theory.claims.rate import upper_window
from theory.runner import key
from theory.suite import DM21_SCHEDULE, SCALES, VR_SCHEDULE, builtin_claims, negative_controls

SCALE = Scale("t", tuple(2**k for k in range(9, 15)), (0, 1, 2, 3), 1000)


def test_schedules_by_hand():
    p = DM21_SCHEDULE.params(4096, 3.0)
    assert p["eta"] == pytest.approx(2 / 64) and p["eta2"] == p["eta"]
    assert p["gamma"] == pytest.approx(min(0.2 / 3, (2 / 64) / 3))
    q = VR_SCHEDULE.params(4096, 3.0)
    assert q["eta"] == pytest.approx(2 / 256) and q["eta2"] == pytest.approx(2 / 16)
    assert q["gamma"] == pytest.approx(min(0.2 / 3, (2 / 16) / 3))
    assert Schedule(eta=(0.5, 0.0), gamma=(0.2, "one")).params(10**6, 2.0) == {"gamma": 0.1, "eta": 0.5,
                                                                             "eta2": 0.5}
    assert DM21_SCHEDULE.params(1, 3.0)["eta"] == 1.0
    with pytest.raises(ConfigError, match="gamma_on"):
        Schedule(eta=(1.0, 0.0), gamma=(1.0, "T"))


def test_upper_window():
    assert [upper_window(m) for m in (2, 3, 5, 6, 7, 9)] == [2, 3, 3, 3, 4, 5]


def _rate_records(claim: RateClaim, values) -> dict:
    """values(T, seed) -> avg_grad_sq, as if the engine had produced it."""
    return {key(claim.config(T, s)): {"status": "ok", "summary": {"avg_grad_sq": values(T, s)}}
            for T in SCALE.Ts for s in SCALE.seeds}


def _noise(T, s):
    return math.exp(0.02 * math.sin(7 * s + T))


@pytest.mark.parametrize("values,expected", [
    (lambda T, s: 3 * T**-0.5 * _noise(T, s), PASS),
    (lambda T, s: 3 * T**-0.1 * _noise(T, s), FAIL),
    # 1/T transient onto a plateau: about −1/2 over the whole grid, flat over the largest horizons
    (lambda T, s: (40.0 / T + 0.02) * _noise(T, s), FAIL),
])
def test_rate_claim_verdicts(values, expected):
    claim = RateClaim("x", "x", {"name": "byz_dm21"}, DM21_SCHEDULE, -0.5)
    res = claim.evaluate(_rate_records(claim, values), SCALE)
    assert res.verdict.verdict == expected
    assert res.data["T"] == list(SCALE.Ts) and len(res.data["values"]) == len(SCALE.Ts)


def test_plateau_shape_passes_the_whole_grid_but_not_the_top():
    claim = RateClaim("x", "x", {"name": "byz_dm21"}, DM21_SCHEDULE, -0.5)
    res = claim.evaluate(_rate_records(claim, lambda T, s: (40.0 / T + 0.02) * _noise(T, s)), SCALE)
    whole, top = res.verdict.parts
    assert -0.6 < res.verdict.measured["slope"] < -0.42  # the grid-average slope alone would mislead
    assert whole.verdict != FAIL and top.verdict == FAIL


def test_diverged_run_fails_the_claim():
    claim = RateClaim("x", "x", {"name": "byz_dm21"}, DM21_SCHEDULE, -0.5)
    recs = _rate_records(claim, lambda T, s: T**-0.5)
    recs[key(claim.config(SCALE.Ts[2], 1))]["status"] = "diverged"
    assert claim.evaluate(recs, SCALE).verdict.verdict == FAIL


def _hood_records(claim: NeighborhoodClaim, plateau) -> dict:
    """plateau(delta, zeta2, z) -> constant ‖∇f‖² curve."""
    recs = {}
    n = claim.run["n"]
    for c in claim.configs(SCALE):
        z = c["attack"].get("z", 0.16)
        p = plateau(c["f"] / n, c["problem"]["zeta2"], z) * (1 + 0.01 * c["seed"])
        t = list(range(0, c["T"] + 1, c["T"] // 50))
        recs[key(c)] = {"status": "ok", "curves": {"iteration": t, "grad_sq": [p] * len(t)}}
    return recs


def test_neighborhood_claim_robust_vs_mean_like():
    claim = NeighborhoodClaim("h", "h", {"name": "byz_dm21"})
    robust = claim.evaluate(_hood_records(claim, lambda d, z2, z: 0.05 * d * z2 * min(z, 2.0) ** 2), SCALE)
    assert robust.verdict.verdict == PASS
    assert robust.verdict.measured["c"] == pytest.approx(0.05 * 0.16**2, rel=0.02)
    mean_like = claim.evaluate(_hood_records(claim, lambda d, z2, z: 0.05 * d * z2 * z**2), SCALE)
    assert mean_like.verdict.verdict == FAIL
    assert [p.verdict for p in mean_like.verdict.parts] == [PASS, PASS, FAIL]
    quadratic_in_zeta = claim.evaluate(_hood_records(claim, lambda d, z2, z: d * z2**2), SCALE)
    assert quadratic_in_zeta.verdict.parts[0].verdict == FAIL


def test_builtin_suite_is_well_formed():
    claims = builtin_claims() + negative_controls()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    assert {"byz_dm21.rate", "byz_vr_dm21.rate", "vr_separation", "byz_vr_dm21.rate_single_eta",
            "byz_dm21.neighborhood", "neighborhood_comparison", "batch_one", "byz_dm21.pl_linear_rate",
            "byz_vr_dm21.pl_linear_rate", "compressors.constants", "aggregators.kappa"} <= set(ids)
    assert all(c.negative_control for c in negative_controls())
    for c in claims:
        for cfg in c.configs(SCALES["quick"]):
            key(cfg)  # every config normalizes
    assert np.all(np.diff(SCALES["default"].Ts) > 0)


def test_one_regime_comparison_is_an_ordering_of_upper_bounds():
    """A reference plateau larger than the other's violates no bound: NOT OBSERVED, never FAIL."""
    from theory import ComparisonClaim
    from theory.verdicts import NOT_OBSERVED

    alg = {"gamma": 0.03, "eta": 0.2}
    claim = ComparisonClaim("cmp", "x", [("A", {"name": "byz_dm21", **alg}, None),
                                         ("B", {"name": "byz_ef21_sgdm", **alg}, None)])

    def records(ratio):
        recs = {}
        for c in claim.configs(SCALE):
            p = (ratio if c["algorithm"]["name"] == "byz_dm21" else 1.0) * (1 + 0.01 * c["seed"])
            t = list(range(0, c["T"] + 1, c["T"] // 50))
            recs[key(c)] = {"status": "ok", "curves": {"iteration": t, "grad_sq": [p] * len(t)}}
        return recs

    assert claim.evaluate(records(1.5), SCALE).verdict.verdict == NOT_OBSERVED
    assert claim.evaluate(records(0.5), SCALE).verdict.verdict == PASS
    assert claim.evaluate(records(1.5), SCALE).verdict.parts[0].verdict == NOT_OBSERVED


def test_neighborhood_claim_says_what_its_upper_bound_predicts():
    d = NeighborhoodClaim("h", "h", {"name": "byz_dm21"}).describe()
    text = d["what the bound predicts"]
    assert "upper bound" in text and "δ exponent" in text and "slope (z)" in text
