"""Attack ``adaptive_ipm``: IPM with its scale optimised each round (Allouah et al. 2023)."""

from __future__ import annotations

import numpy as np

from byzref.attacks._adaptive import AdaptiveAttack
from byzref.attacks.base import ATTACKS


@ATTACKS.register("adaptive_ipm")
class AdaptiveIPM(AdaptiveAttack):
    """Omniscient IPM: b(τ*) = −τ*·mean(H) with τ* from a bounded line search against the real aggregator.

    Definition (byzfl's ``Optimal_InnerProductManipulation``): each round maximise
    φ(τ) = ‖Agg(stack(H, f copies of b(τ))) − mean(H)‖₂, b(τ) = −τ·mean(H), with
    :func:`byzref.attacks._adaptive.line_search` (expansion from ``start`` doubling δ while φ improves,
    then contraction by ``ratio``), exactly ``evals`` calls of ``ctx.aggregate`` per round. The stacked
    array has the n − f good rows first and the f Byzantine rows last (byzref.roles). Origin: Xie et al. 2020
    (IPM), Allouah et al. 2023 (the optimised form).

    Parameters: evals = 20, start = 0.0, delta = 10.0, ratio = 0.8 (byzfl's defaults; see
    :class:`AdaptiveAttack`). Requires ``AttackContext.aggregate`` (side-effect free).
    """

    _kernel_mode = 0

    def _line(self, H, mean):
        return None, np.negative(mean)
