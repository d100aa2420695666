"""Plain mean (SPEC §3): the non-robust baseline."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from byzref.aggregators.base import AGGREGATORS, Aggregator

__all__ = ["Mean"]


@AGGREGATORS.register("mean")
class Mean(Aggregator):
    r"""Mean of the rows: Agg(X) = (1/n) Σ_i x_i.

    Definition (SPEC §3). Parameters: ``f`` (ignored by the rule). Not robust: one Byzantine row
    moves the output arbitrarily, and a non-finite row makes it non-finite (the only rule allowed
    to do so). Theory: κ = 0 when f = 0 (S is all rows and Agg(X) = x̄_S), κ = ∞ when f > 0.
    """

    f_in_numbers = False  # f only validates
    test_config: ClassVar[dict[str, Any]] = {}

    def kappa(self, n: int) -> float | None:
        return 0.0 if self.f == 0 else math.inf

    def _aggregate(self, X, rng):
        with np.errstate(invalid="ignore", over="ignore"):
            return X.mean(axis=0)
