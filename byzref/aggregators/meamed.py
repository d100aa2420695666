"""Mean around the median, coordinate-wise (Xie, Koyejo, Gupta 2018)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.aggregators.cwtm import COLUMN_BLOCK, network_bytes, sort_column_block, sorting_network
from byzref.kernels import Kernel

__all__ = ["MeaMed"]


@njit(cache=True)
def _meamed_into(X, k, pairs, S, out):  # pragma: no cover - compiled
    """out[j] ← mean of the k values of column j closest to the column median (ties → smaller value).

    NaN is ordered as +inf. Each block of columns is sorted into the scratch S ((n, w), w ≥
    min(COLUMN_BLOCK, d)) by ``cwtm.sort_column_block``; in a sorted column the k values
    nearest the median are found by merging the runs that go down from rank ⌊(n−1)/2⌋ and up
    from the next rank, taking the lower value on equal distance. Mutates ``S`` and ``out``.
    """
    n, d = X.shape
    mid = (n - 1) // 2
    for j0 in range(0, d, COLUMN_BLOCK):
        w = min(COLUMN_BLOCK, d - j0)
        sort_column_block(X, j0, w, pairs, S)
        for c in range(w):
            med = 0.5 * (S[mid, c] + S[n // 2, c])
            lo = mid
            hi = mid + 1
            s = 0.0
            for _ in range(k):
                if hi >= n or (lo >= 0 and med - S[lo, c] <= S[hi, c] - med):
                    s += S[lo, c]
                    lo -= 1
                else:
                    s += S[hi, c]
                    hi += 1
            out[j0 + c] = s / k


@njit(cache=True)
def _meamed_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of :class:`MeaMed`: ``params = (k, pairs, S)`` (values kept, comparators, scratch)."""
    _meamed_into(X, params[0], params[1], params[2], out)


@AGGREGATORS.register("meamed")
class MeaMed(Aggregator):
    r"""Mean around the median: per coordinate, the mean of the n − f values closest to the median.

    Definition (Xie, Koyejo, Gupta 2018, "mean-around-median"): for coordinate k with median
    m_k (mean of the two middle values for even n), take the n − f values x_{ik} with the
    smallest distance to m_k and average them:

    .. math:: \mathrm{Agg}(X)_k = \frac{1}{n - f} \sum_{i \in T_k} x_{ik}, \qquad
              T_k = \text{the } n - f \text{ indices } i \text{ with the smallest } |x_{ik} - m_k|.

    Tie rule: at equal distance the SMALLER value is taken first, i.e. values are ranked by the
    pair (distance to m_k, value). The output then depends only on the multiset of each column's
    values (permutation invariant even with ties) and reproduces byzfl's golden value
    meamed([[1,2,3],[4,5,6],[7,8,9]], f=1) = [2.5, 3.5, 4.5]. See :ref:`aggregator-meamed`.

    Parameters
    ----------
    f : int, default 0
        Declared Byzantine count; needs f < n/2. The rule keeps n − f values per coordinate.

    Notes
    -----
    Non-finite input: NaN is ordered as +inf; with at most f non-finite rows the median is
    finite, every non-finite value is infinitely far from it, and n − f finite values are
    available, so the output is finite. No κ constant is declared.

    References
    ----------
    Xie, Koyejo, Gupta, "Generalized Byzantine-tolerant SGD", 2018, arXiv:1802.10116.
    """

    needs_f_lt_half = True
    test_config: ClassVar[dict[str, Any]] = {}

    def memory(self, n: int, d: int) -> float:
        """Peak bytes of the column sort (``cwtm.network_bytes``).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        float
            Estimated peak bytes beyond the input.
        """
        return network_bytes(n, d)

    def _aggregate(self, X, rng):
        n, d = X.shape
        out = np.empty(d)
        _meamed_into(X, n - self.f, sorting_network(n), np.empty((n, min(COLUMN_BLOCK, d))), out)
        return out

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled rule; params ``(n − f, comparators, scratch)``.

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
        return Kernel(_meamed_fn, (n - self.f, sorting_network(n), np.empty((n, min(COLUMN_BLOCK, d)))))
