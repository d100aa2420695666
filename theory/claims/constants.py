r"""Component constants as claims: compressors' α / ω and aggregators' κ.

* compressors — for every registered compressor (its ``test_config``), on fixed random rows
  (d = 20; Gaussian, sparse and spiky rows) the empirical E‖C(x) − x‖²/‖x‖² is compared with the
  declared 1 − α (class 𝔹(α)) or ω (class 𝕌(ω)) by :func:`byzref.testing.check_contractive` /
  :func:`~byzref.testing.check_unbiased` (Monte Carlo with z = 6 standard errors). PASS when every
  declared constant holds, FAIL otherwise. The empirical α (1 − worst ratio) and ω (worst ratio over
  the rows, 4000 draws) are reported next to the declared values; being Monte Carlo maxima they can
  miss the declared value by sampling error (the verdict accounts for it, the table does not).
* aggregators (informational) — the (f, κ)-robustness constant witnessed by
  :func:`byzref.testing.empirical_kappa` for n = 10, f = 2, d = 5, under the attack library applied to
  fixed Gaussian good rows (sign_flip, ipm, alie, alie with z = 100, gaussian σ_a = 10), reported next to
  the lower bound f/(n − 2f) that no rule beats, and the (δ, c) constant the same inputs witness,
  c_emp = max over attacks of ‖Agg − x̄_G‖² / (δ ρ²) with ρ² = max_{i,j∈G} ‖x_i − x_j‖²
  (Karimireddy, He, Jaggi, ICLR 2022).
  PASS when every rule that declares κ satisfies κ_emp ≤ κ; the numbers are the point.

See :ref:`claim-kind-compressor_constants` and :ref:`claim-kind-aggregator_kappa`.
"""

from __future__ import annotations

import numpy as np

from theory.claims.base import CLAIM_KINDS, Claim, ClaimResult, Scale
from theory.verdicts import FAIL, PASS, Verdict

__all__ = ["AggregatorKappaClaim", "CompressorConstantsClaim"]


def _rows(d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, d))
    X[1, 3:] = 0.0                           # sparse
    X[2] *= np.geomspace(1e-3, 1e3, d)       # spread magnitudes
    X[3] = 0.0
    X[3, 0] = 5.0                            # one spike
    X[4] = np.abs(X[4])                      # all positive
    return X


@CLAIM_KINDS.register("compressor_constants")
class CompressorConstantsClaim(Claim):
    """Every compressor satisfies its declared α (𝔹(α)) and/or ω (𝕌(ω)) (module docstring).

    No engine runs: the Monte-Carlo checks run inside :meth:`evaluate`.

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    d : int, optional
        Dimension of the test rows (default 20).
    n_samples : int, optional
        Draws per row for a randomised compressor (default 4000).
    statement : str, optional
        What is claimed, in words.
    """

    kind = "compressor_constants"

    def __init__(self, id: str, title: str, d: int = 20, n_samples: int = 4000, statement: str = ""):
        self.id, self.title, self.statement, self.d, self.n_samples = id, title, statement, d, n_samples

    def describe(self):
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"regime": {"d": self.d, "rows": "6 fixed rows (Gaussian, sparse, spread, spike, positive)"},
                "metric": "E‖C(x) − x‖²/‖x‖² (Monte Carlo, n_samples draws)",
                "prediction": "≤ 1 − α (contractive) and ≤ ω with E C(x) = x (unbiased)"}

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
            Always empty: nothing runs in the engine.
        """
        return []

    def evaluate(self, records, scale: Scale) -> ClaimResult:
        """Decide the claim from its runs' records (see :meth:`theory.claims.base.Claim.evaluate`).

        Parameters
        ----------
        records : dict
            Unused (the claim has no engine runs).
        scale : theory.claims.base.Scale
            The scale the configs were made for.

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        from byzref.compressors import COMPRESSORS
        from byzref.testing import check_contractive, check_unbiased

        X, d, rows, bad = _rows(self.d), self.d, [], []
        for name in COMPRESSORS.names():
            comp = COMPRESSORS.build({"name": name, **COMPRESSORS.get(name).test_config})
            for kind, check, declared in (("alpha", check_contractive, comp.alpha(d)),
                                          ("omega", check_unbiased, comp.omega(d))):
                if declared is None:
                    continue
                rng = np.random.default_rng(1)
                S = np.stack([comp(X, rng) for _ in range(1 if comp.deterministic else self.n_samples)])
                ratio = float((((S - X) ** 2).sum(axis=2).mean(axis=0)[X.any(axis=1)]
                               / (X**2).sum(axis=1)[X.any(axis=1)]).max())
                emp = 1.0 - ratio if kind == "alpha" else ratio
                try:
                    check(comp, X, declared, rng=np.random.default_rng(2), n_samples=self.n_samples)
                    ok = True
                except AssertionError:
                    ok = False
                    bad.append(f"{name}.{kind}")
                rows.append({"compressor": name, "constant": kind, "declared": float(declared),
                             "empirical": emp, "holds": ok})
        v = Verdict(FAIL if bad else PASS,
                    "every declared constant holds (Monte Carlo, z = 6 standard errors)",
                    {"table": rows}, "declared α / ω", None, ("violated: " + ", ".join(bad)) if bad else
                    f"{len(rows)} declared constants hold")
        return self.result(v, {"table": rows})


@CLAIM_KINDS.register("aggregator_kappa")
class AggregatorKappaClaim(Claim):
    """Empirical κ of every aggregator under the attack library vs the lower bound f/(n − 2f).

    Informational (reported, not counted); no engine runs. The (f, κ)-robustness definition is
    Allouah et al. (AISTATS 2023, arXiv:2302.01772).

    Parameters
    ----------
    id, title : str
        The claim id and a one-line title.
    n, f, d : int, optional
        Workers, Byzantine workers and dimension of the test rows (defaults 10, 2, 5).
    statement : str, optional
        What is claimed, in words.
    """

    kind = "aggregator_kappa"
    informational = True

    def __init__(self, id: str, title: str, n: int = 10, f: int = 2, d: int = 5, statement: str = ""):
        self.id, self.title, self.statement, self.n, self.f, self.d = id, title, statement, n, f, d

    def describe(self):
        """The claim's descriptive fields (see :meth:`theory.claims.base.Claim.describe`).

        Returns
        -------
        dict
        """
        return {"regime": {"n": self.n, "f": self.f, "d": self.d},
                "attacks": ["sign_flip", "ipm", "alie", "alie(z=100)", "gaussian(10)"],
                "prediction": "κ_emp ≤ declared κ; lower bound f/(n − 2f) = "
                              f"{self.f / (self.n - 2 * self.f):.3g}"}

    def configs(self, scale: Scale) -> list[dict]:
        """The run configs that test the claim at ``scale`` (see :meth:`theory.claims.base.Claim.configs`).

        Parameters
        ----------
        scale : theory.claims.base.Scale
            Horizons and seeds.

        Returns
        -------
        list of dict
            Always empty: nothing runs in the engine.
        """
        return []

    def evaluate(self, records, scale: Scale) -> ClaimResult:
        """Decide the claim from its runs' records (see :meth:`theory.claims.base.Claim.evaluate`).

        Parameters
        ----------
        records : dict
            Unused (the claim has no engine runs).
        scale : theory.claims.base.Scale
            The scale the configs were made for.

        Returns
        -------
        theory.claims.base.ClaimResult
        """
        from byzref.aggregators import AGGREGATORS
        from byzref.attacks import ATTACKS
        from byzref.attacks.base import AttackContext
        from byzref.testing import empirical_kappa

        n, f, d = self.n, self.f, self.d
        H = np.random.default_rng(0).standard_normal((n - f, d))
        attacks = [{"name": "sign_flip"}, {"name": "ipm"}, {"name": "alie"}, {"name": "alie", "z": 100.0},
                   {"name": "gaussian", "sigma": 10.0}]
        rows, bad = [], []
        for name in AGGREGATORS.names():
            agg = AGGREGATORS.build({"name": name, **AGGREGATORS.get(name).test_config}, f=f)
            worst, worst_attack, c_emp = 0.0, "", 0.0
            rho2 = float(max(((H[i] - H[j]) ** 2).sum() for i in range(n - f) for j in range(i)))
            for spec in attacks:
                att = ATTACKS.build(dict(spec))
                ctx = AttackContext(n=n, f=f, aggregate=lambda X, a=agg: a.evaluate(X))
                X = np.vstack([H, att(H, ctx, np.random.default_rng(3))])
                agg.reset()
                k = empirical_kappa(agg, X, f)
                err = float(((agg.evaluate(X) - H.mean(axis=0)) ** 2).sum())
                c_emp = max(c_emp, err / (f / n * rho2))
                if k > worst:
                    worst, worst_attack = k, str(spec)
            declared = agg.kappa(n)
            ok = declared is None or worst <= declared * (1 + 1e-9)
            if not ok:
                bad.append(name)
            rows.append({"aggregator": name, "kappa_empirical": worst, "worst_attack": worst_attack,
                         "c_empirical": c_emp,
                         "kappa_declared": declared, "lower_bound": f / (n - 2 * f)})
        v = Verdict(FAIL if bad else PASS, "κ_emp ≤ declared κ for every rule that declares one",
                    {"table": rows}, {"lower_bound": f / (n - 2 * f)}, None,
                    ("exceeded: " + ", ".join(bad)) if bad else "no declared κ exceeded")
        return self.result(v, {"table": rows})
