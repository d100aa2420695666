"""Attack ``adaptive_alie``: ALIE with its scale optimised each round (Allouah et al. 2023).

See :ref:`attack-adaptive_alie`.
"""

from __future__ import annotations

from byzref.attacks._adaptive import AdaptiveAttack
from byzref.attacks._common import good_std
from byzref.attacks.base import ATTACKS

__all__ = ["AdaptiveALIE"]


@ATTACKS.register("adaptive_alie")
class AdaptiveALIE(AdaptiveAttack):
    """Omniscient ALIE: b(τ*) = mean(H) + τ*·std(H) with τ* from a bounded line search.

    Definition (byzfl's ``Optimal_ALittleIsEnough``): each round maximise
    φ(τ) = ‖Agg(stack(H, f copies of b(τ))) − mean(H)‖₂, b(τ) = mean(H) + τ·std(H) (coordinate-wise,
    ddof = 1), with the bounded line search of
    :class:`~byzref.attacks._adaptive.AdaptiveAttack` (expansion from ``start`` doubling δ while φ
    improves, then contraction by ``ratio``); exactly ``evals`` calls of ``ctx.aggregate`` per
    round; good rows first, Byzantine rows last (:mod:`byzref.roles`). With delta < 0 the search moves
    towards the "mean − z·std" side. Origin: Baruch, Baruch, Goldberg, NeurIPS 2019 (ALIE); Allouah,
    Farhadkhani, Guerraoui, Gupta, Pinot, Stephan, AISTATS 2023 (the optimised form).
    See :ref:`attack-adaptive_alie`.

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
    The defaults are byzfl's. Requires ``AttackContext.aggregate``; needs n − f ≥ 2 (the sample std).
    """

    _kernel_mode = 1

    def _line(self, H, mean):
        return mean, good_std(H, self.name, mean)
