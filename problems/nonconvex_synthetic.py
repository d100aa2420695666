"""nonconvex_synthetic: smooth, genuinely nonconvex, f* = 0, exact L, ζ² (B = 0) and σ²."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.errors import ConfigError, check_int, check_real
from byzref.gaussian import normal_row
from byzref.kernels import ProblemKernel
from problems._synthetic import check_noise, draw_gaussian, draw_seed_kernel, exact_shifts, noise_factor
from problems._validate import MAX_SCALE, check_problem_memory
from problems.base import Constants, Problem, as_generator, check_workers, finite_array
from problems.registry import PROBLEMS

__all__ = ["NonconvexSynthetic"]


@njit(cache=True)
def _nc_base(a, lam, x, h):  # pragma: no cover - compiled
    """h ← a∘x + λφ'(x), the part of every worker's gradient that depends on x only (φ'(t) = 2t/(1+t²)²)."""
    for j in range(x.shape[0]):
        q = 1.0 + x[j] * x[j]
        h[j] = a[j] * x[j] + lam * 2.0 * x[j] / (q * q)


@njit(cache=True)
def _nc_rows(h, shifts, x, samples, out):  # pragma: no cover - compiled
    """out[i] = h + s_i + ξ_i (+ D_i∘x when samples has 2 planes) for the out.shape[0] rows; writes out.

    samples is (m, k, d) with k = 0 (no noise; any m), 1 (additive) or 2 (additive, curvature diagonal).
    """
    n, d = out.shape
    k = samples.shape[1]
    for i in range(n):
        for j in range(d):
            v = h[j] + shifts[i, j]
            if k >= 1:
                v += samples[i, 0, j]
            if k == 2:
                v += samples[i, 1, j] * x[j]
            out[i, j] = v


@njit(cache=True)
def _nc_grads(a, lam, shifts, x, samples, out):  # pragma: no cover - compiled
    """out[i] = a∘x + λφ'(x) + s_i + ξ_i (+ D_i∘x when samples has 2 planes); writes out only.

    samples is (n, k, d) with k = 0 (no noise), 1 (additive) or 2 (additive, curvature diagonal).
    """
    h = np.empty(out.shape[1])
    _nc_base(a, lam, x, h)
    _nc_rows(h, shifts, x, samples, out)


# --- problem kernels of the compiled engine (byzref.kernels.ProblemKernel) --------------------------------
# pp = (a, λ, shifts, s̄, c, none, h1, h2, z): c (k,) the noise factors of the k planes, none an
# (n, 0, d) empty sample array, h1, h2 (d,) and z (k·d,) scratch. Samples: one uint64 seed (1,).

@njit(cache=True)
def _nc_row_into(h, S, i, x, z, c, out, r):  # pragma: no cover - compiled
    """out[r] ← h + S[i] + c₀z[:d] (+ (c₁z[d:2d])∘x when c has 2 entries), with z (k·d,) the raw normals.

    Row i of :func:`_nc_rows` for worker i's noise as :meth:`NonconvexSynthetic.draw` stores it: row i
    of the standard normals of the draw's seed, plane p (entries p·d .. p·d + d − 1) times c[p]; each
    value is scaled before it is used, so the floats are the stored samples' own.
    """
    d = x.shape[0]
    k = c.shape[0]
    for j in range(d):
        v = h[j] + S[i, j]
        if k >= 1:
            v += z[j] * c[0]
        if k == 2:
            v += (z[d + j] * c[1]) * x[j]
        out[r, j] = v


@njit(cache=True)
def _nc_stoch(pp, x, smp, lo, hi, flip, out):  # pragma: no cover - compiled
    """out[:hi − lo] ← rows lo..hi − 1 of ``stoch_grads(x, samples)``, regenerating each row's noise.

    ∇f_i(x; ξ) = a∘x + λφ'(x) + s_i + ξ_i (+ D_i∘x); only the rows asked for are generated. No labels:
    ``flip`` is ignored. The loop over rows creates no array views (at small d their reference
    counting costs as much as the arithmetic).
    """
    a, lam, S, _, c, _, h, _, z = pp
    _nc_base(a, lam, x, h)
    for i in range(lo, hi):
        normal_row(smp[0], i, z)
        _nc_row_into(h, S, i, x, z, c, out, i - lo)


@njit(cache=True)
def _nc_pair(pp, x_new, x_old, smp, lo, hi, flip, out_new, out_old):  # pragma: no cover - compiled
    """Rows lo..hi − 1 of ``stoch_grads_pair(x_new, x_old, samples)``: one noise row, two points."""
    a, lam, S, _, c, _, h1, h2, z = pp
    _nc_base(a, lam, x_new, h1)
    _nc_base(a, lam, x_old, h2)
    for i in range(lo, hi):
        normal_row(smp[0], i, z)
        _nc_row_into(h1, S, i, x_new, z, c, out_new, i - lo)
        _nc_row_into(h2, S, i, x_old, z, c, out_old, i - lo)


@njit(cache=True)
def _nc_full(pp, x, lo, hi, flip, out):  # pragma: no cover - compiled
    """out[:hi − lo] ← rows lo..hi − 1 of ``worker_grads(x)`` = a∘x + λφ'(x) + s_i."""
    a, lam, S, _, _, none, h, _, _ = pp
    _nc_base(a, lam, x, h)
    _nc_rows(h, S[lo:hi], x, none, out[:hi - lo])


@njit(cache=True)
def _nc_grad(pp, x, out):  # pragma: no cover - compiled
    """out ← ∇f(x) = (a∘x + λφ'(x)) + s̄, as ``grad``."""
    a, lam, _, sbar, _, _, h, _, _ = pp
    _nc_base(a, lam, x, h)
    for j in range(x.shape[0]):
        out[j] = h[j] + sbar[j]


def _nonconvex_bytes(n: int, d: int) -> float:
    """Peak bytes while building nonconvex_synthetic: about four n × d float64 arrays."""
    return 8.0 * (4.0 * n * d + 4.0 * d)


@PROBLEMS.register("nonconvex_synthetic")
class NonconvexSynthetic(Problem):
    r"""Smooth nonconvex separable problem with f* = 0 and exact L, ζ² (B = 0), σ²; the default for rates.

    .. math::
        f_i(x) = \tfrac12 \sum_j a_j x_j^2 + \lambda \sum_j \frac{x_j^2}{1 + x_j^2} + \langle s_i, x\rangle,
        \qquad \nabla f_i(x;\xi) = \nabla f_i(x) + \xi + D_\xi x .

    φ(t) = t²/(1+t²) has φ''(t) = (2 − 6t²)/(1 + t²)³ ∈ [−½, 2] (negative exactly for t² > 1/3, smallest
    at t = ±1), so ∇²f is diagonal with entries a_j + λφ''(x_j) ∈ [a_j − λ/2, a_j + 2λ]: coordinate j has
    a region of negative curvature (around x_j = ±1) iff a_j < λ/2. Constants: L = L_i = L̃ =
    max_j a_j + 2λ (exact, attained at x = 0); f* = 0 = f(0) exactly and 0 is the only stationary point;
    Σ_{i∈G} s_i = 0 and (1/(n − f)) Σ_{i∈G} ‖s_i‖² = ζ² exactly, B = 0; not PL in general (mu = None).
    Noise: ξ ~ N(0, σ²/(b d) I) (E‖ξ‖² = σ²/b exactly). Optional curvature noise D_ξ = diag(N(0, τ²/b)):
    then E‖∇f_i(x;ξ) − ∇f_i(x)‖² = (σ² + τ²‖x‖²)/b, reported as the bound σ² + τ²R² over the ball
    ‖x‖ ≤ R (``region_radius``), and the two-point difference has variance τ²‖x − y‖²/b.

    Parameters
    ----------
    d : int
        Dimension (default 100).
    lam : float
        λ ∈ (0, 1e100], weight of the nonconvex term (default 1).
    a_min, a_max : float
        The d − flat curvatures a_j are geometrically spaced in [a_min, a_max] (defaults 0.01, 1; with
        λ = 1 every a_j < ½ gives a nonconvex region); a_max ≤ 1e100 (so that L² is finite).
        Condition number of ∇²f(0): (a_max+2λ)/(a_min+2λ).
    flat : int
        Number of coordinates with a_j = 0 (flat far away: small gradients far from 0), default 0.
    zeta2, sigma2 : float
        Heterogeneity and noise variance, both hit exactly (defaults 0 and 1).
    curvature_std : float
        τ ∈ [0, 1e100], std of the curvature-noise diagonal (default 0: additive noise only).
    region_radius : float or None
        R ∈ [0, 1e100] for the σ² bound with curvature noise (default 2‖x⁰‖).
    x0_scale : float
        x⁰_j = ± x0_scale·u_j with u_j ~ U[½, 3/2] and random signs (default 2, so every x⁰_j² ≥ 1 > 1/3:
        every coordinate starts where φ'' < 0); at most 1e100, so that ‖x⁰‖² stays finite.
    n, f, rng
        Workers, Byzantine workers (the last f), instance randomness (draws s_i and x⁰; a is fixed).

    Notes
    -----
    Samples: noise planes from :meth:`draw`, shape (n, d) without and (n, 2, d) with curvature noise.
    The default problem of the rate claims (:ref:`math-claims`); see :ref:`problem-nonconvex_synthetic`.
    """

    test_config: ClassVar[dict[str, Any]] = {"d": 6, "zeta2": 0.5, "sigma2": 0.3, "curvature_std": 0.2}

    def __init__(self, d=100, lam=1.0, a_min=0.01, a_max=1.0, flat=0, zeta2=0.0, sigma2=1.0,
                 curvature_std=0.0, region_radius=None, x0_scale=2.0, *, n=None, f=0, rng=None):
        n, f = check_workers(n, f)
        d = check_int("d", d, 1)
        a_max = check_real("a_max", a_max, 0.0, MAX_SCALE)
        a_min = check_real("a_min", a_min, 0.0)
        if a_min > a_max:
            raise ConfigError(f"a_max = {a_max!r} is below a_min = {a_min!r}; allowed: a_min ≤ a_max, i.e. "
                              f"a_max in [{a_min:g}, 1e+100] or a_min in [0, {a_max:g}]", field="a_max")
        flat = check_int("flat", flat, 0, d)
        if flat < d and a_min == 0.0 and d - flat > 1:
            raise ConfigError(f"a_min = {a_min!r} is not allowed with d − flat = {d - flat} geometrically "
                              f"spaced curvatures; allowed range (0, a_max = {a_max:g}] (flat sets a_j = 0)",
                              field="a_min")
        zeta2 = check_real("zeta2", zeta2, 0.0)
        x0_scale = check_real("x0_scale", x0_scale, 0.0, MAX_SCALE)
        check_problem_memory(self.name, {"n": n, "d": d}, _nonconvex_bytes, "n × d shifts with temporaries, "
                             "float64")
        rng = as_generator(rng)
        k = d - flat
        a = np.concatenate([np.geomspace(a_min, a_max, k) if k > 1 else np.full(k, a_max), np.zeros(flat)])
        shifts = exact_shifts(rng, n, f, d, zeta2)
        x0 = x0_scale * rng.choice([-1.0, 1.0], size=d) * rng.uniform(0.5, 1.5, size=d)
        self._setup(a, lam, shifts, f, sigma2, curvature_std, region_radius, x0)
        self._params = {"d": d, "lam": self._lam, "a_min": a_min, "a_max": a_max, "flat": flat,
                        "zeta2": zeta2, "sigma2": self._sigma2, "curvature_std": self._tau,
                        "region_radius": region_radius, "x0_scale": x0_scale}

    @classmethod
    def from_arrays(cls, a, lam, shifts, *, f=0, sigma2=0.0, curvature_std=0.0, region_radius=None,
                    x0=None) -> NonconvexSynthetic:
        """Build from curvatures a (d,), λ and shifts (n, d) whose good rows sum to zero (x⁰ default 0).

        Parameters
        ----------
        a : array_like, shape (d,)
            Curvatures a_j ≥ 0.
        lam : float
            λ ∈ (0, 1e100].
        shifts : array_like, shape (n, d)
            The shifts s_i, one row per worker; the good rows must sum to zero (so that f* = 0).
        f : int, optional
            Byzantine workers, the last f (default 0).
        sigma2 : float, optional
            Additive noise variance σ² ≥ 0 (default 0).
        curvature_std : float, optional
            τ ∈ [0, 1e100] (default 0).
        region_radius : float or None, optional
            R for the σ² bound with curvature noise (default 2‖x⁰‖).
        x0 : array_like or None, optional
            Starting point, shape (d,) (default 0).

        Returns
        -------
        NonconvexSynthetic
        """
        a = finite_array("a", a, 1)
        shifts = finite_array("shifts", shifts, 2)
        if shifts.shape[1] != a.shape[0]:
            raise ConfigError(f"shifts must be (n, {a.shape[0]}), got {shifts.shape}")
        _, f = check_workers(shifts.shape[0], f)
        g = shifts.shape[0] - f
        scale = 1.0 + float(np.abs(shifts[:g]).max())
        if np.abs(shifts[:g].mean(axis=0)).max() > 1e-12 * scale:
            raise ConfigError("shifts: the good workers' rows must sum to zero, so that f* = 0")
        obj = cls.__new__(cls)
        x0 = np.zeros(a.shape[0]) if x0 is None else x0
        obj._setup(a, lam, shifts, f, sigma2, curvature_std, region_radius, x0)
        obj._params = {"from_arrays": True, "d": a.shape[0], "lam": obj._lam, "sigma2": obj._sigma2,
                       "curvature_std": obj._tau, "region_radius": region_radius}
        return obj

    def _setup(self, a, lam, shifts, f, sigma2, tau, R, x0):
        self.n, self.d = shifts.shape
        self.f = f
        self._lam = check_real("lam", lam, 0.0, MAX_SCALE, lo_open=True)
        if a.min() < 0.0:
            raise ConfigError(f"a must be ≥ 0 (got min {a.min():g})")
        self._a, self._s = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(shifts)
        self._sigma2 = check_real("sigma2", sigma2, 0.0)
        self._tau = check_real("curvature_std", tau, 0.0, MAX_SCALE)
        self._x0 = finite_array("x0", x0, 1)
        if self._x0.shape != (self.d,):
            raise ConfigError(f"x0 has shape {self._x0.shape}; expected ({self.d},)")
        self._k = 2 if self._tau > 0 else 1
        self._none = np.empty((self.n, 0, self.d))
        g = self.n - f
        self._sbar = self._s[:g].mean(axis=0)
        L = float(a.max()) + 2.0 * self._lam
        if R is None:
            R = 2.0 * float(np.linalg.norm(self._x0))
        else:
            R = check_real("region_radius", R, 0.0, MAX_SCALE)
        self._R = R
        sig_bound = self._sigma2 + self._tau**2 * R**2
        D = self._s[:g] - self._sbar
        self.constants = Constants(
            L=L, L_i=np.full(self.n, L), L_tilde=L, mu=None, f_star=0.0, f_star_exact=True,
            sigma2=sig_bound, zeta2=float((D * D).sum(axis=1).mean()), B=0.0,
            exact={"sigma2": self._tau == 0.0, "zeta2": True, "B": True},
            notes=("all constants exact" if self._tau == 0.0 else
                   f"sigma2 = σ² + τ²R² bounds the variance over ‖x‖ ≤ R = {R:.4g} (curvature noise)"),
            extra={"nonconvex_coords": int((a < self._lam / 2).sum()),
                   "hessian_min": float(a.min()) - self._lam / 2,
                   "curvature_std": self._tau, "region_radius": R,
                   "diff_var_per_dist2": self._tau**2})

    # --- deterministic --------------------------------------------------------------------------
    def x0(self) -> np.ndarray:
        """The starting point x⁰.

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return self._x0.copy()

    def x_star(self) -> np.ndarray:
        """The minimiser x* = 0 (the only stationary point).

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return np.zeros(self.d)

    def loss(self, x) -> float:
        """f(x) = ½ Σ_j a_j x_j² + λ Σ_j φ(x_j) + ⟨s̄, x⟩ (s̄ = 0 for the constructor's shifts).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        x = self._point(x)
        x2 = x * x
        return float(0.5 * self._a @ x2 + self._lam * (x2 / (1.0 + x2)).sum() + self._sbar @ x)

    def grad(self, x) -> np.ndarray:
        """∇f(x) = a∘x + λφ'(x) + s̄, with φ'(t) = 2t/(1 + t²)².

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        x = self._point(x)
        q = 1.0 + x * x
        return self._a * x + self._lam * 2.0 * x / (q * q) + self._sbar

    def worker_grads(self, x, out=None) -> np.ndarray:
        """All n local gradients ∇f_i(x) = a∘x + λφ'(x) + s_i.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        out = self._out(out)
        _nc_grads(self._a, self._lam, self._s, self._point(x), self._none, out)
        return out

    def sigma2_at(self, x) -> float:
        """Exact batch-1 variance at x: σ² + τ²‖x‖².

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        x = self._point(x)
        return self._sigma2 + self._tau**2 * float(x @ x)

    # --- stochastic -----------------------------------------------------------------------------
    def draw(self, rng, batch=1) -> np.ndarray:
        """Noise per worker: (n, d) ~ N(0, σ²/(b d)), or (n, 2, d) adding the curvature plane N(0, τ²/b).

        One seed is taken from ``rng`` and the normals are generated from it (:ref:`math-streams`).

        Parameters
        ----------
        rng : numpy.random.Generator
            The sample stream.
        batch : int, optional
            Minibatch size b ≥ 1 (default 1): the mean of b draws, drawn as one Gaussian.

        Returns
        -------
        numpy.ndarray, shape (n, d) or (n, 2, d)
        """
        scales = [math.sqrt(self._sigma2 / self.d)] + ([self._tau] if self._k == 2 else [])
        s = draw_gaussian(rng, self.n, self.d, batch, scales)
        return s.reshape(self.n, self.d) if self._k == 1 else s.reshape(self.n, 2, self.d)

    def draw_block(self, rng, batch=1, count=1, out=None) -> np.ndarray:
        """``count`` successive :meth:`draw` results stacked, (count, n, d) (or (count, n, 2, d)).

        Identical, value for value, to ``count`` calls of :meth:`draw` on the same generator (each
        draw consumes one seed of the stream).

        Parameters
        ----------
        rng : numpy.random.Generator
            The sample stream.
        batch : int, optional
            Minibatch size b ≥ 1 (default 1).
        count : int, optional
            Number of draws (default 1).
        out : numpy.ndarray or None, optional
            A C-contiguous float64 buffer of the result's shape, filled in place.

        Returns
        -------
        numpy.ndarray, shape (count, n, d) or (count, n, 2, d)
        """
        scales = [math.sqrt(self._sigma2 / self.d)] + ([self._tau] if self._k == 2 else [])
        s = draw_gaussian(rng, self.n, self.d, batch, scales, count=count, out=out)
        return s.reshape(count, self.n, self.d) if self._k == 1 else s.reshape(count, self.n, 2, self.d)

    def stoch_grads(self, x, samples, out=None) -> np.ndarray:
        """∇f_i(x; ξ_i) = a∘x + λφ'(x) + s_i + ξ_i (+ D_i∘x with curvature noise) for all n workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        samples : numpy.ndarray
            The noise from :meth:`draw`.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        xi = check_noise(samples, self.n, self._k, self.d)
        out = self._out(out)
        _nc_grads(self._a, self._lam, self._s, self._point(x), xi, out)
        return out

    def stoch_grads_pair(self, x_new, x_old, samples, out_new=None, out_old=None):
        """Stochastic gradients at two points with the same noise.

        Parameters
        ----------
        x_new, x_old : numpy.ndarray, shape (d,)
            The two points.
        samples : numpy.ndarray
            The noise from :meth:`draw`.
        out_new, out_old : numpy.ndarray or None, optional
            C-contiguous float64 (n, d) buffers to write into.

        Returns
        -------
        tuple of numpy.ndarray
            The (n, d) gradients at ``x_new`` and at ``x_old``.
        """
        xi = check_noise(samples, self.n, self._k, self.d)
        out_new, out_old = self._out(out_new, "out_new"), self._out(out_old, "out_old")
        _nc_grads(self._a, self._lam, self._s, self._point(x_new, "x_new"), xi, out_new)
        _nc_grads(self._a, self._lam, self._s, self._point(x_old, "x_old"), xi, out_old)
        return out_new, out_old

    # --- compiled engine --------------------------------------------------------------------------
    def kernel(self, batch=1) -> ProblemKernel:
        """The jitted oracle of the compiled engine (:mod:`byzref.kernels`), bit-identical to the methods.

        Samples: the draw's seed (uint64, shape (1,)), taken from the generator exactly as :meth:`draw`
        does; a gradient kernel regenerates worker i's noise row with :func:`byzref.gaussian.normal_row`
        (plane p scaled by its factor, as :meth:`draw`) only for the rows it is asked for, and applies the
        same operations as the NumPy path (``_nc_grads``). Scratch vectors live in the kernel parameters
        (no allocation per call).

        Parameters
        ----------
        batch : int, optional
            Minibatch size b ≥ 1 (default 1).

        Returns
        -------
        byzref.kernels.ProblemKernel
        """
        scales = [math.sqrt(self._sigma2 / self.d)] + ([self._tau] if self._k == 2 else [])
        c = np.array([noise_factor(s, batch) for s in scales])
        d = self.d
        params = (self._a, float(self._lam), self._s, self._sbar, c, self._none, np.empty(d), np.empty(d),
                  np.empty(self._k * d))
        return ProblemKernel(params, np.zeros(1, dtype=np.uint64), draw_seed_kernel, _nc_stoch, _nc_pair,
                             _nc_full, _nc_grad)
