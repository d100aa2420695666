r"""Neighborhood claims: the Byzantine plateau of ‖∇f‖² ≈ c δ ζ² (Li, Liu, Yi, arXiv:2603.15144).

Plateau: mean of ‖∇f(x^t)‖² over the second half of a run with constant γ, η (theory.fitting.plateau),
with small noise (σ² = 0.01) so that the plateau is the heterogeneity-driven neighborhood.

A (δ, c)-robust aggregator (Karimireddy, He, Jaggi, ICLR 2022, arXiv:2006.09365; used with the
(f, κ)-robustness of Allouah et al., AISTATS 2023, arXiv:2302.01772) guarantees
E‖Agg − x̄_G‖² ≤ c δ ρ² whatever the Byzantine rows are; the neighborhood bound inherits that
uniformity. The claim therefore has three parts:

(a) linear in ζ² at fixed δ (log-log slope of plateau vs ζ² in [0.75, 1.25]);
(b) increasing in δ at a fixed attack (log-log slope vs δ > 0; ALIE with a fixed z = 1, because the
    "baruch" z changes with f);
(c) uniform in the attack's strength (log-log slope of the plateau vs ALIE's z ∈ {1, 10, 100} in
    [−1, 0.5]): bounded for a robust rule, ∝ z² for the mean, which is not (δ, c)-robust.

The fitted c = median over the ζ² grid of plateau/(δζ²) and its supremum over the z scan are reported.

What the bound predicts: c δ ζ² is an UPPER bound. It predicts that the plateau grows at most linearly
in ζ² and in δ and stays bounded over attacks, with one c for every attack. A δ exponent steeper than 1
(the plateau vanishing faster than δ as δ → 0) and a plateau that grows with the attack's strength but
stays below c_sup δ ζ² are consistent with it: part (b) asks only for an increase, part (c) only for
boundedness, and both fitted exponents are reported with their CIs. Part (a) asks for more than the
bound (slope ≈ 1, not only ≤ 1): in this ζ²-dominated regime it checks that the plateau measured is the
heterogeneity term the bound is about.

:class:`NeighborhoodMapClaim` compares methods' neighborhoods over a grid of regimes, each method at its
own tuned parameters (see its docstring); :class:`ComparisonClaim` is its one-regime, shared-parameter
form. See :ref:`claim-kind-neighborhood`, :ref:`claim-kind-comparison` and
:ref:`claim-kind-neighborhood_map`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory.claims.base import CLAIM_KINDS, Claim, ClaimResult, Scale
from theory.fitting import fit_loglog, log_ratio, plateau
from theory.runner import key
from theory.verdicts import (
    FAIL,
    INCONCLUSIVE,
    NOT_OBSERVED,
    NOT_SEEN,
    PASS,
    SEEN,
    Verdict,
    combine,
    ordering_state,
    ordering_verdict,
    range_verdict,
)

__all__ = ["NEIGHBORHOOD_RUN", "ComparisonClaim", "MapPlan", "NeighborhoodClaim", "NeighborhoodMapClaim",
           "apply_cell", "plateau_config"]

#: the neighborhood regime: nonconvex_synthetic (d = 20, σ² = 0.01, ζ² = 1), n = 20, f = 4, Top-k
#: (k = 4), CWTM under ALIE
NEIGHBORHOOD_RUN: dict[str, Any] = {
    "n": 20, "f": 4,
    "problem": {"name": "nonconvex_synthetic", "d": 20, "sigma2": 0.01, "zeta2": 1.0},
    "compressor": {"name": "top_k", "k": 4},
    "aggregator": "cwtm",
    "attack": {"name": "alie"},
}
#: constant parameters of the plateau runs (L = 3 on the default problem)
PLATEAU_ALG: dict[str, Any] = {"gamma": 0.1 / 3.0, "eta": 0.2}


def plateau_config(run: dict, algorithm: dict, T: int, seed: int, *, zeta2=None, f=None, z=None) -> dict:
    """A constant-parameter run config for a plateau measurement.

    Parameters
    ----------
    run : dict
        The base run config (problem, n, f, compressor, aggregator, attack).
    algorithm : dict
        The [algorithm] table with its constant parameters.
    T : int
        Iterations (50 checkpoints are recorded).
    seed : int
        The run's seed.
    zeta2 : float or None, optional
        Overrides the problem's ζ².
    f : int or None, optional
        Overrides the number of Byzantine workers.
    z : float or None, optional
        Sets the attack's ``z`` (ALIE's strength).

    Returns
    -------
    dict
    """
    cfg = copy.deepcopy(run)
    cfg.update(seed=int(seed), T=int(T), algorithm=dict(algorithm), record={"every": max(1, T // 50)})
    if zeta2 is not None:
        cfg["problem"]["zeta2"] = float(zeta2)
    if f is not None:
        cfg["f"] = int(f)
    if z is not None:
        cfg["attack"] = {**cfg["attack"], "z": float(z)}
    return cfg


def _plateaus(records, cfgs) -> tuple[np.ndarray, list[str]]:
    out, bad = [], []
    for c in cfgs:
        r = records[key(c)]
        if r["status"] == "diverged":
            bad.append(key(c))
            out.append(np.nan)
        else:
            out.append(plateau(r["curves"]["iteration"], r["curves"]["grad_sq"]))
    return np.array(out), bad


@CLAIM_KINDS.register("neighborhood")
class NeighborhoodClaim(Claim):
    """Plateau ≈ c δ ζ²: linear in ζ², increasing in δ, uniform over the attack (module docstring).

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    algorithm : dict
        The [algorithm] table; constant γ = 0.1/3 and η = 0.2 unless it sets them.
    run : dict or None, optional
        The base run (default ``NEIGHBORHOOD_RUN``).
    statement : str, optional
        What is claimed, in words.
    zeta2s : tuple of float, optional
        The ζ² scan of part (a) (default (0.25, 1, 4, 16)).
    fs : tuple of int, optional
        The Byzantine counts of the δ scan of part (b) (default (1, 2, 4)).
    zs : tuple of float, optional
        ALIE strengths z of part (c) (default (1, 10, 100)).
    negative_control : bool, optional
        A claim that must FAIL (default False; the mean aggregator's claim is one).
    label : str or None, optional
        The method's label in figures (default: the id).
    """

    kind = "neighborhood"
    metric = "plateau = mean of ‖∇f(x^t)‖² over t ∈ [T/2, T] (constant γ, η)"

    def __init__(self, id: str, title: str, algorithm: dict, *, run: dict | None = None, statement: str = "",
                 zeta2s=(0.25, 1.0, 4.0, 16.0), fs=(1, 2, 4), zs=(1.0, 10.0, 100.0),
                 negative_control: bool = False, label: str | None = None):
        self.id, self.title, self.statement = id, title, statement
        self.algorithm_table = {**PLATEAU_ALG, **algorithm}
        self.run = copy.deepcopy(NEIGHBORHOOD_RUN if run is None else run)
        self.zeta2s, self.fs, self.zs = tuple(zeta2s), tuple(fs), tuple(zs)
        self.negative_control = negative_control
        self.label = label or id

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"algorithm": self.algorithm_table, "regime": self.run, "metric": self.metric,
                "grids": {"zeta2": self.zeta2s, "f": self.fs, "alie_z": self.zs},
                "prediction": "plateau ≤ c δ ζ² with c uniform over attacks: slope in ζ² ≈ 1, increasing "
                              "in δ, bounded in the attack strength",
                "what the bound predicts": "c δ ζ² is an upper bound: the plateau may vanish faster than δ "
                                           "(a δ exponent above 1, slope (δ)) and may grow with the "
                                           "attack's strength (slope (z) > 0) while staying below "
                                           "c_sup δ ζ²; both are consistent with it and reported with "
                                           "their CIs. It does not predict the δ exponent or how the "
                                           "plateau depends on a given attack, only that one c covers "
                                           "every attack"}

    def _grids(self, scale: Scale):
        T, S = scale.T_plateau, scale.seeds
        f0 = self.run["f"]
        return {"zeta": [[plateau_config(self.run, self.algorithm_table, T, s, zeta2=z2) for s in S]
                         for z2 in self.zeta2s],
                "delta": [[plateau_config(self.run, self.algorithm_table, T, s, f=f, z=1.0) for s in S]
                          for f in self.fs],
                "attack": [[plateau_config(self.run, self.algorithm_table, T, s, f=f0, z=z) for s in S]
                           for z in self.zs]}

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
        """
        return [c for grid in self._grids(scale).values() for row in grid for c in row]

    def evaluate(self, records: dict[str, dict], scale: Scale) -> ClaimResult:
        """Decide the claim from its runs' records (see :meth:`theory.claims.base.Claim.evaluate`).

        Parameters
        ----------
        records : dict
            {run id: record} of at least this claim's runs.
        scale : theory.claims.base.Scale
            The scale the configs were made for.

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        grids = self._grids(scale)
        P, bad = {}, []
        for name, grid in grids.items():
            rows = [_plateaus(records, row) for row in grid]
            P[name] = np.array([r[0] for r in rows])
            bad += [b for r in rows for b in r[1]]
        n, f0, z2ref = self.run["n"], self.run["f"], self.run["problem"]["zeta2"]
        if bad or not all(np.isfinite(p).all() and (p > 0).all() for p in P.values()):
            v = Verdict(FAIL, "every plateau run must stay finite", {"diverged_runs": bad}, None, None,
                        f"{len(bad)} run(s) diverged")
            return self.result(v, {"series": []})
        d0 = f0 / n
        fz = fit_loglog(self.zeta2s, P["zeta"])
        fd = fit_loglog([f / n for f in self.fs], P["delta"])
        fa = fit_loglog(self.zs, P["attack"])
        c_zeta = float(np.median(np.median(P["zeta"], axis=1) / (d0 * np.array(self.zeta2s))))
        c_sup = float(np.max(np.median(P["attack"], axis=1)) / (d0 * z2ref))
        bands = {"zeta": (0.75, 1.25), "delta": (0.0, np.inf), "attack": (-1.0, 0.5)}
        parts = [range_verdict(fz.ci, *bands["zeta"], "(a) slope of plateau vs ζ²", {"slope": fz.slope}, 1.0),
                 range_verdict(fd.ci, *bands["delta"], "(b) slope of plateau vs δ", {"slope": fd.slope},
                               "> 0"),
                 range_verdict(fa.ci, *bands["attack"], "(c) slope of plateau vs attack strength z",
                               {"slope": fa.slope}, "bounded (≈ 0)")]
        v = combine(parts)
        v.measured = {"c": c_zeta, "c_sup_over_attacks": c_sup, "slope_zeta2": fz.slope,
                      "slope_delta": fd.slope,
                      "slope_attack": fa.slope}
        series = [{"label": f"ζ² scan, {self.label} (δ = {d0:g})", "x": [d0 * z for z in self.zeta2s],
                   "plateau": np.median(P["zeta"], axis=1).tolist(), "c": c_zeta},
                  {"label": f"δ scan, {self.label} (ζ² = {z2ref:g}, z = 1)",
                   "x": [f / n * z2ref for f in self.fs], "plateau": np.median(P["delta"], axis=1).tolist(),
                   "c": None}]
        # every scan the verdict uses, with the per-seed plateaus, its fit and the accepted slope range
        fixed = {"zeta": f"δ = {d0:g}, ALIE with its default z", "delta": f"ζ² = {z2ref:g}, ALIE with z = 1",
                 "attack": f"δ = {d0:g}, ζ² = {z2ref:g}"}
        xs = {"zeta": list(self.zeta2s), "delta": [f / n for f in self.fs], "attack": list(self.zs)}
        scans = [{"name": name, "part": part, "x": xs[name], "values": P[name].tolist(), "slope": ft.slope,
                  "ci": list(ft.ci), "intercept": ft.intercept, "accepted": list(bands[name]),
                  "fixed": fixed[name]}
                 for name, part, ft in (("zeta", "a", fz), ("delta", "b", fd), ("attack", "c", fa))]
        return self.result(v, {"series": series, "attack_z": list(self.zs),
                               "attack_plateau": np.median(P["attack"], axis=1).tolist(), "scans": scans,
                               "c": c_zeta, "c_sup": c_sup, "delta": d0, "zeta2": z2ref, "label": self.label,
                               "algorithm": self.algorithm_table["name"]})


@CLAIM_KINDS.register("comparison")
class ComparisonClaim(Claim):
    """The reference method's plateau is smaller than each other method's, in one regime at shared
    parameters (paired over seeds).

    The paper's statement compares upper bounds, so the rule is :func:`theory.verdicts.ordering_verdict`
    with one cell per other method: PASS when every CI of mean_s log(plateau_ref / plateau_other) lies
    below 0; NOT OBSERVED when one lies above 0 (never FAIL: no bound is violated); else INCONCLUSIVE.

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    methods : list of tuple
        (label, algorithm table with constant parameters, compressor table or None for the run's);
        the first is the reference.
    run : dict or None, optional
        The base run (default ``NEIGHBORHOOD_RUN``).
    statement : str, optional
        What is claimed, in words.
    """

    kind = "comparison"

    def __init__(self, id: str, title: str, methods: list[tuple[str, dict, dict | None]], *,
                 run: dict | None = None, statement: str = ""):
        self.id, self.title, self.statement = id, title, statement
        self.methods = methods  # (label, algorithm table, compressor or None); the first is the reference
        self.run = copy.deepcopy(NEIGHBORHOOD_RUN if run is None else run)

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"methods": [{"label": m[0], "algorithm": m[1], "compressor": m[2] or self.run["compressor"]}
                            for m in self.methods], "regime": self.run, "metric": NeighborhoodClaim.metric,
                "prediction": f"plateau({self.methods[0][0]}) < plateau(each other method)"}

    def _cfgs(self, scale: Scale):
        out = []
        for _, alg, comp in self.methods:
            run = copy.deepcopy(self.run)
            if comp is not None:
                run["compressor"] = comp
            out.append([plateau_config(run, alg, scale.T_plateau, s) for s in scale.seeds])
        return out

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
        """
        return [c for row in self._cfgs(scale) for c in row]

    def evaluate(self, records: dict[str, dict], scale: Scale) -> ClaimResult:
        """Decide the claim from its runs' records (see :meth:`theory.claims.base.Claim.evaluate`).

        Parameters
        ----------
        records : dict
            {run id: record} of at least this claim's runs.
        scale : theory.claims.base.Scale
            The scale the configs were made for.

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        rows = [_plateaus(records, row) for row in self._cfgs(scale)]
        if any(r[1] for r in rows):
            return self.result(Verdict(FAIL, "every plateau run must stay finite", {}, None, None,
                                       "diverged"))
        ref = rows[0][0]
        parts = []
        for (label, _, _), (p, _) in zip(self.methods[1:], rows[1:], strict=False):
            est, ci = log_ratio(p, ref)
            state = ordering_state(ci)
            what = f"log(plateau {self.methods[0][0]} / {label})"
            parts.append(Verdict({SEEN: PASS, NOT_SEEN: NOT_OBSERVED}.get(state, INCONCLUSIVE),
                                 f"{what}: PASS if its CI < 0, NOT OBSERVED if its CI > 0 (an ordering of "
                                 "upper bounds: never FAIL), else INCONCLUSIVE",
                                 {"log_ratio": est, "ratio": float(np.exp(est))}, "< 0",
                                 (float(ci[0]), float(ci[1])), f"ordering {state}"))
        v = ordering_verdict([{"name": f"vs {m[0]}", "ci": p.ci} for m, p in zip(self.methods[1:], parts,
                                                                                  strict=True)])
        v.parts = parts
        v.measured = {m[0]: float(np.median(p)) for m, (p, _) in zip(self.methods, rows, strict=False)}
        per_seed = {m[0]: p.tolist() for m, (p, _) in zip(self.methods, rows, strict=False)}
        ratios = [{"label": m[0], "log_ratio": p.measured["log_ratio"], "ci": list(p.ci)}
                  for m, p in zip(self.methods[1:], parts, strict=True)]
        return self.result(v, {"plateaus": v.measured, "per_seed": per_seed, "reference": self.methods[0][0],
                               "log_ratios": ratios})


# ------------------------------------------------------------------------------------ the neighborhood map

#: cell keys a regime may override, and what they change: σ², ζ² (problem), f (δ = f/n), k (every
#: method's compressor keeps k of d coordinates), attack, aggregator
CELL_KEYS = ("sigma2", "zeta2", "f", "k", "attack", "aggregator")
#: the two tuning protocols: (i) the smallest plateau, (ii) the smallest avg ‖∇f‖² at the budget T
CRITERIA = ("plateau", "avg_grad_sq")


@dataclass(frozen=True)
class MapPlan:
    """The grid of a neighborhood map at one verification scale.

    Parameters
    ----------
    cells : tuple of (str, dict)
        (name, overrides) per regime; the overrides' keys are among ``CELL_KEYS`` = (sigma2, zeta2, f,
        k, attack, aggregator) (an empty dict: the base run).
    gammas : tuple of float
        Step sizes in units of 1/L (L: the problem's smoothness constant).
    seconds : tuple of float
        Values of each method's second parameter (η for the momentum methods, p for MARINA).
    T : int
        Iterations of every run (constant parameters; the plateau is the mean over [T/2, T]).
    tune_seeds : tuple of int
        Seeds on which each method's parameters are chosen.
    report_seeds : tuple of int
        Seeds on which the ratios are measured at the chosen parameters (disjoint from
        ``tune_seeds``, so the choice does not bias the ratio).
    extra : dict, optional
        Free-form notes (not compared, not hashed).

    Raises
    ------
    ValueError
        When the seeds overlap or a cell uses an unknown key.
    """

    cells: tuple[tuple[str, dict], ...]
    gammas: tuple[float, ...]
    seconds: tuple[float, ...]
    T: int
    tune_seeds: tuple[int, ...]
    report_seeds: tuple[int, ...]
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self):
        if set(self.tune_seeds) & set(self.report_seeds):
            raise ValueError("MapPlan: tune_seeds and report_seeds must be disjoint")
        for name, ov in self.cells:
            bad = set(ov) - set(CELL_KEYS)
            if bad:
                raise ValueError(f"MapPlan cell {name!r}: unknown keys {sorted(bad)}; allowed: {CELL_KEYS}")


def apply_cell(run: dict, overrides: dict) -> dict:
    """A copy of ``run`` in the regime of one cell.

    Parameters
    ----------
    run : dict
        The run config (not modified).
    overrides : dict
        Keys among ``CELL_KEYS``: "sigma2" and "zeta2" set the problem's value, "k" every method's
        compressor's k, and "f", "attack", "aggregator" replace the run's entry.

    Returns
    -------
    dict
    """
    out = copy.deepcopy(run)
    for k, v in overrides.items():
        if k in ("sigma2", "zeta2"):
            out["problem"][k] = float(v)
        elif k == "k":
            out["compressor"] = {**out["compressor"], "k": int(v)}
        else:
            out[k] = copy.deepcopy(v)
    return out


_L_CACHE: dict[str, float] = {}


def _L(run: dict) -> float:
    import json

    from theory.claims.base import problem_L

    k = json.dumps([run["problem"], run["n"], run["f"]], sort_keys=True)
    if k not in _L_CACHE:
        _L_CACHE[k] = problem_L(run)
    return _L_CACHE[k]


@CLAIM_KINDS.register("neighborhood_map")
class NeighborhoodMapClaim(Claim):
    r"""The reference method's neighborhood is smaller than each other method's, over a map of regimes.

    Each cell is a regime (σ², ζ², δ, k/d, attack, aggregator: :class:`theory.claims.neighborhood.MapPlan`).
    In each cell every
    method runs on a constant (γ, s) grid (s = η, or p for Byz-VR-MARINA) and is tuned on its own, on
    the plan's tuning seeds, by two protocols: (i) the grid point with the smallest plateau (mean of
    ‖∇f(xᵗ)‖² over t ∈ [T/2, T]), (ii) the one with the smallest avg ‖∇f‖² = (1/T) Σ_{t<T} ‖∇f(xᵗ)‖² at
    the budget T (scores: geometric means over the tuning seeds; a diverged run scores +∞). At the chosen
    points, on the report seeds (common random numbers across methods), the paired log-ratio
    mean_s log(q_ref/q_other) gets a bootstrap CI (:func:`theory.fitting.log_ratio`).

    The paper (Li, Liu, Yi, arXiv:2603.15144) compares proven upper bounds, so the verdict is
    :func:`theory.verdicts.ordering_verdict` over the (cell, other method) pairs of the criteria in
    ``decide_on`` (default: the plateau, protocol (i)): PASS iff seen in every one, NOT OBSERVED if not
    seen in some, never FAIL unless ``max_ratio`` states an explicit constant. Protocol (ii) is
    reported next to it. A cell whose method diverges at its chosen point on a report seed, or has no
    stable grid point, is inconclusive.

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    methods : list of dict
        At least two; the first is the reference. Each has "label", "algorithm" (the table without γ
        and s), "second" ("eta" or "p"), optional "run" (overrides of the run, e.g. the compressor)
        and optional "seconds" (this method's values of s at every scale, in place of the plan's).
    plans : dict
        A :class:`~theory.claims.neighborhood.MapPlan` per scale name ("quick", "default", "full");
        another scale uses the "quick" plan with that scale's seeds and plateau horizon.
    run : dict or None, optional
        The base run (default ``NEIGHBORHOOD_RUN``).
    statement : str, optional
        What is claimed, in words.
    max_ratio : float or None, optional
        An explicit constant ρ > 0: the claim then also states q_ref ≤ ρ·q_other and can FAIL.
    decide_on : tuple of str, optional
        The criteria that decide, a non-empty subset of ("plateau", "avg_grad_sq") (default plateau).
    negative_control : bool, optional
        A claim that must FAIL (default False).
    """

    kind = "neighborhood_map"
    metric = ("plateau = mean of ‖∇f(xᵗ)‖² over t ∈ [T/2, T]; avg ‖∇f‖² at the budget T; each method at "
              "its own tuned constant (γ, η)")

    def __init__(self, id: str, title: str, methods: list[dict], plans: dict[str, MapPlan], *,
                 run: dict | None = None, statement: str = "", max_ratio: float | None = None,
                 decide_on: tuple[str, ...] = ("plateau",), negative_control: bool = False):
        self.id, self.title, self.statement = id, title, statement
        self.methods = [dict(m) for m in methods]
        if len(self.methods) < 2:
            raise ValueError("NeighborhoodMapClaim needs a reference and at least one other method")
        self.plans = dict(plans)
        self.run = copy.deepcopy(NEIGHBORHOOD_RUN if run is None else run)
        if max_ratio is not None and not (math.isfinite(max_ratio) and max_ratio > 0):
            raise ValueError(f"max_ratio must be a positive number, got {max_ratio!r}")
        self.max_ratio = max_ratio
        bad = set(decide_on) - set(CRITERIA)
        if bad or not decide_on:
            raise ValueError(f"decide_on must be a non-empty subset of {CRITERIA}, got {decide_on!r}")
        self.decide_on = tuple(decide_on)
        self.negative_control = negative_control

    def plan(self, scale: Scale) -> MapPlan:
        """The plan of a scale: its own, else the "quick" plan with the scale's seeds and horizon.

        Parameters
        ----------
        scale : theory.claims.base.Scale
            The verification scale.

        Returns
        -------
        MapPlan
        """
        if scale.name in self.plans:
            return self.plans[scale.name]
        q = self.plans.get("quick") or next(iter(self.plans.values()))
        seeds = tuple(s for s in scale.seeds if s not in q.tune_seeds)
        return MapPlan(q.cells, q.gammas, q.seconds, scale.T_plateau, q.tune_seeds, seeds)

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        quick = self.plans.get("default") or next(iter(self.plans.values()))
        return {"methods": [{"label": m["label"], "algorithm": m["algorithm"],
                             **({"run": m["run"]} if m.get("run") else {})} for m in self.methods],
                "regime": self.run, "metric": self.metric,
                "grid": f"γ ∈ {{{', '.join(f'{g:g}' for g in quick.gammas)}}}/L × η (p for Byz-VR-MARINA) ∈ "
                        f"{{{', '.join(f'{x:g}' for x in quick.seconds)}}} (default scale)",
                "prediction": (f"{self.methods[0]['label']}'s plateau < each other method's in every cell "
                               "(an ordering of upper bounds: not seeing it is NOT OBSERVED, not FAIL)"
                               + (f"; stated bound: ratio ≤ {self.max_ratio:g}" if self.max_ratio else ""))}

    # --- configs
    def _method_run(self, cell: dict, m: dict) -> dict:
        run = copy.deepcopy(self.run)
        for k, v in (m.get("run") or {}).items():
            run[k] = copy.deepcopy(v)
        return apply_cell(run, cell)

    def _grid(self, plan: MapPlan, cell: dict, m: dict) -> list[dict]:
        """The (γ, s) points of one method in one cell, as algorithm tables."""
        L = _L(self._method_run(cell, m))
        seconds = m.get("seconds") or plan.seconds
        return [{**m["algorithm"], "gamma": g / L, m["second"]: s} for g in plan.gammas for s in seconds]

    def _cfgs(self, plan: MapPlan, cell: dict, m: dict, alg: dict, seeds) -> list[dict]:
        run = self._method_run(cell, m)
        return [plateau_config(run, alg, plan.T, s) for s in seeds]

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
        """
        plan = self.plan(scale)
        seeds = plan.tune_seeds + plan.report_seeds
        return [c for _, cell in plan.cells for m in self.methods for alg in self._grid(plan, cell, m)
                for c in self._cfgs(plan, cell, m, alg, seeds)]

    # --- evaluation
    @staticmethod
    def _values(records, cfgs) -> dict[str, np.ndarray]:
        """Per criterion, the per-seed values (+∞ for a diverged run)."""
        out = {k: [] for k in CRITERIA}
        for c in cfgs:
            r = records[key(c)]
            if r["status"] == "diverged":
                p = a = math.inf
            else:
                p = plateau(r["curves"]["iteration"], r["curves"]["grad_sq"])
                a = float(r["summary"]["avg_grad_sq"])
            out["plateau"].append(p if math.isfinite(p) else math.inf)
            out["avg_grad_sq"].append(a if math.isfinite(a) else math.inf)
        return {k: np.array(v, dtype=np.float64) for k, v in out.items()}

    def evaluate(self, records: dict[str, dict], scale: Scale) -> ClaimResult:
        """Decide the claim from its runs' records (see :meth:`theory.claims.base.Claim.evaluate`).

        Parameters
        ----------
        records : dict
            {run id: record} of at least this claim's runs.
        scale : theory.claims.base.Scale
            The scale the configs were made for.

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        plan = self.plan(scale)
        ref = self.methods[0]["label"]
        cells_out, decided = [], []
        for cname, cell in plan.cells:
            tuned: dict[str, dict] = {k: {} for k in CRITERIA}
            vals: dict[str, dict] = {k: {} for k in CRITERIA}
            for m in self.methods:
                grid = self._grid(plan, cell, m)
                scores = {k: [] for k in CRITERIA}
                for alg in grid:
                    v = self._values(records, self._cfgs(plan, cell, m, alg, plan.tune_seeds))
                    for k in CRITERIA:
                        x = v[k]
                        ok = np.isfinite(x).all() and (x > 0).all()
                        scores[k].append(float(np.mean(np.log(x))) if ok else math.inf)
                for k in CRITERIA:
                    i = int(np.argmin(scores[k]))
                    if not math.isfinite(scores[k][i]):
                        tuned[k][m["label"]], vals[k][m["label"]] = None, None
                        continue
                    alg = grid[i]
                    L = _L(self._method_run(cell, m))
                    tuned[k][m["label"]] = {"gamma": alg["gamma"], "gamma_L": alg["gamma"] * L,
                                            m["second"]: alg[m["second"]]}
                    vals[k][m["label"]] = self._values(records, self._cfgs(plan, cell, m, alg,
                                                                           plan.report_seeds))[k].tolist()
            comps = []
            for m in self.methods[1:]:
                for k in CRITERIA:
                    a, b = vals[k][m["label"]], vals[k][ref]
                    item = {"vs": m["label"], "criterion": k, "log_ratio": math.nan, "ci": None, "note": ""}
                    if a is None or b is None:
                        item["note"] = "no stable grid point"
                    elif not (np.isfinite(a).all() and np.isfinite(b).all()):
                        item["note"] = "diverged at its tuned point on a report seed"
                    else:
                        est, ci = log_ratio(a, b)
                        item.update(log_ratio=est, ci=[float(ci[0]), float(ci[1])])
                        if a == b:  # e.g. Byz-DM21 and Byz-EF21-SGDM both tuned to η = 1, where they coincide
                            item["note"] = "identical on every seed"
                    item["state"] = ordering_state(item["ci"])
                    if (self.max_ratio is not None and k in self.decide_on and item["ci"] is not None
                            and item["ci"][0] > math.log(self.max_ratio)):
                        item["note"] = f"exceeds the stated bound ratio ≤ {self.max_ratio:g}"
                    comps.append(item)
                    if k in self.decide_on:
                        decided.append({"name": f"{cname} vs {m['label']}" + (
                            f" ({k})" if len(self.decide_on) > 1 else ""), "ci": item["ci"],
                            "log_ratio": item["log_ratio"]})
            cells_out.append({"name": cname, "regime": dict(cell), "tuned": tuned, "values": vals,
                              "comparisons": comps})
        v = ordering_verdict(decided, max_ratio=self.max_ratio,
                             what=f"log({'/'.join(self.decide_on)} of {ref} / of the other method)")
        counts = {s: len(v.measured[k]) for s, k in (("seen", "seen"), ("not seen", "not_seen"),
                                                      ("inconclusive", "inconclusive"))}
        practitioner = [c for cell in cells_out for c in cell["comparisons"] if c["criterion"] not in
                        self.decide_on]
        seen_other = sum(ordering_state(c["ci"]) == SEEN for c in practitioner)
        data = {"reference": ref, "others": [m["label"] for m in self.methods[1:]],
                "criteria": list(CRITERIA),
                "decide_on": list(self.decide_on), "cells": cells_out, "counts": counts,
                "max_ratio": self.max_ratio, "T": plan.T, "tune_seeds": list(plan.tune_seeds),
                "report_seeds": list(plan.report_seeds), "gammas_L": list(plan.gammas),
                "seconds": list(plan.seconds),
                "other_criterion_seen": [seen_other, len(practitioner)]}
        return self.result(v, data)
