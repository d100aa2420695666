"""The Byz-EF21 family: Byz-EF21 (full gradients), Byz-EF21-SGD and Byz-EF21-SGDM (SPEC §4.3).

Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik, AISTATS 2024 (arXiv:2310.09804) for Byz-EF21;
Liu, Li, Yi, Johansson, IEEE TNNLS 2026 for Byz-EF21-SGDM. With Agg = mean and f = 0 they are
EF21 (Richtárik, Sokolov, Fatkhullin 2021) and EF21-SGDM (Fatkhullin et al. 2023).
"""

from __future__ import annotations

from byzref.algorithms._ef21 import ef21_step
from byzref.algorithms.base import ALGORITHMS, Algorithm, float_bits
from byzref.errors import check_real


@ALGORITHMS.register("byz_ef21")
class ByzEF21(Algorithm):
    r"""Byz-EF21 with full local gradients (SPEC §4.3).

    .. math:: g_i^{t+1} = g_i^t + C(\nabla f_i(x^{t+1}) - g_i^t), \qquad g_i^0 = \nabla f_i(x^0)

    Parameters
    ----------
    gamma : float > 0

    Notes
    -----
    Needs C ∈ 𝔹(α). Deterministic O(1/T) rate for avg ‖∇f‖² up to the Byzantine neighborhood.
    """

    stochastic = False
    test_config = {"gamma": 0.05}

    def __init__(self, gamma: float):
        super().__init__(gamma, 1)
        del self.batch

    def _grad(self, blk, x):
        return blk.oracle.full(x, blk.workers)

    def init(self, blk, x0, comp):
        blk.rows[...] = self._grad(blk, x0)
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def step(self, blk, x_new, x_old, g_hat, comp):
        return ef21_step(blk, self._grad(blk, x_new), comp)


@ALGORITHMS.register("byz_ef21_sgd")
class ByzEF21SGD(ByzEF21):
    r"""Byz-EF21-SGD: Byz-EF21 with batch-b stochastic gradients (SPEC §4.3).

    .. math:: g_i^{t+1} = g_i^t + C(\nabla f_i(x^{t+1}; \xi_i^{t+1}) - g_i^t)

    Parameters
    ----------
    gamma : float > 0
    batch : int ≥ 1

    Notes
    -----
    With batch 1 it stalls at a σ²-dependent floor (SPEC §6 "batch claim").
    """

    stochastic = True
    test_config = {"gamma": 0.05}

    def __init__(self, gamma: float, batch: int = 1):
        Algorithm.__init__(self, gamma, batch)

    def _grad(self, blk, x):
        return blk.oracle.stoch(x, blk.workers)


@ALGORITHMS.register("byz_ef21_sgdm")
class ByzEF21SGDM(Algorithm):
    r"""Byz-EF21-SGDM: single momentum + EF21 (SPEC §4.3; Liu, Li, Yi, Johansson, TNNLS 2026).

    .. math::
        v_i^{t+1} = (1-\eta) v_i^t + \eta \nabla f_i(x^{t+1}; \xi_i^{t+1}), \qquad
        g_i^{t+1} = g_i^t + C(v_i^{t+1} - g_i^t)

    Init v⁰ = g⁰ = ∇f_i(x⁰; ξ⁰).

    Parameters
    ----------
    gamma : float > 0
    eta : float in (0, 1]
    batch : int ≥ 1

    Notes
    -----
    Needs C ∈ 𝔹(α); O(ε⁻⁴) with η ∝ T^{−1/2}.
    """

    test_config = {"gamma": 0.05, "eta": 0.5}
    param_ranges = {"eta": "a real number in (0, 1]"}

    def __init__(self, gamma: float, eta: float, batch: int = 1):
        super().__init__(gamma, batch)
        self.eta = check_real("eta", eta, 0.0, 1.0, lo_open=True)

    def init(self, blk, x0, comp):
        s = blk.oracle.stoch(x0, blk.workers)
        blk.state["v"] = s.copy()
        blk.rows[...] = s
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def step(self, blk, x_new, x_old, g_hat, comp):
        v = blk.state["v"]
        v *= 1.0 - self.eta
        v += self.eta * blk.oracle.stoch(x_new, blk.workers)
        return ef21_step(blk, v, comp)
