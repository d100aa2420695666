"""Top-k sparsification (Stich, Cordonnier, Jaggi, NeurIPS 2018), with an O(d) selection kernel."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, KSparsifier
from byzref.kernels import Kernel

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
def _sample_threshold(x, k, work):
    """A screening threshold τ for the top-k of x from a strided sample of its keys (|x|, NaN as −1).

    About min(d/8, _SAMPLE_MAX) entries x[0], x[s], x[2s], … are taken; τ is the (r_s)-th largest of
    their keys, with r_s = μ + 4√μ + 8 and μ = k · (sample size)/d the expected number of sampled
    entries in the top k, so that #{j : |x_j| ≥ τ} ≥ k is very likely. −∞ when the sample is too
    small (2 r_s > its size). x: (d,) read only; work: (≥ d/8 + 1,) float64, mutated.
    """
    d = x.shape[0]
    stride = max(8, d // _SAMPLE_MAX)
    n_s = 0
    for j in range(0, d, stride):
        a = abs(x[j])
        work[n_s] = a if a == a else -1.0
        n_s += 1
    mu = k * n_s / d
    r_s = int(mu + 4.0 * math.sqrt(mu) + 8.0)  # sample entries kept: expected + margin
    if 2 * r_s <= n_s:
        return _kth_smallest(work, n_s, n_s - r_s, 64)
    return -np.inf


@njit(cache=True)
def _top_k_rows_ws(X, k, out, cand, cval, work):
    """:func:`_top_k_rows` with caller-provided scratch (int64 cand, float64 cval and work, each (d,)).

    Mutates ``out`` and the scratch arrays.
    """
    m, d = X.shape
    fast = d >= _FAST_MIN_D and 8 * k <= d
    for r in range(m):
        x = X[r]
        tau = _sample_threshold(x, k, work) if fast else -np.inf
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


@njit(cache=True)
def _less(va, ia, vb, ib):
    """Entry a ranks below entry b: smaller key |x|, or an equal key and a larger index."""
    return va < vb or (va == vb and ia > ib)


@njit(cache=True)
def _sift_down(hv, hi, pos, k):
    """Restore the min-heap (by :func:`_less`) of hv[:k], hi[:k] below ``pos``. Mutates hv, hi."""
    while True:
        c = 2 * pos + 1
        if c >= k:
            return
        if c + 1 < k and _less(hv[c + 1], hi[c + 1], hv[c], hi[c]):
            c += 1
        if not _less(hv[c], hi[c], hv[pos], hi[pos]):
            return
        hv[pos], hv[c] = hv[c], hv[pos]
        hi[pos], hi[c] = hi[c], hi[pos]
        pos = c


@njit(cache=True)
def _heap_top_k_row(X, r, k, hv, hi):
    """hi[:k] ← the top-k indices of row r of X (largest |x|, ties → lowest index, NaN ranks lowest).

    A min-heap (by rank: key |x| with NaN as −1, then index) of the best k entries seen so far;
    a later entry enters only when it outranks the heap's minimum. Afterwards hv[0] is the k-th
    largest key. O(d log k), no allocation. X: (m, d) with 1 ≤ k ≤ d; hv (float64), hi (int64):
    at least k entries each, mutated.
    """
    d = X.shape[1]
    for j in range(d):
        a = abs(X[r, j])
        if a != a:
            a = -1.0
        if j < k:
            hv[j] = a
            hi[j] = j
            if j == k - 1:
                for pos in range(k // 2 - 1, -1, -1):
                    _sift_down(hv, hi, pos, k)
        elif _less(hv[0], hi[0], a, j):
            hv[0] = a
            hi[0] = j
            _sift_down(hv, hi, 0, k)


@njit(cache=True)
def _heap_top_k(x, k, hv, hi):
    """:func:`_heap_top_k_row` on the contiguous 1-d array x."""
    _heap_top_k_row(x.reshape((1, x.shape[0])), 0, k, hv, hi)


@njit(cache=True)
def _count_ge(X, r, t):
    """#{j : |X[r, j]| ≥ t} (NaN never counts); a branch-free pass that the compiler vectorises."""
    c = 0
    for j in range(X.shape[1]):
        c += abs(X[r, j]) >= t
    return c


@njit(cache=True)
def _sample_threshold_row(X, r, k, work):
    """:func:`_sample_threshold` of row r of X."""
    return _sample_threshold(X[r], k, work)


@njit(cache=True)
def _select_rows(X, k, tau, hv, hi, cidx, cabs, work, out):
    """For each row r of X: hi[:k] ← its top-k indices (the set of :func:`_top_k_rows`), by threshold
    screening; when ``out`` has rows, out[r] ← the row with all other entries zeroed.

    A threshold t with c = #{j : |x_j| ≥ t} ≥ k is sought; the k-th largest |x| is then ≥ t, so the
    whole top-k set (ties included) is among these c candidates, collected in index order.

    * Large rows (d ≥ _FAST_MIN_D and 8k ≤ d): t = :func:`_sample_threshold`, one pass collects
      the candidates.
    * Otherwise t starts at tau[r] and is moved by vectorised counts (×0.85 while c < k; ×1.08 while
      c > k + 2 and the count stays ≥ k, at most 3 times); one branch-free pass collects them.

    When c ≤ k + 8 the lowest-ranked candidates (smallest |x|, ties → larger index) are dropped one
    by one; otherwise the k-th largest candidate κ is found by quickselect and the candidates above
    κ, then those equal to κ in index order, are taken. When no such t is found (the sampled t
    leaves fewer than k candidates, or c < k after 8 steps down or at a t that is 0 or ∞, e.g. with
    fewer than k non-NaN entries), a heap runs over the whole row (:func:`_heap_top_k_row`). t decides
    only the work, never the set; tau[r] becomes 0.9κ (0 when κ is not positive and finite), the
    start of the next call for this row.

    The rows are indexed in place, never taken as views, and the loop over them calls no function
    with array arguments on its common path: at small d the reference counting of views and
    arguments would cost as much as the selection.

    X: (m, d) float64, read only; 1 ≤ k ≤ d. tau: (≥ m,) float64 ≥ 0. hv (float64), hi (int64):
    (≥ k,); cidx (int64), cabs, work (float64): (≥ d + 1,). out: (m, d) or (0, ·) (not written).
    Mutates tau[:m], hv, hi, out and the scratch.
    """
    m, d = X.shape
    large = d >= _FAST_MIN_D and 8 * k <= d
    for r in range(m):
        heap = False
        if large:
            t = _sample_threshold_row(X, r, k, work)
            c = 0
            for j in range(d):  # few entries pass: the branch is predictable
                a = abs(X[r, j])
                if a >= t:
                    cidx[c] = j
                    cabs[c] = a
                    c += 1
            if c < k:
                _heap_top_k_row(X, r, k, hv, hi)
                heap = True
        else:
            t = tau[r]
            c = _count_ge(X, r, t)
            down = 0
            while c < k:
                if down == 8 or not 0.0 < t < np.inf:
                    _heap_top_k_row(X, r, k, hv, hi)
                    kth = hv[0]
                    tau[r] = 0.9 * kth if 0.0 < kth < np.inf else 0.0
                    heap = True
                    break
                t *= 0.85
                c = _count_ge(X, r, t)
                down += 1
            if not heap:
                up = 0
                while c > k + 2 and up < 3 and 0.0 < t < np.inf:
                    c2 = _count_ge(X, r, t * 1.08)
                    if c2 < k:
                        break
                    t *= 1.08
                    c = c2
                    up += 1
                c = 0
                for j in range(d):  # branch-free: cidx[c] is overwritten until an entry passes
                    a = abs(X[r, j])
                    cidx[c] = j
                    cabs[c] = a
                    c += a >= t
        if not heap:
            if c - k > 8:  # many candidates: κ by quickselect, then those > κ, then ties in index order
                for p in range(c):
                    work[p] = cabs[p]
                kth = _kth_smallest(work, c, c - k, 64)
                left = k
                for p in range(c):
                    left -= cabs[p] > kth
                q = 0
                for p in range(c):
                    a = cabs[p]
                    if a > kth or (a == kth and left > 0):
                        left -= a == kth
                        hi[q] = cidx[p]
                        q += 1
            else:
                while c > k:  # drop the lowest-ranked candidate (smallest |x|, ties → larger index)
                    best = 0
                    for p in range(1, c):
                        if cabs[p] < cabs[best] or (cabs[p] == cabs[best] and cidx[p] > cidx[best]):
                            best = p
                    c -= 1
                    cabs[best] = cabs[c]
                    cidx[best] = cidx[c]
                kth = np.inf
                for p in range(k):
                    hi[p] = cidx[p]
                    kth = min(kth, cabs[p])
            tau[r] = 0.9 * kth if 0.0 < kth < np.inf else 0.0
        if out.shape[0] > 0:
            for j in range(d):
                out[r, j] = 0.0
            for p in range(k):
                j = hi[p]
                out[r, j] = X[r, j]


@njit(cache=True)
def _top_k_select(x, k, tau, i, hv, hi, cidx, cabs, work):
    """hi[:k] ← the top-k indices of the contiguous 1-d x, by :func:`_select_rows` from tau[i] (updated)."""
    d = x.shape[0]
    _select_rows(x.reshape((1, d)), k, tau[i:i + 1], hv, hi, cidx, cabs, work, np.empty((0, d)))


@njit(cache=True)
def _top_k_kernel(params, X, rng, out):
    r"""out[r] = top_k(X[r]) for every row r of X (the kernel of :class:`TopK`; rng is not used).

    .. math:: C(x)_j = x_j\,\mathbf{1}[j \in S_k(x)]

    params = (k, tau, hv, hi, cidx, cabs, work) from :meth:`TopK.kernel`: tau (n,) holds each
    row's screening threshold (work only, see :func:`_select_rows`), the rest is scratch.
    X: (m, d) float64, m ≤ n, read only. out: (≥ m, d) float64; rows 0..m−1 are fully written.
    """
    k, tau, hv, hi, cidx, cabs, work = params
    _select_rows(X, k, tau, hv, hi, cidx, cabs, work, out[:X.shape[0]])


@COMPRESSORS.register("top_k")
class TopK(KSparsifier):
    r"""Top-k sparsification: keep the k largest-magnitude entries, zero the rest.

    .. math:: C(x)_j = x_j\,\mathbf{1}[j \in S_k(x)],

    where :math:`S_k(x)` holds the k indices of largest :math:`|x_j|`, ties broken by the
    LOWEST index (the first k of a stable sort of :math:`-|x|`). NaN ranks below every number.
    See :ref:`compressor-top_k`.

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
    per row (no full sort); the compiled kernel (``kernel``) selects the same set by threshold
    screening, warm-started per row from its previous call.

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
        """α = k/d.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            The declared contraction constant.
        """
        return self.k / d

    def _compress(self, X: np.ndarray, rng) -> np.ndarray:
        return _top_k_rows(X, self.k, np.zeros_like(X))

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled map for up to n rows of length d.

        Kernel parameters: k, the per-row screening thresholds tau (n,) (start at 0) and the
        selection's scratch (heap (k,) ×2, candidates (d + 1,) ×3), so a call allocates nothing.
        The thresholds only decide how much work a row takes, never the kept set.

        Parameters
        ----------
        n : int
            Largest number of rows per call.
        d : int
            Row length (the dimension).

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.compressors.base.Compressor.kernel`.
        """
        self.check(d)
        k = self.k
        return Kernel(_top_k_kernel, (k, np.zeros(max(n, 1)), np.empty(k), np.empty(k, dtype=np.int64),
                                      np.empty(d + 1, dtype=np.int64), np.empty(d + 1), np.empty(d + 1)))
