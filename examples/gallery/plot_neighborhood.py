r"""
The Byzantine neighborhood: plateau against heterogeneity
=========================================================

With heterogeneous workers no robust method converges to a stationary point: the aggregator cannot tell
a Byzantine vector from an honest one that is merely different, and the iterates settle in a
neighborhood. For Byz-DM21 (Li, Liu, Yi, arXiv:2603.15144, AISTATS 2026; see :ref:`algorithm-byz_dm21`
and the claim :ref:`claim-byz_dm21.neighborhood`) byzref's claim is that the bound leaves, besides the
terms that vanish with the horizon, a term of order :math:`c\,\delta\zeta^2`, the usual form of such
neighborhoods under robust aggregation (the paper's full text was not available to byzref, so its exact
term could not be checked), where :math:`\delta = f/n` is the Byzantine fraction, :math:`\zeta^2` the
heterogeneity

.. math::

    \frac{1}{|\mathcal G|} \sum_{i \in \mathcal G} \lVert \nabla f_i(x) - \nabla f(x) \rVert^2
    \le \zeta^2 \quad \text{for all } x ,

and :math:`c` comes from the aggregator's robustness: a :math:`(\delta, c)`-robust rule
(Karimireddy, He, Jaggi, ICLR 2022) guarantees
:math:`\mathbb E\lVert \mathrm{Agg} - \bar x_{\mathcal G} \rVert^2 \le c\,\delta\rho^2` whatever the
Byzantine rows are, when the honest rows spread by at most :math:`\rho^2`. So the bound predicts a
plateau that grows at most linearly in :math:`\zeta^2` and :math:`\delta`, with one constant
:math:`c` for every attack.

This page measures the plateau (the mean of :math:`\lVert\nabla f(x^t)\rVert^2` over the second half of
a run with constant :math:`\gamma, \eta`, :func:`theory.fitting.plateau`) on :ref:`nonconvex_synthetic
<problem-nonconvex_synthetic>`, whose :math:`\zeta^2` is exact, with small gradient noise
(:math:`\sigma^2 = 0.01`) so that the plateau is the heterogeneity term. It is a reduced version of the
runs behind :ref:`claim-byz_dm21.neighborhood`; :ref:`guide-figures` describes the plotting functions.
"""

# %%
# The regime
# ----------
# :data:`theory.claims.neighborhood.NEIGHBORHOOD_RUN` is the claim's regime: :math:`d = 20`,
# :math:`n = 20`, :math:`f = 4`, Top-k with :math:`k = 4`, CWTM under ALIE on the Byzantine state.
# :func:`theory.claims.neighborhood.plateau_config` makes one constant-parameter run config of it
# with :math:`\zeta^2`, :math:`f` or ALIE's strength :math:`z` replaced. Byz-DM21 runs with
# :math:`\gamma = 0.1/L` (:math:`L = 3`) and :math:`\eta = \eta_2 = 0.2`, :math:`T = 2000`, three seeds.
import matplotlib.pyplot as plt
import numpy as np

import byzref
from plots import plot_neighborhood
from theory.claims.neighborhood import NEIGHBORHOOD_RUN, plateau_config
from theory.fitting import fit_loglog, plateau

ALGORITHM = {"name": "byz_dm21", "gamma": 0.1 / 3.0, "eta": 0.2}  # η₂ defaults to η
T, SEEDS = 2000, (0, 1, 2)
ZETA2 = (0.25, 1.0, 4.0, 16.0)


def plateaus(run, **change):
    """The plateau of ‖∇f‖² of every seed, for one setting."""
    out = []
    for seed in SEEDS:
        res = byzref.run(plateau_config(run, ALGORITHM, T, seed, **change))
        out.append(plateau(res.curves["iteration"], res.curves["grad_sq"]))
    return out


print({k: NEIGHBORHOOD_RUN[k] for k in ("n", "f", "aggregator", "attack", "compressor")})

# %%
# Scanning the heterogeneity at two Byzantine fractions
# -----------------------------------------------------
# For δ = 0.2 (f = 4) and δ = 0.1 (f = 2), ζ² runs over 0.25 … 16. ALIE keeps its default strength,
# :math:`z` from Baruch et al.'s rule for (n, f). The slope of log plateau against log ζ² should be
# close to 1, and :math:`c` = the median over ζ² of plateau / (δζ²) is the fitted constant.
series = []
for f in (4, 2):
    delta = f / NEIGHBORHOOD_RUN["n"]
    values = np.array([plateaus(NEIGHBORHOOD_RUN, zeta2=z2, f=f) for z2 in ZETA2])
    fit = fit_loglog(ZETA2, values)
    c = float(np.median(values.mean(axis=1) / (delta * np.array(ZETA2))))
    print(f"δ = {delta:.1f}: slope in ζ² = {fit.slope:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}], c = {c:.4f}")
    series.append({"label": f"δ = {delta:.1f} (f = {f})", "x": delta * np.array(ZETA2),
                   "plateau": values.mean(axis=1), "c": c})

# %%
# The attack's strength
# ---------------------
# A :math:`(\delta, c)`-robust aggregator bounds the plateau whatever the attack does; the plain mean
# is not robust, and ALIE's shift :math:`z` standard deviations away from the honest mean passes
# straight into its output. At ζ² = 1, z runs over 0.3 … 30 for CWTM and for the mean.
ZS = (0.3, 1.0, 3.0, 10.0, 30.0)
by_rule = {}
for rule in ("cwtm", "mean"):
    run = {**NEIGHBORHOOD_RUN, "aggregator": rule}
    by_rule[rule] = np.array([np.mean(plateaus(run, z=z)) for z in ZS])
    print(rule, " ".join(f"z = {z:g}: {p:.3g}" for z, p in zip(ZS, by_rule[rule], strict=True)))

# %%
# The figures
# -----------
# Left, :func:`plots.neighborhood.plot_neighborhood`: the plateau (mean over seeds) against
# :math:`\delta\zeta^2` with the line :math:`c\,\delta\zeta^2` of each series. Both series are linear
# in ζ², but the two δ give two different constants: halving δ more than halves the plateau. That is
# consistent with the bound, which is an upper bound and predicts no exponent in δ (the default-scale
# verification fits plateau ∝ δ^2.28). Right: against ALIE's :math:`z`, CWTM's plateau levels off at
# a bounded value while the mean's grows like :math:`z^2` (dotted guide).
fig, (ax_left, ax_right) = plt.subplots(1, 2, figsize=(10.0, 4.4), layout="constrained")
plot_neighborhood(ax_left, series)
ax_left.set_title("Byz-DM21: plateau ≈ c δ ζ² (CWTM under ALIE)", fontsize="medium")
ax_left.legend(fontsize="small")
ax_left.grid(True, alpha=0.3)

for rule, label, color, marker in (("cwtm", "CWTM", "C3", "o"), ("mean", "mean (not robust)", "C0", "s")):
    ax_right.plot(ZS, by_rule[rule], color=color, marker=marker, label=f"Byz-DM21, {label}")
guide = by_rule["mean"][-1] * (np.array(ZS) / ZS[-1]) ** 2
ax_right.plot(ZS, guide, color="0.5", linestyle=":", label="∝ z² guide")
ax_right.set_xscale("log")
ax_right.set_yscale("log")
ax_right.set_xlabel("ALIE strength z")
ax_right.set_ylabel("plateau of ‖∇f(xᵗ)‖²")
ax_right.set_title("the attack's strength at ζ² = 1, δ = 0.2", fontsize="medium")
ax_right.legend(fontsize="small")
ax_right.grid(True, alpha=0.3)
