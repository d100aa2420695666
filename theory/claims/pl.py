r"""PL claims: with constant γ, η, f(x^t) − f* contracts linearly, factor 1 − Θ(γμ), to a σ²-floor.

Problem: the PL ``quadratic`` problem (d = 20, L = 1, μ = 0.1, two zero eigenvalues: PL, not strongly
convex), homogeneous, n = 20, f = 4, Top-k (k = 4), CWTM under ALIE. Runs use the engine's general loop.

Fit (:func:`theory.fitting.fit_contraction`): per-iteration rate r of log(f − f*) over the stretch
above 10 × floor, per seed. Parts of the verdict:

(a) r ∝ γ: log-log slope of r vs γ ∈ {0.05, 0.1, 0.2} (σ² = 10⁻⁴) inside [0.75, 1.25];
(b) Θ(γμ): the CI of r/(γμ) at every γ inside [0.5, 8] (for gradient descent on a quadratic the
    slowest mode gives r → 2γμ; faster modes still present in the fitted stretch push it up);
(c) the floor (median gap over the last quarter) scales with σ²: log-log slope vs σ² ∈ {10⁻⁴, 10⁻³,
    10⁻²} (γ = 0.1) inside [0.75, 1.25].

See :ref:`claim-kind-pl`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from theory.claims.base import CLAIM_KINDS, Claim, ClaimResult, Scale
from theory.fitting import _widen, fit_contraction, fit_loglog
from theory.runner import key
from theory.verdicts import FAIL, Verdict, combine, range_verdict

__all__ = ["PL_RUN", "PLClaim"]

#: the PL regime: quadratic (d = 20, L = 1, μ = 0.1, two zero eigenvalues), n = 20, f = 4, Top-k (k = 4),
#: CWTM under ALIE
PL_RUN: dict[str, Any] = {
    "n": 20, "f": 4,
    "problem": {"name": "quadratic", "d": 20, "L": 1.0, "mu": 0.1, "zero_eigs": 2, "sigma2": 1e-4,
                "zeta2": 0.0},
    "compressor": {"name": "top_k", "k": 4},
    "aggregator": "cwtm",
    "attack": {"name": "alie"},
}


def _boot_ci(x: np.ndarray, seed: int = 0, n_boot: int = 4000) -> tuple[float, float]:
    idx = np.random.default_rng(seed).integers(0, len(x), size=(n_boot, len(x)))
    return _widen(x[idx].mean(axis=1), float(x.mean()), len(x), max(1, len(x) - 1), 0.95)


@CLAIM_KINDS.register("pl")
class PLClaim(Claim):
    """Linear contraction of f − f* at rate Θ(γμ) down to a floor ∝ σ² (module docstring).

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    algorithm : dict
        The engine's [algorithm] table without γ and η (e.g. {"name": "byz_dm21"}).
    eta : float, optional
        The constant momentum η (= η₂; default 0.5).
    T : int, optional
        Iterations of every run (default 1500).
    gammas : tuple of float, optional
        Constant step sizes of part (a) (default (0.05, 0.1, 0.2)); part (c) uses the middle one.
    sigma2s : tuple of float, optional
        Noise levels of part (c) (default (10⁻⁴, 10⁻³, 10⁻²)); parts (a) and (b) use the first.
    run : dict or None, optional
        The rest of the run config (default ``PL_RUN``); its problem must state ``mu``.
    statement : str, optional
        What is claimed, in words.
    label : str or None, optional
        The method's label in the figure (default: the id).
    """

    kind = "pl"
    metric = "f(x^t) − f* per checkpoint (every 10 iterations)"

    def __init__(self, id: str, title: str, algorithm: dict, *, eta: float = 0.5, T: int = 1500,
                 gammas=(0.05, 0.1, 0.2), sigma2s=(1e-4, 1e-3, 1e-2), run: dict | None = None,
                 statement: str = "", label: str | None = None):
        self.id, self.title, self.statement = id, title, statement
        self.algorithm_table, self.eta, self.T = dict(algorithm), eta, T
        self.gammas, self.sigma2s = tuple(gammas), tuple(sigma2s)
        self.run = copy.deepcopy(PL_RUN if run is None else run)
        self.label = label or id

    def describe(self) -> dict[str, Any]:
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"algorithm": self.algorithm_table, "regime": self.run, "metric": self.metric,
                "schedule": f"constant γ ∈ {self.gammas}, η = η₂ = {self.eta}, T = {self.T}",
                "prediction": "f − f* ≤ (1 − Θ(γμ))^t Δ + floor(σ²)"}

    def _cfg(self, gamma: float, sigma2: float, seed: int) -> dict:
        cfg = copy.deepcopy(self.run)
        cfg["problem"]["sigma2"] = float(sigma2)
        cfg.update(seed=int(seed), T=self.T, record={"every": 10},
                   algorithm={**self.algorithm_table, "gamma": float(gamma), "eta": self.eta})
        return cfg

    def _grid(self, scale: Scale):
        s0, g0 = self.sigma2s[0], self.gammas[len(self.gammas) // 2]
        return ([[self._cfg(g, s0, s) for s in scale.seeds] for g in self.gammas],
                [[self._cfg(g0, s2, s) for s in scale.seeds] for s2 in self.sigma2s])

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
        a, b = self._grid(scale)
        return [c for row in a + b for c in row]

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
        grid_g, grid_s = self._grid(scale)
        recs = [[records[key(c)] for c in row] for row in grid_g + grid_s]
        if any(r["status"] == "diverged" for row in recs for r in row):
            return self.result(Verdict(FAIL, "every run must stay finite", {}, None, None, "diverged"))
        fits = [[fit_contraction(r["curves"]["iteration"],
                                 r["curves"]["f_gap"]) for r in row] for row in recs]
        G = len(self.gammas)
        rates = np.array([[f["rate"] for f in row] for row in fits[:G]])
        floors = np.array([[f["floor"] for f in row] for row in fits[G:]])
        if not (np.isfinite(rates).all() and (rates > 0).all() and (floors > 0).all()):
            return self.result(Verdict(FAIL, "f − f* must contract before its floor",
                                       {"rates": rates.tolist()},
                                       None, None, "no linear stretch"))
        mu = float(self.run["problem"]["mu"])
        fr = fit_loglog(self.gammas, rates)
        ff = fit_loglog(self.sigma2s, floors)
        norm = rates / (np.array(self.gammas)[:, None] * mu)
        cis = [_boot_ci(row) for row in norm]
        ci_norm = (min(c[0] for c in cis), max(c[1] for c in cis))
        slope_band, norm_band = (0.75, 1.25), (0.5, 8.0)
        parts = [range_verdict(fr.ci, *slope_band, "(a) slope of rate vs γ", {"slope": fr.slope}, 1.0),
                 range_verdict(ci_norm, *norm_band, "(b) rate/(γμ) at every γ",
                               {"rate_over_gamma_mu": norm.mean(axis=1).tolist()}, "Θ(1)"),
                 range_verdict(ff.ci, *slope_band, "(c) slope of floor vs σ²", {"slope": ff.slope}, 1.0)]
        v = combine(parts)
        v.measured = {"factor": np.exp(-rates.mean(axis=1)).tolist(), "gammas": list(self.gammas),
                      "rate_over_gamma_mu": norm.mean(axis=1).tolist(), "floor_slope": ff.slope,
                      "rate_slope": fr.slope}
        mid = len(self.gammas) // 2
        r0 = recs[mid][0]
        curves = [{"label": f"{self.label} (γ = {self.gammas[mid]:g})", "t": r0["curves"]["iteration"],
                   "gap": r0["curves"]["f_gap"], "rate": float(np.exp(-rates[mid].mean()))}]
        # every γ and σ² the verdict uses: seed 0's curve, the seed-mean rate and the σ² floors
        g0, s0 = self.gammas[mid], self.sigma2s[0]
        gamma_curves = [{"gamma": g, "sigma2": s0, "t": rec[0]["curves"]["iteration"],
                         "gap": rec[0]["curves"]["f_gap"], "rate": float(rates[i].mean()),
                         "factor": float(np.exp(-rates[i].mean())),
                         "rate_over_gamma_mu": float(norm[i].mean()),
                         "rate_over_gamma_mu_ci": list(cis[i])}
                        for i, (g, rec) in enumerate(zip(self.gammas, recs[:G], strict=True))]
        sigma2_curves = [{"gamma": g0, "sigma2": s2, "t": rec[0]["curves"]["iteration"],
                          "gap": rec[0]["curves"]["f_gap"], "floor": float(np.exp(np.log(floors[j]).mean())),
                          "floors": floors[j].tolist()}
                         for j, (s2, rec) in enumerate(zip(self.sigma2s, recs[G:], strict=True))]
        return self.result(v, {"curves": curves, "label": self.label,
                               "algorithm": self.algorithm_table["name"], "mu": mu,
                               "gamma_curves": gamma_curves, "sigma2_curves": sigma2_curves,
                               "rate_slope": fr.slope, "rate_slope_ci": list(fr.ci), "floor_slope": ff.slope,
                               "floor_slope_ci": list(ff.ci), "rate_over_gamma_mu_band": list(norm_band),
                               "slope_band": list(slope_band)})
