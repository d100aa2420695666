"""Plain mean (SPEC §3): the non-robust baseline."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.kernels import Kernel

__all__ = ["Mean", "mean_rows"]

_PW_BLOCK = 128  # NumPy's PW_BLOCKSIZE: pairwise summation recurses above this length


@njit(cache=True)
def _pairwise_leaf(X, idx, lo, hi):  # pragma: no cover - compiled
    """Σ_{r=lo}^{hi−1} X[idx[r], 0] for hi − lo ≤ 128, as NumPy's pairwise sum does it without splitting.

    Fewer than 8 terms: a running sum from 0.0; otherwise eight running sums over the residues
    mod 8, combined as ((r₀+r₁)+(r₂+r₃))+((r₄+r₅)+(r₆+r₇)), then the tail added in order.
    """
    m = hi - lo
    if m < 8:
        s = 0.0
        for r in range(lo, hi):
            s += X[idx[r], 0]
        return s
    r0 = X[idx[lo], 0]
    r1 = X[idx[lo + 1], 0]
    r2 = X[idx[lo + 2], 0]
    r3 = X[idx[lo + 3], 0]
    r4 = X[idx[lo + 4], 0]
    r5 = X[idx[lo + 5], 0]
    r6 = X[idx[lo + 6], 0]
    r7 = X[idx[lo + 7], 0]
    r = lo + 8
    end = hi - m % 8
    while r < end:
        r0 += X[idx[r], 0]
        r1 += X[idx[r + 1], 0]
        r2 += X[idx[r + 2], 0]
        r3 += X[idx[r + 3], 0]
        r4 += X[idx[r + 4], 0]
        r5 += X[idx[r + 5], 0]
        r6 += X[idx[r + 6], 0]
        r7 += X[idx[r + 7], 0]
        r += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while r < hi:
        s += X[idx[r], 0]
        r += 1
    return s


@njit(cache=True)
def _pairwise_col(X, idx, lo, hi):  # pragma: no cover - compiled
    """Σ_{r=lo}^{hi−1} X[idx[r], 0] in NumPy's pairwise order (``DOUBLE_pairwise_sum``).

    Up to 128 terms: :func:`_pairwise_leaf`; above, NumPy splits the range at half its length
    rounded down to a multiple of 8 and adds the two halves' sums. The recursion is evaluated
    with an explicit stack (Numba's on-disk cache does not keep recursive functions).
    """
    if hi - lo <= _PW_BLOCK:
        return _pairwise_leaf(X, idx, lo, hi)
    slo = np.empty(256, dtype=np.int64)
    shi = np.empty(256, dtype=np.int64)
    split = np.zeros(256, dtype=np.bool_)
    vals = np.empty(256)
    slo[0], shi[0], split[0] = lo, hi, False
    top, nv = 1, 0
    while top > 0:
        a, b = slo[top - 1], shi[top - 1]
        if b - a <= _PW_BLOCK:
            vals[nv] = _pairwise_leaf(X, idx, a, b)
            nv += 1
            top -= 1
        elif not split[top - 1]:
            split[top - 1] = True
            h = (b - a) // 2
            h -= h % 8
            slo[top], shi[top], split[top] = a + h, b, False  # right half, evaluated second
            slo[top + 1], shi[top + 1], split[top + 1] = a, a + h, False
            top += 2
        else:
            top -= 1
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
    return vals[0]


@njit(cache=True)
def mean_rows(X, idx, m, out):  # pragma: no cover - compiled
    """out ← X[idx[:m]].mean(axis=0), the same floats as NumPy.

    NumPy reduces axis 0 of a C-contiguous (m, d) array from 0.0 by adding the rows in order
    (elementwise, d > 1), but a single column (d = 1) is one contiguous run and is summed
    pairwise (:func:`_pairwise_col`); the sums are then divided by m. Mutates ``out`` only.
    """
    d = X.shape[1]
    if d == 1:
        out[0] = (0.0 + _pairwise_col(X, idx, 0, m)) / m
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

    def kernel(self, n: int, d: int) -> Kernel:
        self.check(n)
        return Kernel(_mean_fn, (np.arange(n, dtype=np.int64),))
