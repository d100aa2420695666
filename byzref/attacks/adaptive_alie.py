"""Attack ``adaptive_alie``: ALIE with its scale optimised each round (Allouah et al. 2023)."""

from __future__ import annotations

from byzref.attacks._adaptive import AdaptiveAttack
from byzref.attacks._common import good_std
from byzref.attacks.base import ATTACKS


@ATTACKS.register("adaptive_alie")
class AdaptiveALIE(AdaptiveAttack):
    """Omniscient ALIE: b(τ*) = mean(H) + τ*·std(H) with τ* from a bounded line search.

    Definition (byzfl's ``Optimal_ALittleIsEnough``): each round maximise
    φ(τ) = ‖Agg(stack(H, f copies of b(τ))) − mean(H)‖₂, b(τ) = mean(H) + τ·std(H) (coordinate-wise,
    ddof = 1), with :func:`byzref.attacks._adaptive.line_search`; exactly ``evals`` calls of
    ``ctx.aggregate`` per round; good rows first, Byzantine rows last (byzref.roles). With delta < 0 the
    search moves towards the "mean − z·std" side. Origin: Baruch et al. 2019 (ALIE), Allouah et al. 2023.

    Parameters: evals = 20, start = 0.0, delta = 10.0, ratio = 0.8 (byzfl's defaults; see
    :class:`AdaptiveAttack`). Requires ``AttackContext.aggregate``; needs n − f ≥ 2.
    """

    _kernel_mode = 1

    def _line(self, H, mean):
        return mean, good_std(H, self.name, mean)
