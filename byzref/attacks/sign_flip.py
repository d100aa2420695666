"""Attack ``sign_flip``: the negated mean of the good rows (SPEC §5)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.attacks._common import good_mean
from byzref.attacks.base import ATTACKS, Attack


@ATTACKS.register("sign_flip")
class SignFlip(Attack):
    """Sign flip (SF): every Byzantine row is −mean(H).

    Definition (SPEC §5): b = −(1/(n − f)) Σ_{i∈G} h_i, the same vector for every Byzantine row.

    Parameters: none. Omniscient (sees the good rows). byzfl's ``SignFlipping`` (peers.md §4.3).
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def _vector(self, H, ctx, rng):
        return np.negative(good_mean(H, self.name))

    def linear_form(self, n: int, f: int) -> tuple[float, float]:
        """(c_mean, c_std) with row = c_mean·mean(H) + c_std·std(H): used by the engine's fused loop."""
        return -1.0, 0.0
