"""The built-in claims of the paper (Li, Liu, Yi, arXiv:2603.15144), the negative controls, and the
verification scales.

Schedules are inferred (the paper's constants are unknown); prefactors η₀ = η₂₀ = 2, γ₀ = 1,
γ_max = 0.2/L were chosen once on the default problem and are the same for every claim.
Each claim's statement and rule are on :ref:`math-claims` (one entry per claim id).
"""

from __future__ import annotations

import copy

from theory.claims import (
    BASE_RUN,
    AggregatorKappaClaim,
    BatchOneClaim,
    CompressorConstantsClaim,
    NeighborhoodClaim,
    PLClaim,
    RateClaim,
    Scale,
    Schedule,
    SeparationClaim,
)
from theory.claims.neighborhood import NEIGHBORHOOD_RUN, MapPlan, NeighborhoodMapClaim

__all__ = ["DM21_SCHEDULE", "MAP_METHODS", "MAP_PLANS", "SCALES", "SINGLE_ETA_SCHEDULE", "VR_SCHEDULE",
           "builtin_claims", "negative_controls"]

#: the verification scales: horizons 2⁹ … 2¹⁴ / 2¹⁷ / 2¹⁹, 4 / 8 / 16 seeds, plateau runs of
#: 2000 / 8000 / 32000 iterations (quick / default / full)
SCALES = {
    "quick": Scale("quick", tuple(2**k for k in range(9, 15)), (0, 1, 2, 3), 2000),
    "default": Scale("default", tuple(2**k for k in range(9, 18)), tuple(range(8)), 8000),
    "full": Scale("full", tuple(2**k for k in range(9, 20)), tuple(range(16)), 32000),
}

PAPER = "Li, Liu, Yi, arXiv:2603.15144 (paper's statement; schedule and constants inferred by byzref)"
INFERRED = "inferred by byzref (not stated in the paper)"

#: Byz-DM21: η = η₂ = min(1, 2T^{−1/2}), γ = min(0.2/L, η/L)
DM21_SCHEDULE = Schedule(eta=(2.0, -0.5), gamma=(1.0, "eta"))
#: Byz-VR-DM21 decoupled: η = min(1, 2T^{−2/3}), η₂ = min(1, 2T^{−1/3}), γ = min(0.2/L, η₂/L)
VR_SCHEDULE = Schedule(eta=(2.0, -2.0 / 3.0), eta2=(2.0, -1.0 / 3.0), gamma=(1.0, "eta2"))
#: released-code form: one η = η₂ = min(1, 2T^{−2/3}), γ = min(0.2/L, η/L)
SINGLE_ETA_SCHEDULE = Schedule(eta=(2.0, -2.0 / 3.0), gamma=(1.0, "eta"))
#: the neighborhood map's methods as in the paper's comparison: Byz-DM21 (the reference) and Byz-EF21-SGDM
#: with Top-k, Byz-VR-MARINA with the unbiased Rand-k of the same k (its analysis needs unbiasedness) and its
#: probability p of an uncompressed full-gradient round tuned in {0.05, 0.1, 0.2} (p ≤ k/d: at most about
#: twice the bits of a compressed round; p = 1 would be uncompressed gradient descent)
MAP_METHODS = [
    {"label": "Byz-DM21", "algorithm": {"name": "byz_dm21"}, "second": "eta"},
    {"label": "Byz-EF21-SGDM", "algorithm": {"name": "byz_ef21_sgdm"}, "second": "eta"},
    {"label": "Byz-VR-MARINA", "algorithm": {"name": "byz_vr_marina"}, "second": "p",
     "run": {"compressor": {"name": "rand_k", "k": 4}}, "seconds": (0.05, 0.1, 0.2)},
]
#: the map's regimes around the base run (n = 20, d = 20, σ² = 0.01, ζ² = 1, δ = 0.2, k/d = 0.2, ALIE, CWTM),
#: one factor changed per cell
_CELLS = {
    "base": {},
    "σ²-dominated": {"sigma2": 1.0, "zeta2": 0.01},
    "δ = 0.1": {"f": 2},
    "k/d = 0.5": {"k": 10},
    "IPM": {"attack": {"name": "ipm"}},
    "NNM+CWTM": {"aggregator": "nnm+cwtm"},
    "ζ² = 10": {"zeta2": 10.0},
    "σ² = 1": {"sigma2": 1.0},
    "δ = 0.3": {"f": 6},
    "k/d = 0.05": {"k": 1},
    "sign flip": {"attack": {"name": "sign_flip"}},
    "CClip": {"aggregator": "cclip"},
}


def _cells(*names: str) -> tuple:
    return tuple((n, _CELLS[n]) for n in names)


#: tuning seeds are disjoint from every scale's seeds, so choosing the parameters does not bias the ratio
MAP_PLANS = {
    "quick": MapPlan(_cells("base", "σ²-dominated"), (0.1, 0.4), (0.25, 1.0), 800, (1000,), (0, 1, 2)),
    "default": MapPlan(_cells("base", "σ²-dominated", "δ = 0.1", "k/d = 0.5", "IPM", "NNM+CWTM"),
                       (0.05, 0.2, 0.8), (0.05, 0.25, 1.0), 4000, (1000, 1001), (0, 1, 2, 3)),
    "full": MapPlan(_cells(*_CELLS), (0.05, 0.1, 0.2, 0.4, 0.8), (0.05, 0.1, 0.25, 0.5, 1.0), 8000,
                    (1000, 1001), tuple(range(8))),
}

#: negative control: constant η = 0.5, γ = 0.2/L, with σ² = 25 so that the noise floor shows in the grid
CONSTANT_SCHEDULE = Schedule(eta=(0.5, 0.0), gamma=(0.2, "one"))


def builtin_claims() -> list:
    """The paper's claims and the component-constant claims, in report order.

    Returns
    -------
    list of theory.claims.base.Claim
    """
    dm = RateClaim("byz_dm21.rate", "Byz-DM21 reaches O(ε⁻⁴): avg_grad_sq ∝ T^(−1/2)", {"name": "byz_dm21"},
                   DM21_SCHEDULE, -0.5, source=PAPER, label="byz_dm21",
                   statement="homogeneous (ζ = 0), σ² = 1, δ = 0.2 under ALIE, CWTM, Top-k")
    vr = RateClaim("byz_vr_dm21.rate", "Byz-VR-DM21 reaches O(ε⁻³): avg_grad_sq ∝ T^(−2/3)",
                   {"name": "byz_vr_dm21"}, VR_SCHEDULE, -2.0 / 3.0, source=PAPER, label="byz_vr_dm21",
                   statement="same regime, decoupled schedule η ∝ T^(−2/3), η₂ ∝ T^(−1/3), γ ∝ η₂")
    single = RateClaim("byz_vr_dm21.rate_single_eta", "Byz-VR-DM21 with one shared η (released code) "
                       "reaches only ≈ T^(−1/3)", {"name": "byz_vr_dm21"}, SINGLE_ETA_SCHEDULE, -1.0 / 3.0,
                       source=INFERRED, informational=True, label="released-code schedule (one η)",
                       statement="η = η₂ ∝ T^(−2/3) forces γ ∝ T^(−2/3): predicted slope −1/3")
    sep = SeparationClaim("vr_separation", "Byz-VR-DM21's exponent is steeper than Byz-DM21's", vr, dm,
                          statement="paired over seeds (common random numbers)")
    sep.source = PAPER
    hood = NeighborhoodClaim("byz_dm21.neighborhood",
                             "Byz-DM21's plateau ≈ c δ ζ², uniformly over the attack",
                             {"name": "byz_dm21"}, label="cwtm",
                             statement="ζ² > 0, σ² = 0.01, constant γ = 0.1/L, η = 0.2, CWTM under ALIE")
    hood.source = PAPER
    comp = NeighborhoodMapClaim(
        "neighborhood_comparison", "Byz-DM21's neighborhood is smaller than Byz-EF21-SGDM's and "
        "Byz-VR-MARINA's, over a map of regimes, each method at its own tuned (γ, η)",
        MAP_METHODS, MAP_PLANS,
        statement="the paper compares proven upper bounds: an ordering not seen is NOT OBSERVED, not FAIL; "
                  "cells vary σ², ζ², δ, k/d, the attack and the aggregator one at a time around ζ² = 1, "
                  "σ² = 0.01, δ = 0.2, k/d = 0.2, CWTM under ALIE; MARINA with Rand-k, p tuned in place of η")
    comp.source = PAPER
    batch = BatchOneClaim("batch_one",
                          "Byz-DM21 keeps its rate at batch 1; Byz-EF21-SGD stalls at a σ²-floor",
                          DM21_SCHEDULE, statement="ALIE with z = 1, σ² ∈ {1, 4}, batch 1, Byz-DM21 schedule")
    batch.source = PAPER
    pls = [PLClaim(f"{a}.pl_linear_rate", f"{lab} on a PL problem: f − f* contracts at 1 − Θ(γμ) to a floor",
                   {"name": a}, label=a, statement="quadratic, L = 1, μ = 0.1, constant γ, η = 0.5")
           for a, lab in (("byz_dm21", "Byz-DM21"), ("byz_vr_dm21", "Byz-VR-DM21"))]
    for c in pls:
        c.source = PAPER
    consts = CompressorConstantsClaim("compressors.constants",
                                      "Empirical compressor constants vs declared α / ω")
    kappa = AggregatorKappaClaim("aggregators.kappa",
                                 "Empirical κ of every aggregator under the attack library")
    for c in (consts, kappa):
        c.source = "declared constants of byzref's components (their papers' definitions)"
    from theory.claims.exact import exact_claims

    return [dm, vr, sep, single, *exact_claims(), hood, comp, batch, *pls, consts, kappa]


def negative_controls() -> list:
    """Deliberately broken variants that the verifier must FAIL.

    Returns
    -------
    list of theory.claims.base.Claim
        Each with ``negative_control`` set.
    """
    no_storm = RateClaim("neg.vr_without_storm",
                         "Byz-VR-DM21 with the STORM correction removed, claimed O(ε⁻³)",
                         {"name": "byz_dm21"}, VR_SCHEDULE, -2.0 / 3.0, negative_control=True,
                         source="negative control", label="no STORM (plain EMA), VR schedule",
                         statement="plain EMA first momentum (= byz_dm21) under the decoupled VR schedule")
    run = copy.deepcopy(BASE_RUN)
    run["problem"]["sigma2"] = 25.0
    const = RateClaim("neg.dm21_constant_eta", "Byz-DM21 with constant η, γ, claimed O(ε⁻⁴)",
                      {"name": "byz_dm21"}, CONSTANT_SCHEDULE, -0.5, run=run, negative_control=True,
                      source="negative control", label="byz_dm21, constant η",
                      statement="η = 0.5, γ = 0.2/L for every T, σ² = 25: plateaus at the noise floor")
    mean = NeighborhoodClaim("neg.mean_alie_neighborhood",
                             "Mean aggregation under ALIE, claimed neighborhood "
                             "c δ ζ²", {"name": "byz_dm21"}, run={**copy.deepcopy(NEIGHBORHOOD_RUN),
                                                                  "aggregator": "mean"},
                             negative_control=True, label="mean",
                             statement="mean is not (δ, c)-robust: plateau ∝ z² in ALIE's strength")
    mean.source = "negative control"
    worse = NeighborhoodMapClaim(
        "neg.map_mean_reference", "Byz-DM21 with mean aggregation under a strong ALIE, claimed to keep a "
        "plateau at most that of Byz-DM21 with CWTM (explicit constant 1)",
        [{"label": "Byz-DM21 + mean", "algorithm": {"name": "byz_dm21"}, "second": "eta",
          "run": {"aggregator": "mean"}},
         {"label": "Byz-DM21 + CWTM", "algorithm": {"name": "byz_dm21"}, "second": "eta"}],
        {"quick": _NEG_PLAN, "default": _NEG_PLAN, "full": _NEG_PLAN},
        run={**copy.deepcopy(NEIGHBORHOOD_RUN), "attack": {"name": "alie", "z": 10.0}}, max_ratio=1.0,
        negative_control=True,
        statement="the reference is made worse (mean is not robust: its plateau grows like z²) and the "
                  "bound plateau(reference) ≤ 1·plateau(other) is stated with its constant, so it must FAIL")
    worse.source = "negative control"
    from theory.claims.exact import exact_negative_controls

    return [no_storm, const, mean, worse, *exact_negative_controls()]


#: the map negative control's small grid (every scale): one cell, 2 × 2 points, 1 + 3 seeds, T = 800
_NEG_PLAN = MapPlan(_cells("base"), (0.1, 0.4), (0.25, 1.0), 800, (1000,), (0, 1, 2))
