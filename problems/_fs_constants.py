"""Constants of the finite-sum problems that need more than eigenvalues."""

from __future__ import annotations

import numpy as np

__all__ = ["lbfgs", "logistic_estimates"]


def lbfgs(fun, x_start, gtol=1e-10) -> np.ndarray:
    """Minimise a smooth ``fun(x) -> (value, grad)`` with SciPy's L-BFGS-B (used for f*, x* only)."""
    from scipy.optimize import minimize

    res = minimize(fun, x_start, jac=True, method="L-BFGS-B",
                   options={"gtol": gtol, "ftol": 1e-15, "maxiter": 5000, "maxcor": 20})
    return np.asarray(res.x, dtype=np.float64)


def logistic_estimates(p) -> dict[str, float]:
    """σ², ζ² at x⁰ (exact there) and global bounds for a logistic loss (valid for every x, B = 0).

    A per-sample logistic gradient is c_j a_j with |c_j| ≤ 1 (the regulariser cancels in differences),
    so σ_i² ≤ (1/m_i) Σ_j ‖a_j‖² and (1/|G|) Σ_{i∈G} ‖∇f_i − ∇f‖² ≤ (1/|G|) Σ_{i∈G} ((1/m_i) Σ_j ‖a_j‖)².
    """
    g = p.n - p.f
    nrm = np.linalg.norm(p._A, axis=1)
    sq = np.add.reduceat(nrm**2, p._off[:-1])[:g] / p._counts[:g]
    mean_norm = np.add.reduceat(nrm, p._off[:-1])[:g] / p._counts[:g]
    return {"sigma2_x0": p.sigma2_at(p._x0), "zeta2_x0": p.zeta2_at(p._x0),
            "sigma2_bound": float(sq.max()), "zeta2_bound": float((mean_norm**2).mean())}
