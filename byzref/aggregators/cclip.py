"""Centered clipping (SPEC §3; Karimireddy, He, Jaggi, ICML 2021)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators._pairwise import finite_rows
from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.errors import ConfigError, check_int, check_real

__all__ = ["CClip"]


@njit(cache=True)
def _cclip_kernel(X, tau, L, v, c, acc):  # pragma: no cover - compiled
    """L steps of v ← v + (1/n) Σ_i c_i (x_i − v), c_i = min(1, τ/‖x_i − v‖); c_i = 0 for non-finite rows.

    Norms of finite rows are computed without overflow. Mutates ``v`` (start in, result out) and
    the scratch arrays ``c`` (n,) and ``acc`` (d,).
    """
    n, d = X.shape
    ok = finite_rows(X)
    for _ in range(L):
        for i in range(n):
            c[i] = 0.0
            if ok[i]:
                s = 0.0
                for k in range(d):
                    t = X[i, k] - v[k]
                    s += t * t
                if not s < np.inf:  # rescale: ‖·‖ = m·‖·/m‖ with m = max |x_ik − v_k|
                    m = 0.0
                    for k in range(d):
                        m = max(m, abs(X[i, k] - v[k]))
                    s = 0.0
                    for k in range(d):
                        t = (X[i, k] - v[k]) / m
                        s += t * t
                    r = m * math.sqrt(s)
                else:
                    r = math.sqrt(s)
                c[i] = 1.0 if r <= tau else tau / r
        for k in range(d):
            acc[k] = 0.0
        for i in range(n):
            if ok[i]:
                for k in range(d):
                    acc[k] += c[i] * (X[i, k] - v[k])
        for k in range(d):
            v[k] += acc[k] / n


@AGGREGATORS.register("cclip")
class CClip(Aggregator):
    r"""Centered clipping: L clipped-mean steps around a centre that starts at the previous output.

    Definition (SPEC §3): from v⁰, repeat L times
        v ← v + (1/n) Σ_i (x_i − v) · min(1, τ/‖x_i − v‖),
    and return v. v⁰ = ``center`` when given (then the rule is stateless), otherwise the output of
    the previous server call (``agg(X, rng)``; ``evaluate`` does not update it), and 0 at the
    first call or after ``reset()``.
    Parameters: ``tau`` (τ > 0, default 10), ``L`` (≥ 1, default 3), ``center`` (None or a
    vector), ``f`` (not used by the rule; any 0 ≤ f < n).
    Properties: translation equivariant only together with its centre, cclip(X + u; v⁰ + u) =
    cclip(X; v⁰) + u; identical rows x are returned exactly when ‖x − v⁰‖ ≤ L·τ (each step moves
    at most τ towards them). Non-finite input: rows with any ±inf/NaN entry get weight 0 (their
    clipped difference would have norm τ in an undefined direction), still counted in the 1/n;
    norms of finite rows are computed without overflow. No κ constant is declared (Karimireddy
    et al. 2021 give a (δ, c)-robustness bound that depends on τ and on the start).
    """

    stateful = True
    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, tau: float = 10.0, L: int = 3, center=None, f: int = 0):
        super().__init__(f)
        self.tau = check_real("tau", tau, 0.0, None, lo_open=True)
        self.L = check_int("L", L, 1)
        self.center = None
        if center is not None:
            c = np.array(center, dtype=np.float64).ravel()
            if c.size < 1 or not np.isfinite(c).all():
                raise ConfigError(f"cclip: center must be a non-empty finite vector, got {center!r}")
            self.center = c
        self._v: np.ndarray | None = None

    def start(self, d: int) -> np.ndarray:
        """A fresh copy of v⁰ for d coordinates."""
        v = self.center if self.center is not None else self._v
        if v is None:
            return np.zeros(d)
        if v.shape != (d,):
            raise ConfigError(f"cclip: centre has {v.shape[0]} coordinates but the rows have {d}")
        return v.copy()

    def _aggregate(self, X, rng):
        n, d = X.shape
        v = self.start(d)
        _cclip_kernel(X, self.tau, self.L, v, np.empty(n), np.empty(d))
        return v

    def _commit(self, out):
        if self.center is None:
            self._v = out.copy()

    def reset(self) -> None:
        self._v = None
