"""Krum (SPEC §3; Blanchard, El Mhamdi, Guerraoui, Stainer, NeurIPS 2017)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.aggregators._pairwise import pairwise_bytes, pairwise_sq_dists
from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.errors import ConfigError, check_int

__all__ = ["Krum", "krum_scores"]


def krum_scores(D: np.ndarray, m_nb: int) -> np.ndarray:
    """Krum scores from squared distances: s_i = Σ of the m_nb smallest D[i, j], j ≠ i.

    ``D`` is the (n, n) output of :func:`pairwise_sq_dists` (a non-finite row has an all-inf
    row of D and so an infinite score when m_nb ≥ 1).
    """
    n = D.shape[0]
    if m_nb == 0:
        return np.zeros(n)
    others = D.copy()
    np.fill_diagonal(others, np.inf)
    return np.partition(others, m_nb - 1, axis=1)[:, :m_nb].sum(axis=1)


class _KrumFamily(Aggregator):
    """Shared parameters of krum and multikrum: the neighbour count m_nb, and n ≥ 2f + 3.

    Blanchard et al. (2017) prove Krum's resilience for n > 2f + 2, i.e. n ≥ 2f + 3; with fewer
    rows the f Byzantine rows can be each other's nearest neighbours and win the scores, so
    ``check(n)`` refuses f > (n − 3)/2 (whatever m_nb is).
    """

    needs_f_lt_half = True

    def __init__(self, m_nb: int | None = None, f: int = 0):
        super().__init__(f)
        self.m_nb = None if m_nb is None else check_int("m_nb", m_nb, 1, hi_name="n − f − 1")

    def neighbours(self, n: int) -> int:
        """The neighbour count used with n rows (n − f − 2 when not given)."""
        return n - self.f - 2 if self.m_nb is None else self.m_nb

    def memory(self, n: int, d: int) -> float:
        return pairwise_bytes(n, d)

    def number_params(self, n: int) -> dict[str, Any]:
        return {"m_nb": self.neighbours(n)}  # f enters only as m_nb's default

    def check(self, n: int) -> None:
        check_int("n", n, 1)
        if n < 2 * self.f + 3:
            allowed = (f"allowed f range [0, {(n - 3) // 2}]" if n >= 3 else
                       f"allowed: n ≥ 3 rows (no f fits n = {n})")
            raise ConfigError(f"{self.name} needs n ≥ 2f + 3 (n = {n}, f = {self.f} given); {allowed}",
                              field="f")
        super().check(n)
        m, hi = self.neighbours(n), n - self.f - 1
        if not 1 <= m <= hi:
            raise ConfigError(f"{self.name}: m_nb = {m} with n = {n}, f = {self.f}; allowed range "
                              f"[1, n − f − 1 = {hi}]", field="m_nb")

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Krum score of every row of X (validated (n, d) float64 array)."""
        D, _ = pairwise_sq_dists(X)
        return krum_scores(D, self.neighbours(X.shape[0]))


@AGGREGATORS.register("krum")
class Krum(_KrumFamily):
    r"""Krum: the input row with the smallest sum of squared distances to its m_nb nearest other rows.

    Definition (SPEC §3): Agg(X) = x_{i*}, i* = argmin_i Σ_{j ∈ N_i} ‖x_i − x_j‖², N_i = the m_nb
    rows j ≠ i nearest to x_i; ties (in scores) → lowest index.
    Parameters: ``f`` (needs n ≥ 2f + 3, Blanchard et al.'s n > 2f + 2); ``m_nb`` (default
    n − f − 2 as in Blanchard et al. 2017; byzfl's convention is m_nb = n − f − 1; allowed
    1 ≤ m_nb ≤ n − f − 1).
    Always returns one of the input rows. Non-finite input: a row with a ±inf/NaN entry is
    infinitely far from every row, so its score is +inf, while a finite row has at least
    n − f − 1 ≥ m_nb finite neighbours and a finite score; the returned row is finite.
    Note: score ties are not only a measure-zero event: with m_nb = 1 the two mutually nearest
    rows always tie, and duplicate rows (e.g. after nnm) tie, so the lowest-index rule makes the
    output depend on the row order there. No κ constant is declared.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def _aggregate(self, X, rng):
        return X[int(np.argmin(self.scores(X)))].copy()
