"""Krum (Blanchard, El Mhamdi, Guerraoui, Stainer, NeurIPS 2017)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators._pairwise import (
    _column_scratch,
    _sq_dists_kernel,
    column_sums,
    pairwise_bytes,
    pairwise_sq_dists,
    sort_prefix,
    sorted_distance_columns,
)
from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.errors import ConfigError, check_int
from byzref.kernels import Kernel

__all__ = ["Krum", "argmin_first", "krum_scores", "krum_scores_into"]


@njit(cache=True)
def krum_scores_into(D, m_nb, buf, scores, K):  # pragma: no cover - compiled
    """scores[i] ← Σ of the m_nb smallest D[i, j], j ≠ i, added in ascending order from 0.0.

    A fixed order of summation (NumPy's partition leaves the selected values in an order that
    depends on the CPU's sort kernel) makes the scores reproducible. When n ≤ 32, every diagonal
    entry is 0 and no entry is negative or NaN (distances of finite rows), all rows are sorted
    together: column i of K holds row i with its diagonal (``_pairwise.sorted_distance_columns``),
    and the 0 of the diagonal, the smallest value, comes first and is skipped, so the
    values added are those of the row without it, in the same order. Otherwise each row without
    its diagonal is sorted by ``_pairwise.sort_prefix``. Mutates ``buf``, ``scores`` and ``K``
    (compiled; shared by krum and multikrum).

    Parameters
    ----------
    D : numpy.ndarray
        The (n, n) float64 squared distances.
    m_nb : int
        Neighbour count, 1 ≤ m_nb ≤ n − 1.
    buf : numpy.ndarray
        Float64 scratch of shape (n,).
    scores : numpy.ndarray
        The (n,) float64 output.
    K : numpy.ndarray
        Float64 scratch of shape (n, n) for n ≤ 32 (``_pairwise._column_scratch``); a smaller array sends
        every row through the per-row path.
    """
    n = D.shape[0]
    if m_nb < n and sorted_distance_columns(D, K):
        column_sums(K, 1, m_nb + 1, scores)  # row 0 holds the diagonal's 0
        return
    for i in range(n):
        c = 0
        for j in range(n):
            if j != i:
                buf[c] = D[i, j]
                c += 1
        sort_prefix(buf, c)
        s = 0.0
        for r in range(m_nb):
            s += buf[r]
        scores[i] = s


@njit(cache=True)
def argmin_first(a):  # pragma: no cover - compiled
    """``np.argmin(a)`` of a 1-D float array: the first NaN if any, else the first minimum.

    Parameters
    ----------
    a : numpy.ndarray
        A non-empty 1-D float64 array.

    Returns
    -------
    int
        The index NumPy's ``argmin`` returns.
    """
    best = 0
    for i in range(a.shape[0]):
        if a[i] != a[i]:
            return i
        if a[i] < a[best]:
            best = i
    return best


def krum_scores(D: np.ndarray, m_nb: int) -> np.ndarray:
    """Krum scores from squared distances: s_i = Σ of the m_nb smallest D[i, j], j ≠ i.

    The m_nb values are added in ascending order (:func:`krum_scores_into`).

    Parameters
    ----------
    D : array_like
        The (n, n) squared distances ‖x_i − x_j‖² (as computed by the private helper
        ``byzref.aggregators._pairwise.pairwise_sq_dists``; a non-finite row has an all-inf row of
        D and so an infinite score when m_nb ≥ 1).
    m_nb : int
        Neighbour count, 1 ≤ m_nb ≤ n − 1.

    Returns
    -------
    numpy.ndarray
        The (n,) scores.
    """
    n = D.shape[0]
    scores = np.empty(n)
    krum_scores_into(np.ascontiguousarray(D, dtype=np.float64), int(m_nb), np.empty(n), scores,
                     _column_scratch(n))
    return scores


@njit(cache=True)
def _krum_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of :class:`Krum`: ``params = (m_nb, D, finite, buf, scores, K)`` (neighbours, scratch)."""
    m_nb, D, finite, buf, scores, K = params
    _sq_dists_kernel(X, D, finite)
    krum_scores_into(D, m_nb, buf, scores, K)
    row = X[argmin_first(scores)]
    for k in range(out.shape[0]):
        out[k] = row[k]


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

    def _scratch(self, n: int) -> tuple:
        """``(m_nb, D, finite, buf, scores, K)``: the neighbour count and the scratch of a score kernel."""
        return (self.neighbours(n), np.empty((n, n)), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n),
                _column_scratch(n))

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Krum score of every row of X (validated (n, d) float64 array)."""
        D, _ = pairwise_sq_dists(X)
        return krum_scores(D, self.neighbours(X.shape[0]))


@AGGREGATORS.register("krum")
class Krum(_KrumFamily):
    r"""Krum: the input row with the smallest sum of squared distances to its m_nb nearest other rows.

    Definition (Blanchard et al.): Agg(X) = x_{i*}, i* = argmin_i Σ_{j ∈ N_i} ‖x_i − x_j‖², N_i = the m_nb
    rows j ≠ i nearest to x_i; ties (in scores) → lowest index:

    .. math:: \mathrm{Agg}(X) = x_{i^*}, \qquad
              i^* = \arg\min_i \sum_{j \in N_i} \|x_i - x_j\|^2.

    See :ref:`aggregator-krum`.

    Parameters
    ----------
    m_nb : int or None, default None
        Neighbour count, 1 ≤ m_nb ≤ n − f − 1; None means n − f − 2 as in Blanchard et al. 2017
        (byzfl's convention is m_nb = n − f − 1).
    f : int, default 0
        Declared Byzantine count; needs n ≥ 2f + 3 (Blanchard et al.'s n > 2f + 2).

    Notes
    -----
    Methods shared with multikrum: ``neighbours(n)`` is the m_nb used with n rows, ``scores(X)``
    the Krum score of every row, ``check(n)`` refuses f > (n − 3)/2 and an m_nb outside its range.
    Always returns one of the input rows. Non-finite input: a row with a ±inf/NaN entry is
    infinitely far from every row, so its score is +inf, while a finite row has at least
    n − f − 1 ≥ m_nb finite neighbours and a finite score; the returned row is finite.
    Note: score ties are not only a measure-zero event: with m_nb = 1 the two mutually nearest
    rows always tie, and duplicate rows (e.g. after nnm) tie, so the lowest-index rule makes the
    output depend on the row order there. No κ constant is declared.

    References
    ----------
    Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine learning with adversaries: Byzantine
    tolerant gradient descent", NeurIPS 2017.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def _aggregate(self, X, rng):
        return X[int(np.argmin(self.scores(X)))].copy()

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled rule: distances, scores, and the row of the first smallest score.

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.aggregators.base.Aggregator.kernel`.
        """
        self.check(n)
        return Kernel(_krum_fn, self._scratch(n))
