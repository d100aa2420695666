"""Top-k sparsification (SPEC §2), with an O(d) selection kernel."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, KSparsifier

__all__ = ["TopK"]

_FAST_MIN_D = 4096  # the sampled-threshold path is used for d ≥ this and 8k ≤ d
_SAMPLE_MAX = 8192  # the strided sample that estimates the threshold has ~min(d/8, this) entries


@njit(cache=True)
def _kth_smallest(a, n, kth, max_rounds):
    """Return the kth smallest (0-based) of a[:n] (no NaN), rearranging a[:n] in place.

    Quickselect (median-of-three pivot, Hoare partition); after ``max_rounds`` rounds it sorts
    what is left, so the worst case stays O(n log n). Mutates ``a`` only.
    """
    lo, hi = 0, n - 1
    rounds = 0
    while lo < hi:
        rounds += 1
        if rounds > max_rounds:
            a[lo:hi + 1].sort()
            break
        mid = (lo + hi) >> 1
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        p = a[mid]
        i, j = lo, hi
        while i <= j:
            while a[i] < p:
                i += 1
            while a[j] > p:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:  # j < kth < i: a[kth] equals the pivot
            break
    return a[kth]


@njit(cache=True)
def _top_k_rows(X, k, out):
    """Keep the k entries of largest |x| in each row of X; ties go to the lowest index.

    X: (m, d) float64, read only. out: (m, d) float64, all zeros on entry; the kernel writes the
    kept entries (it mutates ``out`` only). 1 ≤ k ≤ d. NaN ranks below every number (even 0).
    For d ≥ _FAST_MIN_D and 8k ≤ d, a threshold τ taken from a strided sample keeps only the
    candidates with |x| ≥ τ; if fewer than k survive, the row falls back to all d candidates,
    so the result is exact either way. O(d) expected time per row, no full sort.
    """
    d = X.shape[1]
    return _top_k_rows_ws(X, k, out, np.empty(d, dtype=np.int64), np.empty(d), np.empty(d))


@njit(cache=True)
def _top_k_rows_ws(X, k, out, cand, cval, work):
    """:func:`_top_k_rows` with caller-provided scratch (int64 cand, float64 cval and work, each (d,)).

    Mutates ``out`` and the scratch arrays.
    """
    m, d = X.shape
    fast = d >= _FAST_MIN_D and 8 * k <= d
    stride = max(8, d // _SAMPLE_MAX)
    for r in range(m):
        x = X[r]
        tau = -np.inf
        if fast:
            n_s = 0
            for j in range(0, d, stride):
                a = abs(x[j])
                work[n_s] = a if a == a else -1.0
                n_s += 1
            mu = k * n_s / d
            r_s = int(mu + 4.0 * math.sqrt(mu) + 8.0)  # sample entries kept: expected + margin
            if 2 * r_s <= n_s:
                tau = _kth_smallest(work, n_s, n_s - r_s, 64)
        c = 0
        for j in range(d):
            a = abs(x[j])
            if a != a:
                a = -1.0
            if a >= tau:
                cand[c] = j
                cval[c] = a
                c += 1
        if c < k:  # the sampled threshold was too high: take every coordinate
            c = d
            for j in range(d):
                a = abs(x[j])
                cand[j] = j
                cval[j] = a if a == a else -1.0
        work[:c] = cval[:c]
        t = _kth_smallest(work, c, c - k, 64)  # the k-th largest key
        kept = 0
        for i in range(c):
            if cval[i] > t:
                out[r, cand[i]] = X[r, cand[i]]
                kept += 1
        for i in range(c):  # ties at the threshold, in increasing index order
            if kept == k:
                break
            if cval[i] == t:
                out[r, cand[i]] = X[r, cand[i]]
                kept += 1
    return out


@COMPRESSORS.register("top_k")
class TopK(KSparsifier):
    r"""Top-k sparsification: keep the k largest-magnitude entries, zero the rest.

    .. math:: C(x)_j = x_j\,\mathbf{1}[j \in S_k(x)],

    where :math:`S_k(x)` holds the k indices of largest :math:`|x_j|`, ties broken by the
    LOWEST index (the first k of a stable sort of :math:`-|x|`). NaN ranks below every number.

    Parameters
    ----------
    k : int
        Entries kept, 1 ≤ k ≤ d (checked against d at call time).
    float_bits : int, default 32
        Bits per float, :math:`b_f`.

    Notes
    -----
    Deterministic and contractive, :math:`C \in \mathbb{B}(k/d)`:
    :math:`\|C(x) - x\|^2 \le (1 - k/d)\|x\|^2`, because the dropped d − k entries are the smallest.
    One message costs :math:`k(b_f + \lceil \log_2 d \rceil)` bits. The kernel selects in O(d)
    per row (no full sort). SPEC §2.

    References
    ----------
    Stich, Cordonnier, Jaggi, "Sparsified SGD with memory", NeurIPS 2018, arXiv:1809.07599.

    Examples
    --------
    >>> import numpy as np
    >>> TopK(k=2)(np.array([1.0, -3.0, 2.0, -2.0])).tolist()
    [0.0, -3.0, 2.0, 0.0]
    """

    classes = (CONTRACTIVE,)
    deterministic = True
    test_config = {"k": 2}

    def alpha(self, d: int) -> float:
        return self.k / d

    def _compress(self, X: np.ndarray, rng) -> np.ndarray:
        return _top_k_rows(X, self.k, np.zeros_like(X))
