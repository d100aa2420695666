"""Attack ``adaptive_ipm``: IPM with its scale optimised each round (Allouah et al. 2023).

See :ref:`attack-adaptive_ipm`.
"""

from __future__ import annotations

import numpy as np

from byzref.attacks._adaptive import AdaptiveAttack
from byzref.attacks.base import ATTACKS

__all__ = ["AdaptiveIPM"]


@ATTACKS.register("adaptive_ipm")
class AdaptiveIPM(AdaptiveAttack):
    """Omniscient IPM: b(τ*) = −τ*·mean(H) with τ* from a bounded line search against the real aggregator.

    Definition (byzfl's ``Optimal_InnerProductManipulation``): each round maximise
    φ(τ) = ‖Agg(stack(H, f copies of b(τ))) − mean(H)‖₂, b(τ) = −τ·mean(H), with the bounded line
    search of :class:`~byzref.attacks._adaptive.AdaptiveAttack` (expansion from ``start`` doubling δ
    while φ improves, then contraction by ``ratio``), exactly ``evals`` calls of ``ctx.aggregate`` per
    round. The stacked array has the n − f good rows first and the f Byzantine rows last
    (:mod:`byzref.roles`). Origin: Xie, Koyejo, Gupta, UAI 2019 (IPM); Allouah, Farhadkhani,
    Guerraoui, Gupta, Pinot, Stephan, AISTATS 2023 (the optimised form). See
    :ref:`attack-adaptive_ipm`.

    Parameters
    ----------
    evals : int, default 20
        Evaluations of φ per round (= ``ctx.aggregate`` calls), in [1, 10⁶].
    start : float, default 0.0
        Initial scale τ.
    delta : float, default 10.0
        Initial step, nonzero; its sign is the search direction.
    ratio : float, default 0.8
        Step shrink factor in (0, 1).

    Notes
    -----
    The defaults are byzfl's. Requires ``AttackContext.aggregate`` (side-effect free).
    """

    _kernel_mode = 0

    def _line(self, H, mean):
        return None, np.negative(mean)
