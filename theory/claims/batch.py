r"""Batch-one claim: Byz-DM21 keeps its rate at batch 1; Byz-EF21-SGD at batch 1 stalls (arXiv:2603.15144).

Regime: the rate regime (:data:`~theory.claims.base.BASE_RUN`) with ALIE at a fixed z = 1, so that the
attack exploits the spread of the good rows; without momentum that spread stays ∝ σ, which leaves a
floor ∝ δ z² σ² (Karimireddy, He, Jaggi 2021); the momenta shrink it with η. Both methods use the
Byz-DM21 schedule γ(T) (η(T) for Byz-DM21). Parts:

(a) Byz-DM21, σ² = 4: rate verdict for slope −1/2 (:func:`theory.verdicts.rate_verdict`);
(b) Byz-EF21-SGD, σ² = 4, stalls: PASS when its slope CI lies above −1/2 + tol (it does not keep the
    rate), FAIL when it lies below (it does);
(c) the floor depends on σ²: CI of mean_s log(avg_grad_sq(σ² = 4) / avg_grad_sq(σ² = 1)) at the
    largest T above 0 → PASS, below 0 → FAIL.

See :ref:`claim-kind-batch_one`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from theory.claims.base import BASE_RUN, CLAIM_KINDS, Claim, ClaimResult, Scale, Schedule
from theory.claims.rate import RateClaim
from theory.fitting import fit_loglog, log_ratio
from theory.verdicts import FAIL, TOL, Verdict, combine, range_verdict

__all__ = ["BatchOneClaim"]


@CLAIM_KINDS.register("batch_one")
class BatchOneClaim(Claim):
    """Byz-DM21 keeps O(ε⁻⁴) at batch 1; Byz-EF21-SGD at batch 1 stalls at a σ²-dependent floor.

    The rule is in the module docstring. Byz-DM21 is from Li, Liu, Yi (AISTATS 2026,
    arXiv:2603.15144); Byz-EF21-SGD from Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik (AISTATS 2024,
    arXiv:2310.09804).

    Parameters
    ----------
    id : str
        The claim id.
    title : str
        One-line title.
    schedule : theory.claims.base.Schedule
        γ(T), η(T), η₂(T) of both methods.
    sigma2s : tuple of float, optional
        The σ² values of Byz-EF21-SGD's runs, smallest first (default (1, 4)); Byz-DM21 runs at the
        largest.
    z : float, optional
        ALIE's fixed z (default 1).
    statement : str, optional
        What is claimed, in words.
    """

    kind = "batch_one"

    def __init__(self, id: str, title: str, schedule: Schedule, *, sigma2s=(1.0, 4.0), z: float = 1.0,
                 statement: str = ""):
        self.id, self.title, self.statement = id, title, statement
        self.schedule, self.sigma2s = schedule, tuple(sigma2s)

        def claim(alg, s2):
            run = copy.deepcopy(BASE_RUN)
            run["problem"]["sigma2"] = float(s2)
            run["attack"] = {"name": "alie", "z": float(z)}
            return RateClaim(f"{id}:{alg}:{s2:g}", alg, {"name": alg, "batch": 1}, schedule, -0.5, run=run)

        hi = self.sigma2s[-1]
        self.dm = claim("byz_dm21", hi)
        self.sgd = [claim("byz_ef21_sgd", s2) for s2 in self.sigma2s]

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"algorithm": ["byz_dm21 (batch 1)", "byz_ef21_sgd (batch 1)"], "regime": self.dm.run,
                "schedule": self.schedule.describe(), "metric": RateClaim.metric,
                "prediction": "Byz-DM21 slope −1/2; Byz-EF21-SGD slower, with a floor growing with σ²"}

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
        return self.dm.configs(scale) + [c for s in self.sgd for c in s.configs(scale)]

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
        dm = self.dm.evaluate(records, scale)
        vals = [s.values(records, scale) for s in self.sgd]
        if any(v[1] for v in vals):
            return self.result(Verdict(FAIL, "every run must converge or stall finitely", {}, None, None,
                                       "diverged runs"))
        fit = fit_loglog(scale.Ts, vals[-1][0])
        stall = range_verdict(fit.ci, -0.5 + TOL, np.inf, "(b) Byz-EF21-SGD slope (stalls: above −1/2 + tol)",
                              {"slope": fit.slope}, "> −1/2 + tol")
        est, ci = log_ratio(vals[0][0][-1], vals[-1][0][-1])
        floor = range_verdict(ci, 0.0, np.inf, f"(c) log ratio of Byz-EF21-SGD at T = {scale.Ts[-1]}, "
                              f"σ² = {self.sigma2s[-1]:g} vs {self.sigma2s[0]:g}", {"log_ratio": est}, "> 0")
        dm.verdict.criterion = "(a) Byz-DM21 " + dm.verdict.criterion
        v = combine([dm.verdict, stall, floor])
        v.measured = {"dm21_slope": dm.data.get("slope"), "ef21_sgd_slope": fit.slope,
                      "ef21_sgd_floor_ratio": float(np.exp(est))}
        fits = [{**dm.data, "label": f"byz_dm21, b = 1, σ² = {self.sigma2s[-1]:g}",
                 "sigma2": self.sigma2s[-1], "intercept": dm.data.get("fit", {}).get("intercept")}]
        for s2, (vs, _) in zip(self.sigma2s[::-1], vals[::-1], strict=True):  # every σ² part (c) uses
            f = fit if s2 == self.sigma2s[-1] else fit_loglog(scale.Ts, vs)
            fits.append({"label": f"byz_ef21_sgd, b = 1, σ² = {s2:g}", "algorithm": "byz_ef21_sgd",
                         "sigma2": s2, "T": list(scale.Ts), "values": vs.tolist(), "slope": f.slope,
                         "ci": list(f.ci), "intercept": f.intercept, "predicted": None})
        return self.result(v, {"fits": fits, "floor_ratio": float(np.exp(est)),
                               "floor_ratio_ci": [float(np.exp(ci[0])), float(np.exp(ci[1]))],
                               "floor_T": scale.Ts[-1], "sigma2s": list(self.sigma2s),
                               "stall_above": -0.5 + TOL})
