r"""
The paper's grid: aggregators × attacks on real data
====================================================

The authors' released scripts for the logistic-regression experiments of Li, Liu, Yi (arXiv:2603.15144,
AISTATS 2026) lay their figures out with one panel per robust aggregator (rows) and Byzantine attack
(columns), with the convergence curve of every method in each panel, each method at the step size that
suits it best in that panel. ``examples/paper_logreg.toml`` is that layout in full (six methods, three
aggregators after NNM, four attacks, three step sizes, three seeds: 648 runs); this page runs a small
slice of it in about twenty seconds.

**Problem.** Logistic regression with the nonconvex regulariser of EF21 on the UCI breast-cancer set
bundled with byzref (569 samples, :math:`d = 30`; it stands in for the paper's LIBSVM a9a, which is
not available offline), split over :math:`n = 20` workers of which the last :math:`f = 8` are
Byzantine (:math:`\delta = 0.4`), see :ref:`problem-logreg_nonconvex`:

.. math::

    f_i(x) = \frac{1}{m_i} \sum_{j \in D_i} \log\bigl(1 + e^{-y_j a_j^\top x}\bigr)
             + \lambda \sum_{k=1}^{d} \frac{x_k^2}{1 + x_k^2}, \qquad \lambda = 0.1 .

**Methods.** Byz-DM21 (:ref:`algorithm-byz_dm21`) against its single-momentum baseline Byz-EF21-SGDM
(:ref:`algorithm-byz_ef21_sgdm`), both with Top-1 compression, batch 1 and momentum
:math:`\eta = 1 - \beta` as in the authors' scripts (:math:`\beta = 0.9` for the double momentum,
:math:`\beta = 0.99` for Byz-EF21-SGDM).

**Grid.** Aggregators NNM + CWTM, NNM + GM and CWMed (:ref:`math-aggregators`) × attacks sign
flip, IPM and ALIE (:ref:`math-attacks`; byzref's sign flip sends minus the mean of the honest
messages, where the authors' code negates one honest message drawn at random), step sizes
:math:`\gamma \in \{0.5, 0.05\}`, two seeds, :math:`T = 600` (about 20 passes over each worker's
data at batch 1; the full layout runs 40). Per panel and method the step size with the smallest
median over seeds of :math:`\frac1T\sum_{t<T}\lVert\nabla f(x^t)\rVert^2` is kept
(:func:`byzref.select.best_step`, what ``byzref plot --kind grid`` does). The same figure from the
command line is described in :ref:`guide-sweeps` and :ref:`guide-figures`.
"""

# %%
# The sweep
# ---------
# A sweep is a run config in which every list is a grid axis; the ``case`` entries are partial
# configs merged into it (here: one per method, with its compressor and momentum).
# :func:`byzref.sweep.expand` validates and expands it into the list of run configs.
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from byzref.select import best_step, group
from byzref.store import ResultStore
from byzref.sweep import expand, run_sweep
from plots import plot_grid

sweep = {
    "seed": [123, 124],
    "n": 20,
    "f": 8,
    "T": 600,
    "aggregator": ["nnm+cwtm", "nnm+gm", "cwmed"],
    "problem": {"name": "logreg_nonconvex", "data": "breast_cancer"},
    "algorithm": {"gamma": [0.5, 0.05]},
    "attack": {"name": ["sign_flip", "ipm", "alie"]},
    "record": {"log": 60},
    "case": [
        {"algorithm": {"name": "byz_dm21", "eta": 0.1}, "compressor": {"name": "top_k", "k": 1}},
        {"algorithm": {"name": "byz_ef21_sgdm", "eta": 0.01}, "compressor": {"name": "top_k", "k": 1}},
    ],
}
configs = expand(sweep)
print(f"{len(configs)} runs")

# %%
# Running it into a results store
# -------------------------------
# :func:`byzref.sweep.run_sweep` runs every config into an append-only results store (a temporary
# directory here, so nothing is left behind) and skips runs already stored; ``workers=1`` runs them in
# this process. The store's :meth:`~byzref.store.ResultStore.results` reads them back with their
# curves.
with tempfile.TemporaryDirectory() as tmp:
    summary = run_sweep(configs, tmp, workers=1)
    runs = list(ResultStore(tmp).results())
print({k: summary[k] for k in ("total", "ok", "stalled", "diverged", "failed")})

# %%
# The best step size per panel and method
# ---------------------------------------
# A run counts as ``stalled`` when the median of ‖∇f‖² over its second half stays above a tenth of
# ‖∇f(x⁰)‖²; most runs at γ = 0.5 do (they oscillate instead of converging). The selection keeps
# γ = 0.05 in every panel but one (Byz-DM21 with CWMed under IPM, where γ = 0.5 has the smaller
# median average). The table shows the γ chosen in every panel.
selection = best_step(runs, metric="avg_grad_sq", group_by=("method", "aggregator", "attack"))
for (method, aggregator, attack), gamma in sorted(selection.chosen.items()):
    print(f"{method:22s} {aggregator:9s} {attack:10s} γ = {gamma}")

# %%
# The grid figure
# ---------------
# :func:`plots.grid.plot_grid` draws one panel per (aggregator, attack): the median over the seeds of
# ‖∇f(xᵗ)‖² per method with the per-seed curves faint, one legend for the figure. Columns share
# their y-axis, so the attacks can be compared down a column.
fig = plt.figure(figsize=(9.5, 7.0), layout="constrained")
axes = plot_grid(fig, selection.runs, rows="aggregator", cols="attack",
                 row_order=["nnm+cwtm", "nnm+gm", "cwmed"], col_order=["sign_flip", "ipm", "alie"],
                 sharey="col")
fig.suptitle("Byz-DM21 vs Byz-EF21-SGDM on breast_cancer (n = 20, f = 8, Top-1), best γ per panel")

# %%
# Reading the figure
# ------------------
# In every panel Byz-DM21 reaches its floor in fewer iterations (about 150 against 300–400 for
# Byz-EF21-SGDM at γ = 0.05, whose single momentum with η = 0.01 averages over about 100 rounds).
# The final values are not ordered the same way everywhere: Byz-DM21 ends lower under IPM after
# NNM, Byz-EF21-SGDM under the sign flip, and both curves still move up and down by factors of 2–4
# after reaching their floors, so one final value at T = 600 with two seeds ranks little. The
# median over seeds of the last ‖∇f‖² in every panel:
for (method, aggregator, attack), members in sorted(group(selection.runs, ("method", "aggregator",
                                                                          "attack")).items()):
    final = np.median([r.curves["grad_sq"][-1] for r in members])
    print(f"{method:22s} {aggregator:9s} {attack:10s} final ‖∇f‖² = {final:.2e}")
