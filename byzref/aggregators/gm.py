"""Geometric median by smoothed Weiszfeld iterations (Pillutla, Kakade, Harchaoui, RFA, 2022)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators._pairwise import finite_rows_into
from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.aggregators.cwtm import COLUMN_BLOCK, network_bytes, sorting_network, trimmed_mean_into
from byzref.errors import check_choice, check_int, check_real
from byzref.kernels import Kernel

__all__ = ["GM", "MAX_ITER"]

#: Largest ``max_iter``: Weiszfeld updates per call (a guard against a typo that would hang every round).
MAX_ITER = 10**6


@njit(cache=True)
def _dist(x, z):  # pragma: no cover - compiled
    """‖x − z‖ without overflow for finite x, z (rescaled only when the plain sum overflows)."""
    s = 0.0
    for k in range(x.shape[0]):
        t = x[k] - z[k]
        s += t * t
    if s < np.inf:
        return math.sqrt(s)
    m = 0.0
    for k in range(x.shape[0]):
        m = max(m, abs(x[k] - z[k]))
    s = 0.0
    for k in range(x.shape[0]):
        t = (x[k] - z[k]) / m
        s += t * t
    return m * math.sqrt(s)


@njit(cache=True)
def _row_dists(X, ok, z, r):  # pragma: no cover - compiled
    """r[i] ← ‖x_i − z‖ for the rows with ok[i], each exactly as :func:`_dist` computes it, and +inf for
    the others (rows with a non-finite entry, which :func:`_dist` must not see). Mutates ``r``.

    Four rows share one pass over z: four independent running sums, each added in index order, so a
    row's sum is the one :func:`_dist` forms, but a step no longer waits on one long chain of
    additions (at d = 30 the chain's latency was the whole cost of a Weiszfeld step). A sum that
    overflows is recomputed by :func:`_dist`.
    """
    n, d = X.shape
    i = 0
    while i + 4 <= n:
        s0 = s1 = s2 = s3 = 0.0
        for k in range(d):
            zk = z[k]
            t0 = X[i, k] - zk
            t1 = X[i + 1, k] - zk
            t2 = X[i + 2, k] - zk
            t3 = X[i + 3, k] - zk
            s0 += t0 * t0
            s1 += t1 * t1
            s2 += t2 * t2
            s3 += t3 * t3
        r[i] = _finish(s0, X, i, ok, z)
        r[i + 1] = _finish(s1, X, i + 1, ok, z)
        r[i + 2] = _finish(s2, X, i + 2, ok, z)
        r[i + 3] = _finish(s3, X, i + 3, ok, z)
        i += 4
    while i < n:
        r[i] = _dist(X[i], z) if ok[i] else np.inf
        i += 1


@njit(cache=True)
def _weighted_sum(X, ok, w, out):  # pragma: no cover - compiled
    """out ← Σ_{i: ok[i]} w_i x_i, the rows added in index order, four rows per pass over ``out``
    (the same additions in the same order as one row per pass). Mutates ``out``."""
    n, d = X.shape
    for k in range(d):
        out[k] = 0.0
    i = 0
    while i + 4 <= n:
        if ok[i] and ok[i + 1] and ok[i + 2] and ok[i + 3]:
            w0, w1, w2, w3 = w[i], w[i + 1], w[i + 2], w[i + 3]
            for k in range(d):
                out[k] = (((out[k] + w0 * X[i, k]) + w1 * X[i + 1, k]) + w2 * X[i + 2, k]) + w3 * X[i + 3, k]
        else:
            for j in range(i, i + 4):
                if ok[j]:
                    for k in range(d):
                        out[k] += w[j] * X[j, k]
        i += 4
    for j in range(i, n):
        if ok[j]:
            for k in range(d):
                out[k] += w[j] * X[j, k]


#: gm transposes its input for the distances when n·d is at most this (a (d, n) scratch of ≤ 512 kB).
TRANSPOSE_MAX = 1 << 16


def _xt_rows(n: int, d: int) -> int:
    """Rows of gm's transposed scratch XT (d, n): d when n·d ≤ ``TRANSPOSE_MAX``, else 0 (no transpose)."""
    return d if n * d <= TRANSPOSE_MAX else 0


@njit(cache=True)
def _row_dists_t(XT, X, ok, z, r):  # pragma: no cover - compiled
    """:func:`_row_dists` from XT = Xᵀ (d, n): the same numbers, faster for small d.

    One pass over z updates all n running sums, the rows side by side in vector lanes; each row's
    sum still adds its squares in index order. Rows that are not ok get +inf; a sum that overflows
    is recomputed by :func:`_dist`. Mutates ``r``.
    """
    d, n = XT.shape
    for i in range(n):
        r[i] = 0.0
    for k in range(d):
        zk = z[k]
        for i in range(n):
            t = XT[k, i] - zk
            r[i] += t * t
    redo = False
    for i in range(n):
        s = r[i]
        r[i] = math.sqrt(s) if ok[i] and s < np.inf else np.inf
        redo = redo or (ok[i] and not s < np.inf)
    if redo:
        for i in range(n):
            if ok[i] and not r[i] < np.inf:
                r[i] = _dist(X[i], z)


@njit(cache=True)
def _dists(XT, X, ok, z, r):  # pragma: no cover - compiled
    """r[i] ← ‖x_i − z‖ (+inf for rows not ok): :func:`_row_dists_t` when XT holds Xᵀ (shape (d, n)),
    else :func:`_row_dists`; the same numbers either way. Mutates ``r``."""
    if XT.shape[0] == X.shape[1]:
        _row_dists_t(XT, X, ok, z, r)
    else:
        _row_dists(X, ok, z, r)


@njit(inline="always")
def _finish(s, X, i, ok, z):  # pragma: no cover - compiled
    """‖x_i − z‖ from its plain running sum s: √s, or :func:`_dist`'s rescaled sum when s overflowed."""
    if not ok[i]:
        return np.inf
    return math.sqrt(s) if s < np.inf else _dist(X[i], z)


@njit(cache=True)
def _dist2(a, b, c, e):  # pragma: no cover - compiled
    """(‖a − b‖, ‖c − e‖), each exactly as :func:`_dist` computes it, in one pass (two running sums)."""
    s0 = s1 = 0.0
    for k in range(a.shape[0]):
        t0 = a[k] - b[k]
        t1 = c[k] - e[k]
        s0 += t0 * t0
        s1 += t1 * t1
    r0 = math.sqrt(s0) if s0 < np.inf else _dist(a, b)
    r1 = math.sqrt(s1) if s1 < np.inf else _dist(c, e)
    return r0, r1


@njit(cache=True)
def _dist_parts(x, z):  # pragma: no cover - compiled
    """‖x − z‖ as (mant, ex) with ‖x − z‖ = mant·2^ex, mant ∈ [0.5, 1) ((0.0, 0) when x = z).

    Never overflows, even when x_k − z_k does: the halves x_k/2 − z_k/2 are scaled by a power of
    two before squaring.
    """
    m = 0.0
    for k in range(x.shape[0]):
        m = max(m, abs(0.5 * x[k] - 0.5 * z[k]))
    if m == 0.0:
        return 0.0, 0
    e = math.frexp(m)[1]
    s = 0.0
    for k in range(x.shape[0]):
        t = math.ldexp(0.5 * x[k] - 0.5 * z[k], -e)
        s += t * t
    mant, ex = math.frexp(math.sqrt(s))
    return mant, ex + e + 1


@njit(cache=True)
def _scaled_dist(x, z, e):  # pragma: no cover - compiled
    """‖x − z‖ / 2^e computed on the scaled vectors (exact scaling by a power of two)."""
    s = 0.0
    for k in range(x.shape[0]):
        t = math.ldexp(x[k], -e) - math.ldexp(z[k], -e)
        s += t * t
    return math.sqrt(s)


@njit(cache=True)
def _finite_mean(X, ok, n_ok, z):  # pragma: no cover - compiled
    """z ← mean of the rows with ok[i]; a column whose plain sum overflows is summed as Σ x/n_ok."""
    n, d = X.shape
    for k in range(d):
        z[k] = 0.0
    for i in range(n):
        if ok[i]:
            for k in range(d):
                z[k] += X[i, k]
    for k in range(d):
        z[k] /= n_ok
    for k in range(d):
        if not np.isfinite(z[k]):  # overflow (the rows are finite): partial sums of x/n_ok stay ≤ max |x|
            acc = 0.0
            for i in range(n):
                if ok[i]:
                    acc += X[i, k] / n_ok
            z[k] = acc


@njit(cache=True)
def _safe_step(X, ok, z, nu, mant, ex, znew):  # pragma: no cover - compiled
    """znew ← T(z) = Σ w_i x_i / Σ w_i, w_i = 1/max(ν, ‖x_i − z‖), without overflow.

    Each r_i = max(ν, ‖x_i − z‖) is held as mant_i·2^ex_i (:func:`_dist_parts`); the weights are
    normalised by the largest one, p_i = r_min/r_i ∈ (0, 1], and znew = Σ (p_i/Σ p) x_i is a
    convex combination, so no partial sum exceeds max |x_ik|. Mutates ``mant``, ``ex``, ``znew``.
    """
    n, d = X.shape
    nu_m, nu_e = math.frexp(nu)
    i_min = -1
    for i in range(n):
        if ok[i]:
            m, e = _dist_parts(X[i], z)
            if m == 0.0 or e < nu_e or (e == nu_e and m < nu_m):  # ‖x_i − z‖ < ν
                m, e = nu_m, nu_e
            mant[i], ex[i] = m, e
            if i_min < 0 or e < ex[i_min] or (e == ex[i_min] and m < mant[i_min]):
                i_min = i
    m_min, e_min = mant[i_min], ex[i_min]
    W = 0.0
    for i in range(n):
        if ok[i]:
            mant[i] = math.ldexp(m_min / mant[i], e_min - ex[i])
            W += mant[i]
    for k in range(d):
        znew[k] = 0.0
    for i in range(n):
        if ok[i]:
            p = mant[i] / W
            for k in range(d):
                znew[k] += p * X[i, k]


@njit(cache=True)
def _small_step(znew, z, tol, origin):  # pragma: no cover - compiled
    """The stopping test ‖znew − z‖ ≤ tol·(1 + ‖z‖), on vectors scaled by 2^−e if a norm overflows.

    ``origin`` is a zero vector of the same length (scratch, not modified).
    """
    step, size = _dist2(znew, z, z, origin)
    if step < np.inf and size < np.inf:
        return step <= tol * (1.0 + size)
    m = 0.0
    for k in range(z.shape[0]):
        m = max(m, abs(z[k]), abs(znew[k]))
    e = math.frexp(m)[1]
    return _scaled_dist(znew, z, e) <= tol * (math.ldexp(1.0, -e) + _scaled_dist(z, origin, e))


@njit(cache=True)
def _weiszfeld_into(X, z, from_mean, nu, med, rank, max_iter, tol,
                    w, ok, znew, origin, ex, XT):  # pragma: no cover - compiled
    """Smoothed Weiszfeld over the finite rows of X; writes the result into ``z``, returns the updates.

    Rows with a non-finite entry get weight 0. Start: the mean of the finite rows when
    ``from_mean`` (overflow-safe, :func:`_finite_mean`), else the given ``z``. ``nu ≤ 0`` means
    ν = max(1e-8·scale, 1e-290), scale = the ``rank``-th smallest of ‖x_i − med‖ (non-finite rows:
    +inf; a norm beyond the float range is measured on data scaled by a power of two), with ``med``
    and ``rank`` from :func:`_gm_median`; if that is 0, z = med is returned at once (0 updates,
    converged). Each step computes
    w_i = 1/max(ν, ‖x_i − z‖) and T(z) = Σ w_i x_i / Σ w_i; if ‖T(z) − z‖ ≤ tol·(1 + ‖z‖) it
    stops and leaves z (the point the test certifies), else z ← T(z); at most ``max_iter`` updates.
    When a norm or T(z) overflows, that step is computed by :func:`_safe_step` (the same map,
    with norms held as mantissa and exponent and normalised weights); on ordinary data it never runs.
    Returns −1 − updates when it stopped at max_iter without meeting the test (and −1 with
    z = NaN when no row is finite). Scratch: ``w`` (n,), the boolean ``ok`` (n,), ``znew`` (d,),
    ``origin`` (d,, zeros, not modified), the int64 ``ex`` (n,) and XT: (d, n) to measure the
    distances on Xᵀ (:func:`_row_dists_t`), or (0, n) to measure them on X. Mutates ``z`` and the
    scratch.
    """
    n, d = X.shape
    if XT.shape[0] == d:
        for i in range(n):
            for k in range(d):
                XT[k, i] = X[i, k]
    finite_rows_into(X, ok)
    n_ok = 0
    for i in range(n):
        n_ok += ok[i]
    if n_ok == 0:
        z[:] = np.nan
        return -1
    if from_mean:
        _finite_mean(X, ok, n_ok, z)
    if nu <= 0.0:
        _dists(XT, X, ok, med, w)
        w.sort()
        scale = w[rank - 1]
        if scale == 0.0:  # half the (finite) rows equal med: a geometric median of the finite rows
            z[:] = med
            return 0
        if scale < np.inf:
            nu = max(1e-8 * scale, 1e-290)
        else:  # the rank-th distance is beyond the float range: sort mant·2^ex by the key ex + mant
            for i in range(n):
                if ok[i]:
                    m, e = _dist_parts(X[i], med)
                    w[i] = e + m if m > 0.0 else -np.inf
                else:
                    w[i] = np.inf
            w.sort()
            key = w[rank - 1]
            e = math.floor(key)
            nu = max(math.ldexp(1e-8 * (key - e), int(e)), 1e-290)
    for it in range(max_iter + 1):
        W = 0.0
        over = False
        _dists(XT, X, ok, z, w)  # the distances, then the weights in place
        for i in range(n):
            if ok[i]:
                r = w[i]
                over = over or not r < np.inf
                w[i] = 1.0 / max(nu, r)
            else:
                w[i] = 0.0
            W += w[i]
        if not over:
            _weighted_sum(X, ok, w, znew)
            for k in range(d):
                znew[k] /= W
                over = over or not np.isfinite(znew[k])
        if over:
            _safe_step(X, ok, z, nu, w, ex, znew)
        if _small_step(znew, z, tol, origin):
            return it
        if it == max_iter:
            return -1 - it
        for k in range(d):
            z[k] = znew[k]
    return -1 - max_iter


@njit(cache=True)
def _out_of_range(X, ok, colsum):  # pragma: no cover - compiled
    """Whether the finite rows of X have a column sum or a squared norm beyond the float range.

    Sums run over the rows (columns) in order. Scratch: the boolean ``ok`` (n,) and ``colsum`` (d,).
    """
    n, d = X.shape
    finite_rows_into(X, ok)
    for k in range(d):
        colsum[k] = 0.0
    for i in range(n):
        if ok[i]:
            s = 0.0
            for k in range(d):
                colsum[k] += X[i, k]
                s += X[i, k] * X[i, k]
            if not s < np.inf:
                return True
    for k in range(d):
        if not np.isfinite(colsum[k]):
            return True
    return False


@njit(cache=True)
def _finite_median_into(X, ok, n_ok, buf, med):  # pragma: no cover - compiled
    """med ← the coordinate-wise median of the rows with ok[i] (n_ok ≥ 1 of them, all finite).

    Per column: the middle value, or for even n_ok the midpoint (a + b)/2 of the two middle values,
    taken as a/2 + b/2 when a + b overflows. Scratch ``buf`` (n,). Mutates ``buf`` and ``med``.
    """
    n, d = X.shape
    h = n_ok // 2
    for k in range(d):
        m = 0
        for i in range(n):
            if ok[i]:
                buf[m] = X[i, k]
                m += 1
        v = np.sort(buf[:n_ok])
        if n_ok % 2 == 1:
            med[k] = v[h]
        else:
            s = v[h - 1] + v[h]
            med[k] = s / 2 if np.isfinite(s) else v[h - 1] / 2 + v[h] / 2


@njit(cache=True)
def _gm_median(X, pairs, S, med, ok, buf):  # pragma: no cover - compiled
    """med ← the coordinate-wise median m that gm starts from and scales ν by; returns the rank of ν's scale.

    m is the median of all n rows, NaN ordered as +inf (:func:`cwtm.trimmed_mean_into` with
    b = ⌊(n − 1)/2⌋), and the rank is ⌈n/2⌉. Each part has a fallback where it has no finite value:
    if m has a non-finite entry (±inf among the middle values, or a midpoint that overflows), m is
    the median of the n_ok finite rows (:func:`_finite_median_into`); if fewer than ⌈n/2⌉ rows are
    finite, the rank is ⌈n_ok/2⌉ (the ⌈n/2⌉-th distance would be a non-finite row's +inf). Scratch:
    ``pairs``, S, the boolean ``ok`` (n,) and ``buf`` (n,).
    """
    n = X.shape[0]
    trimmed_mean_into(X, (n - 1) // 2, pairs, S, med)
    finite_rows_into(X, ok)
    n_ok = 0
    for i in range(n):
        n_ok += ok[i]
    if n_ok == 0:
        return (n + 1) // 2
    for k in range(med.shape[0]):
        if not np.isfinite(med[k]):
            _finite_median_into(X, ok, n_ok, buf, med)
            break
    return (n + 1) // 2 if n_ok >= (n + 1) // 2 else (n_ok + 1) // 2


@njit(cache=True)
def _gm_solve(X, start, nu, max_iter, tol, pairs, S, med,
              z, w, ok, znew, origin, ex, colsum, XT):  # pragma: no cover - compiled
    """z ← the geometric median of :class:`GM` (start 0 "mean", 1 "zero", 2 "median"; ν ≤ 0: automatic).

    Runs :func:`_weiszfeld_into` from the start and, when the mean-started run stops at max_iter
    without meeting the test, tol > 0 and the finite rows are out of range (:func:`_out_of_range`),
    again from the coordinate-wise median. The median and the rank of ν's scale come from
    :func:`_gm_median`. Returns (updates of both runs, whether the last converged). Scratch:
    ``pairs`` and S of :func:`cwtm.trimmed_mean_into` (for the median), ``med`` (d,) and those of
    :func:`_weiszfeld_into` (XT) and :func:`_out_of_range`. Mutates ``z`` and the scratch.
    """
    n, d = X.shape
    have_med = nu <= 0.0 or start == 2
    rank = (n + 1) // 2
    if have_med:
        rank = _gm_median(X, pairs, S, med, ok, w)
    for k in range(d):
        z[k] = med[k] if start == 2 else 0.0
    it = _weiszfeld_into(X, z, start == 0, nu, med, rank, max_iter, tol, w, ok, znew, origin, ex, XT)
    updates = it if it >= 0 else -1 - it
    if it < 0 and start == 0 and tol > 0.0:
        all_nan = True
        for k in range(d):
            if z[k] == z[k]:
                all_nan = False
                break
        if not all_nan and _out_of_range(X, ok, colsum):
            if not have_med:
                rank = _gm_median(X, pairs, S, med, ok, w)
            for k in range(d):
                z[k] = med[k]
            it = _weiszfeld_into(X, z, False, nu, med, rank, max_iter, tol, w, ok, znew, origin, ex, XT)
            updates += it if it >= 0 else -1 - it
    return updates, it >= 0


@njit(cache=True)
def _gm_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of :class:`GM`: ``params = (start, nu, max_iter, tol, pairs, S, med, w, ok, znew,
    origin, ex, colsum, XT)`` (see :func:`_gm_solve`)."""
    start, nu, max_iter, tol, pairs, S, med, w, ok, znew, origin, ex, colsum, XT = params
    _gm_solve(X, start, nu, max_iter, tol, pairs, S, med, out, w, ok, znew, origin, ex, colsum, XT)


_STARTS = ("mean", "zero", "median")


@AGGREGATORS.register("gm")
class GM(Aggregator):
    r"""Geometric median, approximated by smoothed Weiszfeld iterations.

    Definition. Target: argmin_z Σ_i ‖x_i − z‖ over the finite rows. Iteration (RFA, Pillutla
    et al. 2022), from z⁰ = ``start``:

    .. math:: w_i = \frac{1}{\max(\nu, \|x_i - z\|)}, \qquad
              z \leftarrow T(z) = \frac{\sum_i w_i x_i}{\sum_i w_i}.

    Stopping: at most ``max_iter`` updates; before each update, if ‖T(z) − z‖ ≤ tol·(1 + ‖z‖)
    the current z is returned. Because T(z) − z = g(z)/Σ_i w_i with
    g(z) = Σ_i (x_i − z)/max(ν, ‖x_i − z‖), a returned point satisfies the first-order condition
    ‖g(z)‖ ≤ tol·(1 + ‖z‖)·Σ_i w_i(z). See :ref:`aggregator-gm`.

    Parameters
    ----------
    start : {"mean", "zero", "median"}, default "mean"
        z⁰: the mean of the finite rows, 0 (byzfl), or the coordinate-wise median (an addition:
        robust, so far-away Byzantine rows cost no iterations).
    nu : float or None, default None
        Smoothing ν > 0. None: 1e-8·scale (at least 1e-290), scale = the ⌈n/2⌉-th smallest
        distance of a row to the coordinate-wise median m (non-finite rows count as +inf). Beyond
        the breakdown point: if m has a non-finite entry, m is the median of the finite rows; with
        fewer than ⌈n/2⌉ finite rows, scale is the ⌈n_ok/2⌉-th distance of the n_ok finite rows.
    max_iter : int, default 100
        Most Weiszfeld updates per call, 0 ≤ max_iter ≤ 10⁶ (``MAX_ITER``).
    tol : float, default 1e-10
        Stopping tolerance ≥ 0; ``tol = 0`` runs exactly ``max_iter`` updates (byzfl: start
        "zero", ν = 0.1, max_iter = 3).
    f : int, default 0
        Declared Byzantine count; needs f < n/2 (breakdown point 1/2). Only validates.

    Notes
    -----
    The automatic scale of ν is set by the good rows when f < n/2: a scale that Byzantine rows
    could inflate (e.g. the largest distance) would inflate ν, and rows within ν of z get equal
    weight, which biases z by up to about ν·f/(n − f). If the scale is 0, at least half the rows
    equal m, which is then a geometric median and is returned without iterating. The rule is
    translation equivariant with start "mean" or "median".

    Restart (start "mean" with tol > 0): from the mean, Byzantine rows at distance R cost about
    log(R/spread)/log((n − f)/f) updates before z is back near the good rows (measured), so a
    huge attack can exhaust max_iter far away. When the mean-started run stops at max_iter
    without meeting the test AND the finite rows are out of the float range (a column sum or a
    row's squared norm overflows: only then do the overflow-safe paths run), gm runs again from
    the coordinate-wise median (robust: within the
    good rows' range when f < n/2) with a fresh budget of max_iter updates and returns that run's
    point; ``solve`` then reports the updates of both runs and the second run's convergence. A run
    that converges from the mean is returned unchanged. With tol = 0 (a fixed number of updates,
    byzfl's mode) there is no restart: use start "median" against huge attacks.
    Non-finite input: rows with any ±inf/NaN entry are dropped (weight 0) before the start point is
    formed. Huge finite rows: the mean, the norms, the weights and the stopping test never
    overflow (a column sum that would overflow is taken as Σ x/n; in a step where a norm or T(z)
    overflows, each ‖x_i − z‖ is held as mantissa·2^exponent and the weights are normalised by
    the largest, so even rows beyond the float range keep their unit pull), so the output is
    finite; on ordinary data these paths never run and the numbers are the plain ones.
    No κ constant is declared.

    References
    ----------
    Weiszfeld, "Sur le point pour lequel la somme des distances de n points donnés est minimum",
    Tôhoku Mathematical Journal, 1937. Pillutla, Kakade, Harchaoui, "Robust aggregation for
    federated learning", IEEE Transactions on Signal Processing, 2022, arXiv:1912.13445.
    """

    needs_f_lt_half = True
    f_in_numbers = False  # f only validates
    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, start: str = "mean", nu: float | None = None, max_iter: int = 100,
                 tol: float = 1e-10, f: int = 0):
        super().__init__(f)
        self.start = check_choice("start", start, ("mean", "zero", "median"))
        self.nu = None if nu is None else check_real("nu", nu, 0.0, None, lo_open=True)
        self.max_iter = check_int("max_iter", max_iter, 0, MAX_ITER)
        self.tol = check_real("tol", tol, 0.0)

    def solve(self, X: np.ndarray) -> tuple[np.ndarray, int, bool]:
        """(z, updates, converged) for a validated (n, d) float64 array X (see the restart rule).

        Parameters
        ----------
        X : numpy.ndarray
            C-contiguous float64 (n, d) rows, already validated (see
            :func:`byzref.aggregators.base.as_matrix` and ``check(n)``).

        Returns
        -------
        z : numpy.ndarray
            The (d,) approximate geometric median (the output of the rule).
        updates : int
            Weiszfeld updates made (of both runs when the restart ran).
        converged : bool
            Whether the last run met the stopping test.
        """
        n, d = X.shape
        p = self._scratch(n, d)
        z = np.empty(d)
        updates, converged = _gm_solve(X, *p[:7], z, *p[7:])
        return z, int(updates), bool(converged)

    def _scratch(self, n: int, d: int) -> tuple:
        """The parameters of :func:`_gm_fn`: the rule's settings and freshly allocated scratch."""
        return (_STARTS.index(self.start), -1.0 if self.nu is None else float(self.nu), int(self.max_iter),
                float(self.tol), sorting_network(n), np.empty((n, min(COLUMN_BLOCK, d))), np.empty(d),
                np.empty(n), np.empty(n, dtype=np.bool_), np.empty(d), np.zeros(d),
                np.zeros(n, dtype=np.int64), np.empty(d), np.empty((_xt_rows(n, d), n)))

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled rule, the same solver as :meth:`solve` with preallocated scratch.

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.aggregators.base.Aggregator.kernel`.
        """
        self.check(n)
        return Kernel(_gm_fn, self._scratch(n, d))

    def memory(self, n: int, d: int) -> float:
        """Peak bytes: the median's column sort, the weights, iterates, column sums and Xᵀ (small n·d).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        float
            Estimated peak bytes beyond the input.
        """
        xt = n * _xt_rows(n, d)  # the transposed input for small n·d
        return network_bytes(n, d) + 8.0 * (3 * n + 5 * d + xt)  # the median, weights, iterates, column sums

    def _aggregate(self, X, rng):
        return self.solve(X)[0]
