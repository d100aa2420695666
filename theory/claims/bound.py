r"""User claims with explicit constants: empirical ≤ bound·(1 + rtol) (PEPit style).

Example (a theorem that holds exactly): Byz-DM21 with η = η₂ = 1, the identity compressor, mean
aggregation, f = 0 and σ² = 0 is gradient descent, and for γ ≤ 1/L the descent lemma gives
(1/T) Σ_{t<T} ‖∇f(x^t)‖² ≤ (f(x⁰) − f*) / (γ (1 − Lγ/2) T)::

    BoundClaim("gd.descent", "GD descent lemma", run, metric="avg_grad_sq",
               bound=lambda prob, cfg: prob.gap(prob.x0()) / (g * (1 - prob.constants.L * g / 2) * cfg["T"]))

(with ``g`` the run's γ). See :ref:`claim-kind-bound` and :ref:`guide-own-claim`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from theory.claims.base import CLAIM_KINDS, Claim, ClaimResult, Scale
from theory.runner import key
from theory.verdicts import FAIL, Verdict, bound_verdict

__all__ = ["BoundClaim"]


@CLAIM_KINDS.register("bound")
class BoundClaim(Claim):
    """For every seed of the scale: summary[metric] ≤ bound(problem, config)·(1 + rtol).

    The decision is :func:`theory.verdicts.bound_verdict` on the seed with the largest
    empirical/bound ratio; a diverged run FAILs.

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    run : dict
        A complete engine run config except the seed (set per seed of the scale).
    bound : callable
        ``bound(problem, config) -> float``; the problem is built exactly as the engine builds it for
        that seed, so its constants (``prob.constants``: L, L_tilde, mu, sigma2, zeta2) and
        ``prob.gap(prob.x0())`` are the run's; ``config`` is the run config with its seed.
    metric : str, optional
        A key of the run summary (default "avg_grad_sq" = (1/T) Σ_{t<T} ‖∇f(x^t)‖²).
    rtol : float, optional
        Relative slack of the comparison (default 0).
    statement : str, optional
        What is claimed, in words.
    source : str, optional
        Where the bound comes from (default "user").
    """

    kind = "bound"

    def __init__(self, id: str, title: str, run: dict, bound: Callable[[Any, dict], float], *,
                 metric: str = "avg_grad_sq", rtol: float = 0.0, statement: str = "", source: str = "user"):
        self.id, self.title, self.statement, self.source = id, title, statement, source
        self.run, self.bound, self.metric, self.rtol = copy.deepcopy(run), bound, metric, float(rtol)

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"regime": self.run, "metric": self.metric, "prediction": f"≤ bound·(1 + {self.rtol:g})"}

    def _cfg(self, seed: int) -> dict:
        return {**copy.deepcopy(self.run), "seed": int(seed)}

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
        return [self._cfg(s) for s in scale.seeds]

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
        from byzref.config import build

        worst, emp, bnd = -np.inf, np.nan, np.nan
        for s in scale.seeds:
            cfg = self._cfg(s)
            rec = records[key(cfg)]
            if rec["status"] == "diverged":
                return self.result(Verdict(FAIL, "the run must not diverge", {}, None, None,
                                           f"seed {s} diverged"))
            b = float(self.bound(build(cfg).problem, cfg))
            e = float(rec["summary"][self.metric])
            if e / b > worst:
                worst, emp, bnd = e / b, e, b
        v = bound_verdict(emp, bnd, self.rtol, self.metric)
        v.measured["worst_ratio_over_seeds"] = worst
        return self.result(v, {"empirical": emp, "bound": bnd})
