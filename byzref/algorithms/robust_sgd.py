"""Robust baselines without error feedback: worker-momentum SGD, BR-CSGD, BR-DIANA.

See :ref:`algorithm-robust_momentum_sgd`, :ref:`algorithm-br_csgd` and :ref:`algorithm-br_diana`.
"""

from __future__ import annotations

import numpy as np

from byzref.algorithms._ef21 import copy_rows
from byzref.algorithms.base import ALGORITHMS, Algorithm, float_bits, no_setup, replace_message
from byzref.compressors.base import UNBIASED
from byzref.errors import check_real
from byzref.kernels import AlgorithmKernel, template

__all__ = ["BRCSGD", "BRDIANA", "RobustMomentumSGD"]


@template
def _momentum_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    """m⁰ = ∇f_i(x⁰; ξ⁰)."""
    copy_rows(stoch(ok, x0), rows)  # noqa: F821 - bound per run
    copy_rows(rows, msg)
    return ap[1]


@template
def _momentum_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """m ← βm + (1 − β)∇f_i(x^{t+1}; ξ); ap = (β, bits)."""
    beta = ap[0]
    s = stoch(ok, x_new)  # noqa: F821 - bound per run
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            w = rows[i, j] * beta
            rows[i, j] = w + (1.0 - beta) * s[i, j]
    copy_rows(rows, msg)
    return ap[1]


@template
def _csgd_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """row = Q(∇f_i(x^{t+1}; ξ)); ap = (bits,)."""
    compress(ck, stoch(ok, x_new), rows)  # noqa: F821 - bound per run
    copy_rows(rows, msg)
    return ap[0]


@template
def _csgd_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    return _csgd_step(ap, ok, ck, x0, x0, x0, rows, S, msg)


@template
def _diana_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """q = Q(∇f_i(x; ξ) − h), row = q + h, h ← h + α_h q; ap = (α_h, bits); S = (h,); q in ``msg``."""
    alpha = ap[0]
    h, q = S[0], msg
    s = stoch(ok, x_new)  # noqa: F821 - bound per run
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            s[i, j] = s[i, j] - h[i, j]  # the difference, in the gradient buffer
    compress(ck, s, q)  # noqa: F821 - bound per run
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            rows[i, j] = q[i, j] + h[i, j]
            h[i, j] += alpha * q[i, j]
    copy_rows(rows, msg)
    return ap[1]


@template
def _diana_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    """h⁰ = 0, then the step at x⁰."""
    h = S[0]
    for i in range(h.shape[0]):
        for j in range(h.shape[1]):
            h[i, j] = 0.0
    return _diana_step(ap, ok, ck, x0, x0, x0, rows, S, msg)


@ALGORITHMS.register("robust_momentum_sgd")
class RobustMomentumSGD(Algorithm):
    r"""Robust SGD with worker momentum (Karimireddy, He, Jaggi, ICML 2021).

    .. math:: m_i^{t+1} = (1-\beta) \nabla f_i(x^{t+1}; \xi_i^{t+1}) + \beta m_i^t

    No compression (the compressor must be ``identity``); the server aggregates the m_i.
    Init m⁰ = ∇f_i(x⁰; ξ⁰). See :ref:`algorithm-robust_momentum_sgd`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    beta : float, default 0.9
        Momentum β ∈ [0, 1) (β = 0: robust SGD without momentum).
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1.

    Notes
    -----
    Source: Karimireddy, He, Jaggi, "Learning from history for Byzantine robust optimization",
    ICML 2021.
    """

    compressor_class = None
    message_kind = "replace"
    test_config = {"gamma": 0.05, "beta": 0.5}

    def __init__(self, gamma: float, beta: float = 0.9, batch: int = 1):
        super().__init__(gamma, batch)
        self.beta = check_real("beta", beta, 0.0, 1.0, hi_open=True)

    def kernel(self, comp, n, d):
        """The worker-momentum kernel (the momentum is the row itself).

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
        ap = (float(self.beta), float_bits(comp, d))
        return AlgorithmKernel(ap, 1, no_setup, _momentum_init, _momentum_step, replace_message)

    def init(self, blk, x0, comp):
        """m⁰ = ∇f_i(x⁰; ξ⁰), sent uncompressed.

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
        blk.rows[...] = blk.oracle.stoch(x0, blk.workers)
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def step(self, blk, x_new, x_old, g_hat, comp):
        """m ← β m + (1 − β) ∇f_i(x^{t+1}; ξ), sent uncompressed.

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
        blk.rows *= self.beta
        blk.rows += (1.0 - self.beta) * blk.oracle.stoch(x_new, blk.workers)
        blk.msg = blk.rows
        return float_bits(comp, x_new.shape[0])


@ALGORITHMS.register("br_csgd")
class BRCSGD(Algorithm):
    r"""BR-CSGD: the server aggregates compressed stochastic gradients, no memory.

    The robust compressed-SGD baseline of the Byz-EF21-SGDM and Byz-DM21 authors' experiments
    (Liu et al., TNNLS 2026; arXiv:2603.15144).

    .. math:: \text{row}_i^{t+1} = Q(\nabla f_i(x^{t+1}; \xi_i^{t+1}))

    Round 0 is the same rule at x⁰. See :ref:`algorithm-br_csgd`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1.

    Notes
    -----
    Needs Q ∈ 𝕌(ω).
    """

    compressor_class = UNBIASED
    message_kind = "replace"
    test_config = {"gamma": 0.05}

    def kernel(self, comp, n, d):
        """The compressed-SGD kernel.

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
        return AlgorithmKernel((float(comp.bits(d)),), 1, no_setup, _csgd_init, _csgd_step, replace_message)

    def init(self, blk, x0, comp):
        """The first row Q(∇f_i(x⁰; ξ⁰)): the step at x⁰.

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
        return self.step(blk, x0, x0, None, comp)

    def step(self, blk, x_new, x_old, g_hat, comp):
        """row = Q(∇f_i(x^{t+1}; ξ)), the message itself.

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
        blk.rows[...] = comp._compress(np.ascontiguousarray(blk.oracle.stoch(x_new, blk.workers)), blk.rng)
        blk.msg = blk.rows
        return comp.bits(x_new.shape[0])


@ALGORITHMS.register("br_diana")
class BRDIANA(Algorithm):
    r"""BR-DIANA: compressed differences to a learned shift h_i.

    DIANA (Mishchenko, Gorbunov, Takáč, Richtárik, arXiv:1901.09269) with robust aggregation, a
    baseline of the Byz-EF21-SGDM and Byz-DM21 authors' experiments (Liu et al., TNNLS 2026).

    .. math::
        q_i = Q(\nabla f_i(x; \xi) - h_i), \quad \text{row}_i = q_i + h_i, \quad
        h_i \leftarrow h_i + \alpha_h q_i, \quad \alpha_h = 1/(\omega+1)

    Init h⁰ = 0 and the first row is computed the same way at x⁰. See :ref:`algorithm-br_diana`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1.
    alpha : float or None, default None
        Shift step α_h ∈ (0, 1]; None: α_h = 1/(ω + 1) from the compressor's declared ω.

    Notes
    -----
    Needs Q ∈ 𝕌(ω). A worker's uplink cost is one compressed message q_i (the server can rebuild
    q_i + h_i from its own copy of h_i); under the "message" attack target the Byzantine workers
    write the whole row q_i + h_i.
    """

    compressor_class = UNBIASED
    message_kind = "replace"
    test_config = {"gamma": 0.05}

    def __init__(self, gamma: float, batch: int = 1, alpha: float | None = None):
        super().__init__(gamma, batch)
        self.alpha = None if alpha is None else check_real("alpha", alpha, 0.0, 1.0, lo_open=True)

    def _alpha(self, comp, d: int) -> float:
        return self.alpha if self.alpha is not None else 1.0 / (comp.omega(d) + 1.0)

    def kernel(self, comp, n, d):
        """The DIANA kernel (state h).

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
        ap = (float(self._alpha(comp, d)), float(comp.bits(d)))
        return AlgorithmKernel(ap, 1, no_setup, _diana_init, _diana_step, replace_message)

    def init(self, blk, x0, comp):
        """h⁰ = 0, then the step at x⁰.

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
        blk.state["h"] = np.zeros_like(blk.rows)
        return self.step(blk, x0, x0, None, comp)

    def step(self, blk, x_new, x_old, g_hat, comp):
        """q = Q(∇f_i(x^{t+1}; ξ) − h), row = q + h, h ← h + α_h q.

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
        alpha = self._alpha(comp, d)
        h = blk.state["h"]
        q = comp._compress(blk.oracle.stoch(x_new, blk.workers) - h, blk.rng)
        np.add(q, h, out=blk.rows)
        h += alpha * q
        blk.msg = blk.rows
        return comp.bits(d)
