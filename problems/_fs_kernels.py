"""Numba kernels of the finite-sum problems (logistic and least-squares losses, three regularisers).

Layout: data rows A (N, d) and labels y (N,) stacked worker by worker; worker i owns rows
offsets[i] .. offsets[i+1] − 1. Samples are LOCAL row indices idx (n, b) (0 ≤ idx[i, r] < m_i).
Every kernel writes only its ``out`` arrays. ``ysign`` = −1 flips the labels (label-flip attack).
The NumPy references live in tests/reference/problems.py.

The ``*_rows`` kernels take their scratch vectors as arguments (no allocation); ``fs_stoch_grads``,
``fs_stoch_grads_pair`` and ``fs_full_grads`` allocate them and call those. ``fs_draw``, ``fs_stoch``,
``fs_pair``, ``fs_full`` and ``fs_grad`` are the problem kernels of the compiled engine
(:class:`byzref.kernels.ProblemKernel`, built by ``FiniteSumProblem.kernel``); their parameters are
``pp = (A, y, offsets, counts, lam, loss_kind, reg_kind, r1, r2, W, AT, S, z)`` with the transposed
data AT (d, N) and scratch: vectors r1, r2 (d,), W (|G|, d), S (4, MARGIN_CHUNK) and z (N,).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random.generator_core import next_uint32, next_uint64
from numba.np.random.random_methods import bounded_lemire_uint64, buffered_bounded_lemire_uint32

from byzref._pairwise_sum import pairwise_sum

__all__ = ["LOGISTIC", "MARGIN_CHUNK", "REG_L2", "REG_NC", "REG_NONE", "SQUARES", "fs_draw", "fs_full",
           "fs_full_grads", "fs_full_rows", "fs_grad", "fs_pair", "fs_pair_rows", "fs_stoch",
           "fs_stoch_grads", "fs_stoch_grads_pair", "fs_stoch_rows"]

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


MARGIN_CHUNK = 256  # rows per pass of :func:`_margins`: its four (256,) running sums stay in L1 cache


@njit(cache=True)
def _margins(AT, x, lo, hi, S, z):  # pragma: no cover - compiled
    """z[p − lo] ← a_pᵀx for the rows p = lo..hi − 1, each exactly as :func:`_dot` forms it.

    Reads the transposed data AT (d, N), so that one pass over a column block of AT advances the
    running sums of up to ``MARGIN_CHUNK`` rows side by side (vector code); each row still keeps
    its four sums (k mod 4, the tail in the first), combined as (s0 + s1) + (s2 + s3).
    S: (4, MARGIN_CHUNK) scratch. Writes S and z[:hi − lo].
    """
    d = x.shape[0]
    for c0 in range(lo, hi, MARGIN_CHUNK):
        c1 = min(hi, c0 + MARGIN_CHUNK)
        m = c1 - c0
        s0, s1, s2, s3 = S[0, :m], S[1, :m], S[2, :m], S[3, :m]
        for p in range(m):
            s0[p] = 0.0
            s1[p] = 0.0
            s2[p] = 0.0
            s3[p] = 0.0
        k = 0
        while k + 4 <= d:
            a0, a1, a2, a3 = AT[k, c0:c1], AT[k + 1, c0:c1], AT[k + 2, c0:c1], AT[k + 3, c0:c1]
            x0, x1, x2, x3 = x[k], x[k + 1], x[k + 2], x[k + 3]
            for p in range(m):
                s0[p] += a0[p] * x0
                s1[p] += a1[p] * x1
                s2[p] += a2[p] * x2
                s3[p] += a3[p] * x3
            k += 4
        while k < d:
            a0 = AT[k, c0:c1]
            x0 = x[k]
            for p in range(m):
                s0[p] += a0[p] * x0
            k += 1
        zc = z[c0 - lo:c1 - lo]
        for p in range(m):
            zc[p] = (s0[p] + s1[p]) + (s2[p] + s3[p])


@njit(cache=True)
def _coef(z, yj, loss_kind):  # pragma: no cover - compiled
    """d/dz of the per-sample loss: logistic −y σ(−y z) (overflow-safe), squares z − y.

    Logistic, with t = y z: −y e/(1 + e), e = exp(−t), when t ≥ 0, else −y/(1 + e), e = exp(t).
    """
    if loss_kind == 1:
        return z - yj
    t = yj * z
    pos = t >= 0.0
    e = np.exp(-t if pos else t)  # selects, not branches: the sign of t is data-dependent
    num = -yj * e if pos else -yj
    return num / (1.0 + e)


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
def fs_full_rows(A, AT, y, offsets, x, lam, loss_kind, reg_kind, ysign, r, S, z, out):  # pragma: no cover
    """out[i] ← ∇f_i(x) for the first out.shape[0] workers, one pass over their rows.

    ∇f_i(x) = (1/m_i) Σ_{j∈D_i} ℓ'(a_jᵀx; y_j) a_j + ∇r(x), summed in row order. The margins a_jᵀx of
    all these rows come first, from the transposed data AT (:func:`_margins`), then their
    coefficients ℓ'(a_jᵀx; y_j) in z; then four rows per pass over out[i], their terms added one
    after another: the numbers of the one-row loop. Scratch: r (d,), S (4, MARGIN_CHUNK), z (≥ rows,).
    Writes out, r, S and z.
    """
    d = x.shape[0]
    _reg(x, lam, reg_kind, r)
    nw = out.shape[0]
    base, top = offsets[0], offsets[nw]
    _margins(AT, x, base, top, S, z)
    for p in range(top - base):
        z[p] = _coef(z[p], ysign * y[base + p], loss_kind)
    for i in range(nw):
        lo, hi = offsets[i], offsets[i + 1]
        for k in range(d):
            out[i, k] = 0.0
        j = lo
        while j + 4 <= hi:  # four rows per pass over out[i], added one after another
            c0, c1, c2, c3 = z[j - base], z[j + 1 - base], z[j + 2 - base], z[j + 3 - base]
            for k in range(d):
                v = ((out[i, k] + c0 * A[j, k]) + c1 * A[j + 1, k]) + c2 * A[j + 2, k]
                out[i, k] = v + c3 * A[j + 3, k]
            j += 4
        for jj in range(j, hi):
            c = z[jj - base]
            for k in range(d):
                out[i, k] += c * A[jj, k]
        inv = 1.0 / (hi - lo)
        for k in range(d):
            out[i, k] = out[i, k] * inv + r[k]


@njit(cache=True)
def fs_full_grads(A, AT, y, offsets, x, lam, loss_kind, reg_kind, ysign, out):  # pragma: no cover - compiled
    """out[i] ← ∇f_i(x) for the first out.shape[0] workers (AT = Aᵀ, C-contiguous); writes out."""
    rows = offsets[out.shape[0]] - offsets[0]
    fs_full_rows(A, AT, y, offsets, x, lam, loss_kind, reg_kind, ysign, np.empty(x.shape[0]),
                 np.empty((4, MARGIN_CHUNK)), np.empty(rows), out)


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
    A, y, off, _, lam, lk, rk, r1 = pp[:8]
    fs_stoch_rows(A, y, off[lo:hi + 1], smp[lo:hi], x, lam, lk, rk, -1.0 if flip else 1.0, r1, out[:hi - lo])


@njit(cache=True)
def fs_pair(pp, x_new, x_old, smp, lo, hi, flip, out_new, out_old):  # pragma: no cover - compiled
    """Rows lo..hi − 1 of ``stoch_grads_pair`` (flip: ``flipped_stoch_grads`` at x_new and at x_old)."""
    A, y, off, _, lam, lk, rk, r1, r2 = pp[:9]
    fs_pair_rows(A, y, off[lo:hi + 1], smp[lo:hi], x_new, x_old, lam, lk, rk, -1.0 if flip else 1.0, r1, r2,
                 out_new[:hi - lo], out_old[:hi - lo])


@njit(cache=True)
def fs_full(pp, x, lo, hi, flip, out):  # pragma: no cover - compiled
    """out[:hi − lo] ← rows lo..hi − 1 of ``worker_grads(x)`` (``flipped_worker_grads`` when flip)."""
    A, y, off, _, lam, lk, rk, r1, _, _, AT, S, z = pp
    fs_full_rows(A, AT, y, off[lo:hi + 1], x, lam, lk, rk, -1.0 if flip else 1.0, r1, S, z, out[:hi - lo])


@njit(cache=True)
def fs_grad(pp, x, out):  # pragma: no cover - compiled
    """out (d,) ← ∇f(x) = mean of the |G| good workers' ∇f_i(x), as ``W.mean(axis=0)`` in NumPy.

    NumPy reduces a (|G|, d) C array over axis 0 row by row from +0.0 (0 + W_0 + W_1 + …) when
    d ≥ 2; with d = 1 the column is contiguous and NumPy sums it pairwise (byzref._pairwise_sum).
    Then it divides by |G|.
    """
    A, y, off, _, lam, lk, rk, r1, _, W, AT, S, z = pp
    g, d = W.shape
    fs_full_rows(A, AT, y, off[:g + 1], x, lam, lk, rk, 1.0, r1, S, z, W)
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
