"""Plain mean: the non-robust baseline."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref._pairwise_sum import pairwise_sum
from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.kernels import Kernel

__all__ = ["Mean", "mean_rows"]


@njit(cache=True)
def mean_rows(X, idx, m, out):  # pragma: no cover - compiled
    """out ← X[idx[:m]].mean(axis=0), the same floats as NumPy.

    NumPy reduces axis 0 of a C-contiguous (m, d) array from 0.0 by adding the rows in order
    (elementwise, d > 1), but a single column (d = 1) is one contiguous run and is summed
    pairwise (``byzref._pairwise_sum``); the sums are then divided by m. Mutates ``out`` only
    (compiled; shared by mean and multikrum).

    Parameters
    ----------
    X : numpy.ndarray
        The (n, d) float64 rows, read only.
    idx : numpy.ndarray
        Int64 row indices; the first m are averaged, in this order.
    m : int
        Number of rows averaged, 1 ≤ m ≤ len(idx).
    out : numpy.ndarray
        The (d,) float64 output.
    """
    d = X.shape[1]
    if d == 1:
        col = np.empty(m)  # the single column's summands, gathered (d = 1 only)
        for r in range(m):
            col[r] = X[idx[r], 0]
        out[0] = (0.0 + pairwise_sum(col)) / m
        return
    for k in range(d):
        out[k] = 0.0
    for r in range(m):
        row = X[idx[r]]
        for k in range(d):
            out[k] += row[k]
    for k in range(d):
        out[k] /= m


@njit(cache=True)
def _mean_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of :class:`Mean`: ``params = (idx,)``, idx = 0, …, n − 1."""
    mean_rows(X, params[0], X.shape[0], out)


@AGGREGATORS.register("mean")
class Mean(Aggregator):
    r"""Mean of the rows: Agg(X) = (1/n) Σ_i x_i.

    The non-robust baseline. See :ref:`aggregator-mean`.

    Parameters
    ----------
    f : int, default 0
        Declared Byzantine count; ignored by the rule (any 0 ≤ f < n).

    Notes
    -----
    Not robust: one Byzantine row moves the output arbitrarily, and a non-finite row makes it
    non-finite (the only rule allowed to do so). Theory: κ = 0 when f = 0 (S is all rows and
    Agg(X) = x̄_S), κ = ∞ when f > 0. No linear combination of the rows tolerates a single
    Byzantine worker (Blanchard, El Mhamdi, Guerraoui, Stainer, NeurIPS 2017).
    """

    f_in_numbers = False  # f only validates
    test_config: ClassVar[dict[str, Any]] = {}

    def kappa(self, n: int) -> float | None:
        """κ = 0 when f = 0, +inf otherwise.

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        float
            The declared κ.
        """
        return 0.0 if self.f == 0 else math.inf

    def _aggregate(self, X, rng):
        with np.errstate(invalid="ignore", over="ignore"):
            return X.mean(axis=0)

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled mean (:func:`mean_rows` over all rows).

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
        return Kernel(_mean_fn, (np.arange(n, dtype=np.int64),))
