"""Geometric median by smoothed Weiszfeld iterations (SPEC §3)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators._pairwise import finite_rows
from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.aggregators.cwtm import trimmed_mean
from byzref.errors import check_choice, check_int, check_real

__all__ = ["GM"]


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
def _weiszfeld_kernel(X, z, from_mean, nu, med, max_iter, tol, w):  # pragma: no cover - compiled
    """Smoothed Weiszfeld over the finite rows of X; writes the result into ``z``, returns the updates.

    Rows with a non-finite entry get weight 0. Start: the mean of the finite rows when
    ``from_mean``, else the given ``z``. ``nu ≤ 0`` means ν = max(1e-8·scale, 1e-290), scale = the
    ⌈n/2⌉-th smallest of ‖x_i − med‖ (non-finite rows: +inf); if that is 0, z = med is returned
    at once (0 updates, converged). Each step computes w_i = 1/max(ν, ‖x_i − z‖) and
    T(z) = Σ w_i x_i / Σ w_i; if ‖T(z) − z‖ ≤ tol·(1 + ‖z‖) it stops and leaves z (the point
    the test certifies), else z ← T(z); at most ``max_iter`` updates. Returns −1 − updates when
    it stopped at max_iter without meeting the test (and −1 with z = NaN when no row is finite).
    Mutates ``z`` and ``w``.
    """
    n, d = X.shape
    ok = finite_rows(X)
    n_ok = 0
    for i in range(n):
        n_ok += ok[i]
    if n_ok == 0:
        z[:] = np.nan
        return -1
    if from_mean:
        z[:] = 0.0
        for i in range(n):
            if ok[i]:
                for k in range(d):
                    z[k] += X[i, k]
        for k in range(d):
            z[k] /= n_ok
    if nu <= 0.0:
        for i in range(n):
            w[i] = _dist(X[i], med) if ok[i] else np.inf
        w.sort()
        scale = w[(n + 1) // 2 - 1]
        if scale == 0.0:  # at least half the rows equal med: it is a geometric median
            z[:] = med
            return 0
        nu = max(1e-8 * scale, 1e-290)
    znew = np.empty(d)
    origin = np.zeros(d)
    for it in range(max_iter + 1):
        W = 0.0
        for i in range(n):
            w[i] = 1.0 / max(nu, _dist(X[i], z)) if ok[i] else 0.0
            W += w[i]
        for k in range(d):
            znew[k] = 0.0
        for i in range(n):
            if ok[i]:
                for k in range(d):
                    znew[k] += w[i] * X[i, k]
        for k in range(d):
            znew[k] /= W
        if _dist(znew, z) <= tol * (1.0 + _dist(z, origin)):
            return it
        if it == max_iter:
            return -1 - it
        for k in range(d):
            z[k] = znew[k]
    return -1 - max_iter


@AGGREGATORS.register("gm")
class GM(Aggregator):
    r"""Geometric median, approximated by smoothed Weiszfeld iterations.

    Target: argmin_z Σ_i ‖x_i − z‖ over the finite rows. Iteration (SPEC §3):
        w_i = 1 / max(ν, ‖x_i − z‖),   z ← T(z) = Σ_i w_i x_i / Σ_i w_i,
    from z⁰ = ``start``: "mean" of the finite rows (default, SPEC), "zero" (byzfl) or "median"
    (coordinate-wise median; an addition: robust, so far-away Byzantine rows cost no iterations).
    Stopping: at most ``max_iter`` updates (default 100); before each update, if
    ‖T(z) − z‖ ≤ tol·(1 + ‖z‖) the current z is returned. Because T(z) − z = g(z)/Σ_i w_i with
    g(z) = Σ_i (x_i − z)/max(ν, ‖x_i − z‖), a returned point satisfies the first-order condition
    ‖g(z)‖ ≤ tol·(1 + ‖z‖)·Σ_i w_i(z). ``tol = 0`` runs exactly ``max_iter`` updates (byzfl:
    start zero, ν = 0.1, max_iter = 3). Default tol = 1e-10.
    Smoothing ``nu``: default ``None`` = 1e-8·scale (at least 1e-290), scale = the ⌈n/2⌉-th
    smallest distance of a row to the coordinate-wise median m (non-finite rows count as +inf).
    This scale is set by the good rows when f < n/2: a scale that Byzantine rows could inflate
    (e.g. the largest distance) would inflate ν, and rows within ν of z get equal weight, which
    biases z by up to about ν·f/(n − f). If the scale is 0, at least half the rows equal m, which
    is then a geometric median and is returned without iterating. The rule is translation equivariant with
    start "mean" or "median". Parameters: ``f`` (needs f < n/2: breakdown point 1/2).
    Caveat (measured): from the mean, a Byzantine row at distance R costs about
    log(R/spread)/log((n − f)/f) updates before z is back near the good rows, so with f close to
    n/2 and max_iter = 100 a huge attack can leave the mean-started output far away.
    Non-finite input: rows with any ±inf/NaN entry are dropped (weight 0) before the start point is
    formed; norms of finite rows are computed without overflow.
    No κ constant is declared. Reference: Weiszfeld 1937; Pillutla, Kakade, Harchaoui, "RFA", 2022.
    """

    needs_f_lt_half = True
    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, start: str = "mean", nu: float | None = None, max_iter: int = 100,
                 tol: float = 1e-10, f: int = 0):
        super().__init__(f)
        self.start = check_choice("start", start, ("mean", "zero", "median"))
        self.nu = None if nu is None else check_real("nu", nu, 0.0, None, lo_open=True)
        self.max_iter = check_int("max_iter", max_iter, 0)
        self.tol = check_real("tol", tol, 0.0)

    def solve(self, X: np.ndarray) -> tuple[np.ndarray, int, bool]:
        """(z, updates, converged) for a validated (n, d) float64 array X."""
        n, d = X.shape
        med = trimmed_mean(X, (n - 1) // 2) if (self.nu is None or self.start == "median") else None
        z = med.copy() if self.start == "median" else np.zeros(d)
        it = _weiszfeld_kernel(X, z, self.start == "mean", -1.0 if self.nu is None else self.nu,
                               z if med is None else med, self.max_iter, self.tol, np.empty(n))
        return z, (it if it >= 0 else -1 - it), it >= 0

    def _aggregate(self, X, rng):
        return self.solve(X)[0]
