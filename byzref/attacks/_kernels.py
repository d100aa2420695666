"""Numba helpers shared by the attack kernels: NumPy's column statistics, reproduced bit for bit.

``H.mean(axis=0)`` on a C-contiguous (m, d) array starts every coordinate at 0.0, adds the rows in
order and divides by m, except when d = 1: the reduction then runs over one contiguous axis and
NumPy uses its pairwise summation (blocks of 8 partial sums, halves above 128 values).
:func:`col_mean` and :func:`col_std` follow both paths, so the kernels give the same floats as
:func:`byzref.attacks._common.good_mean` and :func:`~byzref.attacks._common.good_std`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["col_mean", "col_std", "pairwise_col_sum"]

_BLOCK = 128  # NumPy's PW_BLOCKSIZE


@njit(cache=True)
def _term(H, i, c, sq):  # pragma: no cover - compiled
    """Summand i of column 0: H[i, 0], or (H[i, 0] − c)² when ``sq``."""
    v = H[i, 0]
    if sq:
        v = v - c
        v = v * v
    return v


@njit(cache=True)
def _block_sum(H, lo, k, c, sq):  # pragma: no cover - compiled
    """NumPy's sum of k ≤ 128 summands lo..lo + k − 1 of column 0 (see :func:`pairwise_col_sum`)."""
    if k < 8:
        s = 0.0
        for i in range(lo, lo + k):
            s += _term(H, i, c, sq)
        return s
    r0 = _term(H, lo, c, sq)
    r1 = _term(H, lo + 1, c, sq)
    r2 = _term(H, lo + 2, c, sq)
    r3 = _term(H, lo + 3, c, sq)
    r4 = _term(H, lo + 4, c, sq)
    r5 = _term(H, lo + 5, c, sq)
    r6 = _term(H, lo + 6, c, sq)
    r7 = _term(H, lo + 7, c, sq)
    i = 8
    stop = k - k % 8
    while i < stop:
        r0 += _term(H, lo + i, c, sq)
        r1 += _term(H, lo + i + 1, c, sq)
        r2 += _term(H, lo + i + 2, c, sq)
        r3 += _term(H, lo + i + 3, c, sq)
        r4 += _term(H, lo + i + 4, c, sq)
        r5 += _term(H, lo + i + 5, c, sq)
        r6 += _term(H, lo + i + 6, c, sq)
        r7 += _term(H, lo + i + 7, c, sq)
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < k:
        s += _term(H, lo + i, c, sq)
        i += 1
    return s


@njit(cache=True)
def pairwise_col_sum(H, lo, k, c, sq):  # pragma: no cover - compiled
    """NumPy's pairwise sum of the k summands lo..lo + k − 1 of column 0 (see :func:`_term`).

    Below 8 values a plain loop; up to 128 eight interleaved partial sums r_0..r_7 combined as
    ((r_0 + r_1) + (r_2 + r_3)) + ((r_4 + r_5) + (r_6 + r_7)), then the remainder in order; above,
    the two halves (the first ⌊k/2⌋ rounded down to a multiple of 8 long) summed the same way and
    added. The halving runs on an explicit stack (a 64-deep one, allocated only above 128 values)
    because Numba's on-disk cache crashes on reloading recursive functions.
    """
    if k <= _BLOCK:
        return _block_sum(H, lo, k, c, sq)
    s_lo = np.empty(64, np.int64)  # node i of the current path: rows s_lo[i] .. s_lo[i] + s_k[i] − 1
    s_k = np.empty(64, np.int64)
    s_right = np.zeros(64, np.bool_)  # whether the node's left half is done (its sum in s_left)
    s_left = np.empty(64)
    top = 0
    s_lo[0], s_k[0], s_right[0] = lo, k, False
    while True:
        kk = s_k[top]
        if kk > _BLOCK:  # descend into the left half
            k2 = kk // 2
            k2 -= k2 % 8
            s_right[top] = False
            s_lo[top + 1], s_k[top + 1] = s_lo[top], k2
            top += 1
            continue
        val = _block_sum(H, s_lo[top], kk, c, sq)
        top -= 1
        while top >= 0 and s_right[top]:  # right halves done: add them to their left halves
            val = s_left[top] + val
            top -= 1
        if top < 0:
            return val
        s_left[top] = val  # a left half done: descend into the right half
        s_right[top] = True
        k2 = s_k[top] // 2
        k2 -= k2 % 8
        s_lo[top + 1], s_k[top + 1] = s_lo[top] + k2, s_k[top] - k2
        top += 1


@njit(cache=True)
def col_mean(H, mu):  # pragma: no cover - compiled
    """mu ← H.mean(axis=0) for the (m, d) rows H, m ≥ 1: μ_j = (0 + Σ_i H_ij) / m as NumPy sums."""
    m, d = H.shape
    if d == 1:
        mu[0] = (0.0 + pairwise_col_sum(H, 0, m, 0.0, False)) / m
        return
    for j in range(d):
        mu[j] = 0.0
    for i in range(m):
        for j in range(d):
            mu[j] += H[i, j]
    for j in range(d):
        mu[j] /= m


@njit(cache=True)
def col_std(H, mu, sd):  # pragma: no cover - compiled
    """sd ← the sample standard deviation (ddof = 1) of H's columns about mu, m ≥ 2.

    σ_j = sqrt((Σ_i (H_ij − μ_j)²) / (m − 1)), summed as NumPy sums ``dev.sum(axis=0)``.
    """
    m, d = H.shape
    if d == 1:
        sd[0] = np.sqrt((0.0 + pairwise_col_sum(H, 0, m, mu[0], True)) / (m - 1))
        return
    for j in range(d):
        sd[j] = 0.0
    for i in range(m):
        for j in range(d):
            v = H[i, j] - mu[j]
            sd[j] += v * v
    for j in range(d):
        sd[j] = np.sqrt(sd[j] / (m - 1))


@njit(cache=True)
def fill_rows(out, v):  # pragma: no cover - compiled
    """Every row of out ← the vector v."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = v[j]
