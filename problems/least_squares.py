"""least_squares: a PL finite-sum least-squares problem with exact L, μ, x*, f*."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from problems._fs_kernels import REG_L2, SQUARES
from problems.base import Constants
from problems.finite_sum import FiniteSumProblem
from problems.registry import PROBLEMS

__all__ = ["LeastSquares"]


@PROBLEMS.register("least_squares")
class LeastSquares(FiniteSumProblem):
    r"""Least squares on the classification data (targets y = ±1), optionally ridge: PL with μ from data.

    .. math::
        f_i(x) = \frac1{2 m_i} \sum_{j \in D_i} (a_j^\top x - y_j)^2 + \frac\lambda2 \|x\|^2,\qquad
        f(x) - f^* = \tfrac12 (x - x^*)^\top M (x - x^*),\ M = \bar H + \lambda I,\ \bar H = \tfrac1{|G|}
        \sum_{i\in G} A_i^\top A_i / m_i .

    Constants (exact): L = λ_max(M), L_i = λ_max(A_iᵀA_i/m_i) + λ,
    μ = smallest positive eigenvalue of M (PL holds with it even when M is singular; eigenvalues
    ≤ 1e-10·L count as zero), x* = M⁺ c̄ (minimum norm, c̄ = (1/(n − f)) Σ A_iᵀy_i/m_i), f* = f(x*).
    Heterogeneity (B, ζ²) from ∇f_i(x) − ∇f(x) = (H_i − H̄)(x − x*) + ∇f_i(x*) and Young's inequality:
    B = 2 (1/(n − f)) Σ_{i∈G} ‖(H_i − H̄) M⁺‖², ζ² = 2 (1/(n − f)) Σ_{i∈G} ‖∇f_i(x*)‖² (valid for all x,
    not the smallest pair). σ² grows with ‖x‖: σ_i²(x) = xᵀS_ix − 2t_iᵀx + u_i exactly, so ``sigma2`` is the
    bound max_{i∈G} λ_max(S_i)R² + 2‖t_i‖R + u_i over the ball ‖x‖ ≤ R = ‖x*‖ + 2‖x⁰ − x*‖ (which holds
    every point within twice the initial distance of x*), see :meth:`sigma2_over_ball`; ``extra``
    has R and the exact values at x⁰ and x*. Default λ = 0; x⁰ = 0. Labels flip as y → −y.
    As in the PL experiments of EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021, arXiv:2106.05203).
    See :ref:`problem-least_squares`.

    Parameters
    ----------
    data, path, n_features, samples_per_worker, d, margin : optional
        The data source and its settings, as for :class:`problems.finite_sum.FiniteSumProblem`.
    split, skew, alpha : optional
        How the rows are split across the workers (:func:`problems.splits.split_workers`).
    normalize : str, optional
        Feature scaling (default "auto").
    lam : float or None, optional
        λ, in [0, 1e100] (default 0: plain least squares).
    n, f, rng
        Workers, Byzantine workers (the last f) and instance randomness (keyword-only).
    """

    loss_kind: ClassVar[int] = SQUARES
    reg_kind: ClassVar[int] = REG_L2
    default_lam: ClassVar[float] = 0.0
    test_config: ClassVar[dict[str, Any]] = {"samples_per_worker": 8, "d": 5}

    def _make_constants(self, top_i, ev_bar):
        lam, g = self._lam, self.n - self.f
        ev, V = np.linalg.eigh(self._Hbar + lam * np.eye(self.d))
        pos = ev > 1e-10 * ev[-1]
        Mp = (V[:, pos] / ev[pos]) @ V[:, pos].T
        cbar = np.mean([self._A[a:b].T @ self._y[a:b] / (b - a)
                        for a, b in zip(self._off[:g], self._off[1 : g + 1], strict=True)], axis=0)
        self._xs = Mp @ cbar
        self._M = (V * ev) @ V.T
        L_i = top_i + lam
        Gs = self.worker_grads(self._xs)[:g]
        B = 2.0 * float(np.mean([np.linalg.norm((self._H[i] - self._Hbar) @ Mp, 2) ** 2 for i in range(g)]))
        self._sig_terms = [self._variance_form(i) for i in range(g)]
        R = float(np.linalg.norm(self._xs) + 2.0 * np.linalg.norm(self._x0 - self._xs))
        return Constants(
            L=float(ev[-1]), L_i=L_i, L_tilde=float(np.sqrt((L_i[:g] ** 2).mean())), mu=float(ev[pos][0]),
            f_star=self.loss(self._xs), f_star_exact=True, sigma2=self.sigma2_over_ball(R),
            zeta2=2.0 * float((Gs * Gs).sum(axis=1).mean()), B=B,
            exact={"sigma2": False, "zeta2": False, "B": False},
            notes=("L, mu, f* exact; (B, zeta2) a valid pair from Young's inequality; sigma2 bounds the "
                   "variance over the ball ‖x‖ ≤ region_radius"),
            extra={"region_radius": R, "sigma2_x0": self.sigma2_at(self._x0),
                   "sigma2_xstar": self.sigma2_at(self._xs), "zeta2_xstar": self.zeta2_at(self._xs),
                   "zero_eigs": int((~pos).sum())})

    def _variance_form(self, i):
        """(λ_max(S_i), ‖t_i‖, u_i) of σ_i²(x) = xᵀS_ix − 2t_iᵀx + u_i (the regulariser cancels)."""
        a, b = self._off[i], self._off[i + 1]
        Ai, yi, m = self._A[a:b], self._y[a:b], b - a
        w = (Ai * Ai).sum(axis=1)
        Hi, ci = self._H[i], Ai.T @ yi / m
        S = (Ai.T * w) @ Ai / m - Hi @ Hi
        t = Ai.T @ (w * yi) / m - Hi @ ci
        u = float((w * yi * yi).sum() / m - ci @ ci)
        return float(np.linalg.eigvalsh((S + S.T) / 2)[-1]), float(np.linalg.norm(t)), u

    def sigma2_over_ball(self, R) -> float:
        """max_{i∈G} of λ_max(S_i)R² + 2‖t_i‖R + u_i ≥ σ_i²(x) for every ‖x‖ ≤ R (batch 1).

        Parameters
        ----------
        R : float
            Radius of the ball ‖x‖ ≤ R, ≥ 0.

        Returns
        -------
        float
            A bound on the batch-1 variance valid over the whole ball.
        """
        return max(s * R * R + 2.0 * t * R + u for s, t, u in self._sig_terms)

    def x_star(self) -> np.ndarray:
        """The minimum-norm minimiser x* = M⁺ c̄ (exact).

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return self._xs.copy()

    def gap(self, x) -> float:
        """f(x) − f* = ½ (x − x*)ᵀ M (x − x*), computed without cancellation.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        u = self._point(x) - self._xs
        return float(0.5 * u @ (self._M @ u))
