"""Byz-DASHA-PAGE (Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik, AISTATS 2024, arXiv:2310.09804).

See :ref:`algorithm-byz_dasha_page`.
"""

from __future__ import annotations

import numpy as np

from byzref.algorithms._ef21 import copy_rows
from byzref.algorithms.base import ALGORITHMS, Algorithm, float_bits, increment_message
from byzref.algorithms.byz_vr_marina import _coin_setup
from byzref.compressors.base import UNBIASED
from byzref.errors import check_real
from byzref.kernels import AlgorithmKernel, template

__all__ = ["ByzDASHAPAGE"]

# kernel parameters: (p, coin (int64[1]), a, bits uncompressed, bits of a message); S = (h, arg)


@template
def _dasha_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    """h⁰ = g⁰ = ∇f_i(x⁰), sent uncompressed."""
    g0 = full(ok, x0)  # noqa: F821 - bound per run
    copy_rows(g0, S[0])
    copy_rows(g0, rows)
    copy_rows(rows, msg)
    return ap[3]


@template
def _dasha_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """h' = ∇f_i(x^{t+1}) (coin 1) or h + (s_new − s_old); m = Q(h' − h − a(g − h)); g += m; h = h'."""
    a = ap[2]
    h, arg = S[0], S[1]
    m, d = rows.shape
    if ap[1][0]:
        h_new = full(ok, x_new)  # noqa: F821 - bound per run
    else:
        h_new, s_old = pair(ok, x_new, x_old)  # noqa: F821 - bound per run
        for i in range(m):
            for j in range(d):
                h_new[i, j] = h[i, j] + (h_new[i, j] - s_old[i, j])  # h' in the gradient buffer
    for i in range(m):
        for j in range(d):
            arg[i, j] = (h_new[i, j] - h[i, j]) - a * (rows[i, j] - h[i, j])
    compress(ck, arg, msg)  # noqa: F821 - bound per run
    for i in range(m):
        for j in range(d):
            rows[i, j] += msg[i, j]
    copy_rows(h_new, h)
    return ap[4]


@ALGORITHMS.register("byz_dasha_page")
class ByzDASHAPAGE(Algorithm):
    r"""Byz-DASHA-PAGE: PAGE estimator h_i, DASHA-compressed state g_i (Rammal et al. 2024).

    .. math::
        h_i^{t+1} &= \begin{cases}\nabla f_i(x^{t+1}) & \text{w.p. } p \\
            h_i^t + \tfrac1b\sum_{j\in I}[\nabla f_{ij}(x^{t+1}) - \nabla f_{ij}(x^t)]
            & \text{otherwise}\end{cases}\\
        m_i &= Q\big(h_i^{t+1} - h_i^t - a(g_i^t - h_i^t)\big), \qquad g_i^{t+1} = g_i^t + m_i

    One shared PAGE coin per iteration. Init h⁰ = g⁰ = ∇f_i(x⁰), sent uncompressed. See
    :ref:`algorithm-byz_dasha_page`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    p : float, default 0.1
        Probability p ∈ (0, 1] of a full-gradient round of the PAGE estimator.
    batch : int, default 1
        Samples per worker in a coin-0 round, b ≥ 1.
    a : float or None, default None
        DASHA momentum a ∈ (0, 1]; None: a = 1/(2ω + 1) from the compressor's declared ω.

    Notes
    -----
    Needs Q ∈ 𝕌(ω). Source: Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik, AISTATS 2024
    (arXiv:2310.09804), built on DASHA (Tyurin, Richtárik, ICLR 2023) and PAGE (Li, Bao, Zhang,
    Richtárik, ICML 2021).
    """

    compressor_class = UNBIASED
    test_config = {"gamma": 0.05, "p": 0.2}

    def __init__(self, gamma: float, p: float = 0.1, batch: int = 1, a: float | None = None):
        super().__init__(gamma, batch)
        self.p = check_real("p", p, 0.0, 1.0, lo_open=True)
        self.a = None if a is None else check_real("a", a, 0.0, 1.0, lo_open=True)
        self._coin = True

    def iteration_setup(self, rng: np.random.Generator) -> None:
        """Draw this iteration's shared PAGE coin c_t = [U < p], U uniform from the "algorithm" stream.

        Parameters
        ----------
        rng : numpy.random.Generator
            The run's "algorithm" stream (:ref:`math-streams`).
        """
        self._coin = bool(rng.random() < self.p)

    def _a(self, comp, d: int) -> float:
        return self.a if self.a is not None else 1.0 / (2.0 * comp.omega(d) + 1.0)

    def kernel(self, comp, n, d):
        """The DASHA-PAGE kernel (state h and a scratch array; the coin as in Byz-VR-MARINA).

        Parameters
        ----------
        comp : byzref.compressors.base.Compressor
            The run's compressor (its message size enters the bit counts).
        n, d : int
            Number of workers and dimension.

        Returns
        -------
        byzref.kernels.AlgorithmKernel
            See :meth:`byzref.algorithms.base.Algorithm.kernel`.
        """
        ap = (float(self.p), np.ones(1, dtype=np.int64), float(self._a(comp, d)), *self._bits(comp, d))
        return AlgorithmKernel(ap, 2, _coin_setup, _dasha_init, _dasha_step, increment_message)

    def init(self, blk, x0, comp):
        """h⁰ = g⁰ = ∇f_i(x⁰), sent uncompressed.

        Parameters
        ----------
        blk : byzref.algorithms.base.Block
            The block of workers.
        x0 : numpy.ndarray
            The (d,) starting point x⁰.
        comp : byzref.compressors.base.Compressor
            The run's compressor.

        Returns
        -------
        float
            Uplink bits per worker.
        """
        g0 = blk.oracle.full(x0, blk.workers)
        blk.state["h"] = g0.copy()
        blk.rows[...] = g0
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def step(self, blk, x_new, x_old, g_hat, comp):
        """The PAGE update of h, then m = Q(h' − h − a(g − h)), g ← g + m (m is the message).

        Parameters
        ----------
        blk : byzref.algorithms.base.Block
            The block of workers.
        x_new, x_old : numpy.ndarray
            The (d,) points x^{t+1} and x^t.
        g_hat : numpy.ndarray or None
            The (d,) aggregate ĝ^t (unused by this method).
        comp : byzref.compressors.base.Compressor
            The run's compressor.

        Returns
        -------
        float
            Uplink bits per worker.
        """
        d = x_new.shape[0]
        a = self._a(comp, d)
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
