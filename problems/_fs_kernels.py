"""Numba kernels of the finite-sum problems (logistic and least-squares losses, three regularisers).

Layout: data rows A (N, d) and labels y (N,) stacked worker by worker; worker i owns rows
offsets[i] .. offsets[i+1] − 1. Samples are LOCAL row indices idx (n, b) (0 ≤ idx[i, r] < m_i).
Every kernel writes only its ``out`` arrays. ``ysign`` = −1 flips the labels (label-flip attack).
The NumPy references live in tests/reference/problems.py.

The ``*_rows`` kernels take their scratch vectors as arguments (no allocation); ``fs_stoch_grads``,
``fs_stoch_grads_pair`` and ``fs_full_grads`` allocate them and call those. ``fs_draw``, ``fs_stoch``,
``fs_pair``, ``fs_full`` and ``fs_grad`` are the problem kernels of the compiled engine
(:class:`byzref.kernels.ProblemKernel`, built by ``FiniteSumProblem.kernel``); their parameters are
``pp = (A, y, offsets, counts, lam, loss_kind, reg_kind, r1, r2, W)`` with scratch vectors r1, r2 (d,)
and W (|G|, d).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random.generator_core import next_uint32, next_uint64
from numba.np.random.random_methods import bounded_lemire_uint64, buffered_bounded_lemire_uint32

from byzref._pairwise_sum import pairwise_sum

__all__ = ["LOGISTIC", "REG_L2", "REG_NC", "REG_NONE", "SQUARES", "fs_draw", "fs_full", "fs_full_grads",
           "fs_full_rows", "fs_grad", "fs_pair", "fs_pair_rows", "fs_stoch", "fs_stoch_grads",
           "fs_stoch_grads_pair", "fs_stoch_rows"]

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
def _dot4(A, j, x):  # pragma: no cover - compiled
    """(a_jᵀx, a_{j+1}ᵀx, a_{j+2}ᵀx, a_{j+3}ᵀx), each exactly as :func:`_dot` forms it, in one pass
    over x (sixteen independent running sums instead of four)."""
    d = x.shape[0]
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = 0.0
    c0 = c1 = c2 = c3 = e0 = e1 = e2 = e3 = 0.0
    k = 0
    while k + 4 <= d:
        x0, x1, x2, x3 = x[k], x[k + 1], x[k + 2], x[k + 3]
        a0 += A[j, k] * x0
        a1 += A[j, k + 1] * x1
        a2 += A[j, k + 2] * x2
        a3 += A[j, k + 3] * x3
        b0 += A[j + 1, k] * x0
        b1 += A[j + 1, k + 1] * x1
        b2 += A[j + 1, k + 2] * x2
        b3 += A[j + 1, k + 3] * x3
        c0 += A[j + 2, k] * x0
        c1 += A[j + 2, k + 1] * x1
        c2 += A[j + 2, k + 2] * x2
        c3 += A[j + 2, k + 3] * x3
        e0 += A[j + 3, k] * x0
        e1 += A[j + 3, k + 1] * x1
        e2 += A[j + 3, k + 2] * x2
        e3 += A[j + 3, k + 3] * x3
        k += 4
    while k < d:
        a0 += A[j, k] * x[k]
        b0 += A[j + 1, k] * x[k]
        c0 += A[j + 2, k] * x[k]
        e0 += A[j + 3, k] * x[k]
        k += 1
    return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3), (c0 + c1) + (c2 + c3), (e0 + e1) + (e2 + e3)


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
def fs_full_rows(A, y, offsets, x, lam, loss_kind, reg_kind, ysign, r, out):  # pragma: no cover - compiled
    """out[i] ← ∇f_i(x) for the first out.shape[0] workers, one pass over their rows; r: (d,) scratch.

    ∇f_i(x) = (1/m_i) Σ_{j∈D_i} ℓ'(a_jᵀx; y_j) a_j + ∇r(x), summed in row order. Four rows are taken
    per pass (their dot products together, :func:`_dot4`, and their terms added in turn), with the
    numbers of the one-row loop. Writes out and r.
    """
    d = x.shape[0]
    _reg(x, lam, reg_kind, r)
    for i in range(out.shape[0]):
        lo, hi = offsets[i], offsets[i + 1]
        for k in range(d):
            out[i, k] = 0.0
        j = lo
        while j + 4 <= hi:  # four rows per pass over out[i], added one after another
            z0, z1, z2, z3 = _dot4(A, j, x)
            c0 = _coef(z0, ysign * y[j], loss_kind)
            c1 = _coef(z1, ysign * y[j + 1], loss_kind)
            c2 = _coef(z2, ysign * y[j + 2], loss_kind)
            c3 = _coef(z3, ysign * y[j + 3], loss_kind)
            for k in range(d):
                v = ((out[i, k] + c0 * A[j, k]) + c1 * A[j + 1, k]) + c2 * A[j + 2, k]
                out[i, k] = v + c3 * A[j + 3, k]
            j += 4
        for jj in range(j, hi):
            c = _coef(_dot(A, jj, x), ysign * y[jj], loss_kind)
            for k in range(d):
                out[i, k] += c * A[jj, k]
        inv = 1.0 / (hi - lo)
        for k in range(d):
            out[i, k] = out[i, k] * inv + r[k]


@njit(cache=True)
def fs_full_grads(A, y, offsets, x, lam, loss_kind, reg_kind, ysign, out):  # pragma: no cover - compiled
    """out[i] ← ∇f_i(x) for the first out.shape[0] workers, one pass over their rows; writes out."""
    fs_full_rows(A, y, offsets, x, lam, loss_kind, reg_kind, ysign, np.empty(x.shape[0]), out)


@njit(cache=True)
def fs_stoch_rows(A, y, offsets, idx, x, lam, loss_kind, reg_kind, ysign, r, out):  # pragma: no cover
    """out[i] ← (1/b) Σ_s ∇f_{i, idx[i, s]}(x) for the idx.shape[0] workers; r: (d,) scratch.

    Returns 0, or i + 1 when worker i's index is out of range (its row and later ones unwritten).
    """
    n, b = idx.shape
    d = x.shape[0]
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
def fs_stoch_grads(A, y, offsets, idx, x, lam, loss_kind, reg_kind, ysign, out):  # pragma: no cover
    """out[i] ← (1/b) Σ_r ∇f_{i, idx[i, r]}(x); returns 0, or i + 1 when worker i's index is out of range."""
    return fs_stoch_rows(A, y, offsets, idx, x, lam, loss_kind, reg_kind, ysign, np.empty(x.shape[0]), out)


@njit(cache=True)
def fs_pair_rows(A, y, offsets, idx, x1, x2, lam, loss_kind, reg_kind, ysign, r1, r2,
                 out1, out2):  # pragma: no cover - compiled
    """fs_stoch_rows at x1 and x2 with the same idx, sharing row loads; r1, r2: (d,) scratch.

    Each output row gets the same operations as a separate :func:`fs_stoch_rows` call. Returns 0,
    or i + 1 when worker i's index is out of range.
    """
    n, b = idx.shape
    d = x1.shape[0]
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


@njit(cache=True)
def fs_stoch_grads_pair(A, y, offsets, idx, x1, x2, lam, loss_kind, reg_kind, ysign,
                        out1, out2):  # pragma: no cover - compiled
    """fs_stoch_grads at x1 and x2 with the same idx, sharing row loads; writes out1 and out2."""
    d = x1.shape[0]
    return fs_pair_rows(A, y, offsets, idx, x1, x2, lam, loss_kind, reg_kind, ysign, np.empty(d),
                        np.empty(d), out1, out2)


# --- problem kernels of the compiled engine ------------------------------------------------------------

@njit(cache=True)
def _bounded(bitgen, rng):  # pragma: no cover - compiled
    """An integer uniform on 0..rng, consuming ``bitgen`` as NumPy's ``random_bounded_uint64``.

    NumPy's Generator (Lemire's method, no masking): rng = 0 draws nothing; rng < 2³² − 1 takes
    32-bit words (the bit generator's buffered half-words) with Lemire's rejection; rng = 2³² − 1 one
    32-bit word; rng = 2⁶⁴ − 1 one 64-bit word; otherwise 64-bit Lemire.
    """
    if rng == 0:
        return np.uint64(0)
    if rng <= 0xFFFFFFFF:
        if rng == 0xFFFFFFFF:
            return np.uint64(next_uint32(bitgen))
        return np.uint64(buffered_bounded_lemire_uint32(bitgen, rng))
    if rng == 0xFFFFFFFFFFFFFFFF:
        return next_uint64(bitgen)
    return np.uint64(bounded_lemire_uint64(bitgen, rng))


@njit(cache=True)
def fs_draw(pp, rng, smp):  # pragma: no cover - compiled
    """smp (n, b) ← local row indices, consuming ``rng`` as ``rng.integers(0, counts[:, None], size=(n, b))``.

    NumPy broadcasts the bounds and draws the elements in C order, each as one bounded integer on
    0..m_i − 1 (:func:`_bounded`).
    """
    counts = pp[3]
    bitgen = rng.bit_generator
    for i in range(smp.shape[0]):
        r = np.uint64(counts[i] - 1)
        for s in range(smp.shape[1]):
            smp[i, s] = np.int64(_bounded(bitgen, r))


@njit(cache=True)
def fs_stoch(pp, x, smp, lo, hi, flip, out):  # pragma: no cover - compiled
    """out[:hi − lo] ← rows lo..hi − 1 of ``stoch_grads(x, smp)`` (``flipped_stoch_grads`` when flip)."""
    A, y, off, _, lam, lk, rk, r1, _, _ = pp
    fs_stoch_rows(A, y, off[lo:hi + 1], smp[lo:hi], x, lam, lk, rk, -1.0 if flip else 1.0, r1, out[:hi - lo])


@njit(cache=True)
def fs_pair(pp, x_new, x_old, smp, lo, hi, flip, out_new, out_old):  # pragma: no cover - compiled
    """Rows lo..hi − 1 of ``stoch_grads_pair`` (flip: ``flipped_stoch_grads`` at x_new and at x_old)."""
    A, y, off, _, lam, lk, rk, r1, r2, _ = pp
    fs_pair_rows(A, y, off[lo:hi + 1], smp[lo:hi], x_new, x_old, lam, lk, rk, -1.0 if flip else 1.0, r1, r2,
                 out_new[:hi - lo], out_old[:hi - lo])


@njit(cache=True)
def fs_full(pp, x, lo, hi, flip, out):  # pragma: no cover - compiled
    """out[:hi − lo] ← rows lo..hi − 1 of ``worker_grads(x)`` (``flipped_worker_grads`` when flip)."""
    A, y, off, _, lam, lk, rk, r1, _, _ = pp
    fs_full_rows(A, y, off[lo:hi + 1], x, lam, lk, rk, -1.0 if flip else 1.0, r1, out[:hi - lo])


@njit(cache=True)
def fs_grad(pp, x, out):  # pragma: no cover - compiled
    """out (d,) ← ∇f(x) = mean of the |G| good workers' ∇f_i(x), as ``W.mean(axis=0)`` in NumPy.

    NumPy reduces a (|G|, d) C array over axis 0 row by row from +0.0 (0 + W_0 + W_1 + …) when
    d ≥ 2; with d = 1 the column is contiguous and NumPy sums it pairwise (byzref._pairwise_sum).
    Then it divides by |G|.
    """
    A, y, off, _, lam, lk, rk, r1, _, W = pp
    g, d = W.shape
    fs_full_rows(A, y, off[:g + 1], x, lam, lk, rk, 1.0, r1, W)
    if d == 1:
        out[0] = (0.0 + pairwise_sum(W[:g, 0])) / g
        return
    for k in range(d):
        out[k] = 0.0
    for i in range(g):
        for k in range(d):
            out[k] += W[i, k]
    for k in range(d):
        out[k] = out[k] / g
