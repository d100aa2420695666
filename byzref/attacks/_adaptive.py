"""Shared machinery of the omniscient adaptive attacks (SPEC §5; peers.md §4.3).

``line_search`` is byzfl's bounded search for the attack scale τ (``Optimal_InnerProductManipulation``),
re-implemented from its documented behaviour; :class:`AdaptiveAttack` evaluates
φ(τ) = ‖Agg(stack(H, f copies of b(τ))) − mean(H)‖₂ with b(τ) = base + τ·direction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from byzref.attacks._common import good_mean
from byzref.attacks.base import Attack
from byzref.errors import ConfigError, check_int, check_real, show

__all__ = ["MAX_EVALS", "AdaptiveAttack", "line_search"]

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

    def _line(self, H: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        raise NotImplementedError

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
