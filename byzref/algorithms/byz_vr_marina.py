"""Byz-VR-MARINA (Gorbunov, Horváth, Richtárik, Gidel, ICLR 2023, arXiv:2206.00529).

See :ref:`algorithm-byz_vr_marina`.
"""

from __future__ import annotations

import numpy as np

from byzref.algorithms._ef21 import copy_rows
from byzref.algorithms.base import ALGORITHMS, Algorithm, float_bits
from byzref.compressors.base import UNBIASED
from byzref.errors import check_real
from byzref.kernels import AlgorithmKernel, template

__all__ = ["ByzVRMARINA"]

# kernel parameters: (p, coin (an int64[1] array), bits uncompressed, bits of a message); no state


@template
def _coin_setup(ap, rng):  # pragma: no cover - compiled
    """c_t = [U < p], one uniform from the "algorithm" stream."""
    ap[1][0] = 1 if rng.random() < ap[0] else 0
    return 0


@template
def _marina_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    """g⁰ = ∇f_i(x⁰), sent uncompressed."""
    copy_rows(full(ok, x0), rows)  # noqa: F821 - bound per run
    copy_rows(rows, msg)
    return ap[2]


@template
def _marina_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """Coin 1: g = ∇f_i(x^{t+1}); coin 0: q = Q(∇f_i(x^{t+1}; ξ) − ∇f_i(x^t; ξ)), g = ĝ + q."""
    if ap[1][0]:
        copy_rows(full(ok, x_new), rows)  # noqa: F821 - bound per run
        copy_rows(rows, msg)
        return ap[2]
    a, b = pair(ok, x_new, x_old)  # noqa: F821 - bound per run
    m, d = rows.shape
    for i in range(m):
        for j in range(d):
            a[i, j] = a[i, j] - b[i, j]  # the difference, in the gradient buffer
    compress(ck, a, msg)  # noqa: F821 - bound per run
    for i in range(m):
        for j in range(d):
            rows[i, j] = g_hat[j] + msg[i, j]
    return ap[3]


@template
def _marina_message(ap, rows, B, g_hat):  # pragma: no cover - compiled
    """Coin 1: the row is the message; coin 0: ĝ + message."""
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            rows[i, j] = B[i, j] if ap[1][0] else g_hat[j] + B[i, j]


@ALGORITHMS.register("byz_vr_marina")
class ByzVRMARINA(Algorithm):
    r"""Byz-VR-MARINA: compressed SARAH/PAGE-type differences with a shared coin (Gorbunov et al. 2023).

    One coin c_t ~ Bernoulli(p) per iteration, shared by all workers:

    .. math::
        g_i^{t+1} = \begin{cases} \nabla f_i(x^{t+1}) & c_t = 1 \text{ (full, uncompressed)} \\
        \hat g^t + Q\big(\tfrac1b \sum_{j\in I_i^t} [\nabla f_{ij}(x^{t+1}) - \nabla f_{ij}(x^t)]\big)
        & c_t = 0 \end{cases}

    Init g_i⁰ = ∇f_i(x⁰), sent uncompressed. See :ref:`algorithm-byz_vr_marina`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    p : float, default 0.1
        Probability p ∈ (0, 1] of a full-gradient round. The default is a fixed 0.1, not the
        paper's suggestion tied to the compressor (set it explicitly, e.g. p ≈ 1/(ω + 1)).
    batch : int, default 1
        Samples per worker in a coin-0 round, b ≥ 1.

    Notes
    -----
    Needs Q ∈ 𝕌(ω). The server turns a Byzantine message m into the row ĝ^t + m on coin-0 rounds
    and m on coin-1 rounds. Source: Gorbunov, Horváth, Richtárik, Gidel, "Variance reduction is an
    antidote to Byzantines: better rates, weaker assumptions and communication compression as a
    cherry on the top", ICLR 2023 (arXiv:2206.00529).
    """

    compressor_class = UNBIASED
    message_kind = "marina"
    test_config = {"gamma": 0.05, "p": 0.2}

    def __init__(self, gamma: float, p: float = 0.1, batch: int = 1):
        super().__init__(gamma, batch)
        self.p = check_real("p", p, 0.0, 1.0, lo_open=True)
        self._coin = True

    def iteration_setup(self, rng: np.random.Generator) -> None:
        """Draw this iteration's shared coin c_t = [U < p], U uniform from the "algorithm" stream.

        Parameters
        ----------
        rng : numpy.random.Generator
            The run's "algorithm" stream (:ref:`math-streams`).
        """
        self._coin = bool(rng.random() < self.p)

    def kernel(self, comp, n, d):
        """The MARINA kernel: the coin setup, the two kinds of rounds and the coin-dependent message rule.

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
        ap = (float(self.p), np.ones(1, dtype=np.int64), *self._bits(comp, d))
        return AlgorithmKernel(ap, 0, _coin_setup, _marina_init, _marina_step, _marina_message)

    def init(self, blk, x0, comp):
        """g⁰ = ∇f_i(x⁰), sent uncompressed.

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
        blk.rows[...] = blk.oracle.full(x0, blk.workers)
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def step(self, blk, x_new, x_old, g_hat, comp):
        """Coin 1: g = ∇f_i(x^{t+1}) uncompressed; coin 0: g = ĝ^t + Q(∇f_i(x^{t+1}; ξ) − ∇f_i(x^t; ξ)).

        Parameters
        ----------
        blk : byzref.algorithms.base.Block
            The block of workers.
        x_new, x_old : numpy.ndarray
            The (d,) points x^{t+1} and x^t.
        g_hat : numpy.ndarray or None
            The (d,) aggregate ĝ^t, the base of a coin-0 row.
        comp : byzref.compressors.base.Compressor
            The run's compressor.

        Returns
        -------
        float
            Uplink bits per worker.
        """
        if self._coin:
            blk.rows[...] = blk.oracle.full(x_new, blk.workers)
            blk.msg = blk.rows
            return float_bits(comp, x_new.shape[0])
        a, b = blk.oracle.pair(x_new, x_old, blk.workers)
        q = comp._compress(np.subtract(a, b), blk.rng)
        np.add(g_hat[None, :], q, out=blk.rows)
        blk.msg = q
        return comp.bits(x_new.shape[0])

    def apply_message(self, rows, msg, g_hat):
        """Server side of the "message" target: rows = msg on coin-1 rounds, ĝ^t + msg on coin-0 rounds.

        Parameters
        ----------
        rows : numpy.ndarray
            The (f, d) Byzantine rows of the server's array, updated in place.
        msg : numpy.ndarray
            The (f, d) messages the attack wrote.
        g_hat : numpy.ndarray
            The (d,) previous aggregate ĝ^t.
        """
        if self._coin:
            rows[...] = msg
        else:
            np.add(g_hat[None, :], msg, out=rows)
