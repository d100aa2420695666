"""Numba helpers shared by the attack kernels: NumPy's column statistics, reproduced bit for bit.

``H.mean(axis=0)`` on a C-contiguous (m, d) array starts every coordinate at 0.0, adds the rows in
order and divides by m, except when d = 1: the reduction then runs over one contiguous axis and
NumPy uses its pairwise summation (:mod:`byzref._pairwise_sum`).
:func:`col_mean` and :func:`col_std` follow both paths, so the kernels give the same floats as
:func:`byzref.attacks._common.good_mean` and :func:`~byzref.attacks._common.good_std`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from byzref._pairwise_sum import pairwise_sum

__all__ = ["col_mean", "col_std"]


@njit(cache=True)
def col_mean(H, mu):  # pragma: no cover - compiled
    """mu ← H.mean(axis=0) for the (m, d) rows H, m ≥ 1: μ_j = (0 + Σ_i H_ij) / m as NumPy sums."""
    m, d = H.shape
    if d == 1:
        mu[0] = (0.0 + pairwise_sum(H[:, 0])) / m
        return
    for j in range(d):
        mu[j] = 0.0
    i = 0
    while i + 4 <= m:  # four rows per pass over mu, added one after another
        for j in range(d):
            mu[j] = (((mu[j] + H[i, j]) + H[i + 1, j]) + H[i + 2, j]) + H[i + 3, j]
        i += 4
    for r in range(i, m):
        for j in range(d):
            mu[j] += H[r, j]
    for j in range(d):
        mu[j] /= m


@njit(cache=True)
def col_std(H, mu, sd):  # pragma: no cover - compiled
    """sd ← the sample standard deviation (ddof = 1) of H's columns about mu, m ≥ 2.

    σ_j = sqrt((Σ_i (H_ij − μ_j)²) / (m − 1)), summed as NumPy sums ``dev.sum(axis=0)``.
    """
    m, d = H.shape
    if d == 1:
        dev = np.empty(m)  # the squared deviations of the single column (d = 1 only)
        for i in range(m):
            v = H[i, 0] - mu[0]
            dev[i] = v * v
        sd[0] = np.sqrt((0.0 + pairwise_sum(dev)) / (m - 1))
        return
    for j in range(d):
        sd[j] = 0.0
    i = 0
    while i + 4 <= m:  # four rows per pass over sd, added one after another
        for j in range(d):
            u = mu[j]
            v0, v1, v2, v3 = H[i, j] - u, H[i + 1, j] - u, H[i + 2, j] - u, H[i + 3, j] - u
            sd[j] = (((sd[j] + v0 * v0) + v1 * v1) + v2 * v2) + v3 * v3
        i += 4
    for r in range(i, m):
        for j in range(d):
            v = H[r, j] - mu[j]
            sd[j] += v * v
    for j in range(d):
        sd[j] = np.sqrt(sd[j] / (m - 1))


@njit(cache=True)
def fill_rows(out, v):  # pragma: no cover - compiled
    """Every row of out ← the vector v."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = v[j]
