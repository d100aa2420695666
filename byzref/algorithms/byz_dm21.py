"""Byz-DM21 and Byz-VR-DM21: double momentum + EF21 + robust aggregation.

Li, Liu, Yi, "Accelerating Byzantine-Robust Distributed Learning with Compressed Communication via
Double Momentum and Variance Reduction", arXiv:2603.15144 (AISTATS 2026); with Agg = mean and
f = 0 Byz-DM21 is EF21-SGD2M (Fatkhullin, Tyurin, Richtárik, NeurIPS 2023), available as ``dm21``
(:class:`byzref.algorithms.presets.DM21`). See :ref:`algorithm-byz_dm21` and
:ref:`algorithm-byz_vr_dm21`. The paper's full text was not available to byzref: the update rules
follow the method names, the EF21-SGD2M paper and the authors' released code.

Both methods share a private base: the second momentum u ← (1 − η₂) u + η₂ v and the EF21 step
g ← g + C(u − g) every iteration, the first momentum v being the method's own; the same round-0
initialisation v⁰ = u⁰ = g⁰ = s_i (sent once uncompressed) and one compiled kernel.
"""

from __future__ import annotations

from byzref.algorithms._ef21 import ef21_step, ef21_step_kernel, keep_messages
from byzref.algorithms.base import ALGORITHMS, Algorithm, float_bits, increment_message, no_setup
from byzref.errors import check_choice, check_real
from byzref.kernels import AlgorithmKernel, template

__all__ = ["ByzDM21", "ByzVRDM21"]

# kernel parameters: (η, η₂, first momentum: 0 = EMA, 1 = STORM, init: 0 = paper, 1 = released,
#                     bits of an uncompressed vector, bits of a message); state S = (v, u)


@template
def _dm_init(ap, ok, ck, x0, rows, S, msg):  # pragma: no cover - compiled
    """Init at x⁰: paper v = u = g = s (sent uncompressed); released v = ηs, u = ηv, g = 0 + C(u)."""
    eta, _eta2, _storm, released, bits_f, bits_c = ap
    s = stoch(ok, x0)  # noqa: F821 - bound per run
    v, u = S[0], S[1]
    m, d = rows.shape
    if released:
        for i in range(m):
            for j in range(d):
                v[i, j] = eta * s[i, j]
                u[i, j] = eta * v[i, j]
                rows[i, j] = 0.0
        return ef21_step_kernel(ck, u, rows, scratch(ok), msg, bits_c)  # noqa: F821 - bound per run
    for i in range(m):
        for j in range(d):
            v[i, j] = s[i, j]
            u[i, j] = s[i, j]
            rows[i, j] = s[i, j]
    keep_messages(rows, msg)
    return bits_f


@template
def _dm_step(ap, ok, ck, x_new, x_old, g_hat, rows, S, msg):  # pragma: no cover - compiled
    """v ← EMA (v(1−η) + ηs) or STORM ((v − s_old)(1−η) + s_new); u ← u(1−η₂) + η₂v; EF21 on u."""
    eta, eta2, storm, _released, _bits_f, bits_c = ap
    v, u = S[0], S[1]
    m, d = rows.shape
    if storm:
        s_new, s_old = pair(ok, x_new, x_old)  # noqa: F821 - bound per run
        for i in range(m):
            for j in range(d):
                w = v[i, j] - s_old[i, j]
                w = w * (1.0 - eta)
                v[i, j] = w + s_new[i, j]
    else:
        s = stoch(ok, x_new)  # noqa: F821 - bound per run
        for i in range(m):
            for j in range(d):
                w = v[i, j] * (1.0 - eta)
                v[i, j] = w + eta * s[i, j]
    for i in range(m):
        for j in range(d):
            w = u[i, j] * (1.0 - eta2)
            u[i, j] = w + eta2 * v[i, j]
    return ef21_step_kernel(ck, u, rows, scratch(ok), msg, bits_c)  # noqa: F821 - bound per run


class _DoubleMomentum(Algorithm):
    """Shared part: u ← (1 − η₂)u + η₂ v, then the EF21 step g ← g + C(u − g); v is per subclass."""

    test_config = {"gamma": 0.05, "eta": 0.5}
    param_ranges = {"eta": "a real number in (0, 1]", "eta2": "a real number in (0, 1], or unset (= eta)",
                    "init_batch": "an integer in [1, inf]"}

    def __init__(self, gamma: float, eta: float, eta2: float | None, batch: int, init_batch: int = 1):
        super().__init__(gamma, batch)
        self.eta = check_real("eta", eta, 0.0, 1.0, lo_open=True)
        self.eta2 = self.eta if eta2 is None else check_real("eta2", eta2, 0.0, 1.0, lo_open=True)
        self._check_init_batch(init_batch)

    def init(self, blk, x0, comp):
        """v⁰ = u⁰ = g⁰ = s = (1/(b·b₀)) Σ_j ∇f_i(x⁰; ξ_ij⁰) (b₀ = init_batch), sent once uncompressed."""
        s = self.round0_stoch(blk, x0)
        blk.state["v"] = s.copy()
        blk.state["u"] = s.copy()
        blk.rows[...] = s
        blk.msg = blk.rows
        return float_bits(comp, x0.shape[0])

    def _ema_momentum(self, blk, x_new):
        """v ← (1 − η) v + η ∇f_i(x^{t+1}; ξ)."""
        v = blk.state["v"]
        v *= 1.0 - self.eta
        v += self.eta * blk.oracle.stoch(x_new, blk.workers)
        return v

    def _storm_momentum(self, blk, x_new, x_old):
        """v ← ∇f_i(x^{t+1}; ξ) + (1 − η)(v − ∇f_i(x^t; ξ)), the same ξ at both points."""
        s_new, s_old = blk.oracle.pair(x_new, x_old, blk.workers)
        v = blk.state["v"]
        v -= s_old
        v *= 1.0 - self.eta
        v += s_new
        return v

    def _first_momentum(self, blk, x_new, x_old):
        raise NotImplementedError

    def _storm(self) -> bool:
        raise NotImplementedError

    def _released_init(self) -> bool:
        return False

    def kernel(self, comp, n, d):
        self._check_kernel()  # init_batch > 1: the Python loop only
        ap = (float(self.eta), float(self.eta2), self._storm(), self._released_init(), *self._bits(comp, d))
        return AlgorithmKernel(ap, 2, no_setup, _dm_init, _dm_step, increment_message,
                               row_messages=not self._storm())

    def step(self, blk, x_new, x_old, g_hat, comp):
        v = self._first_momentum(blk, x_new, x_old)
        u = blk.state["u"]
        u *= 1.0 - self.eta2
        u += self.eta2 * v
        return ef21_step(blk, u, comp)


@ALGORITHMS.register("byz_dm21")
class ByzDM21(_DoubleMomentum):
    r"""Byz-DM21: EMA of an EMA of stochastic gradients, compressed with EF21 (arXiv:2603.15144).

    .. math::
        v_i^{t+1} &= (1-\eta) v_i^t + \eta \nabla f_i(x^{t+1}; \xi_i^{t+1}) \\
        u_i^{t+1} &= (1-\eta_2) u_i^t + \eta_2 v_i^{t+1} \\
        g_i^{t+1} &= g_i^t + C(u_i^{t+1} - g_i^t)

    Init: v⁰ = u⁰ = g⁰ = s_i = (1/(b·b₀)) Σ_{j<b·b₀} ∇f_i(x⁰; ξ_ij⁰) (sent once uncompressed, d·b_f
    bits): one draw of b·b₀ samples per worker, noise variance σ²/(b·b₀); b₀ = ``init_batch``.
    See :ref:`algorithm-byz_dm21`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    eta : float
        First momentum η ∈ (0, 1].
    eta2 : float or None, default None
        Second momentum η₂ ∈ (0, 1]; None: η₂ = η, as in the authors' code (byzref's rate claims
        decouple them).
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1.
    variant : {"paper", "released"}, default "paper"
        "released" uses the first-momentum line of the authors' released ``DoubleMomentumWorker``,
        which carries the STORM term v ← (1−η)v + η s_new + (1−η)(s_new − s_old). Under the run-level
        protocol "released" (needs this variant) round 0 is dead: the workers set v = u = g = s on a
        first batch and send zeros (x¹ = x⁰); a STORM step at x⁰ on a new batch gives the first rows.
    init_batch : int, default 1
        b₀ ≥ 1: round 0 averages b₀·b samples per worker (1: one batch, as every later iteration;
        left out of the canonical config and run id). Byz-VR-DM21 reaches avg ‖∇f‖² ∝ T^{−2/3} under
        its decoupled schedule only with b₀ ∝ T^{1/3} (exact moments, ``theory.exact``). Under protocol
        "released" it applies to the first batch (the dead round), not to the step that follows.
        Python loop only: the compiled engine refuses b₀ > 1.

    Notes
    -----
    Needs C ∈ 𝔹(α). Claimed rate O(ε⁻⁴) (avg ‖∇f‖² ∝ T^{−1/2}) with η = η₂ ∝ T^{−1/2}, γ ∝ η.
    Source: Li, Liu, Yi, "Accelerating Byzantine-robust distributed learning with compressed
    communication via double momentum and variance reduction", AISTATS 2026 (arXiv:2603.15144). The
    paper's full text was not available to byzref: the rate and schedule are byzref's reading of the
    method, not checked against the paper's theorems.
    """

    released_round0 = "dead"

    def __init__(self, gamma: float, eta: float, eta2: float | None = None, batch: int = 1,
                 variant: str = "paper", init_batch: int = 1):
        super().__init__(gamma, eta, eta2, batch, init_batch)
        self.variant = check_choice("variant", variant, ("paper", "released"))

    def _storm(self) -> bool:
        return self.variant == "released"

    def _first_momentum(self, blk, x_new, x_old):
        if self.variant == "released":
            return self._storm_momentum(blk, x_new, x_old)
        return self._ema_momentum(blk, x_new)


@ALGORITHMS.register("byz_vr_dm21")
class ByzVRDM21(_DoubleMomentum):
    r"""Byz-VR-DM21: STORM first momentum + second momentum + EF21 (arXiv:2603.15144).

    .. math::
        v_i^{t+1} &= \nabla f_i(x^{t+1}; \xi_i^{t+1}) + (1-\eta)\,(v_i^t - \nabla f_i(x^t; \xi_i^{t+1})) \\
        u_i^{t+1} &= (1-\eta_2) u_i^t + \eta_2 v_i^{t+1}, \qquad g_i^{t+1} = g_i^t + C(u_i^{t+1} - g_i^t)

    Two stochastic gradients per worker per iteration (same sample at x^{t+1} and x^t); the first
    momentum is the STORM estimator (Cutkosky, Orabona, NeurIPS 2019). See :ref:`algorithm-byz_vr_dm21`.

    Parameters
    ----------
    gamma : float
        Server step size γ > 0.
    eta : float
        First (STORM) momentum η ∈ (0, 1].
    eta2 : float or None, default None
        Second momentum η₂ ∈ (0, 1]; None: η₂ = η.
    batch : int, default 1
        Samples per worker and iteration, b ≥ 1.
    init : {"paper", "released"}, default "paper"
        "paper": v⁰ = u⁰ = g⁰ = s = ∇f_i(x⁰; ξ⁰). "released" (authors' code): v⁰ = η s, u⁰ = η v⁰,
        g⁰ = C(u⁰) (compressed first message). The run-level protocol "released" needs this init; its
        round 0 is live (the message C(u⁰) is the first row), so byzref's iterates are the authors'.
    init_batch : int, default 1
        b₀ ≥ 1: round 0's s averages b₀·b samples per worker, in either init. Python loop only for
        b₀ > 1.

    Notes
    -----
    Claimed rate O(ε⁻³) (avg ‖∇f‖² ∝ T^{−2/3}) with the decoupled schedule byzref infers (the paper's
    constants are unknown): η ∝ T^{−2/3}, η₂ ∝ T^{−1/3}, γ ∝ η₂. Source: Li, Liu, Yi, AISTATS 2026
    (arXiv:2603.15144).
    """

    released_round0 = "live"

    def __init__(self, gamma: float, eta: float, eta2: float | None = None, batch: int = 1,
                 init: str = "paper", init_batch: int = 1):
        super().__init__(gamma, eta, eta2, batch, init_batch)
        self.init_mode = check_choice("init", init, ("paper", "released"))

    def params(self):
        """Hyper-parameters as a plain dict, with ``init`` under its constructor name.

        Returns
        -------
        dict
            Parameter name to value (``init_batch`` = 1 left out).
        """
        out = super().params()
        out["init"] = out.pop("init_mode")
        return out

    def init(self, blk, x0, comp):
        """Paper init v⁰ = u⁰ = g⁰ = s (uncompressed), or released init v⁰ = ηs, u⁰ = ηv⁰, g⁰ = C(u⁰).

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
        if self.init_mode == "paper":
            return super().init(blk, x0, comp)
        s = self.round0_stoch(blk, x0)
        v = blk.state["v"] = self.eta * s
        blk.state["u"] = self.eta * v
        blk.rows[...] = 0.0
        return ef21_step(blk, blk.state["u"], comp)

    def _storm(self) -> bool:
        return True

    def _released_init(self) -> bool:
        return self.init_mode == "released"

    def kernel(self, comp, n, d):
        """The shared double-momentum kernel; its init covers both of this method's initialisations.

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
        return super().kernel(comp, n, d)

    def _first_momentum(self, blk, x_new, x_old):
        return self._storm_momentum(blk, x_new, x_old)
