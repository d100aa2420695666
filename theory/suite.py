"""The built-in claims of the paper (SPEC §6), the negative controls, and the verification scales.

Schedules are inferred (SPEC §6; the paper's constants are unknown); prefactors η₀ = η₂₀ = 2, γ₀ = 1,
γ_max = 0.2/L were chosen once on the default problem and are the same for every claim.
"""

from __future__ import annotations

import copy

from theory.claims import (
    BASE_RUN,
    AggregatorKappaClaim,
    BatchOneClaim,
    ComparisonClaim,
    CompressorConstantsClaim,
    NeighborhoodClaim,
    PLClaim,
    RateClaim,
    Scale,
    Schedule,
    SeparationClaim,
)
from theory.claims.neighborhood import NEIGHBORHOOD_RUN, PLATEAU_ALG

__all__ = ["DM21_SCHEDULE", "SCALES", "SINGLE_ETA_SCHEDULE", "VR_SCHEDULE", "builtin_claims",
           "negative_controls"]

SCALES = {
    "quick": Scale("quick", tuple(2**k for k in range(9, 15)), (0, 1, 2, 3), 2000),
    "default": Scale("default", tuple(2**k for k in range(9, 18)), tuple(range(8)), 8000),
    "full": Scale("full", tuple(2**k for k in range(9, 20)), tuple(range(16)), 32000),
}

PAPER = "Li, Liu, Yi, arXiv:2603.15144 (paper's statement; schedule and constants inferred by byzref)"
INFERRED = "inferred by byzref from SPEC §6 (not stated in the paper)"

#: Byz-DM21: η = η₂ = min(1, 2T^{−1/2}), γ = min(0.2/L, η/L)
DM21_SCHEDULE = Schedule(eta=(2.0, -0.5), gamma=(1.0, "eta"))
#: Byz-VR-DM21 decoupled: η = min(1, 2T^{−2/3}), η₂ = min(1, 2T^{−1/3}), γ = min(0.2/L, η₂/L)
VR_SCHEDULE = Schedule(eta=(2.0, -2.0 / 3.0), eta2=(2.0, -1.0 / 3.0), gamma=(1.0, "eta2"))
#: released-code form: one η = η₂ = min(1, 2T^{−2/3}), γ = min(0.2/L, η/L)
SINGLE_ETA_SCHEDULE = Schedule(eta=(2.0, -2.0 / 3.0), gamma=(1.0, "eta"))
#: negative control: constant η = 0.5, γ = 0.2/L, with σ² = 25 so that the noise floor shows in the grid
CONSTANT_SCHEDULE = Schedule(eta=(0.5, 0.0), gamma=(0.2, "one"))


def builtin_claims() -> list:
    """The paper's claims and the component-constant claims, in report order."""
    dm = RateClaim("byz_dm21.rate", "Byz-DM21 reaches O(ε⁻⁴): avg_grad_sq ∝ T^(−1/2)", {"name": "byz_dm21"},
                   DM21_SCHEDULE, -0.5, source=PAPER, label="byz_dm21",
                   statement="homogeneous (ζ = 0), σ² = 1, δ = 0.2 under ALIE, CWTM, Top-k")
    vr = RateClaim("byz_vr_dm21.rate", "Byz-VR-DM21 reaches O(ε⁻³): avg_grad_sq ∝ T^(−2/3)",
                   {"name": "byz_vr_dm21"}, VR_SCHEDULE, -2.0 / 3.0, source=PAPER, label="byz_vr_dm21",
                   statement="same regime, decoupled schedule η ∝ T^(−2/3), η₂ ∝ T^(−1/3), γ ∝ η₂")
    single = RateClaim("byz_vr_dm21.rate_single_eta", "Byz-VR-DM21 with one shared η (released code) "
                       "reaches only ≈ T^(−1/3)", {"name": "byz_vr_dm21"}, SINGLE_ETA_SCHEDULE, -1.0 / 3.0,
                       source=INFERRED, informational=True, label="released-code schedule (one η)",
                       statement="η = η₂ ∝ T^(−2/3) forces γ ∝ T^(−2/3): predicted slope −1/3 (SPEC §6)")
    sep = SeparationClaim("vr_separation", "Byz-VR-DM21's exponent is steeper than Byz-DM21's", vr, dm,
                          statement="paired over seeds (common random numbers)")
    sep.source = PAPER
    mk = dict(PLATEAU_ALG)
    hood = NeighborhoodClaim("byz_dm21.neighborhood",
                             "Byz-DM21's plateau ≈ c δ ζ², uniformly over the attack",
                             {"name": "byz_dm21"}, label="cwtm",
                             statement="ζ² > 0, σ² = 0.01, constant γ = 0.1/L, η = 0.2, CWTM under ALIE")
    hood.source = PAPER
    comp = ComparisonClaim(
        "neighborhood_comparison", "Byz-DM21's plateau is smaller than Byz-EF21-SGDM's and Byz-VR-MARINA's",
        [("Byz-DM21", {"name": "byz_dm21", **mk}, None),
         ("Byz-EF21-SGDM", {"name": "byz_ef21_sgdm", **mk}, None),
         ("Byz-VR-MARINA", {"name": "byz_vr_marina", "gamma": mk["gamma"], "p": 0.1}, {"name": "rand_k",
                                                                                       "k": 4})],
        statement="ζ² = 1, σ² = 0.01, δ = 0.2, CWTM under ALIE, same γ; MARINA with Rand-k (k = 4), p = 0.1")
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
        c.source = "SPEC §2, §3"
    return [dm, vr, sep, single, hood, comp, batch, *pls, consts, kappa]


def negative_controls() -> list:
    """Deliberately broken variants that the verifier must FAIL."""
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
    return [no_storm, const, mean]
