"""Rate claims across horizons and the separation of two rates.

Metric: avg_grad_sq(T) = (1/T) Σ_{t<T} ‖∇f(x^t)‖² (E‖∇f(x̂)‖², x̂ uniform over the iterates). For each T
of the scale's geometric grid and each seed, the method runs with the schedule's parameters for
that T; the slope of log avg_grad_sq vs log T is fitted with a stratified bootstrap CI over seeds
(:func:`theory.fitting.fit_loglog`) and decided by :func:`theory.verdicts.rate_verdict`, twice: over the
whole grid and over its largest horizons (:func:`upper_window`). Both must PASS. The second fit
matters: a curve that falls like 1/T and then plateaus can have an average slope of −1/2 over a
grid that straddles the bend; its slope over the largest horizons exposes the plateau.
avg_grad_sq ∝ T^{−1/2} ⇔ O(ε⁻⁴), ∝ T^{−2/3} ⇔ O(ε⁻³).

See :ref:`claim-kind-rate` and :ref:`claim-kind-separation`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from theory.claims.base import BASE_RUN, CLAIM_KINDS, Claim, ClaimResult, Scale, Schedule, diverged, problem_L
from theory.fitting import fit_loglog, slope_difference
from theory.runner import key
from theory.verdicts import FAIL, TOL, TOL_FAST, Verdict, combine, range_verdict, rate_verdict

__all__ = ["RateClaim", "SeparationClaim", "upper_window"]


def upper_window(m: int) -> int:
    """Number of largest horizons in the asymptotic window: max(3, ⌈m/2⌉) (all of them when m ≤ 3).

    Parameters
    ----------
    m : int
        Number of horizons of the grid.

    Returns
    -------
    int
    """
    return min(m, max(3, -(-m // 2)))


@CLAIM_KINDS.register("rate")
class RateClaim(Claim):
    r"""avg_grad_sq(T) ∝ T^{p} across horizons, each T run with its own schedule.

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    algorithm : dict
        The engine's [algorithm] table without γ, η, η₂ (e.g. {"name": "byz_dm21"}).
    schedule : theory.claims.base.Schedule
        γ(T), η(T), η₂(T).
    predicted : float
        The predicted slope p (−1/2 for O(ε⁻⁴), −2/3 for O(ε⁻³)).
    statement : str, optional
        What is claimed, in words.
    run : dict or None, optional
        The rest of the run config (problem, n, f, compressor, aggregator, attack);
        default :data:`theory.claims.base.BASE_RUN`.
    source : str or None, optional
        Where the claim comes from (default: the paper, statement inferred by byzref).
    tol, tol_fast : float, optional
        The verdict band [p − tol_fast, p + tol] (:func:`theory.verdicts.rate_verdict`; defaults 1/12
        and 1/4).
    informational : bool, optional
        Reported, not counted (default False).
    negative_control : bool, optional
        A claim that must FAIL (default False).
    label : str or None, optional
        The method's label in figures (default: the id).
    """

    kind = "rate"
    metric = "avg_grad_sq(T) = (1/T) Σ_{t<T} ‖∇f(x^t)‖²"

    def __init__(self, id: str, title: str, algorithm: dict, schedule: Schedule, predicted: float, *,
                 statement: str = "", run: dict | None = None, source: str | None = None,
                 tol: float = TOL, tol_fast: float = TOL_FAST, informational: bool = False,
                 negative_control: bool = False, label: str | None = None):
        self.id, self.title, self.statement = id, title, statement
        self.algorithm_table = dict(algorithm)
        self.schedule, self.predicted = schedule, float(predicted)
        self.run = copy.deepcopy(BASE_RUN if run is None else run)
        if source is not None:
            self.source = source
        self.tol, self.tol_fast = tol, tol_fast
        self.informational, self.negative_control = informational, negative_control
        self.label = label or id
        self._L: float | None = None

    @property
    def L(self) -> float:
        """The smoothness constant of the run's problem (seed 0), computed once."""
        if self._L is None:
            self._L = problem_L(self.run)
        return self._L

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        r = self.run
        return {"algorithm": self.algorithm_table,
                "regime": {k: r[k] for k in ("n", "f", "problem", "compressor", "aggregator", "attack")},
                "metric": self.metric, "schedule": self.schedule.describe(),
                "prediction": f"slope {self.predicted:+.3f} (O(ε^−{-2 / self.predicted:.3g}))"}

    def config(self, T: int, seed: int) -> dict:
        """The run config of horizon T and one seed, with the schedule's parameters for that T.

        Parameters
        ----------
        T : int
            The horizon.
        seed : int
            The run's seed.

        Returns
        -------
        dict
            A complete run config (η₂, and η for Byz-EF21-SGD, dropped where the method has none).
        """
        cfg = copy.deepcopy(self.run)
        cfg.update(seed=int(seed), T=int(T))
        cfg["algorithm"] = {**self.algorithm_table, **self.schedule.params(T, self.L)}
        if cfg["algorithm"]["name"] in ("byz_ef21_sgdm", "byz_ef21_sgd"):
            cfg["algorithm"].pop("eta2")
        if cfg["algorithm"]["name"] == "byz_ef21_sgd":
            cfg["algorithm"].pop("eta")
        return cfg

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
        return [self.config(T, s) for T in scale.Ts for s in scale.seeds]

    def values(self, records: dict[str, dict], scale: Scale) -> tuple[np.ndarray, list[str]]:
        """The avg_grad_sq of every run, by horizon and seed, and the ids of the diverged runs.

        Parameters
        ----------
        records : dict
            {run id: record} of at least this claim's runs.
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        values : numpy.ndarray, shape (len(scale.Ts), len(scale.seeds))
        diverged : list of str
        """
        keys = [[key(self.config(T, s)) for s in scale.seeds] for T in scale.Ts]
        vals = np.array([[records[k]["summary"]["avg_grad_sq"] for k in row] for row in keys], dtype=float)
        return vals, diverged(records, [k for row in keys for k in row])

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
        vals, bad = self.values(records, scale)
        data = {"label": self.label, "algorithm": self.algorithm_table["name"], "T": list(scale.Ts),
                "values": vals.tolist(), "predicted": self.predicted}
        if bad or not (np.isfinite(vals).all() and (vals > 0).all()):
            v = Verdict(FAIL, "every run of the prescribed schedule must converge", {"diverged_runs": bad},
                        {"slope": self.predicted}, None, f"{len(bad)} run(s) diverged")
            return self.result(v, {**data, "slope": None, "ci": None})
        fit = fit_loglog(scale.Ts, vals)
        w = upper_window(len(scale.Ts))
        fit_hi = fit_loglog(scale.Ts[-w:], vals[-w:])
        whole = rate_verdict(fit, self.predicted, self.tol, self.tol_fast)
        whole.criterion = "whole grid: " + whole.criterion
        top = rate_verdict(fit_hi, self.predicted, self.tol, self.tol_fast)
        top.criterion = f"largest {w} horizons: " + top.criterion
        v = combine([whole, top], "the slope over the whole grid AND over the largest horizons must PASS; "
                                  "either FAIL → FAIL")
        v.measured = {**whole.measured, "slope_upper": fit_hi.slope, "ci_upper": list(fit_hi.ci)}
        v.predicted, v.ci = whole.predicted, whole.ci
        return self.result(v, {**data, "slope": fit.slope, "ci": list(fit.ci), "fit": fit.as_dict(),
                               "fit_upper": fit_hi.as_dict()})


@CLAIM_KINDS.register("separation")
class SeparationClaim(Claim):
    """Claim ``faster``'s slope is steeper than ``slower``'s (same seeds, paired bootstrap).

    PASS when the CI of slope(faster) − slope(slower) lies below 0, FAIL when it lies above 0
    (:func:`theory.fitting.slope_difference`, :func:`theory.verdicts.range_verdict`).

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    faster, slower : RateClaim
        The two rate experiments (their runs are shared with them when both are in the suite).
    statement : str, optional
        What is claimed, in words.
    """

    kind = "separation"

    def __init__(self, id: str, title: str, faster: RateClaim, slower: RateClaim, statement: str = ""):
        self.id, self.title, self.statement = id, title, statement
        self.faster, self.slower = faster, slower

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"faster": self.faster.id, "slower": self.slower.id, "metric": RateClaim.metric,
                "prediction": "slope(faster) − slope(slower) < 0"}

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
        return self.faster.configs(scale) + self.slower.configs(scale)

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
        a, bad_a = self.slower.values(records, scale)
        b, bad_b = self.faster.values(records, scale)
        if bad_a or bad_b:
            return self.result(Verdict(FAIL, "both rate experiments must converge", {},
                                       None, None, "diverged runs"))
        diff, ci = slope_difference(scale.Ts, a, b)
        v = range_verdict(ci, -np.inf, 0.0, "slope difference (faster − slower)", {"difference": diff},
                          {"difference": "< 0"})
        # both curves with their own fits, for the figure (the verdict uses only the paired difference)
        curves = []
        for claim, vals in ((self.faster, b), (self.slower, a)):
            fit = fit_loglog(scale.Ts, vals)
            curves.append({"label": claim.label, "algorithm": claim.algorithm_table["name"],
                           "T": list(scale.Ts), "values": vals.tolist(), "slope": fit.slope,
                           "ci": list(fit.ci), "intercept": fit.intercept, "predicted": claim.predicted})
        return self.result(v, {"difference": diff, "ci": list(ci), "curves": curves})
