"""Numba kernels of the finite-sum problems (logistic and least-squares losses, three regularisers).

Layout: data rows A (N, d) and labels y (N,) stacked worker by worker; worker i owns rows
offsets[i] .. offsets[i+1] − 1. Samples are LOCAL row indices idx (n, b) (0 ≤ idx[i, r] < m_i).
Every kernel writes only its ``out`` arrays. ``ysign`` = −1 flips the labels (label-flip attack).
The NumPy references live in tests/reference/problems.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["LOGISTIC", "REG_L2", "REG_NC", "REG_NONE", "SQUARES",
           "fs_full_grads", "fs_stoch_grads", "fs_stoch_grads_pair"]

LOGISTIC, SQUARES = 0, 1          # per-sample losses log(1 + exp(−y z)) and ½ (z − y)²
REG_NONE, REG_L2, REG_NC = 0, 1, 2  # 0, (λ/2)‖x‖², λ Σ x_k²/(1 + x_k²)


@njit(cache=True)
def _dot(A, j, x):  # pragma: no cover - compiled
    """a_jᵀx with four accumulators (breaks the add dependency chain; no fastmath needed)."""
    d = x.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    k = 0
    while k + 4 <= d:
        s0 += A[j, k] * x[k]
        s1 += A[j, k + 1] * x[k + 1]
        s2 += A[j, k + 2] * x[k + 2]
        s3 += A[j, k + 3] * x[k + 3]
        k += 4
    while k < d:
        s0 += A[j, k] * x[k]
        k += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True)
def _coef(z, yj, loss_kind):  # pragma: no cover - compiled
    """d/dz of the per-sample loss: logistic −y σ(−y z) (overflow-safe), squares z − y."""
    if loss_kind == 1:
        return z - yj
    t = yj * z
    if t >= 0.0:
        e = np.exp(-t)
        return -yj * e / (1.0 + e)
    return -yj / (1.0 + np.exp(t))


@njit(cache=True)
def _reg(x, lam, reg_kind, r):  # pragma: no cover - compiled
    """r ← ∇(regulariser)(x)."""
    for k in range(x.shape[0]):
        if reg_kind == 1:
            r[k] = lam * x[k]
        elif reg_kind == 2:
            q = 1.0 + x[k] * x[k]
            r[k] = lam * 2.0 * x[k] / (q * q)
        else:
            r[k] = 0.0


@njit(cache=True)
def fs_full_grads(A, y, offsets, x, lam, loss_kind, reg_kind, ysign, out):  # pragma: no cover - compiled
    """out[i] ← ∇f_i(x) for the first out.shape[0] workers, one pass over their rows; writes out."""
    d = x.shape[0]
    r = np.empty(d)
    _reg(x, lam, reg_kind, r)
    for i in range(out.shape[0]):
        lo, hi = offsets[i], offsets[i + 1]
        for k in range(d):
            out[i, k] = 0.0
        for j in range(lo, hi):
            c = _coef(_dot(A, j, x), ysign * y[j], loss_kind)
            for k in range(d):
                out[i, k] += c * A[j, k]
        inv = 1.0 / (hi - lo)
        for k in range(d):
            out[i, k] = out[i, k] * inv + r[k]


@njit(cache=True)
def fs_stoch_grads(A, y, offsets, idx, x, lam, loss_kind, reg_kind, ysign, out):  # pragma: no cover
    """out[i] ← (1/b) Σ_r ∇f_{i, idx[i, r]}(x); returns 0, or i + 1 when worker i's index is out of range."""
    n, b = idx.shape
    d = x.shape[0]
    r = np.empty(d)
    _reg(x, lam, reg_kind, r)
    for i in range(n):
        lo, m = offsets[i], offsets[i + 1] - offsets[i]
        for k in range(d):
            out[i, k] = 0.0
        for s in range(b):
            t = idx[i, s]
            if t < 0 or t >= m:
                return i + 1
            j = lo + t
            c = _coef(_dot(A, j, x), ysign * y[j], loss_kind)
            for k in range(d):
                out[i, k] += c * A[j, k]
        for k in range(d):
            out[i, k] = out[i, k] / b + r[k]
    return 0


@njit(cache=True)
def fs_stoch_grads_pair(A, y, offsets, idx, x1, x2, lam, loss_kind, reg_kind, ysign,
                        out1, out2):  # pragma: no cover - compiled
    """fs_stoch_grads at x1 and x2 with the same idx, sharing row loads; writes out1 and out2."""
    n, b = idx.shape
    d = x1.shape[0]
    r1 = np.empty(d)
    r2 = np.empty(d)
    _reg(x1, lam, reg_kind, r1)
    _reg(x2, lam, reg_kind, r2)
    for i in range(n):
        lo, m = offsets[i], offsets[i + 1] - offsets[i]
        for k in range(d):
            out1[i, k] = 0.0
            out2[i, k] = 0.0
        for s in range(b):
            t = idx[i, s]
            if t < 0 or t >= m:
                return i + 1
            j = lo + t
            yj = ysign * y[j]
            c1 = _coef(_dot(A, j, x1), yj, loss_kind)
            c2 = _coef(_dot(A, j, x2), yj, loss_kind)
            for k in range(d):
                out1[i, k] += c1 * A[j, k]
                out2[i, k] += c2 * A[j, k]
        for k in range(d):
            out1[i, k] = out1[i, k] / b + r1[k]
            out2[i, k] = out2[i, k] / b + r2[k]
    return 0
