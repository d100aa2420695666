"""Plain NumPy reference implementations of the aggregator kernels (their docstrings' definitions).

Slow and obvious on purpose: loops over columns and rows, full sorts, no shared code with the
library (never imported by it). Used by the kernel-vs-reference tests.
"""

from __future__ import annotations

import numpy as np


def norm(x):
    """Euclidean norm that does not overflow for finite x (scaled by max |x_k|)."""
    m = np.max(np.abs(x))
    return 0.0 if m == 0 else m * np.sqrt(np.sum((x / m) ** 2))


def _column_sorted(col):
    col = np.where(np.isnan(col), np.inf, col)
    return np.sort(col)


def cwtm(X, b):
    n, d = X.shape
    return np.array([_column_sorted(X[:, k])[b:n - b].mean() for k in range(d)])


def cwmed(X):
    n, d = X.shape
    out = []
    for k in range(d):
        s = _column_sorted(X[:, k])
        out.append(s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2)
    return np.array(out)


def meamed(X, f):
    """Mean of the n − f values closest to the median; ranked by (distance, value)."""
    n, d = X.shape
    med = cwmed(X)
    out = []
    for k in range(d):
        col = np.where(np.isnan(X[:, k]), np.inf, X[:, k])
        with np.errstate(invalid="ignore"):
            dist = np.abs(col - med[k])
        order = np.lexsort((col, dist))  # primary key: distance, then value
        out.append(col[order[: n - f]].mean())
    return np.array(out)


def sq_dists(X):
    """D[i, j] = ‖x_i − x_j‖², +inf for any pair involving a row with a non-finite entry."""
    n = X.shape[0]
    finite = np.array([np.all(np.isfinite(x)) for x in X])
    D = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(n):
            if finite[i] and finite[j]:
                D[i, j] = np.sum((X[i] - X[j]) ** 2)
    return D, finite


def krum_scores(X, m_nb):
    D, _ = sq_dists(X)
    n = X.shape[0]
    return np.array([np.sort(np.delete(D[i], i))[:m_nb].sum() for i in range(n)])


def krum(X, f, m_nb):
    s = krum_scores(X, m_nb)
    best = min(range(len(s)), key=lambda i: (s[i], i))
    return X[best].copy()


def multikrum(X, f, m_nb, m):
    s = krum_scores(X, m_nb)
    chosen = sorted(range(len(s)), key=lambda i: (s[i], i))[:m]
    return X[chosen].mean(axis=0)


def nnm(X, f):
    """Row i ← mean of the n − f nearest rows (ties → lowest index); non-finite rows copy the
    output of the finite row with the smallest sum of squared distances to its n − f nearest."""
    n = X.shape[0]
    k = n - f
    D, finite = sq_dists(X)
    out = np.empty_like(X)
    radius = np.full(n, np.inf)
    for i in range(n):
        if finite[i]:
            cand = sorted((j for j in range(n) if finite[j]), key=lambda j: (D[i, j], j))[:k]
            out[i] = X[cand].mean(axis=0)
            radius[i] = sum(D[i, j] for j in cand)
    centre = min((i for i in range(n) if finite[i]), key=lambda i: (radius[i], i))
    for i in range(n):
        if not finite[i]:
            out[i] = out[centre]
    return out


def gm(X, start="mean", nu=None, max_iter=100, tol=1e-10):
    """Smoothed Weiszfeld on the finite rows; returns (z, updates, converged) (see byzref gm).

    Default ν = max(1e-8 · scale, 1e-290), scale = the ⌈n/2⌉-th smallest distance of a row to the
    coordinate-wise median (non-finite rows: +inf); scale 0 returns the median at once. Fallbacks:
    a median with a non-finite entry is replaced by the median of the finite rows, and with fewer than
    ⌈n/2⌉ finite rows the scale is the ⌈n_ok/2⌉-th smallest distance.
    Restart: when the mean start (tol > 0) stops at max_iter without meeting the test and the finite
    rows are beyond the float range (a column sum or a squared row norm is infinite), run again from
    the median with a fresh budget; report the updates of both runs.
    """
    z, it, conv = _weiszfeld(X, start, nu, max_iter, tol)
    Y = X[np.isfinite(X).all(axis=1)]
    with np.errstate(over="ignore"):
        huge = not (np.isfinite(Y.sum(axis=0)).all() and np.isfinite((Y * Y).sum(axis=1)).all())
    if not conv and start == "mean" and tol > 0 and len(Y) and huge:
        z, it2, conv = _weiszfeld(X, "median", nu, max_iter, tol)
        it += it2
    return z, it, conv


def _gm_median(X, finite):
    """The median gm uses: cwmed of all rows, or, if that has a non-finite entry, the per-column
    middle value / midpoint of the finite rows (a/2 + b/2 when a + b overflows)."""
    with np.errstate(over="ignore", invalid="ignore"):
        med = cwmed(X)
    if np.isfinite(med).all() or not finite.any():
        return med
    Y = np.sort(X[finite], axis=0)
    m = len(Y)
    if m % 2:
        return Y[m // 2].copy()
    a, b = Y[m // 2 - 1], Y[m // 2]
    with np.errstate(over="ignore"):
        s = a + b
    return np.where(np.isfinite(s), s / 2, a / 2 + b / 2)


def _weiszfeld(X, start, nu, max_iter, tol):
    finite = np.isfinite(X).all(axis=1)
    Y = X[finite]
    med = _gm_median(X, finite)
    with np.errstate(over="ignore"):
        mean = Y.mean(axis=0)
    mean = np.where(np.isfinite(mean), mean, (Y / len(Y)).sum(axis=0))  # a sum that overflows
    z = {"mean": mean, "zero": np.zeros(X.shape[1]), "median": med}[start]
    if nu is None:
        dist = sorted(norm(x - med) if ok else np.inf for x, ok in zip(X, finite, strict=True))
        n_ok = int(finite.sum())
        rank = (len(dist) + 1) // 2 if n_ok >= (len(dist) + 1) // 2 else (n_ok + 1) // 2
        scale = dist[rank - 1]
        if scale == 0:
            return med, 0, True
        nu = max(1e-8 * scale, 1e-290)
    for it in range(max_iter + 1):
        w = np.array([1.0 / max(nu, norm(y - z)) for y in Y])
        z_new = (w[:, None] * Y).sum(axis=0) / w.sum()
        if norm(z_new - z) <= tol * (1 + norm(z)):
            return z, it, True
        if it == max_iter:
            return z, it, False
        z = z_new
    raise AssertionError("unreachable")


def cclip(X, tau, L, v0):
    n = X.shape[0]
    v = np.array(v0, dtype=float)
    finite = np.isfinite(X).all(axis=1)
    for _ in range(L):
        step = np.zeros_like(v)
        for i in range(n):
            if finite[i]:
                r = norm(X[i] - v)
                step += (X[i] - v) * min(1.0, tau / r if r > 0 else np.inf)
        v = v + step / n
    return v


def bucketing(X, perm, s):
    """Bucket means; a column whose sum overflows (finite entries) is averaged as Σ x/size."""
    n = X.shape[0]
    Y = X[perm]
    out = []
    for a in range(0, n, s):
        B = Y[a:min(n, a + s)]
        with np.errstate(over="ignore", invalid="ignore"):
            m = B.mean(axis=0)
        redo = ~np.isfinite(m) & np.isfinite(B).all(axis=0)
        m[redo] = (B[:, redo] / len(B)).sum(axis=0)
        out.append(m)
    return np.array(out)
