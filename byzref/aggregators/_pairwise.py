"""Row kernels shared by aggregators (SPEC §3): pairwise squared distances (krum, multikrum, nnm)
and the mask of finite rows (cclip, gm)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["finite_rows", "finite_rows_into", "pairwise_bytes", "pairwise_sq_dists", "sort_prefix"]


def pairwise_bytes(n: int, d: int) -> float:
    """Peak bytes of the rules built on the (n, n) distance matrix: the matrix, a second (n, n)
    array (weights or sorted rows) and an (n, d) output."""
    return 8.0 * (2 * n * n + n * d + 2 * n)

_BLOCK = 1024  # columns per pass; an (n, 1024) slab of X stays in cache while all pairs use it


@njit(cache=True)
def sort_prefix(a, m):  # pragma: no cover - compiled
    """Sort a[:m] ascending in place, NaN last (the values of ``np.sort``). Mutates ``a``.

    Insertion sort for short runs (the n − 1 distances of a row), Numba's sort above 32.
    """
    if m > 32:
        a[:m].sort()
        return
    for i in range(1, m):
        x = a[i]
        j = i - 1
        if x == x:
            while j >= 0 and not a[j] <= x:  # a[j] > x or a[j] is NaN
                a[j + 1] = a[j]
                j -= 1
        a[j + 1] = x


@njit(cache=True)
def finite_rows_into(X, ok):  # pragma: no cover - compiled
    """ok[i] ← whether row i of X has only finite entries (``ok`` a boolean (n,) array). Mutates ``ok``."""
    n, d = X.shape
    for i in range(n):
        ok[i] = True
        for k in range(d):
            if not np.isfinite(X[i, k]):
                ok[i] = False
                break


@njit(cache=True)
def finite_rows(X):  # pragma: no cover - compiled
    """Boolean (n,) mask: row i of X has only finite entries."""
    ok = np.empty(X.shape[0], dtype=np.bool_)
    finite_rows_into(X, ok)
    return ok


@njit(cache=True)
def _sq_dists_kernel(X, D, finite):  # pragma: no cover - compiled
    """D[i, j] ← Σ_k (x_ik − x_jk)², finite[i] ← 1 if row i has only finite entries, else 0.

    Rows with a non-finite entry get D[i, :] = D[:, i] = +inf (including D[i, i]). Columns are
    visited in blocks so that X is read once. Mutates ``D`` and ``finite``.
    """
    n, d = X.shape
    for i in range(n):
        finite[i] = 1
        for j in range(n):
            D[i, j] = 0.0
    for j0 in range(0, d, _BLOCK):
        j1 = min(d, j0 + _BLOCK)
        for i in range(n):
            if finite[i] == 1:
                for k in range(j0, j1):
                    if not np.isfinite(X[i, k]):
                        finite[i] = 0
                        break
        for i in range(n):
            xi = X[i]
            for j in range(i + 1, n):
                xj = X[j]
                # eight interleaved partial sums: without fastmath a single running sum cannot be
                # vectorised (float addition is not reassociated); this ordering can. Scalars, not
                # an array, so that they stay in registers.
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
                k = j0
                while k + 8 <= j1:
                    t0 = xi[k] - xj[k]
                    t1 = xi[k + 1] - xj[k + 1]
                    t2 = xi[k + 2] - xj[k + 2]
                    t3 = xi[k + 3] - xj[k + 3]
                    t4 = xi[k + 4] - xj[k + 4]
                    t5 = xi[k + 5] - xj[k + 5]
                    t6 = xi[k + 6] - xj[k + 6]
                    t7 = xi[k + 7] - xj[k + 7]
                    a0 += t0 * t0
                    a1 += t1 * t1
                    a2 += t2 * t2
                    a3 += t3 * t3
                    a4 += t4 * t4
                    a5 += t5 * t5
                    a6 += t6 * t6
                    a7 += t7 * t7
                    k += 8
                s = 0.0
                while k < j1:
                    t = xi[k] - xj[k]
                    s += t * t
                    k += 1
                s += a0
                s += a1
                s += a2
                s += a3
                s += a4
                s += a5
                s += a6
                s += a7
                D[i, j] += s
    for i in range(n):
        for j in range(i + 1, n):
            if finite[i] == 0 or finite[j] == 0:
                D[i, j] = np.inf
            D[j, i] = D[i, j]
        if finite[i] == 0:
            D[i, i] = np.inf


def pairwise_sq_dists(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared Euclidean distances of the rows of a C-contiguous float64 (n, d) array.

    Returns ``(D, finite)``: D is (n, n) with D[i, j] = ‖x_i − x_j‖², computed directly (no Gram
    trick, so D ≥ 0 and D[i, i] = 0 exactly); a row with any ±inf/NaN entry is infinitely far from
    every row, itself included. ``finite`` is the boolean mask of rows with only finite entries.
    Squares that overflow float64 become +inf, i.e. "infinitely far" as well.
    """
    n = X.shape[0]
    D = np.empty((n, n))
    finite = np.empty(n, dtype=np.int64)
    _sq_dists_kernel(X, D, finite)
    return D, finite.astype(bool)
