r"""
Rates across horizons: Byz-DM21 and Byz-VR-DM21
===============================================

Byz-DM21 finds an ε-stationary point in :math:`O(\varepsilon^{-4})` iterations and Byz-VR-DM21 in
:math:`O(\varepsilon^{-3})` (Li, Liu, Yi, arXiv:2603.15144, AISTATS 2026; see :ref:`algorithm-byz_dm21`,
:ref:`algorithm-byz_vr_dm21`, and the claims :ref:`claim-byz_dm21.rate` and
:ref:`claim-byz_vr_dm21.rate`). These are the complexities as byzref's claims state them: the paper's
full text was not available to byzref, so its constants and exact assumptions could not be checked. The
quantity the theorems bound is the average squared gradient norm over a run of horizon :math:`T`,

.. math::

    A(T) = \frac1T \sum_{t=0}^{T-1} \lVert \nabla f(x^t) \rVert^2
         = \mathbb{E}\,\lVert \nabla f(\hat x) \rVert^2,
    \qquad \hat x \text{ uniform over } x^0, \dots, x^{T-1}.

A bound :math:`A(T) \lesssim T^{p}` means :math:`A(T) \le \varepsilon^2` after
:math:`T \propto \varepsilon^{2/p}` iterations, so :math:`p = -1/2` is :math:`O(\varepsilon^{-4})` and
:math:`p = -2/3` is :math:`O(\varepsilon^{-3})`. Such a bound holds for a step size and momenta
chosen *for the horizon*: here each horizon :math:`T` is a separate run with the schedule of
:data:`theory.suite.DM21_SCHEDULE` or :data:`theory.suite.VR_SCHEDULE` (byzref's inferred schedules; the
paper's constants are not known),

.. math::

    \text{Byz-DM21:}\quad \eta = \eta_2 = \min(1, 2T^{-1/2}), \qquad
    \gamma = \min(0.2/L,\ \eta/L),

    \text{Byz-VR-DM21:}\quad \eta = \min(1, 2T^{-2/3}),\quad \eta_2 = \min(1, 2T^{-1/3}), \qquad
    \gamma = \min(0.2/L,\ \eta_2/L).

The exponent :math:`p` is then the slope of :math:`\log A(T)` against :math:`\log T` across horizons
(never a slope along one trajectory), fitted by :func:`theory.fitting.fit_loglog` with a bootstrap
confidence interval over seeds, and decided by the same rule as ``byzref verify`` (the claim's
:meth:`~theory.claims.rate.RateClaim.evaluate`). This page runs a small version of those two claims:
horizons :math:`2^9, \dots, 2^{14}`, four seeds each. :ref:`guide-figures` explains the figure
functions used at the end.
"""

# %%
# The regime and the schedules
# ----------------------------
# Both claims run in byzref's default rate regime (:data:`theory.claims.base.BASE_RUN`): the
# :ref:`nonconvex_synthetic <problem-nonconvex_synthetic>` problem in dimension 20 with
# homogeneous workers (ζ² = 0) and gradient noise σ² = 1, 20 workers of which the last 4 are
# Byzantine (δ = 0.2) and run ALIE on their state, CWTM aggregation and Top-k with k = 4.
# A :class:`~theory.claims.rate.RateClaim` turns a horizon and a seed into a complete run config.
import matplotlib.pyplot as plt
import numpy as np

import byzref
from plots import plot_rates
from theory.claims import RateClaim, Scale
from theory.runner import key
from theory.suite import DM21_SCHEDULE, VR_SCHEDULE

dm21 = RateClaim("byz_dm21.rate", "Byz-DM21: avg_grad_sq ∝ T^(−1/2)", {"name": "byz_dm21"},
                 DM21_SCHEDULE, predicted=-1 / 2, label="Byz-DM21")
vr_dm21 = RateClaim("byz_vr_dm21.rate", "Byz-VR-DM21: avg_grad_sq ∝ T^(−2/3)", {"name": "byz_vr_dm21"},
                    VR_SCHEDULE, predicted=-2 / 3, label="Byz-VR-DM21")
scale = Scale("gallery", Ts=tuple(2**k for k in range(9, 15)), seeds=(0, 1, 2, 3))

print(f"L = {dm21.L:g}")
for claim in (dm21, vr_dm21):
    print(f"{claim.label}: {claim.schedule.describe()}")
    for T in scale.Ts:
        p = claim.schedule.params(T, claim.L)
        print(f"  T = {T:6d}: γ = {p['gamma']:.4f}, η = {p['eta']:.4f}, η₂ = {p['eta2']:.4f}")

# %%
# Running every horizon and seed
# ------------------------------
# One engine run per (horizon, seed): 24 runs per method. ``fast=True`` asks for the compiled loop
# (compiled once, then cached on disk; the two methods share one loop), which gives the same numbers
# as the Python loop. The verifier reads each run through its record, keyed by the run id.
records = {}
for claim in (dm21, vr_dm21):
    for cfg in claim.configs(scale):
        result = byzref.run(cfg, fast=True)
        records[key(cfg)] = result.record()

# %%
# Fitting and deciding
# --------------------
# :meth:`~theory.claims.rate.RateClaim.evaluate` fits the slope over the whole grid and over its
# three largest horizons; the claim passes when both confidence intervals lie inside
# :math:`[p - 1/4,\ p + 1/12]`. The implied ε-exponent is :math:`-2/\text{slope}`.
results = [claim.evaluate(records, scale) for claim in (dm21, vr_dm21)]
for res in results:
    fit, top = res.data["fit"], res.data["fit_upper"]
    print(f"{res.id}: {res.verdict.verdict}; slope {fit['slope']:+.3f} "
          f"[{fit['ci'][0]:+.3f}, {fit['ci'][1]:+.3f}], largest horizons {top['slope']:+.3f}, "
          f"ε-exponent {fit['eps_exponent']:.2f} (predicted slope {res.data['predicted']:+.3f})")

# %%
# The rate plot
# -------------
# :func:`plots.rates.plot_rates` draws, per method, the per-seed values (faint points), their median
# per horizon (markers, with the fitted slope and its CI in the legend), the fitted line
# (dash-dot), and the reference slopes :math:`T^{-1/2}` and :math:`T^{-2/3}` (dashed; the predicted
# ones thicker). Over these short horizons Byz-VR-DM21's slope is a little steeper than −2/3: the
# fit still contains the fast initial decrease of the momentum's error. The full-scale check
# (horizons up to :math:`2^{17}`, ``byzref verify``) gives −0.50 and −0.69.
fits = [{**res.data, "intercept": res.data["fit"]["intercept"]} for res in results]
fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
plot_rates(ax, fits)
ax.set_title("avg ‖∇f‖² across horizons (nonconvex_synthetic, ALIE, CWTM, Top-k)", fontsize="medium")
ax.grid(True, which="major", alpha=0.3)
print("median over seeds at the largest horizon:",
      {f["label"]: float(np.median(f["values"][-1])) for f in fits})
