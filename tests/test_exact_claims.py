"""Exact claims (theory.claims.exact): the decision rule, the built-in claims' verdicts and their data."""

from __future__ import annotations

import math

import pytest

import theory.claims.exact as ex
from theory.claims import CLAIM_KINDS
from theory.claims.exact import (
    ExactPlateauClaim,
    ExactRateClaim,
    exact_claims,
    exact_negative_controls,
    exact_regimes,
    exponent_verdict,
    report_items,
)
from theory.verdicts import FAIL, INCONCLUSIVE, NOT_OBSERVED, PASS


@pytest.mark.parametrize("slope,prev,expected", [
    (-0.50, -0.51, PASS), (-0.45, -0.46, PASS), (-0.40, -0.40, FAIL), (-0.70, -0.71, INCONCLUSIVE),
    (-0.50, -0.60, INCONCLUSIVE), (math.inf, -0.5, FAIL), (math.nan, -0.5, FAIL),
])
def test_exponent_rule(slope, prev, expected):
    """Predicted −1/2, tol 1/12: within → PASS, slower → FAIL, faster or moving → INCONCLUSIVE."""
    assert exponent_verdict(slope, prev, -0.5)[0] == expected


def _identity_only():
    return exact_regimes()[:1]


def test_dm21_rate_passes_and_data_is_the_oracle():
    from theory.suite import DM21_SCHEDULE

    claim = ExactRateClaim("t.dm21", "t", {"name": "byz_dm21"}, DM21_SCHEDULE, -0.5, regimes=_identity_only())
    assert claim.configs(None) == []
    res = claim.evaluate()
    assert res.verdict.verdict == PASS and res.ok
    row = res.data["regimes"][0]
    assert abs(row["slope"] + 0.5) < 0.01
    model = exact_regimes()[0][1]({"name": "byz_dm21"})
    T = res.data["T"][5]
    p = DM21_SCHEDULE.params(T, float(model.a.max()))
    assert row["values"][5] == pytest.approx(model.avg_grad_sq(T, p), rel=1e-12)
    assert res.data["items"] == report_items(res) and "PASS" in res.data["items"][0]


def test_negative_control_fails_and_is_as_required():
    (neg,) = exact_negative_controls()
    res = neg.evaluate()
    assert res.verdict.verdict == FAIL and res.negative_control and res.ok
    assert all(r["slope"] > -0.5 for r in res.data["regimes"])


def test_vr_rate_needs_the_round0_error_controlled():
    """The VR schedule from a one-sample round 0 is slower than −2/3 (the estimator's initial error σ² decays
    at rate η ∝ T^(−2/3)); with a round-0 batch b₀ = T^(1/3) the exponent is −2/3."""
    from theory.suite import VR_SCHEDULE

    alg, reg = {"name": "byz_vr_dm21"}, _identity_only()
    plain = ExactRateClaim("t.vr", "t", alg, VR_SCHEDULE, -2 / 3, regimes=reg)
    batch = ExactRateClaim("t.vr_b0", "t", alg, VR_SCHEDULE, -2 / 3, regimes=reg,
                           init_batch=lambda T: T ** (1 / 3))
    r_plain, r_batch = plain.evaluate(), batch.evaluate()
    assert r_plain.verdict.verdict == FAIL
    assert r_batch.verdict.verdict == PASS
    assert abs(r_batch.data["regimes"][0]["slope"] + 2 / 3) < 0.01


def test_plateau_equal_is_not_observed_never_fail():
    res = ExactPlateauClaim("t.eq", "t", "equal").evaluate()
    assert res.verdict.verdict == NOT_OBSERVED and res.ok
    cells = res.data["cells"]
    assert len(cells) == 2 * 9
    # the data is the oracle's stationary plateau
    c = cells[4]
    model = exact_regimes()[0][1]({"name": "byz_dm21"})
    assert c["byz_dm21"] == pytest.approx(model.stationary({"gamma": c["gamma_L"] / float(model.a.max()),
                                                            "eta": c["eta"]})["grad_sq"], rel=1e-12)
    assert len(report_items(res)) == len(cells)


def test_plateau_pass_when_the_ordering_is_seen(monkeypatch):
    """Under rand_k_biased with η ≥ 0.2 the second momentum filters the compression noise: Byz-DM21's plateau
    is below Byz-EF21-SGDM's in every cell, so the claim PASSes there."""
    monkeypatch.setattr(ex, "EQUAL_GRID", ((0.03, 0.1), (0.2, 0.5)))
    res = ExactPlateauClaim("t.eq", "t", "equal", regimes=exact_regimes()[1:]).evaluate()
    assert res.verdict.verdict == PASS
    assert all(c["ratio"] < 1 for c in res.data["cells"])


def test_builtin_exact_claims_are_registered_kinds():
    claims = exact_claims() + exact_negative_controls()
    ids = [c.id for c in claims]
    assert len(set(ids)) == len(ids)
    for c in claims:
        assert CLAIM_KINDS.get(c.kind) is type(c)
        assert c.configs(None) == []


# --- the stability claim and the stall it explains ---------------------------------------------------
def test_stability_claim_regions_and_stall_rows():
    """Byz-EF21-SGDM's region is the heavy-ball bound 2(2 − η)/η; η = 1 is gradient descent (γL < 2) for
    every method; the stall rows follow from the limits."""
    res = ex.ExactStabilityClaim("t.stab", "t").evaluate()
    assert res.informational and res.ok and res.kind == "exact_stability"
    rows = {(r["label"], r["compressor"]): r for r in res.data["table"]}
    for eta in ex.STABILITY_ETAS:
        assert rows[("Byz-EF21-SGDM", "identity")][f"eta={eta:g}"] == pytest.approx(2 * (2 - eta) / eta,
                                                                                   rel=1e-3)
    i1 = res.data["eta"].index(1.0)
    for c in res.data["curves"]:
        if c["compressor"]["name"] == "identity":
            assert c["gamma_L"][i1] == pytest.approx(2.0, rel=1e-3), c["label"]
    st = res.data["stall"]
    lim = st["limits_gamma_L"]["byz_dm21"]
    assert 0.15 < lim < 0.3  # narrower than γL = 0.3, the README example's γ = 0.1 at L = 3
    assert [r["byz_dm21_stable"] for r in st["rows"]] == [r["gamma_L"] < lim for r in st["rows"]]
    assert [r["byz_dm21_stable"] for r in st["rows"]] == [True, True, False]
    assert all(r["byz_ef21_sgdm_stable"] for r in st["rows"])
    assert any("stall" in line for line in report_items(res))


def _nonconvex_dm21(gamma: float, T: int) -> float:
    from byzref.engine import run

    cfg = {"seed": 0, "n": 4, "f": 0, "T": T,
           "problem": {"name": "nonconvex_synthetic", "d": 10, "sigma2": 0.0, "zeta2": 0.0},
           "algorithm": {"name": "byz_dm21", "gamma": gamma, "eta": 0.1}, "compressor": "identity",
           "aggregator": "mean", "attack": "none", "record": {"log": 10}}
    return float(run(cfg).summary["final_grad_sq"])


def test_byz_dm21_stalls_on_nonconvex_synthetic_exactly_above_its_stability_limit():
    """Deterministic Byz-DM21 on nonconvex_synthetic (L = 3 at x* = 0, η = 0.1): at 0.9 × the exact limit
    γ* it converges to x*, at 1.1 × γ* it stays away (a stall), as the stability claim explains."""
    from byzref.rng import stream
    from problems import PROBLEMS

    prob = PROBLEMS.build({"name": "nonconvex_synthetic", "d": 10, "sigma2": 0.0, "zeta2": 0.0},
                          rng=stream(0, "problem"), n=4, f=0)
    L = float(prob.constants.L)
    assert L == 3.0
    res = ex.ExactStabilityClaim("t.stab", "t", etas=(0.05, 0.1, 0.2, 0.5)).evaluate()
    g_star = res.data["stall"]["limits_gamma_L"]["byz_dm21"] / L
    assert _nonconvex_dm21(0.9 * g_star, 6000) < 1e-10
    assert _nonconvex_dm21(1.1 * g_star, 6000) > 1e-2


# --- figures --------------------------------------------------------------------------------------------
def test_exact_figures_draw_the_claims_data():
    import numpy as np
    from matplotlib.figure import Figure

    from plots.verify_figs import exact_plateau_figure, exact_rate_figure
    from theory.figures import claim_figure
    from theory.suite import DM21_SCHEDULE

    res = ExactRateClaim("t.dm21", "t", {"name": "byz_dm21"}, DM21_SCHEDULE, -0.5,
                         regimes=_identity_only()).evaluate()
    top, bot = exact_rate_figure(Figure(), res.data, tol=1 / 12)
    line = top.get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), res.data["regimes"][0]["values"])
    np.testing.assert_array_equal(bot.get_lines()[0].get_ydata(), res.data["regimes"][0]["local_slopes"])
    assert top.get_yscale() == "log" and bot.get_ylabel() == "local slope"
    eq = ExactPlateauClaim("t.eq", "t", "equal").evaluate()
    ax = exact_plateau_figure(Figure(), eq.data)
    drawn = [float(c.get_offsets()[0][1]) for c in ax.collections]
    finite = [c["ratio"] for c in eq.data["cells"] if math.isfinite(c["ratio"])]
    assert drawn == pytest.approx(finite, rel=1e-12)
    assert "unstable" in ax.get_xlabel()  # unstable cells are named, not drawn
    for r in (res, eq):
        assert claim_figure(r).axes  # the report draws them through theory.figures


def test_plateau_cell_where_both_methods_are_unstable_is_neither(monkeypatch):
    """Under rand_k_biased at γL = 0.3, η = 0.05 both methods are unstable: that cell is neither seen nor
    not seen, so with no other cell the claim is INCONCLUSIVE (not NOT OBSERVED)."""
    monkeypatch.setattr(ex, "EQUAL_GRID", ((0.3,), (0.05,)))
    res = ExactPlateauClaim("t.eq", "t", "equal", regimes=exact_regimes()[1:]).evaluate()
    (cell,) = res.data["cells"]
    assert not math.isfinite(cell["byz_dm21"]) and not math.isfinite(cell["byz_ef21_sgdm"])
    assert cell["state"] == "both unstable"
    assert res.verdict.verdict == INCONCLUSIVE
    assert res.verdict.measured["cells_both_unstable"] == 1


def test_report_names_only_counted_not_observed_claims():
    from theory.claims.base import ClaimResult, Scale
    from theory.report import Report
    from theory.verdicts import Verdict

    def res(i, **kw):
        return ClaimResult(i, "exact_plateau", "t", "s", "", Verdict(NOT_OBSERVED, "c"), **kw)

    rep = Report(Scale("t", (1,), (0,)), [res("a"), res("b", informational=True),
                                          res("c", negative_control=True)], 0.0, 0, {})
    assert rep.not_observed == ["a"]
