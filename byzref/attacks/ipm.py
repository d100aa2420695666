"""Attack ``ipm``: inner product manipulation (SPEC §5)."""

from __future__ import annotations

from typing import Any, ClassVar

from byzref.attacks._common import good_mean
from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_real


@ATTACKS.register("ipm")
class IPM(Attack):
    """Inner product manipulation: every Byzantine row is −ε·mean(H).

    Definition (SPEC §5): b = −ε (1/(n − f)) Σ_{i∈G} h_i. With a small ε the aggregate keeps a reduced but
    positive inner product with the true mean against averaging; against robust aggregators a large ε
    flips it (Xie, Koyejo, Gupta, "Fall of empires", UAI 2020).

    Parameters
    ----------
    eps : float ≥ 0, default 0.1
        The scale ε (0.1 as in Karimireddy et al. and the Byz-DM21 authors' code; byzfl's default is
        τ = 2.0). Negative values are refused: they would send a positive multiple of the mean, which is
        not this attack.
    """

    test_config: ClassVar[dict[str, Any]] = {"eps": 0.1}

    def __init__(self, eps: float = 0.1):
        self.eps = check_real("eps", eps, 0.0)

    def _vector(self, H, ctx, rng):
        b = good_mean(H, self.name)
        b *= -self.eps
        return b

    def linear_form(self, n: int, f: int) -> tuple[float, float]:
        """(c_mean, c_std) with row = c_mean·mean(H) + c_std·std(H): used by the engine's fused loop."""
        return -self.eps, 0.0
