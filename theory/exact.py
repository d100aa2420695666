r"""Exact first and second moments of linear methods on quadratics with additive Gaussian noise.

For the ``quadratic`` problem, f_i(x) = ½ (x − b_i)ᵀ A (x − b_i) with ∇f_i(x; ξ) = A(x − b_i) + ξ,
ξ ~ N(0, σ²/(b d) I), every method of this package becomes a linear recursion with additive noise
and random linear maps when the compressor is the identity or a random sparsifier (rand_k: the mask
scaled by d/k; rand_k_biased: the mask), the aggregator is the mean, and the Byzantine rows are a
linear function of the honest ones (f = 0, attack ``none`` (the Byzantine workers run the protocol),
``ipm``: b = −ε·mean(H), ``sign_flip``: b = −mean(H); targets "state" and "message"). MARINA's and
PAGE's shared coins make it a random mixture of two linear maps. The first and second moments of
such a recursion evolve by an exact deterministic recursion; this module computes it.

Reduction (what is tracked, per mode)
-------------------------------------
Let e = x − x* (x* = b̄ over the good workers, :meth:`problems.quadratic.Quadratic.x_star`) and let
the m "model" workers be the good workers (all n when the attack is ``none``). Every worker applies
the same linear map to its own state w_i, its gradient shift s_i = ∇f_i(x*) = A(x* − b_i), its noise
ξ_i and its compressor mask D_i. Write w̄ for the mean over the model workers and δ_i = w_i − w̄.

* Modes. With the identity compressor the recursion commutes with A: in A's eigenbasis every
  eigen-direction (mode) evolves on its own, and the noise stays isotropic. A random sparsifier
  commutes with a diagonal A (:meth:`problems.quadratic.Quadratic.from_arrays`): every coordinate
  is a mode and the mask acts on it as a scalar D with E D = p̄ and Var D = κ (rand_k: p̄ = 1,
  κ = d/k − 1; rand_k_biased: p̄ = k/d, κ = (k/d)(1 − k/d); identity: p̄ = 1, κ = 0). With a
  non-diagonal A (the built-in rotated quadratic) it does not: see "Dense path" below.
* Common part. z = (e, w̄, b, 1), b the Byzantine row when the attack writes one. Its second
  moment S = E z zᵀ (the constant 1 carries the means) evolves as S' = B S_ext Bᵀ, where
  S_ext adds the mean noise ξ̄ (variance σ²/(b d m)) and the mean mask noise ν̄ = (1/m) Σ_i (D_i − p̄)
  (W z_i) (variance κ q/m, q = (1/m) Σ_i E (W z_i)², W the compressor input).
* Dispersion part (only when κ > 0 and m > 1). δ̃_i = (δ_i, s_i − s̄) with D = (1/m) Σ_i E δ̃_i δ̃_iᵀ;
  δ̃_i' = B_d (δ̃_i, ξ_i − ξ̄, ν_i − ν̄) with Var(ξ_i − ξ̄) averaged = (1 − 1/m) σ²/(b d) and
  Var(ν_i − ν̄) averaged = (1 − 1/m) κ q. The server's variables cancel in δ_i, and because
  Σ_i δ̃_i = 0 pathwise, q = W_z S_ext W_zᵀ + W_δ D_ext W_δᵀ exactly. With the identity compressor
  the mean worker alone is exact (κ = 0), whatever the shifts.
* Coins: S' = p·(map with coin 1) + (1 − p)·(map with coin 0).

Dense path (a random sparsifier with a non-diagonal A, d ≤ DENSE_MAX_D = 10)
----------------------------------------------------------------------------
The same reduction with every slot a d-vector in A's eigenbasis (A = V diag(a) Vᵀ): S is the
((N_c − 1)d + 1)² second moment of z (the constant last) and D the (N_d d)² dispersion. The mask
D = s·diag(m), m a uniform k-subset (s = d/k for rand_k, 1 for rand_k_biased), has E m_a = c₁ = k/d
and E m_a m_b = c₂ = k(k − 1)/(d(d − 1)) for a ≠ b, so in the original coordinates
E (D − p̄I) Y (D − p̄I) = α Y + β Diag(Y), α = s²c₂ − p̄², β = s²(c₁ − c₂) (``mask_moments``;
α + β = κ), and in the eigenbasis Φ(Y) = α Y + β Vᵀ Diag(V Y Vᵀ) V. Φ(Q)/m and (1 − 1/m) Φ(Q) replace
κq/m and (1 − 1/m) κq. The noise is isotropic in both bases. On a diagonal A this is the per-mode
path plus the cross-mode moments, which nothing reported reads.

The moment map acts on symmetric matrices; its matrix is taken on upper triangles (P entries,
P = 2146 for Byz-DM21 with an attack at d = 10). curves steps S and D directly (O((K d)³) a step);
``at`` and ``avg_grad_sq`` use binary powers of the P × P map (O(P³) per bit of T, one power held);
``stationary`` solves on P; ``spectral_radius`` takes eigenvalues of the map without the fixed
entries and e's components along ker A (a sink: nothing reads them), by ARPACK above 600 entries
(the map is completely positive, so the spectral radius is an eigenvalue); ``stability_limit``
decides stability without eigenvalues: the map L of the second moments (without the constant, the
shifts and ker A) is positive on the PSD cone, and ρ(L) < 1 iff X − L(X) = I has a solution X ≻ 0
(the means' map has ρ² ≤ ρ(L)). Stationary E‖x − x*‖² along ker A is inf when the stationary inflow
γ² E‖ĝ_ker‖² is positive and nan when it is zero (the limit depends on the path; ``at`` with a
large t gives it). Measured on 2 CPU cores, Byz-DM21 with IPM (n = 5, f = 1, rand_k_biased):

====  =====  ===========  ===================  ==========  ===============  ===============
d     P      curves 10⁴   avg_grad_sq(10⁹)     stationary  spectral_radius  stability_limit
====  =====  ===========  ===================  ==========  ===============  ===============
6     796    0.8 s        2.9 s                0.6 s       1.4 s            4.9 s
8     1389   1.1 s        10 s                 1.3 s       0.8 s            25 s
10    2146   3.1 s        51 s                 10 s        10 s             60 s
====  =====  ===========  ===================  ==========  ===============  ===============

Cost grows like P³ ~ (K d)⁶ for the map's calls, so d > 10 is refused (a ConfigError naming the
alternatives: a diagonal A built with Quadratic.from_arrays, or the identity compressor).

The step matrices B are not written by hand: each method's update is written once, as in the
engine, over linear forms (the internal ``_View``), and run twice (common part, dispersion part).

Reported, for every t: E‖∇f(xᵗ)‖² = Σ_j a_j² E e_j², E f(xᵗ) − f* = ½ Σ_j a_j E e_j², E‖xᵗ − x*‖² = Σ_j E e_j²
(e_j the mode coordinates of e, a_j the eigenvalues of A); the exact average over t < T of
E‖∇f(xᵗ)‖² (what the engine's avg_grad_sq estimates); for constant parameters the stationary values
(a linear solve with the moment map) and mean-square stability (spectral radius of the moment map
< 1 on the modes with a_j > 0; a mode with a_j = 0 is a random walk when σ > 0, so the stationary
E‖x − x*‖² is then infinite while ∇f and f − f* do not see it).

Cost. For constant parameters the moment map is a fixed (P × P) matrix per mode (P = 36 for
Byz-DM21 with the identity compressor, plus 16 for the dispersion under rand_k), so a trajectory of
10⁵ steps at d = 100 is 10⁵ batched mat-vecs (about 4 s), and sums over t < T and values at any t use
binary powers of the map (log₂ T squarings): avg_grad_sq at T = 10⁹ and d = 100 takes under 0.1 s.
Per-t parameter schedules (callables) step the moments directly (about 0.15 ms per step at d = 100).

The initialisation is the engine's: x⁰ from the problem, then each method's own round 0 (e.g.
Byz-DM21: v⁰ = u⁰ = g⁰ = ∇f_i(x⁰; ξ⁰); Byz-VR-DM21 "released": v⁰ = η s, u⁰ = η v⁰, g⁰ = C(u⁰)), and at
t = 0 the Byzantine rows are the attack applied to the initial rows for both targets.

Methods: byz_dm21 (variants "paper" and "released"), byz_vr_dm21 (inits "paper" and "released"),
byz_ef21, byz_ef21_sgd, byz_ef21_sgdm, robust_momentum_sgd, byz_vr_marina, byz_dasha_page, br_csgd,
br_diana and the presets dm21, ef21_sgdm, ef21 (Li, Liu, Yi, arXiv:2603.15144 for Byz-DM21 and
Byz-VR-DM21; the baselines' papers are cited in their modules under byzref/algorithms).

See :ref:`math-exact` for the recursion in mathematical form and :ref:`claim-kind-exact_rate` for the
claims decided with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from byzref.errors import ConfigError, check_int, check_real

__all__ = ["SUPPORTED_ALGORITHMS", "SUPPORTED_ATTACKS", "SUPPORTED_COMPRESSORS", "ExactCurves", "ExactModel",
           "stability_limit"]

SUPPORTED_COMPRESSORS = ("identity", "rand_k", "rand_k_biased")
SUPPORTED_ATTACKS = ("none", "ipm", "sign_flip")
#: the largest number of modes × moment-map entries the constant-parameter map may hold (float64 entries)
MAX_MAP_ENTRIES = 5 * 10**7
#: eigenvalues of A at most this fraction of the largest are zero (as the problem itself decides)
ZERO_EIG = 1e-10


# --- the methods, written over linear forms -------------------------------------------------------------
class _View:
    """Linear forms over the slots of one step's input (one row of coefficients per mode).

    ``stoch(x)`` = a·x + shift + ξ, ``full(x)`` = a·x + shift, ``pair`` = both points with the same ξ,
    ``compress(y)`` = p̄·y + ν (records y, the compressor input; at most once per step).
    In the common view the shift is s̄·1; in the dispersion view it is the slot s (= s_i − s̄) and
    every server quantity (x, ĝ) is the zero form.
    """

    def __init__(self, slots: list[str], a: np.ndarray, shift: np.ndarray | None, pbar: float):
        self.index = {s: i for i, s in enumerate(slots)}
        self.d, self.n = a.shape[0], len(slots)
        self.a = a[:, None]
        self.shift = self.unit("s") if shift is None else shift[:, None] * self.unit("1")
        self.pbar = pbar
        self.W: np.ndarray | None = None

    def unit(self, name: str) -> np.ndarray:
        out = np.zeros((self.d, self.n))
        out[:, self.index[name]] = 1.0
        return out

    def zero(self) -> np.ndarray:
        return np.zeros((self.d, self.n))

    def full(self, x: np.ndarray) -> np.ndarray:
        return self.a * x + self.shift

    def stoch(self, x: np.ndarray) -> np.ndarray:
        return self.full(x) + self.unit("xi")

    def pair(self, x_new: np.ndarray, x_old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.stoch(x_new), self.stoch(x_old)

    def compress(self, y: np.ndarray) -> np.ndarray:
        if self.W is not None:
            raise AssertionError("one compression per worker per step")
        self.W = y.copy()
        return self.pbar * y + self.unit("nu")


class _Method:
    """A method's worker update over linear forms: ``states``, the aggregated ``row``, ``message``
    (how the server turns a Byzantine message into a row), ``coins`` (a shared Bernoulli(p) coin)."""

    states: tuple[str, ...] = ()
    row = "g"
    message = "increment"
    coins = False

    def init(self, V: _View, p: dict, x0):
        raise NotImplementedError

    def step(self, V: _View, p: dict, st: dict, x_new, x_old, g_hat, coin: bool):
        raise NotImplementedError


class _DoubleMomentum(_Method):
    """Byz-DM21 / Byz-VR-DM21: v (EMA or STORM), u ← (1 − η₂)u + η₂v, g ← g + C(u − g)."""

    states = ("v", "u", "g")

    def init(self, V, p, x0):
        s = V.stoch(x0)
        if p["released_init"]:
            v = p["eta"] * s
            u = p["eta"] * v
            c = V.compress(u)
            return {"v": v, "u": u, "g": c}, c
        return {"v": s, "u": s, "g": s}, s

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        eta, eta2 = p["eta"], p["eta2"]
        if p["storm"]:
            s_new, s_old = V.pair(x_new, x_old)
            v = (st["v"] - s_old) * (1.0 - eta) + s_new
        else:
            v = st["v"] * (1.0 - eta) + eta * V.stoch(x_new)
        u = st["u"] * (1.0 - eta2) + eta2 * v
        c = V.compress(u - st["g"])
        return {"v": v, "u": u, "g": st["g"] + c}, c


class _EF21(_Method):
    """Byz-EF21 (full gradients) and Byz-EF21-SGD: g ← g + C(∇ − g)."""

    states = ("g",)

    def _grad(self, V, p, x):
        return V.stoch(x) if p["stochastic"] else V.full(x)

    def init(self, V, p, x0):
        g = self._grad(V, p, x0)
        return {"g": g}, g

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        c = V.compress(self._grad(V, p, x_new) - st["g"])
        return {"g": st["g"] + c}, c


class _EF21SGDM(_Method):
    """Byz-EF21-SGDM: v ← (1 − η)v + η∇f_i(x; ξ), g ← g + C(v − g)."""

    states = ("v", "g")

    def init(self, V, p, x0):
        s = V.stoch(x0)
        return {"v": s, "g": s}, s

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        v = st["v"] * (1.0 - p["eta"]) + p["eta"] * V.stoch(x_new)
        c = V.compress(v - st["g"])
        return {"v": v, "g": st["g"] + c}, c


class _Momentum(_Method):
    """Robust momentum SGD: m ← βm + (1 − β)∇f_i(x; ξ) (no compression)."""

    states, row, message = ("m",), "m", "replace"

    def init(self, V, p, x0):
        s = V.stoch(x0)
        return {"m": s}, s

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        m = st["m"] * p["beta"] + (1.0 - p["beta"]) * V.stoch(x_new)
        return {"m": m}, m


class _Marina(_Method):
    """Byz-VR-MARINA: coin 1: g = ∇f_i(x^{t+1}); coin 0: g = ĝ + Q(∇f_i(x^{t+1}; ξ) − ∇f_i(x^t; ξ))."""

    states, message, coins = ("g",), "marina", True

    def init(self, V, p, x0):
        g = V.full(x0)
        return {"g": g}, g

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        if coin:
            g = V.full(x_new)
            return {"g": g}, g
        s_new, s_old = V.pair(x_new, x_old)
        q = V.compress(s_new - s_old)
        return {"g": g_hat + q}, q


class _Dasha(_Method):
    """Byz-DASHA-PAGE: h' = ∇f_i (coin 1) or h + (s_new − s_old); g ← g + Q(h' − h − a(g − h))."""

    states, coins = ("h", "g"), True

    def init(self, V, p, x0):
        g = V.full(x0)
        return {"h": g, "g": g}, g

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        h, g = st["h"], st["g"]
        if coin:
            h_new = V.full(x_new)
        else:
            s_new, s_old = V.pair(x_new, x_old)
            h_new = h + (s_new - s_old)
        m = V.compress((h_new - h) - p["a"] * (g - h))
        return {"h": h_new, "g": g + m}, m


class _CSGD(_Method):
    """BR-CSGD: row = Q(∇f_i(x; ξ))."""

    states, row, message = ("r",), "r", "replace"

    def init(self, V, p, x0):
        return self.step(V, p, {}, x0, x0, None, True)

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        r = V.compress(V.stoch(x_new))
        return {"r": r}, r


class _Diana(_Method):
    """BR-DIANA: q = Q(∇f_i(x; ξ) − h), row = q + h, h ← h + α q (h⁰ = 0, then this step at x⁰)."""

    states, row, message = ("r", "h"), "r", "replace"

    def init(self, V, p, x0):
        return self.step(V, p, {"h": V.zero()}, x0, x0, None, True)

    def step(self, V, p, st, x_new, x_old, g_hat, coin):
        q = V.compress(V.stoch(x_new) - st["h"])
        r = q + st["h"]
        return {"r": r, "h": st["h"] + p["alpha"] * q}, r


#: registered algorithm name → what the exact recursion runs (presets run their parent's maths)
SUPPORTED_ALGORITHMS = ("byz_dm21", "byz_vr_dm21", "byz_ef21", "byz_ef21_sgd", "byz_ef21_sgdm",
                        "robust_momentum_sgd", "byz_vr_marina", "byz_dasha_page", "br_csgd", "br_diana",
                        "dm21", "ef21_sgdm", "ef21")


def _method_of(alg, comp, d: int) -> tuple[_Method, dict[str, Any]]:
    """The method object and its parameters for an algorithm instance (by class, most derived first)."""
    from byzref.algorithms.byz_dasha_page import ByzDASHAPAGE
    from byzref.algorithms.byz_dm21 import ByzDM21, ByzVRDM21
    from byzref.algorithms.byz_ef21 import ByzEF21, ByzEF21SGD, ByzEF21SGDM
    from byzref.algorithms.byz_vr_marina import ByzVRMARINA
    from byzref.algorithms.robust_sgd import BRCSGD, BRDIANA, RobustMomentumSGD

    # init_batch: round 0 averages init_batch × batch samples (the algorithm's parameter; 1 when it has none)
    p: dict[str, Any] = {"gamma": float(alg.gamma), "batch": int(getattr(alg, "batch", 1)),
                         "init_batch": float(getattr(alg, "init_batch", 1))}
    if isinstance(alg, ByzVRDM21):
        return _DoubleMomentum(), {**p, "eta": alg.eta, "eta2": alg.eta2, "storm": True,
                                   "released_init": alg.init_mode == "released"}
    if isinstance(alg, ByzDM21):
        return _DoubleMomentum(), {**p, "eta": alg.eta, "eta2": alg.eta2, "storm": alg.variant == "released",
                                   "released_init": False}
    if isinstance(alg, ByzEF21SGDM):
        return _EF21SGDM(), {**p, "eta": alg.eta}
    if isinstance(alg, ByzEF21SGD):
        return _EF21(), {**p, "stochastic": True}
    if isinstance(alg, ByzEF21):
        return _EF21(), {**p, "stochastic": False}
    if isinstance(alg, RobustMomentumSGD):
        return _Momentum(), {**p, "beta": alg.beta}
    if isinstance(alg, ByzVRMARINA):
        return _Marina(), {**p, "p": alg.p}
    if isinstance(alg, ByzDASHAPAGE):
        return _Dasha(), {**p, "p": alg.p, "a": float(alg._a(comp, d))}
    if isinstance(alg, BRDIANA):
        return _Diana(), {**p, "alpha": float(alg._alpha(comp, d))}
    if isinstance(alg, BRCSGD):
        return _CSGD(), p
    raise ConfigError(f"algorithm {alg.name!r} has no exact moment recursion here; exact moments support "
                      f"{', '.join(SUPPORTED_ALGORITHMS)}", field="algorithm")


def _check_param(name: str, value):
    """One override of :meth:`ExactModel.params`, checked (a one-line ConfigError when out of range)."""
    if name in ("storm", "released_init", "stochastic"):
        return value
    if name == "batch":
        return check_int(name, value, 1)
    if name in ("eta", "eta2", "p"):
        return check_real(name, value, 0.0, 1.0, lo_open=True)
    if name == "beta":
        return check_real(name, value, 0.0, 1.0, hi_open=True)
    return check_real(name, value, 0.0, None, lo_open=True)  # gamma, init_batch, a, alpha


# --- the dense path: a random sparsifier with a non-diagonal A ----------------------------------------
#: the largest dimension the dense path accepts (its heaviest calls take about a minute there; see the
#: module docstring's cost table)
DENSE_MAX_D = 10


def mask_moments(d: int, k: int, scale: float) -> tuple[float, float, float]:
    r"""(p̄, α, β) of the sparsifier D = scale·diag(m), m a uniform k-subset mask of {0..d−1}:
    E D = p̄ I and, for every d × d matrix Y,

    .. math:: \mathbb{E}\,(D - \bar p I)\, Y\, (D - \bar p I) = \alpha\, Y + \beta\, \operatorname{Diag}(Y).

    With c₁ = E m_a = k/d and c₂ = E m_a m_b = k(k − 1)/(d(d − 1)) (a ≠ b; drawn without replacement):
    (E D Y D)_{ab} = scale² c₂ Y_ab (a ≠ b) and scale² c₁ Y_aa, so α = scale² c₂ − p̄², β = scale² (c₁ − c₂),
    p̄ = scale·k/d. rand_k (scale d/k): α = −(d − k)/(k(d − 1)), β = (d/k)(d − k)/(d − 1); α + β = κ, the
    per-coordinate variance the per-mode path uses.
    """
    c1 = k / d
    c2 = k * (k - 1) / (d * (d - 1)) if d > 1 else 0.0
    pbar = scale * c1
    return pbar, scale * scale * c2 - pbar * pbar, scale * scale * (c1 - c2)


class _DenseView(_View):
    """:class:`_View` whose slots are d-vectors (the constant "1" a scalar): a form is a (d, width) matrix
    over the stacked slots, so ``a·x`` (A = diag(a) in its eigenbasis) stays a row scaling."""

    def __init__(self, slots: list[str], a: np.ndarray, shift: np.ndarray | None, pbar: float):
        d = a.shape[0]
        self.start, pos = {}, 0
        for s in slots:
            self.start[s] = pos
            pos += 1 if s == "1" else d
        self.d, self.n = d, pos
        self.a = a[:, None]
        self.shift = self.unit("s") if shift is None else shift[:, None] * self.unit("1")
        self.pbar = pbar
        self.W = None

    def unit(self, name: str) -> np.ndarray:
        out = np.zeros((self.d, self.n))
        j = self.start[name]
        if name == "1":
            out[:, j] = 1.0
        else:
            out[:, j:j + self.d] = np.eye(self.d)
        return out

    def zero(self) -> np.ndarray:
        return np.zeros((self.d, self.n))


class _DenseMoments:
    r"""Exact moments of a random sparsifier with a non-diagonal A (see "Dense path" in the module docstring).

    Coordinates: A's eigenbasis, A = V diag(a) Vᵀ. The common state z = (e, w̄, b, 1) stacks d-vectors
    (the constant last), S = E z zᵀ is ((N_c − 1)d + 1)²; the dispersion D = (1/m) Σ_i E δ̃_i δ̃_iᵀ over
    δ̃_i = (δ_i, s_i − s̄) is (N_d d)². The mask noise ν = (V ᵀD V − p̄ I) y of a compressor input y with
    second moment Y adds Φ(Y) = α Y + β Vᵀ Diag(V Y Vᵀ) V (:func:`mask_moments`): Φ(Q)/m to the mean
    worker and (1 − 1/m) Φ(Q) to the dispersion, Q = W_z S_ext W_zᵀ + W_δ D_ext W_δᵀ as in the per-mode path.
    The moment map acts on symmetric matrices; its matrix is taken on their upper triangles.
    """

    def __init__(self, model: ExactModel, V: np.ndarray, shifts: np.ndarray, alpha: float, beta: float):
        self.M, self.V, self.alpha, self.beta = model, V, alpha, beta
        d = model.d
        dev = shifts - model.sbar
        self.Z = dev.T @ dev / shifts.shape[0]  # (1/m) Σ (s_i − s̄)(s_i − s̄)ᵀ, eigen coordinates
        self.Nc = (len(model.common) - 1) * d + 1
        self.Nd = len(model.disp) * d if model.use_disp else 0
        self.iu_c = np.triu_indices(self.Nc)
        self.iu_d = np.triu_indices(self.Nd)
        self.Pc = self.iu_c[0].size
        self.P = self.Pc + self.iu_d[0].size
        null = np.flatnonzero(model.a == 0.0)  # e's coordinates along ker A: slots 0..d−1 of z
        r, c = self.iu_c
        self.fixed = np.concatenate([[self.Pc - 1],  # S[1, 1]
                                     self.Pc + np.flatnonzero(self.iu_d[0] >= self.Nd - d)])  # D[s, s]
        self.null = np.flatnonzero(np.isin(r, null) | np.isin(c, null))
        self.rest = np.setdiff1d(np.arange(self.P), np.concatenate([self.fixed, self.null]))
        # second moments only (no constant, no shifts): the map on them is a positive map
        zz = np.flatnonzero((c < self.Nc - 1) & ~np.isin(r, null))
        dd = self.Pc + np.flatnonzero(self.iu_d[1] < self.Nd - d)
        self.second = np.concatenate([zz, dd])
        self.diag_e = np.flatnonzero((r == c) & (r < d))  # E e_j², j = 0..d−1, in order
        self._cache: dict = {}

    # --- one step --------------------------------------------------------------------------------
    def _phi(self, Y: np.ndarray) -> np.ndarray:
        """Φ(Y) for a batch (K, d, d) in eigen coordinates."""
        V = self.V
        dg = np.einsum("ij,kjl,il->ki", V, Y, V)  # diagonal of V Y Vᵀ
        return self.alpha * Y + self.beta * np.einsum("ji,kj,jl->kil", V, dg, V)

    def branches(self, p: dict, init: bool) -> list[tuple]:
        """[(probability, B_common, W_common, B_disp, W_disp)], as :meth:`ExactModel._branches`."""
        mod, meth = self.M, self.M.method
        coins = [(1.0, True)] if (init or not meth.coins) else [(p["p"], True), (1.0 - p["p"], False)]
        out = []
        for prob, coin in coins:
            Vc = _DenseView((["1"] if init else mod.common) + ["xi", "nu"], mod.a, mod.sbar, mod.pbar)
            rows = mod._server(Vc, p, init, coin, mod.e0)
            Bc = np.vstack([*rows[:-1], rows[-1][:1]])
            Bd = Wd = None
            if mod.use_disp:
                Vd = _DenseView((["s"] if init else mod.disp) + ["xi", "nu"], mod.a, None, mod.pbar)
                zero = Vd.zero()
                if init:
                    st, _ = meth.init(Vd, p, zero)
                else:
                    st, _ = meth.step(Vd, p, {s: Vd.unit(s) for s in meth.states}, zero, zero, zero, coin)
                Bd, Wd = np.vstack([st[s] for s in meth.states] + [Vd.unit("s")]), Vd.W
            out.append((prob, Bc, Vc.W, Bd, Wd))
        return out

    def advance(self, S, D, branches, p):
        """S (K, N, N), D (K, N_d, N_d) or None → the moments after one step."""
        mod, d = self.M, self.M.d
        K, N, _ = S.shape
        one = S[:, N - 1, N - 1][:, None, None]
        sig_xi = mod.sig2 / p["batch"]
        eye = np.eye(d)
        Se = np.zeros((K, N + 2 * d, N + 2 * d))
        Se[:, :N, :N] = S
        Se[:, N:N + d, N:N + d] = (sig_xi / mod.m) * one * eye
        De = None
        if D is not None:
            Nd = D.shape[-1]
            De = np.zeros((K, Nd + 2 * d, Nd + 2 * d))
            De[:, :Nd, :Nd] = D
            De[:, Nd:Nd + d, Nd:Nd + d] = (1.0 - 1.0 / mod.m) * sig_xi * one * eye
        S_out, D_out = 0.0, 0.0
        for prob, Bc, Wc, Bd, Wd in branches:
            if Wc is not None and mod.kappa > 0.0:
                Q = Wc @ Se @ Wc.T
                if De is not None:
                    Q = Q + Wd @ De @ Wd.T
                F = self._phi(Q)
                Se[:, -d:, -d:] = F / mod.m
                if De is not None:
                    De[:, -d:, -d:] = (1.0 - 1.0 / mod.m) * F
            else:
                Se[:, -d:, -d:] = 0.0
                if De is not None:
                    De[:, -d:, -d:] = 0.0
            S_out = S_out + prob * (Bc @ Se @ Bc.T)
            if De is not None:
                D_out = D_out + prob * (Bd @ De @ Bd.T)
        return S_out, (D_out if D is not None else None)

    def initial(self, p):
        """Moments after round 0 (S (1, N, N), D or None)."""
        p = {**p, "batch": p["batch"] * p["init_batch"]}
        S = np.ones((1, 1, 1))
        D = self.Z[None].copy() if self.M.use_disp else None
        return self.advance(S, D, self.branches(p, True), p)

    def _vec(self, S, D) -> np.ndarray:
        v = S[:, self.iu_c[0], self.iu_c[1]]
        if D is not None:
            v = np.concatenate([v, D[:, self.iu_d[0], self.iu_d[1]]], axis=1)
        return v

    # --- the constant-parameter map on upper triangles ------------------------------------------
    def operator(self, p: dict) -> tuple[np.ndarray, np.ndarray]:
        """(Mop (P, P), s0 (P,)): column j is the map applied to the j-th symmetric basis matrix."""
        key = tuple(sorted(p.items()))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        br = self.branches(p, False)
        Nc, Nd, P = self.Nc, self.Nd, self.P
        Mop = np.empty((P, P))
        width = max(Nc, Nd) + 2 * self.M.d
        chunk = max(1, int(2e7 // (width * width)))
        for j0 in range(0, P, chunk):
            js = np.arange(j0, min(P, j0 + chunk))
            S = np.zeros((js.size, Nc, Nc))
            D = np.zeros((js.size, Nd, Nd)) if self.M.use_disp else None
            for i, j in enumerate(js):
                if j < self.Pc:
                    a, b = self.iu_c[0][j], self.iu_c[1][j]
                    S[i, a, b] = S[i, b, a] = 1.0
                else:
                    a, b = self.iu_d[0][j - self.Pc], self.iu_d[1][j - self.Pc]
                    D[i, a, b] = D[i, b, a] = 1.0
            Mop[:, js] = self._vec(*self.advance(S, D, br, p)).T
        s0 = self._vec(*self.initial(p))[0]
        if len(self._cache) > 4:
            self._cache.clear()
        self._cache[key] = (Mop, s0)
        return Mop, s0

    def _values(self, s: np.ndarray) -> dict[str, float]:
        ee = s[self.diag_e]
        a = self.M.a
        return {"grad_sq": float(a * a @ ee), "f_gap": float(0.5 * a @ ee), "dist_sq": float(ee.sum())}

    # --- public counterparts ------------------------------------------------------------------
    def curves(self, T: int, p0: dict, params_of: Callable[[int], dict]) -> dict[str, np.ndarray]:
        a = self.M.a
        S, D = self.initial(p0)
        out = {k: np.empty(T + 1) for k in ("grad_sq", "f_gap", "dist_sq")}
        last = br = None
        for t in range(T + 1):
            ee = np.diagonal(S[0])[:self.M.d]
            out["grad_sq"][t] = float(a * a @ ee)
            out["f_gap"][t] = float(0.5 * a @ ee)
            out["dist_sq"][t] = float(ee.sum())
            if t < T:
                p = params_of(t)
                key = tuple(sorted(p.items()))
                if key != last:
                    br, last = self.branches(p, False), key
                S, D = self.advance(S, D, br, p)
        return out

    def at(self, ts: np.ndarray, p: dict) -> dict[str, np.ndarray]:
        """Values at iterations ts: binary powers applied from the lowest bit up (one power held)."""
        Mop, s0 = self.operator(p)
        cur = np.repeat(s0[:, None], ts.size, axis=1)
        Pk = Mop
        with np.errstate(all="ignore"):
            for k in range(int(ts.max()).bit_length() if ts.size else 0):
                sel = ((ts >> k) & 1).astype(bool)
                if sel.any():
                    cur[:, sel] = Pk @ cur[:, sel]
                if (ts >> (k + 1)).any():
                    Pk = Pk @ Pk
        vals = [self._values(cur[:, i]) for i in range(ts.size)]
        return {key: np.array([v[key] for v in vals]) for key in ("grad_sq", "f_gap", "dist_sq")}

    def avg_grad_sq(self, T: int, p: dict) -> float:
        """(1/T) Σ_{t<T} E‖∇f(xᵗ)‖²: with P_k = M^(2^k), Q_k = Σ_{t<2^k} M^t and the bits of T taken from
        the lowest (all are powers of M, so they commute): acc += Q_k cur, cur ← P_k cur."""
        Mop, s0 = self.operator(p)
        Pk, Qk = Mop, np.eye(self.P)
        acc, cur = np.zeros(self.P), s0.copy()
        with np.errstate(all="ignore"):
            for k in range(T.bit_length()):
                if (T >> k) & 1:
                    acc = acc + Qk @ cur
                    cur = Pk @ cur
                if T >> (k + 1):
                    Qk = Qk + Pk @ Qk
                    Pk = Pk @ Pk
            total = self._values(acc)["grad_sq"]
        return total / T if math.isfinite(total) else math.inf

    def spectral_radius(self, p: dict) -> float:
        """Largest |eigenvalue| of the map without the fixed entries and those along ker A (a sink: nothing
        reads e's null component). Dense eigenvalues up to 600 entries, else ARPACK (the map is completely
        positive, so its spectral radius is an eigenvalue, found as the largest in modulus)."""
        Mop, _ = self.operator(p)
        sub = Mop[np.ix_(self.rest, self.rest)]
        if not np.isfinite(sub).all():
            return math.inf
        if sub.shape[0] <= 600:
            return float(np.abs(np.linalg.eigvals(sub)).max())
        from scipy.sparse.linalg import ArpackNoConvergence, eigs

        try:
            lam = eigs(sub, k=4, which="LM", return_eigenvectors=False, tol=1e-12, maxiter=20000)
            return float(np.abs(lam).max())
        except ArpackNoConvergence:
            return float(np.abs(np.linalg.eigvals(sub)).max())

    def stable(self, p: dict) -> bool:
        """Mean-square stability without eigenvalues: the second-moment map L is positive on the PSD cone
        (of S's block without the constant and ker A, times D's block without the shifts), and then
        ρ(L) < 1 ⟺ X − L(X) = I has a solution X ≻ 0 (X = Σ_k L^k(I) when ρ < 1; a positive definite X
        with L(X) ≺ X forces ρ < 1). The means' map B̄ has ρ(B̄)² ≤ ρ(L) (L(S) ⪰ B̄ S B̄ᵀ), so this decides."""
        Mop, _ = self.operator(p)
        idx = self.second
        L = Mop[np.ix_(idx, idx)]
        if not np.isfinite(L).all():
            return False
        full = np.zeros(self.P)
        full[self.diag_all] = 1.0
        rhs = full[idx]
        try:
            x = np.linalg.solve(np.eye(idx.size) - L, rhs)
        except np.linalg.LinAlgError:
            return False
        if not np.isfinite(x).all():
            return False
        full[:] = 0.0
        full[idx] = x
        ok = True
        for S in self._unvec(full):
            if S is not None and S.size:
                ok = ok and bool(np.linalg.eigvalsh(S).min() > 0.0)
        return ok

    @property
    def diag_all(self) -> np.ndarray:
        r, c = self.iu_c
        rd, cd = self.iu_d
        return np.concatenate([np.flatnonzero(r == c), self.Pc + np.flatnonzero(rd == cd)])

    def _unvec(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The second-moment blocks of a vector on ``second``: S over z without the constant and ker A, D
        over δ without the shifts."""
        d = self.M.d
        S = np.zeros((self.Nc, self.Nc))
        S[self.iu_c] = v[:self.Pc]
        S = S + np.triu(S, 1).T
        keep = np.setdiff1d(np.arange(self.Nc - 1), np.flatnonzero(self.M.a == 0.0))
        out = [S[np.ix_(keep, keep)]]
        if self.Nd:
            D = np.zeros((self.Nd, self.Nd))
            D[self.iu_d] = v[self.Pc:]
            D = D + np.triu(D, 1).T
            out.append(D[:self.Nd - d, :self.Nd - d])
        return tuple(out) if len(out) == 2 else (out[0], None)

    def stationary(self, p: dict, rho: float) -> dict[str, float]:
        """Stationary values (a linear solve on the rest); E‖x − x*‖² along ker A: inf when the stationary
        inflow γ² E‖ĝ_ker‖² is positive (a random walk), nan when it is zero (the limit depends on the
        path)."""
        Mop, s0 = self.operator(p)
        r, fx = self.rest, self.fixed
        lhs = np.eye(r.size) - Mop[np.ix_(r, r)]
        rhs = Mop[np.ix_(r, fx)] @ s0[fx]
        s = np.zeros(self.P)
        s[r] = np.linalg.solve(lhs, rhs)
        s[fx] = s0[fx]
        res = self._values(s)
        null = np.flatnonzero(self.M.a == 0.0)
        if null.size:
            nxt = Mop @ s  # the null entries of s are zero: their next value is γ² E ĝ_ker ĝ_kerᵀ
            inflow = float(nxt[self.diag_e[null]].sum())
            scale = res["dist_sq"] + float(self.M.e0 @ self.M.e0) + 1e-300
            res["dist_sq"] = math.inf if inflow > 1e-13 * scale else math.nan
        res["spectral_radius"] = rho
        return res


# --- results ------------------------------------------------------------------------------------------
@dataclass
class ExactCurves:
    """Exact moments along a run: arrays indexed like ``t``.

    Parameters
    ----------
    t : numpy.ndarray of int, shape (T + 1,)
        The iterations 0..T.
    grad_sq : numpy.ndarray, shape (T + 1,)
        E‖∇f(xᵗ)‖².
    f_gap : numpy.ndarray, shape (T + 1,)
        E f(xᵗ) − f*.
    dist_sq : numpy.ndarray, shape (T + 1,)
        E‖xᵗ − x*‖².
    avg_grad_sq : float
        (1/T) Σ_{t<T} E‖∇f(xᵗ)‖² (the expectation of the engine's summary avg_grad_sq).
    params : dict, optional
        The constant parameters used (empty for a schedule).
    """

    t: np.ndarray
    grad_sq: np.ndarray
    f_gap: np.ndarray
    dist_sq: np.ndarray
    avg_grad_sq: float
    params: dict[str, Any] = field(default_factory=dict)


# --- the model ----------------------------------------------------------------------------------------
class ExactModel:
    """The exact moment recursion of one run configuration (see the module docstring).

    Build it with :meth:`from_config` (a run config, as ``byzref run`` takes), :meth:`from_spec`
    (a built :class:`byzref.config.RunSpec`) or directly from objects. Parameters of the method
    (gamma, eta, eta2, beta, p, a, alpha, batch) can be overridden per call with ``params``; one more,
    ``init_batch`` (default: the algorithm's ``init_batch``, else 1), divides the noise variance of
    round 0 only, as the engine's ``algorithm.init_batch`` does (round 0 averages init_batch × batch
    samples); overriding it is a what-if knob for initialisation effects.

    Parameters
    ----------
    problem : problems.quadratic.Quadratic
        The quadratic (its A, shifts b_i, σ² and x⁰).
    algorithm : byzref.algorithms.base.Algorithm
        A method of :data:`SUPPORTED_ALGORITHMS` (its parameters are the defaults of :meth:`params`).
    compressor : byzref.compressors.base.Compressor or None, optional
        identity (None, the default), rand_k or rand_k_biased.
    n, f : int or None, optional
        Workers and Byzantine workers (default: the problem's; other values are refused).
    attack : byzref.attacks.base.Attack or None, optional
        none (None, the default), ipm or sign_flip.
    target : {"state", "message"}, optional
        What the attack replaces (default "state").
    aggregator : object or None, optional
        The mean aggregator or None (the mean); any other rule is refused.
    _dense : bool, optional
        Internal: force the dense path for a random sparsifier even on a diagonal A (tests compare the
        two paths).

    Raises
    ------
    ConfigError
        When the configuration is outside the linear class; the message names what is not linear.
    """

    def __init__(self, problem, algorithm, compressor=None, *, n: int | None = None, f: int | None = None,
                 attack=None, target: str = "state", aggregator=None, _dense: bool = False):
        from byzref.compressors import COMPRESSORS
        from problems.quadratic import Quadratic

        if not isinstance(problem, Quadratic):
            pname = getattr(problem, "name", type(problem).__name__)
            raise ConfigError(f"problem {pname!r} is not a quadratic with additive Gaussian noise; exact "
                              "moments need problem 'quadratic'",
                              field="problem")
        comp = compressor if compressor is not None else COMPRESSORS.build({"name": "identity"})
        n = problem.n if n is None else check_int("n", n, 1)
        f = problem.f if f is None else check_int("f", f, 0, n - 1)
        if (n, f) != (problem.n, problem.f):
            raise ConfigError(f"n, f = {n}, {f} differ from the problem's workers {problem.n}, {problem.f}")
        d = problem.d
        agg_name = getattr(aggregator, "name", None)
        if aggregator is not None and (agg_name != "mean" or hasattr(aggregator, "pre")):
            name = getattr(aggregator, "name", None) or type(aggregator).__name__
            raise ConfigError(f"aggregator {name!r} is not linear; exact moments need aggregator 'mean'",
                              field="aggregator")
        if comp.name not in SUPPORTED_COMPRESSORS:
            raise ConfigError(f"compressor {comp.name} is not a random linear map; exact moments need "
                              f"{', '.join(SUPPORTED_COMPRESSORS[:-1])} or {SUPPORTED_COMPRESSORS[-1]}",
                              field="compressor")
        algorithm.check_compressor(comp)
        attack_name = "none" if attack is None or f == 0 else attack.name
        if attack_name not in SUPPORTED_ATTACKS:
            raise ConfigError(f"attack {attack_name!r} is not linear in the honest rows; exact moments need "
                              f"f = 0 or attack {', '.join(SUPPORTED_ATTACKS)}", field="attack")
        if target not in ("state", "message"):
            raise ConfigError(f"attack target {target!r} is not supported by exact moments; allowed: state, "
                              "message", field="attack.target")
        self.method, self.base_params = _method_of(algorithm, comp, d)
        self.problem, self.algorithm, self.compressor = problem, algorithm, comp
        self.n, self.f, self.d, self.target, self.attack_name = n, f, d, target, attack_name
        self.has_b = f > 0 and attack_name != "none"
        self.kap = {"ipm": -float(getattr(attack, "eps", 0.0)), "sign_flip": -1.0}.get(attack_name, 0.0)
        self.m = n - f if self.has_b else n
        workers = np.arange(self.m)

        A, b = problem._A, problem._b
        dense = False
        if comp.name == "identity":
            a, Vb = np.linalg.eigh(A)
            self.pbar, self.kappa = 1.0, 0.0
        else:
            off = np.abs(A - np.diag(np.diag(A))).max()
            dense = _dense or off > 1e-12 * np.abs(A).max()  # the mask does not commute with A
            if dense and d > DENSE_MAX_D:
                raise ConfigError(f"d = {d} is above {DENSE_MAX_D}, the largest dimension for exact moments "
                                  f"of compressor {comp.name} with a non-diagonal A (dense second moments, "
                                  "cost ~(K·d)^6); use a diagonal A (Quadratic.from_arrays) or compressor "
                                  "'identity'", field="compressor")
            a, Vb = np.linalg.eigh(A) if dense else (np.diag(A).copy(), np.eye(d))
            k = comp.k
            scale = comp.scale(d)
            self.pbar = scale * k / d
            self.kappa = scale * scale * (k / d) - self.pbar**2
        top = float(a.max())
        self.a = np.where(a > ZERO_EIG * top, a, 0.0)
        xs = problem.x_star()
        self.e0 = Vb.T @ (problem.x0() - xs)
        shifts = (Vb.T @ (A @ (xs[:, None] - b[workers].T))).T  # (m, d): ∇f_i(x*) in mode coordinates
        self.sbar = shifts.mean(axis=0)
        self.zeta = ((shifts - self.sbar) ** 2).mean(axis=0)
        self.sig2 = float(problem.constants.sigma2) / d  # per coordinate, before dividing by the batch
        self.use_disp = self.kappa > 0.0 and self.m > 1
        st = list(self.method.states)
        self.common = ["e", *st, *(["b"] if self.has_b else []), "1"]
        self.disp = [*st, "s"]
        self._cache: dict[tuple, tuple] = {}
        self._dense = None
        if dense:
            _, alpha, beta = mask_moments(d, comp.k, comp.scale(d))
            self._dense = _DenseMoments(self, Vb, shifts, alpha, beta)

    # --- construction from configs ---------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec) -> ExactModel:
        """From a built :class:`byzref.config.RunSpec`.

        Parameters
        ----------
        spec : byzref.config.RunSpec
            The built run (problem, algorithm, compressor, attack and its target, aggregator).

        Returns
        -------
        ExactModel

        Raises
        ------
        byzref.errors.ConfigError
            For the "released" protocol or a configuration outside the linear class.
        """
        protocol = spec.cfg.get("protocol")
        if protocol not in (None, "byzref", "default"):
            raise ConfigError(f"protocol {protocol!r} is not supported by exact moments (its Byzantine rows "
                              "are built from compressed attack vectors of the last round); use the default "
                              "protocol",
                              field="protocol")
        return cls(spec.problem, spec.algorithm, spec.compressor, n=spec.cfg["n"], f=spec.cfg["f"],
                   attack=spec.attack, target=spec.target, aggregator=spec.aggregator)

    @classmethod
    def from_config(cls, config: dict, problem_rng=None) -> ExactModel:
        """From a run config (the dict ``byzref run`` takes); the problem instance is the run's (its seed).

        Parameters
        ----------
        config : dict
            The run config.
        problem_rng : numpy.random.Generator or None, optional
            Instance randomness of the problem; None (default): the run's own problem stream.

        Returns
        -------
        ExactModel
        """
        from byzref.config import build

        return cls.from_spec(build(config, problem_rng=problem_rng))

    # --- parameters ------------------------------------------------------------------------------
    def params(self, overrides: dict | None = None) -> dict[str, Any]:
        """The method's parameters (γ, η, ...), with ``overrides`` applied (η₂ follows η unless given).

        Parameters
        ----------
        overrides : dict or None, optional
            New values of some of the method's parameters (each checked); η₂ follows an overridden η
            when the method was configured with η₂ = η and ``overrides`` does not set η₂.

        Returns
        -------
        dict

        Raises
        ------
        byzref.errors.ConfigError
            For a parameter the method does not have or a value out of range.
        """
        p = dict(self.base_params)
        if overrides:
            unknown = sorted(set(overrides) - set(p))
            if unknown:
                allowed = ", ".join(k for k in p if k not in ("storm", "released_init", "stochastic"))
                raise ConfigError(f"parameter(s) {', '.join(unknown)} do not belong to this method; "
                                  f"allowed: {allowed}")
            overrides = {k: _check_param(k, v) for k, v in overrides.items()}
            if "eta" in overrides and "eta2" in p and "eta2" not in overrides \
                    and self.base_params["eta2"] == self.base_params["eta"]:
                p["eta2"] = overrides["eta"]
            p.update(overrides)
        return p

    # --- one step of the moments ---------------------------------------------------------------
    def _branches(self, p: dict, init: bool, modes) -> list[tuple]:
        """[(probability, B_common, W_common, B_disp, W_disp)] for one step (or the initialisation)."""
        meth, a, sbar = self.method, self.a[modes], self.sbar[modes]
        coins = [(1.0, True)] if (init or not meth.coins) else [(p["p"], True), (1.0 - p["p"], False)]
        out = []
        for prob, coin in coins:
            Vc = _View((["1"] if init else self.common) + ["xi", "nu"], a, sbar, self.pbar)
            rows_c = self._server(Vc, p, init, coin, self.e0[modes])
            Bc, Wc = np.stack(rows_c, axis=1), Vc.W
            Bd = Wd = None
            if self.use_disp:
                Vd = _View((["s"] if init else self.disp) + ["xi", "nu"], a, None, self.pbar)
                zero = Vd.zero()
                if init:
                    st, _ = meth.init(Vd, p, zero)
                else:
                    st, _ = meth.step(Vd, p, {s: Vd.unit(s) for s in meth.states}, zero, zero, zero, coin)
                Bd, Wd = np.stack([st[s] for s in meth.states] + [Vd.unit("s")], axis=1), Vd.W
            out.append((prob, Bc, Wc, Bd, Wd))
        return out

    def _server(self, V: _View, p: dict, init: bool, coin: bool, e0) -> list[np.ndarray]:
        """Forms of the new common state (e, w̄, b, 1): aggregation, x-step, workers, attack."""
        meth = self.method
        if init:
            e = e0[:, None] * V.unit("1")
            st, msg = meth.init(V, p, e)
            b = self.kap * st[meth.row] if self.has_b else None
        else:
            e = V.unit("e")
            st0 = {s: V.unit(s) for s in meth.states}
            b_old = V.unit("b") if self.has_b else None
            g_hat = st0[meth.row]
            if self.has_b:
                g_hat = (self.m / self.n) * g_hat + (self.f / self.n) * b_old
            e_new = e - p["gamma"] * g_hat
            st, msg = meth.step(V, p, st0, e_new, e, g_hat, coin)
            e = e_new
            b = None
            if self.has_b:
                if self.target == "state" or meth.message == "replace":
                    b = self.kap * (st[meth.row] if self.target == "state" else msg)
                elif meth.message == "increment":
                    # b⁰ = κ·row⁰ and b' = b + κ·msg with row' = row + msg, so b = κ·row on every path.
                    # Written as the state (not as b_old + κ·msg): the accumulated form keeps b − κ·row
                    # as an invariant direction of the moment map, an eigenvalue 1 that would make the
                    # spectral radius 1, the stationary values inf and the stable γ 0.
                    b = self.kap * st[meth.row]
                else:  # MARINA: the row is the message on coin-1 rounds, ĝ + message otherwise
                    b = self.kap * msg if coin else g_hat + self.kap * msg
        return [e, *[st[s] for s in meth.states], *([b] if self.has_b else []), V.unit("1")]

    def _advance(self, S, D, branches, p) -> tuple[np.ndarray, np.ndarray | None]:
        """S (modes, K, N, N), D (modes, K, Nd, Nd) or None → the moments after one step."""
        M, K, N, _ = S.shape
        one = S[:, :, N - 1, N - 1]  # the constant slot is last in both the state and the pre-init space
        sig_xi = self.sig2 / p["batch"]
        Se = np.zeros((M, K, N + 2, N + 2))
        Se[:, :, :N, :N] = S
        Se[:, :, N, N] = sig_xi / self.m * one
        De = None
        if D is not None:
            Nd = D.shape[-1]
            De = np.zeros((M, K, Nd + 2, Nd + 2))
            De[:, :, :Nd, :Nd] = D
            De[:, :, Nd, Nd] = (1.0 - 1.0 / self.m) * sig_xi * one
        S_out, D_out = 0.0, 0.0
        for prob, Bc, Wc, Bd, Wd in branches:
            if Wc is not None and self.kappa > 0.0:
                q = np.einsum("mi,mkij,mj->mk", Wc, Se, Wc)
                if De is not None:
                    q = q + np.einsum("mi,mkij,mj->mk", Wd, De, Wd)
                Se[:, :, N + 1, N + 1] = self.kappa * q / self.m
                if De is not None:
                    De[:, :, -1, -1] = (1.0 - 1.0 / self.m) * self.kappa * q
            else:
                Se[:, :, N + 1, N + 1] = 0.0
                if De is not None:
                    De[:, :, -1, -1] = 0.0
            Bx = Bc[:, None]
            S_out = S_out + prob * (Bx @ Se @ Bx.transpose(0, 1, 3, 2))
            if De is not None:
                By = Bd[:, None]
                D_out = D_out + prob * (By @ De @ By.transpose(0, 1, 3, 2))
        return S_out, (D_out if D is not None else None)

    def _initial(self, p, modes) -> tuple[np.ndarray, np.ndarray | None]:
        """Moments after the method's round 0 (x⁰ from the problem; its noise divided by ``init_batch``)."""
        p = {**p, "batch": p["batch"] * p["init_batch"]}
        M = len(self.a[modes])
        S = np.ones((M, 1, 1, 1))
        D = self.zeta[modes].reshape(M, 1, 1, 1).copy() if self.use_disp else None
        return self._advance(S, D, self._branches(p, True, modes), p)

    # --- the constant-parameter moment map ------------------------------------------------------
    def _operator(self, p: dict, modes=slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """(M, s0): the moment map (modes, P, P) on vec(S) ⊕ vec(D) and the moments after round 0."""
        key = (tuple(sorted((k, v) for k, v in p.items())), str(modes) if isinstance(modes, slice) else
               tuple(np.asarray(modes).tolist()))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        nm = len(self.a[modes])
        Nc, Nd = len(self.common), (len(self.disp) if self.use_disp else 0)
        P = Nc * Nc + Nd * Nd
        if nm * P * P > MAX_MAP_ENTRIES:
            raise ConfigError(f"the moment map would hold {nm} × {P}² entries (more than "
                              f"{MAX_MAP_ENTRIES:.0e}); use a smaller dimension d")
        S = np.zeros((nm, P, Nc, Nc))
        D = np.zeros((nm, P, Nd, Nd)) if self.use_disp else None
        Sv = S.reshape(nm, P, Nc * Nc)  # views: S and D are contiguous
        for k in range(Nc * Nc):
            Sv[:, k, k] = 1.0
        if D is not None:
            Dv = D.reshape(nm, P, Nd * Nd)
            for k in range(Nd * Nd):
                Dv[:, Nc * Nc + k, k] = 1.0
        S1, D1 = self._advance(S, D, self._branches(p, False, modes), p)
        out = S1.reshape(nm, P, Nc * Nc)
        if D1 is not None:
            out = np.concatenate([out, D1.reshape(nm, P, Nd * Nd)], axis=2)
        Mop = out.transpose(0, 2, 1).copy()  # (modes, P_out, P_in)
        S0, D0 = self._initial(p, modes)
        s0 = S0.reshape(nm, Nc * Nc)
        if D0 is not None:
            s0 = np.concatenate([s0, D0.reshape(nm, Nd * Nd)], axis=1)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = (Mop, s0)
        return Mop, s0

    def _weights(self, modes=slice(None)) -> dict[str, np.ndarray]:
        """Linear functionals on the moment vector: E‖∇f‖², E f − f*, E‖x − x*‖² (per mode)."""
        a, Nc = self.a[modes], len(self.common)
        P = Nc * Nc + (len(self.disp) ** 2 if self.use_disp else 0)
        w = {k: np.zeros((len(a), P)) for k in ("grad_sq", "f_gap", "dist_sq")}
        w["grad_sq"][:, 0] = a * a  # entry (e, e) of S is index 0
        w["f_gap"][:, 0] = 0.5 * a
        w["dist_sq"][:, 0] = 1.0
        return w

    # --- public ----------------------------------------------------------------------------------
    def curves(self, T: int, params: dict | None = None,
               schedule: Callable[[int], dict] | None = None) -> ExactCurves:
        """Exact moments at every t = 0..T (step by step).

        Parameters
        ----------
        T : int
            The horizon, 1 ≤ T ≤ 10⁷.
        params : dict or None, optional
            Overrides of the method's parameters (:meth:`params`); None: the configured ones.
        schedule : callable or None, optional
            t ↦ overrides used for the step from t to t + 1 (round 0 uses ``schedule(0)``), for
            parameters that change along the run.

        Returns
        -------
        ExactCurves
        """
        T = check_int("T", T, 1, 10**7)
        if self._dense is not None:
            base = dict(params or {})
            p0 = self.params({**base, **(schedule(0) if schedule else {})})
            out = self._dense.curves(T, p0, (lambda t: p0) if schedule is None
                                     else (lambda t: self.params({**base, **schedule(t)})))
            return ExactCurves(np.arange(T + 1), out["grad_sq"], out["f_gap"], out["dist_sq"],
                               float(out["grad_sq"][:T].mean()),
                               self.params(params) if schedule is None else {})
        w = self._weights()
        out = {k: np.empty(T + 1) for k in w}
        if schedule is None:
            p = self.params(params)
            Mop, s = self._operator(p)
            keys = list(w)
            Wm = np.stack([w[k].ravel() for k in keys])  # (3, modes·P): the three functionals at once
            vals = np.empty((T + 1, len(keys)))
            s = s[:, :, None].copy()
            for t in range(T):
                vals[t] = Wm @ s.ravel()
                s = np.matmul(Mop, s)
            vals[T] = Wm @ s.ravel()
            for i, k in enumerate(keys):
                out[k][:] = vals[:, i]
        else:
            p = self.params({**(params or {}), **schedule(0)})
            S, D = self._initial(p, slice(None))
            last, br = None, None
            for t in range(T + 1):
                ee = S[:, 0, 0, 0]
                out["grad_sq"][t] = float(self.a**2 @ ee)
                out["f_gap"][t] = float(0.5 * self.a @ ee)
                out["dist_sq"][t] = float(ee.sum())
                if t < T:
                    p = self.params({**(params or {}), **schedule(t)})
                    key = tuple(sorted(p.items()))
                    if key != last:
                        br, last = self._branches(p, False, slice(None)), key
                    S, D = self._advance(S, D, br, p)
        avg = float(out["grad_sq"][:T].mean())
        return ExactCurves(np.arange(T + 1), out["grad_sq"], out["f_gap"], out["dist_sq"], avg,
                           self.params(params) if schedule is None else {})

    def _powers(self, Mop, T: int) -> tuple[list, list]:
        """[M^(2^k)] and [Σ_{t<2^k} M^t] for k = 0..⌊log₂ T⌋."""
        eye = np.broadcast_to(np.eye(Mop.shape[1]), Mop.shape).copy()
        Ps, Qs = [Mop], [eye]
        for _ in range(max(int(T).bit_length() - 1, 0)):
            P, Q = Ps[-1], Qs[-1]
            Qs.append(Q + P @ Q)
            Ps.append(P @ P)
        return Ps, Qs

    def at(self, ts, params: dict | None = None) -> dict[str, np.ndarray]:
        """Exact E‖∇f‖², E f − f* and E‖x − x*‖² at the iterations ``ts`` (any size: binary powers).

        Parameters
        ----------
        ts : array_like of int
            The iterations.
        params : dict or None, optional
            Overrides of the method's parameters (:meth:`params`); None: the configured ones.

        Returns
        -------
        dict
            "grad_sq", "f_gap", "dist_sq": arrays like ``ts``.
        """
        ts = np.asarray(ts, dtype=np.int64).ravel()
        p = self.params(params)
        if self._dense is not None:
            return self._dense.at(ts, p)
        Mop, s0 = self._operator(p)
        Ps, _ = self._powers(Mop, int(ts.max()) if ts.size else 1)
        w = self._weights()
        out = {k: np.empty(ts.size) for k in w}
        with np.errstate(all="ignore"):
            for i, t in enumerate(ts):
                s = s0
                for k in range(int(t).bit_length()):
                    if (int(t) >> k) & 1:
                        s = np.matmul(Ps[k], s[:, :, None])[:, :, 0]
                for key in w:
                    out[key][i] = float(np.einsum("mp,mp->", w[key], s))
        return out

    def avg_grad_sq(self, T: int, params: dict | None = None) -> float:
        """Exact (1/T) Σ_{t<T} E‖∇f(xᵗ)‖² for constant parameters, for any T ≥ 1 (binary powers).

        Parameters
        ----------
        T : int
            The horizon, ≥ 1.
        params : dict or None, optional
            Overrides of the method's parameters (:meth:`params`); None: the configured ones.

        Returns
        -------
        float
            inf when the moments overflow.
        """
        T = check_int("T", T, 1)
        p = self.params(params)
        if self._dense is not None:
            return self._dense.avg_grad_sq(T, p)
        Mop, s0 = self._operator(p)
        Ps, Qs = self._powers(Mop, T)
        acc, cur = np.zeros_like(s0), s0
        with np.errstate(all="ignore"):
            for k in range(T.bit_length() - 1, -1, -1):
                if (T >> k) & 1:
                    acc = acc + np.matmul(Qs[k], cur[:, :, None])[:, :, 0]
                    cur = np.matmul(Ps[k], cur[:, :, None])[:, :, 0]
            total = float(np.einsum("mp,mp->", self._weights()["grad_sq"], acc))
        return total / T if math.isfinite(total) else math.inf

    def _fixed(self) -> list[int]:
        """Indices of the moment vector that never change: S[1, 1] = 1 and, with a dispersion, D[s, s]."""
        Nc = len(self.common)
        idx = [Nc * Nc - 1]
        if self.use_disp:
            Nd = len(self.disp)
            idx.append(Nc * Nc + Nd * Nd - 1)
        return idx

    def _rest(self, P: int) -> np.ndarray:
        return np.setdiff1d(np.arange(P), self._fixed())

    def spectral_radius(self, params: dict | None = None) -> float:
        """Largest eigenvalue modulus of the moment map over the modes with a > 0 (stable iff < 1).

        The fixed entries (the constant, the shifts' spread) are excluded: what remains are the means
        and the second moments, whose map governs convergence to the stationary moments.

        Parameters
        ----------
        params : dict or None, optional
            Overrides of the method's parameters (:meth:`params`); None: the configured ones.

        Returns
        -------
        float
            The spectral radius (inf when the map is not finite).
        """
        if self._dense is not None:
            return self._dense.spectral_radius(self.params(params))
        pos = np.flatnonzero(self.a > 0)
        uniq = pos[np.unique(self.a[pos], return_index=True)[1]]  # the map depends on a only
        Mop, _ = self._operator(self.params(params), modes=uniq)
        r = self._rest(Mop.shape[1])
        with np.errstate(all="ignore"):
            sub = Mop[:, r][:, :, r]
            if not np.isfinite(sub).all():
                return math.inf
            return float(np.abs(np.linalg.eigvals(sub)).max())

    def stationary(self, params: dict | None = None) -> dict[str, float]:
        """Stationary E‖∇f‖², E f − f* and E‖x − x*‖² for constant parameters.

        Infinite when not mean-square stable; E‖x − x*‖² is inf when A has a zero eigenvalue and σ > 0
        (that mode is a random walk).

        Parameters
        ----------
        params : dict or None, optional
            Overrides of the method's parameters (:meth:`params`); None: the configured ones.

        Returns
        -------
        dict
            "grad_sq", "f_gap", "dist_sq" and "spectral_radius".
        """
        p = self.params(params)
        rho = self.spectral_radius(p)
        if not rho < 1.0:
            return {"grad_sq": math.inf, "f_gap": math.inf, "dist_sq": math.inf, "spectral_radius": rho}
        if self._dense is not None:
            return self._dense.stationary(p, rho)
        Mop, s0 = self._operator(p)
        P = Mop.shape[1]
        r, fx = self._rest(P), self._fixed()
        pos = self.a > 0
        lhs = np.eye(len(r))[None] - Mop[pos][:, r][:, :, r]
        rhs = np.einsum("mij,mj->mi", Mop[pos][:, r][:, :, fx], s0[pos][:, fx])
        sol = np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0]
        s = np.zeros((int(pos.sum()), P))
        s[:, r] = sol
        s[:, fx] = s0[pos][:, fx]
        w = self._weights(pos)
        res = {k: float(np.einsum("mp,mp->", w[k], s)) for k in w}
        if (~pos).any():
            res["dist_sq"] = math.inf if self.sig2 > 0 else res["dist_sq"] + float((self.e0[~pos] ** 2).sum())
        res["spectral_radius"] = rho
        return res

    def stability_limit(self, params: dict | None = None, rel_tol: float = 1e-6) -> float:
        """Largest γ with a mean-square stable moment map, the other parameters fixed (bisection).

        Assumes the stable γ form an interval (0, γ*): γ* is found between the last stable and the first
        unstable γ of a doubling search from 10⁻³/L, then bisected (in log γ) to ``rel_tol``. Returns 0
        when even γ = 10⁻¹²/L is unstable and inf when γ = 10⁶/L is stable.

        Parameters
        ----------
        params : dict or None, optional
            Overrides of the method's parameters (:meth:`params`); None: the configured ones.
        rel_tol : float, optional
            Relative precision of γ* (default 10⁻⁶).

        Returns
        -------
        float
            γ* (not γ*L).
        """
        base = self.params(params)
        L = float(self.a.max())

        def stable(g):
            q = {**base, "gamma": g}
            return self._dense.stable(q) if self._dense is not None else self.spectral_radius(q) < 1.0

        lo = hi = 1e-3 / L
        if stable(lo):
            while stable(hi):
                lo, hi = hi, hi * 2.0
                if hi > 1e6 / L:
                    return math.inf
        else:
            while not stable(lo):
                hi, lo = lo, lo / 2.0
                if lo < 1e-12 / L:
                    return 0.0
        while hi / lo > 1.0 + rel_tol:
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if stable(mid) else (lo, mid)
        return lo


def stability_limit(config: dict, eta: float | None = None, eta2: float | None = None, **params) -> float:
    """Largest stable γ of a run config's method at given η, η₂ (:meth:`ExactModel.stability_limit`).

    Parameters
    ----------
    config : dict
        A run config in the linear class (see :class:`ExactModel`).
    eta, eta2 : float or None, optional
        The momenta (None: the configured ones; η₂ follows η unless given).
    **params
        Further parameter overrides (:meth:`ExactModel.params`).

    Returns
    -------
    float
    """
    model = ExactModel.from_config(config)
    over = dict(params)
    if eta is not None:
        over["eta"] = eta
    if eta2 is not None:
        over["eta2"] = eta2
    return model.stability_limit(over)
