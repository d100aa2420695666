"""NumPy's pairwise summation of a float64 vector, jitted, for kernels that must match NumPy bit for bit.

NumPy adds a contiguous run of float64 values (``np.sum`` of a vector, a reduction along a
contiguous axis, ``mean`` of a single column) with ``pairwise_sum_DOUBLE``:

.. math:: S(a_{0:n}) = \\begin{cases} \\text{leaf}(a) & n \\le 128 \\\\
          S(a_{0:h}) + S(a_{h:n}), \\ h = \\lfloor n/2 \\rfloor - (\\lfloor n/2 \\rfloor \\bmod 8) & n > 128
          \\end{cases}

where a leaf of fewer than 8 values is a running sum from 0.0 and a longer leaf keeps eight
running sums over the residues mod 8, combined as ((r₀+r₁)+(r₂+r₃))+((r₄+r₅)+(r₆+r₇)), with the
tail then added in order. The recursion runs on an explicit stack: a recursive function compiled
with ``cache=True`` crashes when Numba loads it back from its on-disk cache (numba 0.68.1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["pairwise_stack", "pairwise_sum", "pairwise_sum_ws"]

_BLOCK = 128  # NumPy's PW_BLOCKSIZE


@njit(cache=True)
def _leaf(a, lo, n):  # pragma: no cover - compiled
    """Σ a[lo:lo + n] for n ≤ 128, in NumPy's leaf order."""
    if n < 8:
        s = 0.0
        for i in range(n):
            s += a[lo + i]
        return s
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        s += a[lo + i]
        i += 1
    return s


def pairwise_stack() -> tuple[np.ndarray, np.ndarray]:
    """Scratch for :func:`pairwise_sum_ws`: an int64 (3, 128) task stack and a float64 (128,) value stack."""
    return np.empty((3, 128), dtype=np.int64), np.empty(128)


@njit(cache=True)
def pairwise_sum(a):  # pragma: no cover - compiled
    """Σ a in NumPy's pairwise order, for a 1-d float64 array of any stride (module docstring).

    Allocates its small stack only when a has more than 128 values (:func:`pairwise_sum_ws` does not).
    """
    if a.shape[0] <= _BLOCK:
        return _leaf(a, 0, a.shape[0])
    return pairwise_sum_ws(a, np.empty((3, 128), dtype=np.int64), np.empty(128))


@njit(cache=True)
def pairwise_sum_ws(a, tasks, vals):  # pragma: no cover - compiled
    """:func:`pairwise_sum` with caller scratch (:func:`pairwise_stack`): no allocation."""
    n = a.shape[0]
    if n <= _BLOCK:
        return _leaf(a, 0, n)
    los, lens, stage = tasks[0], tasks[1], tasks[2]
    sp, vp = 1, 0
    los[0], lens[0], stage[0] = 0, n, 0
    while sp > 0:
        t = sp - 1
        lo, m = los[t], lens[t]
        if m <= _BLOCK:
            vals[vp] = _leaf(a, lo, m)
            vp += 1
            sp -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[t] == 0:  # left half next
            stage[t] = 1
            los[sp], lens[sp], stage[sp] = lo, half, 0
            sp += 1
        elif stage[t] == 1:  # then the right half
            stage[t] = 2
            los[sp], lens[sp], stage[sp] = lo + half, m - half, 0
            sp += 1
        else:  # both done: left + right
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vp -= 1
            sp -= 1
    return vals[0]
