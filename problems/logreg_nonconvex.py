"""logreg_nonconvex: logistic regression + λ Σ x_k²/(1 + x_k²) (EF21 / Byz-EF21 experiments)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from problems._fs_constants import lbfgs, logistic_estimates
from problems._fs_kernels import LOGISTIC, REG_NC
from problems.base import Constants
from problems.finite_sum import FiniteSumProblem
from problems.registry import PROBLEMS

__all__ = ["LogregNonconvex"]


@PROBLEMS.register("logreg_nonconvex")
class LogregNonconvex(FiniteSumProblem):
    r"""Binary logistic regression with the nonconvex regulariser λ Σ_k x_k²/(1 + x_k²), a finite sum.

    .. math::
        f_i(x) = \frac1{m_i} \sum_{j \in D_i} \log\bigl(1 + e^{-y_j a_j^\top x}\bigr)
                 + \lambda \sum_k \frac{x_k^2}{1 + x_k^2}, \qquad y_j \in \{-1, +1\}.

    As in EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021, arXiv:2106.05203) and Byz-EF21 (Rammal,
    Gruntkowska, Fedin, Gorbunov, Richtárik, AISTATS 2024, arXiv:2310.09804); default λ = 0.1.
    Constants: L_i = λ_max(A_iᵀA_i)/(4 m_i) + 2λ and L = λ_max((1/(n − f)) Σ_{i∈G} A_iᵀA_i/m_i)/4 + 2λ,
    both EXACT: the Hessian is ≼ its value at x = 0 (logistic curvature ≤ ¼, φ'' ≤ 2, both attained at 0)
    and ≽ −(λ/2) I. f* ≥ 0 is the documented lower bound (both terms are ≥ 0); ``extra['f_upper']`` is
    the value at a stationary point found by L-BFGS from x⁰ (an upper bound on f*). σ² and ζ² are not
    closed-form: ``sigma2``/``zeta2`` (with B = 0) are global bounds valid for every x (a per-sample
    logistic gradient is c_j a_j with −1 ≤ c_j ≤ 1, so σ_i² ≤ (1/m_i) Σ_j ‖a_j‖² and ζ² ≤
    (1/(n − f)) Σ_{i∈G} ((1/m_i) Σ_j ‖a_j‖)²); their exact values at x⁰ are in ``extra``
    (``sigma2_x0`` = max over good workers, ``zeta2_x0``), and
    :meth:`~problems.finite_sum.FiniteSumProblem.sigma2_at` / :meth:`~problems.base.Problem.zeta2_at`
    give them at any point along a run. x⁰ = 0.
    Samples: local row indices (n, batch), uniform with replacement. Labels flip as y → −y.
    See :ref:`problem-logreg_nonconvex`.

    Parameters
    ----------
    data, path, n_features, samples_per_worker, d, margin : optional
        The data source and its settings, as for :class:`problems.finite_sum.FiniteSumProblem`.
    split, skew, alpha : optional
        How the rows are split across the workers (:func:`problems.splits.split_workers`).
    normalize : str, optional
        Feature scaling (default "auto").
    lam : float or None, optional
        λ, in [0, 1e100] (default 0.1).
    n, f, rng
        Workers, Byzantine workers (the last f) and instance randomness (keyword-only).
    """

    loss_kind: ClassVar[int] = LOGISTIC
    reg_kind: ClassVar[int] = REG_NC
    default_lam: ClassVar[float] = 0.1
    test_config: ClassVar[dict[str, Any]] = {"samples_per_worker": 8, "d": 5}

    def _make_constants(self, top_i, ev_bar):
        lam, g = self._lam, self.n - self.f
        L_i = top_i / 4.0 + 2.0 * lam
        est = logistic_estimates(self)
        x_loc = lbfgs(lambda x: (self.loss(x), self.grad(x)), self._x0)
        return Constants(
            L=float(ev_bar[-1] / 4.0 + 2.0 * lam), L_i=L_i, L_tilde=float(np.sqrt((L_i[:g] ** 2).mean())),
            mu=None, f_star=0.0, f_star_exact=False, sigma2=est["sigma2_bound"], zeta2=est["zeta2_bound"],
            B=0.0,
            exact={"sigma2": False, "zeta2": False, "B": False},
            notes=("f_star = 0 is a lower bound (f ≥ 0); sigma2, zeta2 (B = 0) are global bounds from "
                   "|logistic'| ≤ 1; exact values at x0 in extra"),
            extra={**est, "f_upper": self.loss(x_loc),
                   "grad_norm_at_f_upper": float(np.linalg.norm(self.grad(x_loc)))})
