r"""Neighborhood claims: the Byzantine plateau of ‖∇f‖² ≈ c δ ζ² (SPEC §3, §6).

Plateau: mean of ‖∇f(x^t)‖² over the second half of a run with constant γ, η (theory.fitting.plateau),
with small noise (σ² = 0.01) so that the plateau is the heterogeneity-driven neighborhood.

A (δ, c)-robust aggregator (SPEC §3) guarantees E‖Agg − x̄_G‖² ≤ c δ ρ² whatever the Byzantine rows
are; the neighborhood bound inherits that uniformity. The claim therefore has three parts:
(a) linear in ζ² at fixed δ (log-log slope of plateau vs ζ² in [0.75, 1.25]);
(b) increasing in δ at a fixed attack (log-log slope vs δ > 0; ALIE with a fixed z = 1, because the
    "baruch" z changes with f);
(c) uniform in the attack's strength (log-log slope of the plateau vs ALIE's z ∈ {1, 10, 100} in
    [−1, 0.5]): bounded for a robust rule, ∝ z² for the mean, which is not (δ, c)-robust.
The fitted c = median over the ζ² grid of plateau/(δζ²) and its supremum over the z scan are reported.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from theory.claims.base import CLAIM_KINDS, Claim, ClaimResult, Scale
from theory.fitting import fit_loglog, log_ratio, plateau
from theory.runner import key
from theory.verdicts import FAIL, Verdict, combine, range_verdict

__all__ = ["NEIGHBORHOOD_RUN", "ComparisonClaim", "NeighborhoodClaim", "plateau_config"]

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
    """A constant-parameter run config for a plateau measurement."""
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
    """Plateau ≈ c δ ζ²: linear in ζ², increasing in δ, uniform over the attack (module docstring)."""

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
        return {"algorithm": self.algorithm_table, "regime": self.run, "metric": self.metric,
                "grids": {"zeta2": self.zeta2s, "f": self.fs, "alie_z": self.zs},
                "prediction": "plateau ≤ c δ ζ² with c uniform over attacks: slope in ζ² ≈ 1, increasing "
                              "in δ, bounded in the attack strength"}

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
        return [c for grid in self._grids(scale).values() for row in grid for c in row]

    def evaluate(self, records: dict[str, dict], scale: Scale) -> ClaimResult:
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
    """The reference method's plateau is smaller than each other method's (paired over seeds).

    PASS when, for every other method, the bootstrap CI of mean_s log(plateau_ref / plateau_other) lies
    below 0; FAIL when one lies above 0; else INCONCLUSIVE.
    """

    kind = "comparison"

    def __init__(self, id: str, title: str, methods: list[tuple[str, dict, dict | None]], *,
                 run: dict | None = None, statement: str = ""):
        self.id, self.title, self.statement = id, title, statement
        self.methods = methods  # (label, algorithm table, compressor or None); the first is the reference
        self.run = copy.deepcopy(NEIGHBORHOOD_RUN if run is None else run)

    def describe(self) -> dict[str, Any]:
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
        return [c for row in self._cfgs(scale) for c in row]

    def evaluate(self, records: dict[str, dict], scale: Scale) -> ClaimResult:
        rows = [_plateaus(records, row) for row in self._cfgs(scale)]
        if any(r[1] for r in rows):
            return self.result(Verdict(FAIL, "every plateau run must stay finite", {}, None, None,
                                       "diverged"))
        ref = rows[0][0]
        parts = []
        for (label, _, _), (p, _) in zip(self.methods[1:], rows[1:], strict=False):
            est, ci = log_ratio(p, ref)
            parts.append(range_verdict(ci, -np.inf, 0.0, f"log(plateau {self.methods[0][0]} / {label})",
                                       {"log_ratio": est, "ratio": float(np.exp(est))}, "< 0"))
        v = combine(parts)
        v.measured = {m[0]: float(np.median(p)) for m, (p, _) in zip(self.methods, rows, strict=False)}
        per_seed = {m[0]: p.tolist() for m, (p, _) in zip(self.methods, rows, strict=False)}
        ratios = [{"label": m[0], "log_ratio": p.measured["log_ratio"], "ci": list(p.ci)}
                  for m, p in zip(self.methods[1:], parts, strict=True)]
        return self.result(v, {"plateaus": v.measured, "per_seed": per_seed, "reference": self.methods[0][0],
                               "log_ratios": ratios})
