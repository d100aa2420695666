"""Attack ``mimic``: copy one good worker's row (SPEC §5)."""

from __future__ import annotations

from typing import Any, ClassVar

from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import ConfigError, check_int


@ATTACKS.register("mimic")
class Mimic(Attack):
    """Mimic: every Byzantine row is a copy of good row i.

    Definition (SPEC §5): b = h_i, i ∈ {0, …, n − f − 1}. Over-weights one good worker's data, which hurts
    under heterogeneity (Karimireddy, He, Jaggi 2022). Like byzfl's ``Mimic(epsilon=i)``: a fixed
    index, no warm-up direction search.

    Parameters
    ----------
    i : int ≥ 0, default 0
        Index of the good worker to copy; checked against n − f at call time.
    """

    test_config: ClassVar[dict[str, Any]] = {"i": 0}

    def __init__(self, i: int = 0):
        self.i = check_int("i", i, 0)

    def _vector(self, H, ctx, rng):
        if self.i >= H.shape[0]:
            raise ConfigError(
                f"mimic i = {self.i} is outside the good rows [0, {H.shape[0] - 1}] "
                f"(n = {ctx.n}, f = {ctx.f}); allowed range [0, n − f − 1] = [0, {H.shape[0] - 1}]",
                field="i",
            )
        return H[self.i]
