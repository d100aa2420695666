"""Multi-Krum (Blanchard et al. 2017, El Mhamdi et al. 2018)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators._pairwise import _sq_dists_kernel, sort_prefix
from byzref.aggregators.base import AGGREGATORS
from byzref.aggregators.krum import _KrumFamily, krum_scores_into
from byzref.aggregators.mean import mean_rows
from byzref.errors import ConfigError, check_int
from byzref.kernels import Kernel

__all__ = ["MultiKrum"]


@njit(cache=True)
def lowest_in_order(a, m, buf, idx):  # pragma: no cover - compiled
    """idx[:m] ← the indices of the m smallest entries of the NaN-free 1-D array a, ties → lowest index,
    in increasing index order (``np.sort(np.argsort(a, kind="stable")[:m])``). ``buf`` is a scratch
    array as long as a. Mutates ``buf`` and ``idx``."""
    n = a.shape[0]
    for i in range(n):
        buf[i] = a[i]
    sort_prefix(buf, n)
    t = buf[m - 1]
    ties = m
    for i in range(n):
        if a[i] < t:
            ties -= 1
    c = 0
    for i in range(n):
        if a[i] < t or (a[i] == t and ties > 0):
            if a[i] == t:
                ties -= 1
            idx[c] = i
            c += 1


@njit(cache=True)
def _multikrum_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of :class:`MultiKrum`: ``params = (m_nb, D, finite, buf, scores, K, m, idx)``."""
    m_nb, D, finite, buf, scores, K, m, idx = params
    _sq_dists_kernel(X, D, finite)
    krum_scores_into(D, m_nb, buf, scores, K)
    lowest_in_order(scores, m, buf, idx)
    mean_rows(X, idx, m, out)


@AGGREGATORS.register("multikrum")
class MultiKrum(_KrumFamily):
    r"""Multi-Krum: the mean of the m rows with the lowest Krum scores.

    Definition (Blanchard et al.): with s_i the Krum score of row i (sum of squared distances to its m_nb
    nearest other rows), Agg(X) = (1/m) Σ_{i ∈ M} x_i where M holds the m lowest scores, ties →
    lowest index; the rows of M are averaged in increasing index order. m = 1 is Krum.
    See :ref:`aggregator-multikrum`.

    Parameters
    ----------
    m : int or None, default None
        Number of averaged rows, 1 ≤ m ≤ n − f; None means n − f.
    m_nb : int or None, default None
        Neighbour count as for krum: 1 ≤ m_nb ≤ n − f − 1, None means n − f − 2 (byzfl: n − f − 1).
    f : int, default 0
        Declared Byzantine count; needs n ≥ 2f + 3, as krum.

    Notes
    -----
    Non-finite input: non-finite rows have infinite scores and at least n − f ≥ m rows have finite
    ones, so only finite rows are averaged. No κ constant is declared. ``neighbours(n)`` and
    ``scores(X)`` are as for :class:`byzref.aggregators.krum.Krum`.

    References
    ----------
    Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine learning with adversaries: Byzantine
    tolerant gradient descent", NeurIPS 2017. El Mhamdi, Guerraoui, Rouault, "The hidden
    vulnerability of distributed learning in Byzantium", ICML 2018.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, m: int | None = None, m_nb: int | None = None, f: int = 0):
        super().__init__(m_nb, f)
        self.m = None if m is None else check_int("m", m, 1, hi_name="n − f")

    def number_params(self, n: int) -> dict[str, Any]:
        """The parameters that fix the output: m_nb and m with defaults resolved.

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        dict
            Parameter name → value; equal dicts mean equal outputs on n rows.
        """
        return {"m_nb": self.neighbours(n), "m": self.selected(n)}

    def selected(self, n: int) -> int:
        """The number m of averaged rows with n inputs (n − f when not given).

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        int
            m.
        """
        return n - self.f if self.m is None else self.m

    def check(self, n: int) -> None:
        """Validate n ≥ 2f + 3, m_nb and 1 ≤ m ≤ n − f for n input rows.

        Parameters
        ----------
        n : int
            Number of input rows.

        Raises
        ------
        byzref.errors.ConfigError
            When a parameter does not fit n (the message gives the allowed range).
        """
        super().check(n)
        m = self.selected(n)
        if not 1 <= m <= n - self.f:
            raise ConfigError(f"multikrum: m = {m} with n = {n}, f = {self.f}; allowed range "
                              f"[1, n − f = {n - self.f}]", field="m")

    def _aggregate(self, X, rng):
        order = np.argsort(self.scores(X), kind="stable")[: self.selected(X.shape[0])]
        return X[np.sort(order)].mean(axis=0)

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled rule: distances, scores, the m lowest, their mean.

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
        return Kernel(_multikrum_fn, (*self._scratch(n), self.selected(n), np.empty(n, dtype=np.int64)))
