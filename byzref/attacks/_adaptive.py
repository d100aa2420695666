"""Shared machinery of the omniscient adaptive attacks (Allouah et al., AISTATS 2023; byzfl).

``line_search`` is byzfl's bounded search for the attack scale τ (``Optimal_InnerProductManipulation``),
re-implemented from its documented behaviour; :class:`AdaptiveAttack` evaluates
φ(τ) = ‖Agg(stack(H, f copies of b(τ))) − mean(H)‖₂ with b(τ) = base + τ·direction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from byzref.attacks._common import check_good_rows, good_mean
from byzref.attacks._kernels import col_mean, col_std
from byzref.attacks.base import Attack
from byzref.errors import ConfigError, check_int, check_real, show
from byzref.kernels import Kernel, template

__all__ = ["MAX_EVALS", "AdaptiveAttack", "adaptive_kernel", "line_search"]

MAX_EVALS = 10**6  # φ evaluations per round (each one is a full aggregation)


def line_search(
    phi: Callable[[float], float], start: float, delta: float, ratio: float, evals: int
) -> tuple[float, float]:
    """Maximise ``phi`` with exactly ``evals`` evaluations; return (τ*, φ(τ*)).

    Expansion: x = start, y = φ(x); while evaluations remain, try x + δ: if φ is strictly larger, accept
    it and double δ; otherwise set δ ← ratio·δ and stop expanding. Contraction: while evaluations remain,
    try x + δ, accept it if φ is strictly larger, and set δ ← ratio·δ either way. The search only moves
    in the direction of sign(δ) from ``start``. A NaN value of φ is never accepted.
    """
    best_x, best_y = start, phi(start)
    remaining = evals - 1
    while remaining > 0:
        x = best_x + delta
        y = phi(x)
        remaining -= 1
        if y > best_y:
            best_x, best_y = x, y
            delta *= 2.0
        else:
            delta *= ratio
            break
    while remaining > 0:
        x = best_x + delta
        y = phi(x)
        remaining -= 1
        if y > best_y:
            best_x, best_y = x, y
        delta *= ratio
    return best_x, best_y


@template
def _kernel_phi(params, H, tau, pk):  # pragma: no cover - compiled through byzref.kernels.bind
    """φ(τ) = ‖probe(stack(H, f copies of b(τ))) − μ‖₂ with b(τ) = τ·direction (+ μ in mode 1).

    The norm is sqrt(Σ diff²) by BLAS ``ddot`` (``np.dot``), as ``np.linalg.norm`` computes it.
    Writes the stack into params' X (good rows rewritten every time) and the difference into agg.
    """
    mode, X, mu, direction, agg = params[0], params[5], params[6], params[7], params[8]
    m = H.shape[0]
    n, d = X.shape
    for i in range(m):
        for j in range(d):
            X[i, j] = H[i, j]
    for j in range(d):
        v = direction[j] * tau
        if mode == 1:
            v += mu[j]
        X[m, j] = v
    for i in range(m + 1, n):
        for j in range(d):
            X[i, j] = X[m, j]
    probe(pk, X, agg)  # noqa: F821 - bound per run by byzref.kernels.bind
    for j in range(d):
        agg[j] = agg[j] - mu[j]
    return np.sqrt(np.dot(agg, agg))


@template
def adaptive_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled through bind
    """Every row of out ← b(τ*) = τ*·direction (+ μ), τ* from :func:`line_search` on φ (:func:`_kernel_phi`).

    Mode 0 (``adaptive_ipm``): direction = −μ; mode 1 (``adaptive_alie``): direction = σ (ddof = 1)
    and base μ, with μ, σ NumPy's column statistics of H. Exactly ``evals`` probe calls, the same
    comparisons as the Python search. params = (mode, start, delta, ratio, evals, X (n, d),
    mu (d,), direction (d,), agg (d,)). ``own``, ``t`` and ``rng`` are unused.
    """
    if out.shape[0] == 0:
        return
    mode, start, delta, ratio, evals = params[0], params[1], params[2], params[3], params[4]
    mu, direction = params[6], params[7]
    d = mu.shape[0]
    col_mean(H, mu)
    if mode == 1:
        col_std(H, mu, direction)
    else:
        for j in range(d):
            direction[j] = -mu[j]
    best_x = start
    best_y = _kernel_phi(params, H, start, pk)
    remaining = evals - 1
    while remaining > 0:
        x = best_x + delta
        y = _kernel_phi(params, H, x, pk)
        remaining -= 1
        if y > best_y:
            best_x, best_y = x, y
            delta *= 2.0
        else:
            delta *= ratio
            break
    while remaining > 0:
        x = best_x + delta
        y = _kernel_phi(params, H, x, pk)
        remaining -= 1
        if y > best_y:
            best_x, best_y = x, y
        delta *= ratio
    for j in range(d):
        v = direction[j] * best_x
        if mode == 1:
            v += mu[j]
        out[0, j] = v
    for i in range(1, out.shape[0]):
        for j in range(d):
            out[i, j] = out[0, j]


class AdaptiveAttack(Attack):
    """Base of ``adaptive_ipm`` / ``adaptive_alie``: b(τ) = base + τ·direction, τ chosen by line search.

    Subclasses implement ``_line(H, mean) -> (base or None, direction)``. Parameters (byzfl's defaults):
    evals (int in [1, 10⁶], total φ evaluations = ``ctx.aggregate`` calls per round; the cap guards
    against a typo that would hang every round), start (real), delta (real ≠ 0, initial step; its
    sign is the search direction), ratio (in (0, 1); byzfl demands (0.5, 1)).
    """

    requires = frozenset({"aggregate"})
    test_config: ClassVar[dict[str, Any]] = {"evals": 8}

    def __init__(self, evals: int = 20, start: float = 0.0, delta: float = 10.0, ratio: float = 0.8):
        self.evals = check_int("evals", evals, 1, MAX_EVALS)
        self.start = check_real("start", start)
        self.delta = check_real("delta", delta)
        if self.delta == 0.0:
            raise ConfigError(f"delta = {show(delta)} is not allowed; allowed: any nonzero finite real "
                              "(the initial step; its sign is the search direction)", field="delta")
        self.ratio = check_real("ratio", ratio, 0.0, 1.0, lo_open=True, hi_open=True)

    _kernel_mode: ClassVar[int] = -1  # adaptive_kernel's mode: 0 = direction −μ, 1 = μ + τ·σ

    def _line(self, H: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        raise NotImplementedError

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """The template :func:`adaptive_kernel` (bind ``probe``) with its scratch; checks n − f when f > 0."""
        if self._kernel_mode < 0:
            raise NotImplementedError(f"attack {self.name!r} has no kernel")
        if f > 0:
            check_good_rows(n - f, self.name)
            check_good_rows(n - f, self.name, std=self._kernel_mode == 1)
        params = (int(self._kernel_mode), float(self.start), float(self.delta), float(self.ratio),
                  int(self.evals), np.empty((n, d)), np.empty(d), np.empty(d), np.empty(d))
        return Kernel(adaptive_kernel, params)

    def search(self, H: np.ndarray, ctx) -> tuple[float, float, np.ndarray]:
        """Run the line search; return (τ*, φ(τ*), b(τ*)). ``H`` is the (n − f, d) good rows."""
        m, d = H.shape
        mean = good_mean(H, self.name)
        base, direction = self._line(H, mean)
        X = np.empty((m + ctx.f, d))  # one buffer for all evaluations: good rows first, then Byzantine
        byz = X[m:]
        diff = np.empty(d)

        def point(tau: float, out: np.ndarray) -> np.ndarray:
            np.multiply(direction, tau, out=out)
            if base is not None:
                out += base
            return out

        def phi(tau: float) -> float:
            X[:m] = H  # rewritten each time, so an aggregator that writes into its input cannot bias φ
            point(tau, byz[0])
            byz[1:] = byz[0]
            np.subtract(ctx.aggregate(X), mean, out=diff)
            return float(np.linalg.norm(diff))  # NaN is never accepted; +inf is, as in byzfl

        tau, value = line_search(phi, self.start, self.delta, self.ratio, self.evals)
        return tau, value, point(tau, np.empty(d))

    def _vector(self, H, ctx, rng):
        return self.search(H, ctx)[2]
