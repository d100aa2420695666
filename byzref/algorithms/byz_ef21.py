"""The Byz-EF21 family: Byz-EF21 (full gradients), Byz-EF21-SGD and Byz-EF21-SGDM.

Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik, AISTATS 2024 (arXiv:2310.09804) for Byz-EF21;
Liu, Li, Yi, Johansson, IEEE TNNLS 2026 for Byz-EF21-SGDM. With Agg = mean and f = 0 they are
EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021) and EF21-SGDM (Fatkhullin, Tyurin, Richtárik,
NeurIPS 2023), available as the presets ``ef21`` and ``ef21_sgdm`` (:mod:`byzref.algorithms.presets`).
See :ref:`algorithm-byz_ef21`, :ref:`algorithm-byz_ef21_sgd` and :ref:`algorithm-byz_ef21_sgdm`.
"""

from __future__ import annotations

import numpy as np

from byzref.algorithms._ef21 import copy_rows, ef21_step, ef21_step_kernel, keep_messages
from byzref.algorithms.base import (
    ALGORITHMS,
    Algorithm,
    compress_into,
    float_bits,
    increment_message,
    no_setup,
)
from byzref.errors import check_real
from byzref.kernels import AlgorithmKernel, template

__all__ = ["ByzEF21", "ByzEF21SGD", "ByzEF21SGDM"]

# kernel parameters: (stochastic, η (EF21-SGDM; 0 otherwise), bits uncompressed, bits of a message)


@template
def _grad_kernel(stochastic, ok, x):  # pragma: no cover - compiled
    if stochastic:
        return stoch(ok, x)  # noqa: F821 - bound per run
    return full(ok, x)  # noqa: F821 - bound per run


@template
def _ef21_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    """g⁰ = ∇f_i(x⁰) (or ∇f_i(x⁰; ξ⁰)), sent uncompressed."""
    stochastic, _eta, bits_f, _bits_c = ap
    copy_rows(_grad_kernel(stochastic, ok, x0), rows)
    keep_messages(rows, msg)
    return bits_f


@template
def _ef21_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """EF21 on the (stochastic) gradient at x^{t+1}."""
    stochastic, _eta, _bits_f, bits_c = ap
    g = _grad_kernel(stochastic, ok, x_new)  # the block's gradient buffer: the difference overwrites it
    return ef21_step_kernel(ck, g, rows, g, msg, bits_c)


@template
def _sgdm_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    """v⁰ = g⁰ = ∇f_i(x⁰; ξ⁰), sent uncompressed."""
    _stochastic, _eta, bits_f, _bits_c = ap
    s = stoch(ok, x0)  # noqa: F821 - bound per run
    copy_rows(s, S[0])
    copy_rows(s, rows)
    keep_messages(rows, msg)
    return bits_f


@template
def _sgdm_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """v ← v(1−η) + η∇f_i(x^{t+1}; ξ), then EF21 on v."""
    _stochastic, eta, _bits_f, bits_c = ap
    s = stoch(ok, x_new)  # noqa: F821 - bound per run
    v = S[0]
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            w = v[i, j] * (1.0 - eta)
            v[i, j] = w + eta * s[i, j]
    return ef21_step_kernel(ck, v, rows, scratch(ok), msg, bits_c)  # noqa: F821 - bound per run


@ALGORITHMS.register("byz_ef21")
class ByzEF21(Algorithm):
    r"""Byz-EF21 with full local gradients (Rammal et al., AISTATS 2024).

    .. math:: g_i^{t+1} = g_i^t + C(\nabla f_i(x^{t+1}) - g_i^t), \qquad g_i^0 = \nabla f_i(x^0)

    Only the compressed difference is sent; g⁰ is sent once uncompressed. See
    :ref:`algorithm-byz_ef21`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.

    Notes
    -----
    Needs C ∈ 𝔹(α). Deterministic O(1/T) rate for avg ‖∇f‖² up to the Byzantine neighborhood.
    Source: Rammal, Gruntkowska, Fedin, Gorbunov, Richtárik, "Communication compression for Byzantine
    robust learning: new efficient algorithms and improved rates", AISTATS 2024 (arXiv:2310.09804).
    """

    stochastic = False
    test_config = {"gamma": 0.05}

    def __init__(self, gamma: float):
        super().__init__(gamma, 1)
        del self.batch

    def _grad(self, blk, x):
        return blk.oracle.full(x, blk.workers)

    def kernel(self, comp, n, d):
        """The EF21 kernel on full (or, for Byz-EF21-SGD, stochastic) gradients.

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
        ap = (bool(self.stochastic), 0.0, *self._bits(comp, d))
        return AlgorithmKernel(ap, 0, no_setup, _ef21_init, _ef21_step, increment_message,
                               row_messages=True)

    def init(self, blk, x0, comp):
        """g⁰ = ∇f_i(x⁰) (Byz-EF21-SGD: ∇f_i(x⁰; ξ⁰)), sent uncompressed.

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
        blk.rows[...] = self._grad(blk, x0)
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def step(self, blk, x_new, x_old, g_hat, comp):
        """The EF21 step g ← g + C(∇f_i(x^{t+1}) − g) (stochastic gradient for Byz-EF21-SGD).

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
        return ef21_step(blk, self._grad(blk, x_new), comp)


@ALGORITHMS.register("byz_ef21_sgd")
class ByzEF21SGD(ByzEF21):
    r"""Byz-EF21-SGD: Byz-EF21 with batch-b stochastic gradients (Rammal et al. 2024).

    .. math:: g_i^{t+1} = g_i^t + C(\nabla f_i(x^{t+1}; \xi_i^{t+1}) - g_i^t)

    Init g⁰ = ∇f_i(x⁰; ξ⁰), sent uncompressed. See :ref:`algorithm-byz_ef21_sgd`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1.

    Notes
    -----
    With batch 1 it stalls at a σ²-dependent floor (byzref's batch claim, :mod:`theory.claims.batch`).
    """

    stochastic = True
    test_config = {"gamma": 0.05}

    def __init__(self, gamma: float, batch: int = 1):
        Algorithm.__init__(self, gamma, batch)

    def _grad(self, blk, x):
        return blk.oracle.stoch(x, blk.workers)


@ALGORITHMS.register("byz_ef21_sgdm")
class ByzEF21SGDM(Algorithm):
    r"""Byz-EF21-SGDM: single momentum + EF21 (Liu, Li, Yi, Johansson, TNNLS 2026).

    .. math::
        v_i^{t+1} = (1-\eta) v_i^t + \eta \nabla f_i(x^{t+1}; \xi_i^{t+1}), \qquad
        g_i^{t+1} = g_i^t + C(v_i^{t+1} - g_i^t)

    Init v⁰ = g⁰ = s_i = (1/(b·b₀)) Σ_{j<b·b₀} ∇f_i(x⁰; ξ_ij⁰) (b₀ = ``init_batch``; one draw of b·b₀
    samples per worker, noise variance σ²/(b·b₀)), sent once uncompressed.

    Under the run-level protocol "released" (the authors' a9a scripts, ``worker_lr.py``
    ``TopMomentumWorker``): round 0 is dead, the workers keep v⁻¹ = η ∇f_i(x⁰; ξ⁻¹) and
    g⁻¹ = C(v⁻¹) and send zeros; one momentum + EF21 step at x⁰ on a new batch gives the first rows
    (:meth:`released_init`).

    See :ref:`algorithm-byz_ef21_sgdm`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    eta : float
        Momentum η ∈ (0, 1] (η = 1: Byz-EF21-SGD).
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1.
    init_batch : int, default 1
        b₀ ≥ 1: round 0 averages b₀·b samples per worker (1 is left out of the canonical config and
        run id; under protocol "released" the dead round's batch). Python loop only for b₀ > 1.

    Notes
    -----
    Needs C ∈ 𝔹(α); O(ε⁻⁴) with η ∝ T^{−1/2}. Source: Liu, Li, Yi, Johansson, IEEE TNNLS 2026 (the
    Byzantine-robust form of EF21-SGDM, Fatkhullin, Tyurin, Richtárik, NeurIPS 2023).
    """

    test_config = {"gamma": 0.05, "eta": 0.5}
    param_ranges = {"eta": "a real number in (0, 1]", "init_batch": "an integer in [1, inf]"}
    released_round0 = "dead"

    def __init__(self, gamma: float, eta: float, batch: int = 1, init_batch: int = 1):
        super().__init__(gamma, batch)
        self.eta = check_real("eta", eta, 0.0, 1.0, lo_open=True)
        self._check_init_batch(init_batch)

    def init(self, blk, x0, comp):
        """v⁰ = g⁰ = s_i, the round-0 stochastic gradient (b₀·b samples), sent uncompressed.

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
        s = self.round0_stoch(blk, x0)
        blk.state["v"] = s.copy()
        blk.rows[...] = s
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def released_init(self, blk, x0, comp):
        """Round 0 of ``worker_lr.py``: v⁻¹ = η ∇f_i(x⁰; ξ⁻¹), g⁻¹ = C(v⁻¹), kept by the worker.

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
            0.0: nothing is sent (the message is zeros).
        """
        s = self.round0_stoch(blk, x0)
        v = blk.state["v"] = self.eta * s
        blk.rows[...] = compress_into(comp, v, blk.rng)
        blk.msg = np.zeros_like(v)
        return 0.0

    def kernel(self, comp, n, d):
        """The momentum + EF21 kernel; refused (NotImplementedError) when ``init_batch`` > 1.

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
        self._check_kernel()  # init_batch > 1: the Python loop only
        ap = (True, float(self.eta), *self._bits(comp, d))
        return AlgorithmKernel(ap, 1, no_setup, _sgdm_init, _sgdm_step, increment_message,
                               row_messages=True)

    def step(self, blk, x_new, x_old, g_hat, comp):
        """v ← (1 − η) v + η ∇f_i(x^{t+1}; ξ), then the EF21 step g ← g + C(v − g).

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
        v = blk.state["v"]
        v *= 1.0 - self.eta
        v += self.eta * blk.oracle.stoch(x_new, blk.workers)
        return ef21_step(blk, v, comp)
