r"""Exact claims: decided from the exact moment recursion (:mod:`theory.exact`), no seeds, no CIs.

On quadratics with additive Gaussian noise, the identity compressor or rand_k_biased (a random linear
map), mean aggregation and f = 0 or IPM, E‖∇f(xᵗ)‖² is computed exactly, so claims can be checked at
horizons far beyond any Monte-Carlo grid. Two kinds:

* ``exact_rate`` — the exponent of avg_grad_sq(T) = (1/T) Σ_{t<T} E‖∇f(xᵗ)‖² under a schedule (each T with
  its own constant parameters, as the Monte-Carlo rate claims do), over T = 2⁹ … 2³⁰.
  Decision rule: the asymptotic slope ŝ is the least-squares slope of log avg_grad_sq against log T over
  the last four horizons (2²⁷ … 2³⁰); ŝ_prev is the same over the four before (2²⁴ … 2²⁷). With the
  predicted slope p and tol = 1/12 (half the gap between −1/2 and −2/3): a non-finite value (the schedule
  is unstable) → FAIL; a change abs(ŝ − ŝ_prev) > tol/2 (the local slopes are still moving) →
  INCONCLUSIVE; abs(ŝ − p) ≤ tol → PASS; ŝ > p + tol (slower than claimed) → FAIL; ŝ < p − tol →
  INCONCLUSIVE (faster than claimed: not a contradiction of an upper bound). A claim over several
  regimes FAILs if one regime FAILs and PASSes if all PASS.
* ``exact_plateau`` — the σ²-driven plateau (stationary E‖∇f‖², ζ² = 0) of Byz-DM21 against
  Byz-EF21-SGDM, at equal (γ, η) on a grid, or each at its best (γ, η) over a grid (two tuning rules:
  the smallest stationary plateau, and the smallest exact avg_grad_sq at a budget of T iterations from
  x⁰). "Byz-DM21's neighborhood is smaller" compares upper bounds: PASS when the ordering is seen in
  every cell, NOT OBSERVED otherwise (never FAIL), with the cells where it is and is not seen.

Regimes (both homogeneous, σ² = 1): "identity, IPM": quadratic d = 20, L = 1, μ = 0.1, two zero
eigenvalues, n = 10, f = 2, IPM (ε = 0.1) on the state, identity compressor; "rand_k_biased": diagonal
quadratic d = 10 with eigenvalues geomspace(0.1, 1), n = 4, f = 0, rand_k_biased with k = 2, x⁰ = 1.
Schedules: the Monte-Carlo suite's (:data:`theory.suite.DM21_SCHEDULE`, :data:`theory.suite.VR_SCHEDULE`,
:data:`theory.suite.SINGLE_ETA_SCHEDULE`). A third kind, ``exact_stability``, tabulates the stability
regions (informational). See :ref:`math-exact` for the recursion and :ref:`claim-kind-exact_rate`,
:ref:`claim-kind-exact_plateau`, :ref:`claim-kind-exact_stability` for the kinds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from theory.claims.base import CLAIM_KINDS, Claim, ClaimResult, Scale, Schedule
from theory.verdicts import FAIL, INCONCLUSIVE, NOT_OBSERVED, PASS, TOL, Verdict

__all__ = ["EXACT_HORIZONS", "ExactPlateauClaim", "ExactRateClaim", "ExactStabilityClaim", "exact_claims",
           "exact_negative_controls", "exact_regimes", "report_items"]

#: horizons of the exact rate claims
EXACT_HORIZONS: tuple[int, ...] = tuple(2**k for k in range(9, 31))
#: horizons in each window of the asymptotic-slope rule
WINDOW = 4
#: (γL, η) grids of the plateau claims
EQUAL_GRID = ((0.03, 0.1, 0.3), (0.05, 0.2, 0.5))
TUNE_GRID = ((0.01, 0.03, 0.1, 0.3, 1.0), (0.05, 0.1, 0.2, 0.5, 1.0))
#: budget of the "best avg_grad_sq at a fixed T" tuning rule
TUNE_BUDGET = 10**4

_RUN = {"seed": 0, "n": 10, "f": 2, "T": 10, "problem": {"name": "quadratic", "d": 20, "mu": 0.1, "L": 1.0,
                                                          "zero_eigs": 2, "sigma2": 1.0, "zeta2": 0.0},
        "attack": {"name": "ipm", "eps": 0.1}}


def _identity_model(alg: dict):
    from theory.exact import ExactModel

    return ExactModel.from_config({**_RUN, "algorithm": {"eta": 0.5, **alg, "gamma": 0.1}})


def _rand_k_model(alg: dict):
    from byzref.algorithms import ALGORITHMS
    from byzref.compressors import COMPRESSORS
    from problems.quadratic import Quadratic
    from theory.exact import ExactModel

    d = 10
    prob = Quadratic.from_arrays(np.diag(np.geomspace(0.1, 1.0, d)), np.zeros((4, d)), sigma2=1.0,
                                 x0=np.ones(d))
    return ExactModel(prob, ALGORITHMS.build({"eta": 0.5, **alg, "gamma": 0.1}),
                      COMPRESSORS.build({"name": "rand_k_biased", "k": 2}))


def exact_regimes() -> list[tuple[str, Callable[[dict], Any]]]:
    """[(label, build(algorithm table without γ) -> ExactModel)] of the exact claims.

    Returns
    -------
    list of (str, callable)
        "identity, IPM (n = 10, f = 2)" and "rand_k_biased k = 2 of 10 (n = 4, f = 0)" (module
        docstring); each callable returns a :class:`theory.exact.ExactModel`.
    """
    return [("identity, IPM (n = 10, f = 2)", _identity_model),
            ("rand_k_biased k = 2 of 10 (n = 4, f = 0)", _rand_k_model)]


def _alg_params(name: str, p: dict) -> dict:
    """The schedule's parameters that the method takes (Byz-EF21-SGDM has no η₂)."""
    return {k: v for k, v in p.items() if not (k == "eta2" and name == "byz_ef21_sgdm")}


def _lsq_slope(T, v) -> float:
    x, y = np.log(np.asarray(T, float)), np.log(np.asarray(v, float))
    return float(np.polyfit(x, y, 1)[0])


def exponent_verdict(slope: float, slope_prev: float, predicted: float, tol: float = TOL) -> tuple[str, str]:
    """(verdict, reason) of the asymptotic-slope rule (module docstring)."""
    if not (math.isfinite(slope) and math.isfinite(slope_prev)):
        return FAIL, "the exact moments are not finite: the schedule is unstable at some horizon"
    if abs(slope - slope_prev) > tol / 2:
        return INCONCLUSIVE, f"local slopes still moving ({slope_prev:+.3f} → {slope:+.3f})"
    if abs(slope - predicted) <= tol:
        return PASS, f"slope {slope:+.3f} within {tol:.3f} of {predicted:+.3f}"
    if slope > predicted + tol:
        return FAIL, f"slope {slope:+.3f} slower than {predicted:+.3f} + {tol:.3f}"
    return INCONCLUSIVE, f"slope {slope:+.3f} faster than {predicted:+.3f} − {tol:.3f}"


def _join(parts: list[str]) -> str:
    if FAIL in parts:
        return FAIL
    return PASS if parts and all(p == PASS for p in parts) else INCONCLUSIVE


@CLAIM_KINDS.register("exact_rate")
class ExactRateClaim(Claim):
    """avg_grad_sq(T) ∝ T^p under a schedule, from the exact moments up to T = 2³⁰ (module docstring).

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    algorithm : dict
        The [algorithm] table without γ, η, η₂ (e.g. {"name": "byz_vr_dm21"}).
    schedule : theory.claims.base.Schedule
        γ(T), η(T), η₂(T).
    predicted : float
        The predicted slope.
    statement : str, optional
        What is claimed, in words.
    source : str or None, optional
        Where the claim comes from (default: the paper, statement inferred by byzref).
    init_batch : callable or None, optional
        T ↦ b₀, a round-0 batch of b₀·b samples (the engine's ``algorithm.init_batch``; None: its
        default round 0 uses the run's batch, b₀ = 1).
    horizons : tuple of int, optional
        The grid (default :data:`theory.claims.exact.EXACT_HORIZONS`, 2⁹ … 2³⁰).
    tol : float, optional
        Tolerance of the rule (default 1/12).
    informational : bool, optional
        Reported, not counted (default False).
    negative_control : bool, optional
        A claim that must FAIL (default False).
    regimes : list of (str, callable) or None, optional
        (label, build(algorithm table) → :class:`theory.exact.ExactModel`) pairs; None (default): the
        two regimes of :func:`theory.claims.exact.exact_regimes`.
    """

    kind = "exact_rate"
    metric = "(1/T) Σ_{t<T} E‖∇f(xᵗ)‖², exact"

    def __init__(self, id: str, title: str, algorithm: dict, schedule: Schedule, predicted: float, *,
                 statement: str = "", source: str | None = None,
                 init_batch: Callable[[int], float] | None = None,
                 horizons: tuple[int, ...] = EXACT_HORIZONS, tol: float = TOL, informational: bool = False,
                 negative_control: bool = False, regimes=None):
        self.id, self.title, self.statement = id, title, statement
        self.algorithm_table, self.schedule, self.predicted = dict(algorithm), schedule, float(predicted)
        if source is not None:
            self.source = source
        self.init_batch, self.horizons, self.tol = init_batch, tuple(horizons), tol
        self.informational, self.negative_control = informational, negative_control
        self.regimes = regimes

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"algorithm": self.algorithm_table, "metric": self.metric,
                "schedule": self.schedule.describe(),
                "regime": [lab for lab, _ in (self.regimes or exact_regimes())],
                "prediction": f"slope {self.predicted:+.3f}",
                "horizons": f"2^{int(math.log2(self.horizons[0]))} … 2^{int(math.log2(self.horizons[-1]))}",
                **({"init_batch": "round-0 batch b₀(T)"} if self.init_batch else {})}

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
            Always empty: the exact claims run no engine experiments.
        """
        return []

    def curve(self, model) -> list[float]:
        """Exact avg_grad_sq(T) for every horizon, each T with the schedule's constant parameters.

        Parameters
        ----------
        model : theory.exact.ExactModel
            The regime's model (its largest eigenvalue is the L of the schedule).

        Returns
        -------
        list of float
            One value per horizon (inf where the moments blow up).
        """
        L, name = float(model.a.max()), self.algorithm_table["name"]
        out = []
        for T in self.horizons:
            p = _alg_params(name, self.schedule.params(T, L))
            if self.init_batch is not None:
                p["init_batch"] = float(self.init_batch(T))
            out.append(model.avg_grad_sq(T, p))
        return out

    def evaluate(self, records=None, scale: Scale | None = None) -> ClaimResult:
        """Decide the claim from the exact moments (no engine records are needed).

        Parameters
        ----------
        records : dict or None, optional
            Unused.
        scale : theory.claims.base.Scale or None, optional
            Unused (the horizons are the claim's own).

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        rows, verdicts, w = [], [], WINDOW
        Ts = self.horizons
        for label, build in (self.regimes or exact_regimes()):
            vals = self.curve(build(self.algorithm_table))
            ok = all(math.isfinite(v) and v > 0 for v in vals)
            local = (np.diff(np.log(vals)) / np.diff(np.log(Ts))).tolist() if ok else []
            slope = _lsq_slope(Ts[-w:], vals[-w:]) if ok else math.inf
            prev = _lsq_slope(Ts[-2 * w + 1:-w + 1], vals[-2 * w + 1:-w + 1]) if ok else math.inf
            v, why = exponent_verdict(slope, prev, self.predicted, self.tol)
            verdicts.append(v)
            rows.append({"regime": label, "values": vals, "local_slopes": local, "slope": slope,
                         "slope_prev": prev, "verdict": v, "reason": why})
        crit = (f"asymptotic slope (last {w} horizons) within ±{self.tol:.3f} of {self.predicted:+.3f} and "
                f"settled (|Δ| ≤ {self.tol / 2:.3f} vs the previous {w}) → PASS; slower or "
                "not finite → FAIL; else INCONCLUSIVE; every regime must PASS")
        verdict = Verdict(_join(verdicts), crit, {r["regime"]: r["slope"] for r in rows},
                          {"slope": self.predicted}, None,
                          "; ".join(f"{r['regime']}: {r['reason']}" for r in rows))
        data = {"T": list(Ts), "predicted": self.predicted, "regimes": rows,
                "algorithm": self.algorithm_table["name"]}
        res = self.result(verdict, data)
        res.data["items"] = report_items(res)
        return res


@CLAIM_KINDS.register("exact_plateau")
class ExactPlateauClaim(Claim):
    """Byz-DM21's σ²-driven plateau is smaller than Byz-EF21-SGDM's (module docstring).

    Byz-EF21-SGDM is from Liu, Li, Yi, Johansson (IEEE TNNLS 2026); Byz-EF21 from Rammal, Gruntkowska, Fedin,
    Gorbunov, Richtárik (AISTATS 2024).

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    mode : {"equal", "tuned"}
        "equal": every cell of ``EQUAL_GRID`` (γL ∈ {0.03, 0.1, 0.3} × η ∈ {0.05, 0.2, 0.5}), both
        methods at the same γ, η; "tuned": each method at its best cell of ``TUNE_GRID``
        (γL ∈ {0.01, 0.03, 0.1, 0.3, 1} × η ∈ {0.05, 0.1, 0.2, 0.5, 1}), by the stationary plateau and
        by avg_grad_sq at T = ``TUNE_BUDGET`` = 10⁴.
    statement : str, optional
        What is claimed, in words.
    source : str or None, optional
        Where the claim comes from.
    regimes : list of (str, callable) or None, optional
        (label, build(algorithm table) → :class:`theory.exact.ExactModel`) pairs; None (default): the
        two regimes of :func:`theory.claims.exact.exact_regimes`.
    """

    kind = "exact_plateau"
    methods = ("byz_dm21", "byz_ef21_sgdm")

    def __init__(self, id: str, title: str, mode: str, *, statement: str = "", source: str | None = None,
                 regimes=None):
        self.id, self.title, self.statement, self.mode = id, title, statement, mode
        if source is not None:
            self.source = source
        self.regimes = regimes

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        grid = EQUAL_GRID if self.mode == "equal" else TUNE_GRID
        return {"algorithm": list(self.methods),
                "regime": [lab for lab, _ in (self.regimes or exact_regimes())],
                "metric": "stationary E‖∇f‖² (ζ² = 0, σ² = 1), exact" +
                          ("" if self.mode == "equal" else f"; avg_grad_sq at T = {TUNE_BUDGET}"),
                "grid": {"gamma_L": list(grid[0]), "eta": list(grid[1])},
                "prediction": "Byz-DM21 < Byz-EF21-SGDM (upper bounds: NOT OBSERVED when not seen)"}

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
            Always empty: the exact claims run no engine experiments.
        """
        return []

    def _cells(self, models, grid, rule):
        out = {}
        for name, model in models.items():
            L = float(model.a.max())
            vals = {}
            for gL in grid[0]:
                for eta in grid[1]:
                    p = {"gamma": gL / L, "eta": eta}
                    if rule == "plateau":
                        v = model.stationary(p)["grad_sq"]
                    else:
                        v = model.avg_grad_sq(TUNE_BUDGET, p) if model.spectral_radius(p) < 1 else math.inf
                    vals[(gL, eta)] = v
            out[name] = vals
        return out

    def evaluate(self, records=None, scale: Scale | None = None) -> ClaimResult:
        """Decide the claim from the exact moments (no engine records are needed).

        Parameters
        ----------
        records : dict or None, optional
            Unused.
        scale : theory.claims.base.Scale or None, optional
            Unused (the horizons are the claim's own).

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        a, b = self.methods
        cells, seen, not_seen = [], [], []
        for label, build in (self.regimes or exact_regimes()):
            models = {m: build({"name": m, "eta": 0.5}) for m in self.methods}
            if self.mode == "equal":
                vals = self._cells(models, EQUAL_GRID, "plateau")
                for key in vals[a]:
                    va, vb = vals[a][key], vals[b][key]
                    cells.append({"regime": label, "gamma_L": key[0], "eta": key[1], a: va, b: vb,
                                  "ratio": va / vb if math.isfinite(va) and vb > 0 else math.inf,
                                  "stable": {a: math.isfinite(va), b: math.isfinite(vb)}})
            else:
                for rule in ("plateau", "budget"):
                    vals = self._cells(models, TUNE_GRID, rule)
                    best = {m: min(vals[m].items(), key=lambda kv: kv[1]) for m in self.methods}
                    va, vb = best[a][1], best[b][1]
                    cells.append({"regime": label, "rule": rule, a: va, b: vb,
                                  f"{a}_at": {"gamma_L": best[a][0][0], "eta": best[a][0][1]},
                                  f"{b}_at": {"gamma_L": best[b][0][0], "eta": best[b][0][1]},
                                  "ratio": va / vb if math.isfinite(va) and vb > 0 else math.inf})
        neither = []
        for c in cells:
            both_unstable = not math.isfinite(c[a]) and not math.isfinite(c[b])
            c["state"] = "both unstable" if both_unstable else ("seen" if c["ratio"] < 1.0 else "not seen")
            {"seen": seen, "not seen": not_seen}.get(c["state"], neither).append(c)
        v = PASS if not not_seen and not neither else (NOT_OBSERVED if not_seen else INCONCLUSIVE)
        crit = ("PASS when Byz-DM21's value is below Byz-EF21-SGDM's in every cell; NOT OBSERVED when it "
                "is not below in some cell (a comparison of upper bounds: never FAIL); a cell where both "
                "methods are unstable counts as neither (INCONCLUSIVE if no cell is 'not seen')")
        verdict = Verdict(v, crit, {"cells_seen": len(seen), "cells_not_seen": len(not_seen),
                                    "cells_both_unstable": len(neither)},
                          "ratio < 1 in every cell", None,
                          f"ordering seen in {len(seen)} of {len(cells)} cells"
                          + (f", both methods unstable in {len(neither)}" if neither else ""))
        res = self.result(verdict, {"mode": self.mode, "cells": cells, "methods": list(self.methods)})
        res.data["items"] = report_items(res)
        return res


#: momenta at which the stability report tabulates the largest stable γL
STABILITY_ETAS = (0.05, 0.1, 0.2, 0.5)
#: the step-size example where Byz-DM21 stalls on nonconvex_synthetic (README; examples/step_sizes_alie.toml):
#: d = 100, L = 3 (curvature a_j + 2λ at the minimiser x* = 0), η = 0.1, γ ∈ {0.02, 0.05, 0.1}
STALL_EXAMPLE = {"L": 3.0, "eta": 0.1, "gammas": (0.02, 0.05, 0.1)}


@CLAIM_KINDS.register("exact_stability")
class ExactStabilityClaim(Claim):
    r"""The mean-square stability regions of Byz-DM21, Byz-VR-DM21 and Byz-EF21-SGDM (informational).

    For each method, compressor and η: the largest γL with a stable moment map on a quadratic whose
    eigenvalues all equal L (:func:`plots.stability.stability_data`; identity and rand_k_biased k/d = 1/10,
    n = 10, mean aggregation, f = 0). Linearising a smooth problem at a minimiser with Hessian eigenvalues
    ≤ L gives the same map, so a step γ above γ*(η) makes the minimiser unstable for that method: its
    iterates cannot settle there. The report uses this to explain Byz-DM21's stall in the README's step-size
    example on nonconvex_synthetic (L = 3 at x* = 0, η = 0.1).

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    statement : str, optional
        What is reported, in words.
    source : str or None, optional
        Where the claim comes from.
    etas : sequence of float or None, optional
        The momenta of the table; None (default): 13 geometric values in [0.01, 1] plus
        ``STABILITY_ETAS``. A given grid must contain ``STABILITY_ETAS`` = (0.05, 0.1, 0.2, 0.5).
    """

    kind = "exact_stability"
    informational = True
    metric = "largest γL with spectral radius of the exact moment map < 1"

    def __init__(self, id: str, title: str, *, statement: str = "", source: str | None = None,
                 etas=None):
        self.id, self.title, self.statement = id, title, statement
        if source is not None:
            self.source = source
        grid = set(np.round(np.geomspace(0.01, 1.0, 13), 12).tolist()) | set(STABILITY_ETAS)
        self.etas = tuple(sorted(grid)) if etas is None else tuple(etas)

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"algorithm": [m[0] for m in _stability_methods()], "metric": self.metric,
                "regime": "quadratic with every eigenvalue = L, n = 10, d = 10, mean aggregation, f = 0; "
                          "identity and rand_k_biased (k = 1 of 10)",
                "prediction": "informational: the regions, and whether Byz-DM21's stall is a linear "
                              "instability"}

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
            Always empty: the exact claims run no engine experiments.
        """
        return []

    def evaluate(self, records=None, scale: Scale | None = None) -> ClaimResult:
        """Decide the claim from the exact moments (no engine records are needed).

        Parameters
        ----------
        records : dict or None, optional
            Unused.
        scale : theory.claims.base.Scale or None, optional
            Unused (the horizons are the claim's own).

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        from plots.stability import stability_data

        data = stability_data(etas=list(self.etas))
        table = []
        for c in data["curves"]:
            row = {"label": c["label"], "method": c["method"], "compressor": c["compressor"]["name"]}
            for e in STABILITY_ETAS:
                row[f"eta={e:g}"] = c["gamma_L"][self.etas.index(e)]
            table.append(row)
        ex = STALL_EXAMPLE
        lim = {}
        for c in data["curves"]:
            if c["compressor"]["name"] == "identity" and c["label"] in ("Byz-DM21 (η₂ = η)", "Byz-EF21-SGDM"):
                lim[c["method"]] = c["gamma_L"][self.etas.index(ex["eta"])]
        stall = {"L": ex["L"], "eta": ex["eta"],
                 "rows": [{"gamma": g, "gamma_L": g * ex["L"],
                           "byz_dm21_stable": g * ex["L"] < lim["byz_dm21"],
                           "byz_ef21_sgdm_stable": g * ex["L"] < lim["byz_ef21_sgdm"]} for g in ex["gammas"]],
                 "limits_gamma_L": lim}
        verdict = Verdict(PASS, "informational: the regions are reported, nothing is claimed", {
            f"{row['label']}, {row['compressor']}, η = {e:g}": row[f"eta={e:g}"]
            for row in table for e in (0.05, 0.5)}, None, None, "regions computed")
        res = self.result(verdict, {**data, "table": table, "stall": stall})
        res.data["items"] = report_items(res)
        return res


def _stability_methods():
    from plots.stability import METHODS

    return METHODS


def _fmt(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else "unstable"


def report_items(result: ClaimResult) -> list[str]:
    """Short lines a report can show for an exact claim's result.

    Parameters
    ----------
    result : theory.claims.base.ClaimResult
        The result of an exact_rate, exact_plateau or exact_stability claim.

    Returns
    -------
    list of str
        One line per regime or cell (empty for another kind).
    """
    d = result.data
    if result.kind == "exact_rate":
        out = []
        for r in d.get("regimes", []):
            tail = ", ".join(f"{s:+.3f}" for s in r["local_slopes"][-3:])
            out.append(f"{r['regime']}: slope {r['slope']:+.3f} over the last {WINDOW} horizons (previous "
                       f"{r['slope_prev']:+.3f}; last local slopes {tail}) vs predicted "
                       f"{d['predicted']:+.3f}: {r['verdict']}")
        return out
    if result.kind == "exact_stability":
        out = []
        for row in d.get("table", []):
            vals = ", ".join(f"{_fmt(row[f'eta={e:g}'])} at η = {e:g}" for e in STABILITY_ETAS)
            out.append(f"{row['label']}, {row['compressor']}: largest stable γL {vals}")
        st = d.get("stall")
        if st:
            lim = st["limits_gamma_L"]
            out.append(
                f"Byz-DM21's stall on nonconvex_synthetic (README step-size example, L = {st['L']:g} at "
                f"x* = 0, η = {st['eta']:g}): the minimiser is linearly stable for Byz-DM21 only while γL < "
                f"{_fmt(lim['byz_dm21'])} (γ < {_fmt(lim['byz_dm21'] / st['L'])}), for Byz-EF21-SGDM while "
                f"γL < {_fmt(lim['byz_ef21_sgdm'])}; "
                + "; ".join(f"γ = {r['gamma']:g} (γL = {r['gamma_L']:.2g}): Byz-DM21 "
                            f"{'stable' if r['byz_dm21_stable'] else 'UNSTABLE'}, Byz-EF21-SGDM "
                            f"{'stable' if r['byz_ef21_sgdm_stable'] else 'UNSTABLE'}" for r in st["rows"])
                + ". Above its limit Byz-DM21 cannot settle at x*; the iterates grow until the problem's "
                  "curvature flattens (|x_j| > 1/√3) and oscillate there: a stall, not a divergence. The "
                  "README's run demo (η = 0.05, γ = 0.05: γL = 0.15 against a limit of 0.108) stalls for the "
                  "same reason; Top-k (the EF21 lag) narrows the region further.")
        return out
    if result.kind == "exact_plateau":
        out = []
        for c in d.get("cells", []):
            a, b = d["methods"]
            if d["mode"] == "equal":
                out.append(f"{c['regime']}, γL = {c['gamma_L']:g}, η = {c['eta']:g}: {a} {_fmt(c[a])}, "
                           f"{b} {_fmt(c[b])}, ratio {_fmt(c['ratio'])}")
            else:
                pa, pb = c[a + "_at"], c[b + "_at"]
                out.append(f"{c['regime']}, best by {c['rule']}: {a} {_fmt(c[a])} at γL = {pa['gamma_L']:g}, "
                           f"η = {pa['eta']:g}; {b} {_fmt(c[b])} at γL = {pb['gamma_L']:g}, "
                           f"η = {pb['eta']:g}; ratio {_fmt(c['ratio'])}")
        return out
    return []


_INFERRED = "schedule inferred by byzref (the paper's constants are unknown); exact moments, theory.exact"
_PAPER = "Li, Liu, Yi, arXiv:2603.15144 (paper's statement; schedule inferred by byzref); exact moments"
_PAPER_B0 = ("Li, Liu, Yi, arXiv:2603.15144 (paper's statement; schedule and the round-0 batch b₀ ∝ T^(1/3) "
             "inferred by byzref, as STORM-type O(ε⁻³) analyses start from a batch); exact moments")


def exact_claims() -> list[Claim]:
    """The exact claims, in report order.

    Returns
    -------
    list of theory.claims.base.Claim
    """
    from theory.suite import DM21_SCHEDULE, SINGLE_ETA_SCHEDULE, VR_SCHEDULE

    return [
        ExactStabilityClaim("exact.stability", "Stability regions of Byz-DM21, Byz-VR-DM21 and Byz-EF21-SGDM "
                            "(exact), and why Byz-DM21 stalls at large γ",
                            source="byzref, exact moments (theory.exact) of the methods of Li, Liu, Yi, "
                                   "arXiv:2603.15144 and of Byz-EF21-SGDM",
                            statement="largest mean-square stable γL against η; Byz-DM21 needs γL ≲ 2.2η for "
                                      "η ≤ 0.2 (identity), less under compression"),
        ExactRateClaim("exact.byz_dm21.rate", "Byz-DM21's exponent −1/2 holds to T = 2³⁰ (exact)",
                       {"name": "byz_dm21"}, DM21_SCHEDULE, -0.5, source=_PAPER,
                       statement="DM21 schedule η = η₂ ∝ T^(−1/2), γ ∝ η"),
        ExactRateClaim("exact.byz_vr_dm21.rate",
                       "Byz-VR-DM21's exponent −2/3 holds to T = 2³⁰ with a round-0 batch b₀ = ⌈T^(1/3)⌉ "
                       "(exact)", {"name": "byz_vr_dm21"}, VR_SCHEDULE, -2.0 / 3.0, source=_PAPER_B0,
                       init_batch=lambda T: float(math.ceil(T ** (1.0 / 3.0) - 1e-9)),
                       statement="VR schedule η ∝ T^(−2/3), η₂ ∝ T^(−1/3), γ ∝ η₂; round 0 averages "
                                 "b₀ = ⌈T^(1/3)⌉ samples (the engine runs it with algorithm.init_batch = b₀; "
                                 "its default round 0 uses the run's batch)"),
        ExactRateClaim("exact.byz_vr_dm21.rate_one_sample_init",
                       "Byz-VR-DM21 with a one-sample round 0 tends to T^(−1/3), not T^(−2/3) (exact)",
                       {"name": "byz_vr_dm21"}, VR_SCHEDULE, -2.0 / 3.0, source=_INFERRED, informational=True,
                       statement="the engine's default round 0 (one sample); its error σ² decays at rate "
                                 "η ∝ T^(−2/3) and adds ≈ σ²/(2ηT) ∝ T^(−1/3) to avg_grad_sq. Shown as "
                                 "INFO (FAIL): the slopes of the Monte-Carlo grid (2⁹ … 2¹⁷) are still "
                                 "pre-asymptotic"),
        ExactRateClaim("exact.byz_vr_dm21.rate_single_eta",
                       "Byz-VR-DM21 with one η (released code) reaches only T^(−1/3) (exact)",
                       {"name": "byz_vr_dm21"}, SINGLE_ETA_SCHEDULE, -1.0 / 3.0, source=_INFERRED,
                       informational=True, statement="η = η₂ ∝ T^(−2/3), γ ∝ η"),
        ExactPlateauClaim("exact.plateau_equal", "σ²-plateau: Byz-DM21 below Byz-EF21-SGDM at equal (γ, η) "
                          "(exact)", "equal", source=_PAPER,
                          statement=f"ζ² = 0, σ² = 1; γL ∈ {EQUAL_GRID[0]}, η = η₂ ∈ {EQUAL_GRID[1]}"),
        ExactPlateauClaim("exact.plateau_tuned",
                          "σ²-plateau: Byz-DM21 below Byz-EF21-SGDM, each tuned (exact)", "tuned",
                          source=_PAPER,
                          statement=f"best over γL ∈ {TUNE_GRID[0]}, η ∈ {TUNE_GRID[1]}: by the stationary "
                                    f"plateau and by avg_grad_sq at T = {TUNE_BUDGET}"),
    ]


def exact_negative_controls() -> list[Claim]:
    """A deliberately wrong recursion claimed at the VR exponent: it must FAIL.

    Returns
    -------
    list of theory.claims.base.Claim
    """
    from theory.suite import VR_SCHEDULE

    return [ExactRateClaim("exact.neg.vr_without_storm",
                           "Byz-VR-DM21 with the STORM correction dropped, claimed −2/3 (exact)",
                           {"name": "byz_dm21"}, VR_SCHEDULE, -2.0 / 3.0, negative_control=True,
                           source="negative control",
                           statement="plain EMA first momentum (= byz_dm21) under the decoupled VR schedule")]
