"""logreg_l2: ℓ2-regularised logistic regression, a PL (strongly convex) finite sum."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.errors import ConfigError
from problems._fs_constants import lbfgs, logistic_estimates
from problems._fs_kernels import LOGISTIC, REG_L2
from problems.base import Constants
from problems.finite_sum import FiniteSumProblem
from problems.registry import PROBLEMS

__all__ = ["LogregL2"]


@PROBLEMS.register("logreg_l2")
class LogregL2(FiniteSumProblem):
    r"""Binary logistic regression with (λ/2)‖x‖²: strongly convex, hence PL with μ = λ.

    .. math::
        f_i(x) = \frac1{m_i} \sum_{j \in D_i} \log\bigl(1 + e^{-y_j a_j^\top x}\bigr)
                 + \frac\lambda2 \|x\|^2 .

    The PL problem of the Byz-VR-MARINA (Gorbunov, Horváth, Richtárik, Gidel, ICLR 2023,
    arXiv:2206.00529) and Byz-EF21 (Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik, AISTATS 2024,
    arXiv:2310.09804) experiments (a9a, w8a); default λ = 0.01 (> 0 required).
    Constants: L_i = λ_max(A_iᵀA_i)/(4 m_i) + λ and L = λ_max((1/(n − f)) Σ_{i∈G} A_iᵀA_i/m_i)/4 + λ
    (exact: the Hessian is largest at x = 0); μ = λ (strong convexity ⇒ PL; a valid, possibly
    conservative constant).
    x* and f* by L-BFGS; ``f_star`` = f(x̂) − ‖∇f(x̂)‖²/(2λ), a certified lower bound (PL inequality),
    with the certified gap in ``extra['f_star_gap_bound']``. σ², ζ² (B = 0): global bounds, with the
    exact values at x⁰ = 0 in ``extra``, as for :class:`problems.logreg_nonconvex.LogregNonconvex`.
    Samples: local row indices (n, batch). See :ref:`problem-logreg_l2`.

    Parameters
    ----------
    data, path, n_features, samples_per_worker, d, margin : optional
        The data source and its settings, as for :class:`problems.finite_sum.FiniteSumProblem`.
    split, skew, alpha : optional
        How the rows are split across the workers (:func:`problems.splits.split_workers`).
    normalize : str, optional
        Feature scaling (default "auto").
    lam : float or None, optional
        λ, in (0, 1e100] (default 0.01; it is μ, so it must be > 0).
    n, f, rng
        Workers, Byzantine workers (the last f) and instance randomness (keyword-only).
    """

    loss_kind: ClassVar[int] = LOGISTIC
    reg_kind: ClassVar[int] = REG_L2
    default_lam: ClassVar[float] = 0.01
    lam_positive: ClassVar[bool] = True
    test_config: ClassVar[dict[str, Any]] = {"samples_per_worker": 8, "d": 5, "lam": 0.1}

    def _make_constants(self, top_i, ev_bar):
        lam, g = self._lam, self.n - self.f
        if lam <= 0.0:
            raise ConfigError(f"lam = {lam!r} is outside the allowed range (0, inf) for logreg_l2 (λ is its "
                              "PL constant)", field="lam")
        L_i = top_i / 4.0 + lam
        est = logistic_estimates(self)
        xs = lbfgs(lambda x: (self.loss(x), self.grad(x)), self._x0)
        gap = float(np.linalg.norm(self.grad(xs)) ** 2 / (2.0 * lam))
        self._xs = xs
        return Constants(
            L=float(ev_bar[-1] / 4.0 + lam), L_i=L_i, L_tilde=float(np.sqrt((L_i[:g] ** 2).mean())), mu=lam,
            f_star=self.loss(xs) - gap, f_star_exact=False, sigma2=est["sigma2_bound"],
            zeta2=est["zeta2_bound"], B=0.0, exact={"sigma2": False, "zeta2": False, "B": False},
            notes=("f_star = f(x̂) − ‖∇f(x̂)‖²/(2μ), a certified lower bound (L-BFGS x̂); "
                   "sigma2, zeta2 (B = 0) global bounds from |logistic'| ≤ 1; exact values at x0 in extra"),
            extra={**est, "f_star_gap_bound": gap})

    def x_star(self) -> np.ndarray:
        """The L-BFGS approximation x̂ of the minimiser (not exact; see ``constants.notes``).

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return self._xs.copy()
