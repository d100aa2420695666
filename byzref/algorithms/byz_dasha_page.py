"""Byz-DASHA-PAGE (Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik, AISTATS 2024), SPEC §4.3."""

from __future__ import annotations

import numpy as np

from byzref.algorithms.base import ALGORITHMS, Algorithm, float_bits
from byzref.compressors.base import UNBIASED
from byzref.errors import check_real


@ALGORITHMS.register("byz_dasha_page")
class ByzDASHAPAGE(Algorithm):
    r"""Byz-DASHA-PAGE: PAGE estimator h_i, DASHA-compressed state g_i (SPEC §4.3).

    .. math::
        h_i^{t+1} &= \begin{cases}\nabla f_i(x^{t+1}) & \text{w.p. } p \\
            h_i^t + \tfrac1b\sum_{j\in I}[\nabla f_{ij}(x^{t+1}) - \nabla f_{ij}(x^t)]
            & \text{otherwise}\end{cases}\\
        m_i &= Q\big(h_i^{t+1} - h_i^t - a(g_i^t - h_i^t)\big), \qquad g_i^{t+1} = g_i^t + m_i

    One shared PAGE coin per iteration. Init h⁰ = g⁰ = ∇f_i(x⁰).

    Parameters
    ----------
    gamma : float > 0
    p : float in (0, 1]
    batch : int ≥ 1
    a : float in (0, 1] or None
        DASHA momentum; default 1/(2ω + 1) from the compressor's declared ω.

    Notes
    -----
    Needs Q ∈ 𝕌(ω).
    """

    compressor_class = UNBIASED
    test_config = {"gamma": 0.05, "p": 0.2}

    def __init__(self, gamma: float, p: float = 0.1, batch: int = 1, a: float | None = None):
        super().__init__(gamma, batch)
        self.p = check_real("p", p, 0.0, 1.0, lo_open=True)
        self.a = None if a is None else check_real("a", a, 0.0, 1.0, lo_open=True)
        self._coin = True

    def iteration_setup(self, rng: np.random.Generator) -> None:
        self._coin = bool(rng.random() < self.p)

    def init(self, blk, x0, comp):
        g0 = blk.oracle.full(x0, blk.workers)
        blk.state["h"] = g0.copy()
        blk.rows[...] = g0
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def step(self, blk, x_new, x_old, g_hat, comp):
        d = x_new.shape[0]
        a = self.a if self.a is not None else 1.0 / (2.0 * comp.omega(d) + 1.0)
        h = blk.state["h"]
        if self._coin:
            h_new = blk.oracle.full(x_new, blk.workers).copy()
        else:
            s_new, s_old = blk.oracle.pair(x_new, x_old, blk.workers)
            h_new = h + (s_new - s_old)
        arg = h_new - h - a * (blk.rows - h)
        m = comp._compress(arg, blk.rng)
        blk.rows += m
        blk.state["h"] = h_new
        blk.msg = m
        return comp.bits(d)
