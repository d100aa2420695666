"""Nearest-neighbour mixing pre-aggregator (Allouah et al., AISTATS 2023)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators._pairwise import (
    _BLOCK,
    _column_scratch,
    _sq_dists_kernel,
    column_sums,
    pairwise_bytes,
    sort_prefix,
    sorted_distance_columns,
)
from byzref.aggregators.base import PRE_AGGREGATORS, PreAggregator
from byzref.aggregators.krum import argmin_first
from byzref.kernels import Kernel

__all__ = ["NNM"]


@njit(cache=True)
def _nnm_into(X, k, D, finite, key, radius, near, use, K, kth, sets, first, out):  # pragma: no cover
    """out[i] ← (1/k) Σ_{j ∈ N_i} x_j, N_i the k rows nearest to x_i (ties → lowest index).

    D[i, j] = ‖x_i − x_j‖² (:func:`_pairwise._sq_dists_kernel`); a non-finite row j is farther
    than every other row (its column is ranked after all others, as NaN). Each row's distances are
    sorted ascending (NaN last), radius[i] = Σ of the k smallest, added in ascending order, and
    kth[i] = the k-th smallest. When every row is finite and n ≤ 32, the rows of D are sorted
    together (:func:`_pairwise.sorted_distance_columns`: column i of K holds row i's distances),
    each exactly as :func:`_pairwise.sort_prefix` leaves it on its own. For every row, near[i, :]
    lists N_i in increasing index order. A non-finite row i takes N_{c} of the finite row c of
    smallest radius (ties → lowest index).
    Each output row sums its finite neighbours in increasing index order, column block by column
    block (eight neighbours per pass over the block, each added in turn), and divides by k. For
    n ≤ 64 a row whose finite neighbours are those of an earlier row (sets[i], a bit mask of them,
    equals sets[first[i]]) copies that row's output, the same sum of the same rows: identical rows,
    as ALIE and IPM send, and rows with a common neighbourhood are mixed once.
    Scratch: D and K (n, n), finite (n,) int64, key, radius and kth (n,), near (n, k) and use (k,)
    int64, sets (n,) uint64, first (n,) int64; mutates them and ``out`` (n, d).
    """
    n, d = X.shape
    _sq_dists_kernel(X, D, finite)
    if sorted_distance_columns(D, K):  # not with a non-finite row (its D[i, i] is +inf)
        column_sums(K, 0, k, radius)
        for i in range(n):
            kth[i] = K[k - 1, i]
    else:
        for i in range(n):
            for j in range(n):
                key[j] = D[i, j] if finite[j] == 1 else np.nan
            sort_prefix(key, n)  # ascending, NaN last
            s = 0.0
            for r in range(k):
                s += key[r]
            radius[i] = s
            kth[i] = key[k - 1]
    for i in range(n):
        t = kth[i]
        ties = k  # how many entries equal to the k-th smallest (or NaN) are still to take
        for j in range(n):
            v = D[i, j] if finite[j] == 1 else np.nan
            if v < t or (t != t and v == v):
                ties -= 1
        c = 0
        mask = np.uint64(0)
        for j in range(n):
            v = D[i, j] if finite[j] == 1 else np.nan
            take = v < t or (t != t and v == v)
            if not take and ties > 0 and (v == t or (t != t and v != v)):
                take = True
                ties -= 1
            if take:
                near[i, c] = j
                c += 1
                if finite[j] == 1 and j < 64:
                    mask |= np.uint64(1) << np.uint64(j)
        sets[i] = mask
    centre = 0
    for i in range(n):
        if finite[i] == 0:
            for j in range(n):
                key[j] = radius[j] if finite[j] == 1 else np.inf
            centre = argmin_first(key)
            break
    for i in range(n):
        first[i] = i
    if n <= 64:  # sets[i]: the finite neighbours of row i (of the centre for a non-finite row) as bits
        for i in range(n):
            if finite[i] == 0:
                sets[i] = sets[centre]
            mask = sets[i]
            for e in range(i):
                if sets[e] == mask:
                    first[i] = e
                    break
    for j0 in range(0, d, _BLOCK):
        j1 = min(d, j0 + _BLOCK)
        w = j1 - j0
        for i in range(n):
            e = first[i]
            if e != i:  # the same neighbours as row e, whose block is done
                for c in range(w):
                    out[i, j0 + c] = out[e, j0 + c]
                continue
            src = i if finite[i] == 1 else centre
            m = 0  # the finite neighbours of src, in increasing index order
            for r in range(k):
                j = near[src, r]
                if finite[j] == 1:
                    use[m] = j
                    m += 1
            yi = out[i, j0:j1]  # slices indexed from 0: the loops below compile to vector code
            for c in range(w):
                yi[c] = 0.0
            r = 0
            while r + 8 <= m:  # eight rows per pass over yi, added one after another as below
                xa, xb = X[use[r], j0:j1], X[use[r + 1], j0:j1]
                xc, xd = X[use[r + 2], j0:j1], X[use[r + 3], j0:j1]
                xe, xf = X[use[r + 4], j0:j1], X[use[r + 5], j0:j1]
                xg, xh = X[use[r + 6], j0:j1], X[use[r + 7], j0:j1]
                for c in range(w):
                    s = (((yi[c] + xa[c]) + xb[c]) + xc[c]) + xd[c]
                    yi[c] = (((s + xe[c]) + xf[c]) + xg[c]) + xh[c]
                r += 8
            while r + 4 <= m:
                xa, xb = X[use[r], j0:j1], X[use[r + 1], j0:j1]
                xc, xd = X[use[r + 2], j0:j1], X[use[r + 3], j0:j1]
                for c in range(w):
                    yi[c] = (((yi[c] + xa[c]) + xb[c]) + xc[c]) + xd[c]
                r += 4
            while r < m:
                xa = X[use[r], j0:j1]
                for c in range(w):
                    yi[c] += xa[c]
                r += 1
            for c in range(w):
                yi[c] /= k


@njit(cache=True)
def _nnm_fn(params, X, rng, out):  # pragma: no cover - compiled
    """Kernel of :class:`NNM`: ``params = (k, D, finite, key, radius, near, use, K, kth, sets, first)``
    (k = n − f)."""
    k, D, finite, key, radius, near, use, K, kth, sets, first = params
    _nnm_into(X, k, D, finite, key, radius, near, use, K, kth, sets, first, out)


def _nnm_scratch(n: int, k: int) -> tuple:
    return (k, np.empty((n, n)), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n),
            np.empty((n, k), dtype=np.int64), np.empty(k, dtype=np.int64), _column_scratch(n), np.empty(n),
            np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.int64))


@PRE_AGGREGATORS.register("nnm")
class NNM(PreAggregator):
    r"""Nearest-neighbour mixing: row i ← mean of the n − f rows nearest to x_i, x_i included.

    Definition (Allouah et al.): y_i = (1/(n − f)) Σ_{j ∈ N_i} x_j, N_i = the n − f indices j with the
    smallest ‖x_i − x_j‖² (i itself is at distance 0); ties → lowest index. Output (n, d):

    .. math:: y_i = \frac{1}{n - f} \sum_{j \in N_i} x_j, \qquad i = 1, \dots, n.

    See :ref:`pre-aggregator-nnm`.

    Parameters
    ----------
    f : int, default 0
        Declared Byzantine count, 0 ≤ f < n; each row is mixed with its n − f nearest rows. The
        aggregator that follows checks its own range.

    Notes
    -----
    Non-finite input (at most f rows with ±inf/NaN): a non-finite row is infinitely far from every
    row, so no finite row picks it while n − f finite rows exist. A non-finite row i is replaced by
    the output row of the finite row j* whose n − f nearest rows are most concentrated (smallest
    Σ_{j ∈ N_{j*}} ‖x_{j*} − x_j‖², ties → lowest index), i.e. by the mean of n − f finite rows
    around the most central finite row. All output rows are then finite.
    Numbers: the sum over N_i is taken in increasing index order and divided by n − f, and the
    radii add their distances in ascending order (one compiled routine shared by ``_apply`` and
    the kernel; no BLAS product, whose rounding depends on the library build and the CPU).
    Theory: Allouah et al. (2023) show NNM∘F is (f, O(κ f/n))-robust for an (f, κ)-robust F;
    no constant is declared here.

    References
    ----------
    Allouah, Farhadkhani, Guerraoui, Gupta, Pinot, Stephan, "Fixing by mixing: a recipe for
    optimal Byzantine ML under heterogeneity", AISTATS 2023, arXiv:2302.01772.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def memory(self, n: int, d: int) -> float:
        """Peak bytes: the (n, n) distance matrix, a second (n, n) array, the (n, n − f) neighbour
        lists, two (n,) arrays of neighbour sets and the (n, d) output.

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
        return pairwise_bytes(n, d) + 8.0 * n * (n - self.f + 2)

    def _apply(self, X, rng):
        n, d = X.shape
        out = np.empty((n, d))
        _nnm_into(X, *_nnm_scratch(n, n - self.f), out)
        return out

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled rule; params ``(n − f, scratch)``.

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.aggregators.base.PreAggregator.kernel`.
        """
        self.check(n)
        return Kernel(_nnm_fn, _nnm_scratch(n, n - self.f))
