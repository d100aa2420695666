"""Multi-Krum (SPEC §3; Blanchard et al. 2017, El Mhamdi et al. 2018)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.aggregators.base import AGGREGATORS
from byzref.aggregators.krum import _KrumFamily
from byzref.errors import ConfigError, check_int

__all__ = ["MultiKrum"]


@AGGREGATORS.register("multikrum")
class MultiKrum(_KrumFamily):
    r"""Multi-Krum: the mean of the m rows with the lowest Krum scores.

    Definition (SPEC §3): with s_i the Krum score of row i (sum of squared distances to its m_nb
    nearest other rows), Agg(X) = (1/m) Σ_{i ∈ M} x_i where M holds the m lowest scores, ties →
    lowest index. Parameters: ``f`` (needs n ≥ 2f + 3, as krum); ``m`` (default n − f; 1 ≤ m ≤ n − f);
    ``m_nb`` as for krum (default n − f − 2; byzfl: n − f − 1). m = 1 is Krum.
    Non-finite input: non-finite rows have infinite scores and at least n − f ≥ m rows have finite
    ones, so only finite rows are averaged. No κ constant is declared.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, m: int | None = None, m_nb: int | None = None, f: int = 0):
        super().__init__(m_nb, f)
        self.m = None if m is None else check_int("m", m, 1, hi_name="n − f")

    def number_params(self, n: int) -> dict[str, Any]:
        return {"m_nb": self.neighbours(n), "m": self.selected(n)}

    def selected(self, n: int) -> int:
        """The number m of averaged rows with n inputs (n − f when not given)."""
        return n - self.f if self.m is None else self.m

    def check(self, n: int) -> None:
        super().check(n)
        m = self.selected(n)
        if not 1 <= m <= n - self.f:
            raise ConfigError(f"multikrum: m = {m} with n = {n}, f = {self.f}; allowed range "
                              f"[1, n − f = {n - self.f}]", field="m")

    def _aggregate(self, X, rng):
        order = np.argsort(self.scores(X), kind="stable")[: self.selected(X.shape[0])]
        return X[np.sort(order)].mean(axis=0)
