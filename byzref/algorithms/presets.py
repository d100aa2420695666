"""Non-Byzantine presets: mean aggregation, f = 0, no attack.

* ``dm21``: EF21-SGD2M (Fatkhullin, Tyurin, Richtárik, NeurIPS 2023) = Byz-DM21 with mean, f = 0.
* ``ef21_sgdm``: EF21-SGDM = Byz-EF21-SGDM with mean, f = 0.
* ``ef21``: EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021) = Byz-EF21 with mean, f = 0.

The update rules are those of the Byzantine methods (:ref:`math-algorithms`); a preset only fixes
the aggregator, f and the attack.
"""

from byzref.algorithms.base import ALGORITHMS
from byzref.algorithms.byz_dm21 import ByzDM21
from byzref.algorithms.byz_ef21 import ByzEF21, ByzEF21SGDM

__all__ = ["DM21", "EF21", "EF21SGDM"]


@ALGORITHMS.register("dm21")
class DM21(ByzDM21):
    """EF21-SGD2M: Byz-DM21 with mean aggregation and f = 0 (Fatkhullin et al., NeurIPS 2023).

    Source: Fatkhullin, Tyurin, Richtárik, "Momentum provably improves error feedback!", NeurIPS 2023.
    See :ref:`algorithm-dm21`.

    Parameters
    ----------
    gamma, eta, eta2, batch, variant, init_batch
        As :class:`byzref.algorithms.byz_dm21.ByzDM21`.
    """

    preset_of = "byz_dm21"


@ALGORITHMS.register("ef21_sgdm")
class EF21SGDM(ByzEF21SGDM):
    """EF21-SGDM: Byz-EF21-SGDM with mean aggregation and f = 0 (Fatkhullin et al., NeurIPS 2023).

    Source: Fatkhullin, Tyurin, Richtárik, "Momentum provably improves error feedback!", NeurIPS 2023.
    See :ref:`algorithm-ef21_sgdm`.

    Parameters
    ----------
    gamma, eta, batch, init_batch
        As :class:`byzref.algorithms.byz_ef21.ByzEF21SGDM`.
    """

    preset_of = "byz_ef21_sgdm"


@ALGORITHMS.register("ef21")
class EF21(ByzEF21):
    """EF21: Byz-EF21 with mean aggregation and f = 0 (Richtárik et al., NeurIPS 2021).

    Source: Richtárik, Sokolov, Fatkhullin, "EF21: a new, simpler, theoretically better, and
    practically faster error feedback", NeurIPS 2021. See :ref:`algorithm-ef21`.

    Parameters
    ----------
    gamma
        Server step size γ > 0 (as :class:`byzref.algorithms.byz_ef21.ByzEF21`).
    """

    preset_of = "byz_ef21"
