"""quadratic: a PL quadratic with exactly known L, μ, f*, ζ² (B = 0) and σ²."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.errors import ConfigError, check_int, check_real
from byzref.gaussian import normal_row
from byzref.kernels import ProblemKernel
from problems._synthetic import (
    check_noise,
    draw_gaussian,
    draw_seed_kernel,
    exact_shifts,
    haar_orthogonal,
    noise_factor,
)
from problems._validate import MAX_SCALE, check_problem_memory
from problems.base import Constants, Problem, as_generator, check_workers, finite_array
from problems.registry import PROBLEMS

__all__ = ["Quadratic"]


# --- problem kernels of the compiled engine (byzref.kernels.ProblemKernel) --------------------------------
# pp = (A, Ab, b̄, c, v1, v2, u, z): A (d, d), rows A b_i (n, d), the noise factor c = σ/√(d·batch),
# scratch v1, v2, u, z (d,). Samples: one uint64 seed (1,). A @ x is np.dot with an output, which Numba
# serves with BLAS dgemv as NumPy's matmul does; tests/test_kernels_problems.py checks that the two BLAS
# builds (NumPy's and SciPy's, which Numba uses) agree bit for bit for d = 1 … 1000.

@njit(cache=True)
def _q_rows(v, Ab, c, seed, lo, hi, z, out):  # pragma: no cover - compiled
    """out[i − lo] ← (v − A b_i) + c·(row i of the normals seeded ``seed``) for i in lo..hi − 1.

    v = A x; the same operations as ``stoch_grads``: (A x − A b_i), then += ξ_i with ξ_i = z·c.
    """
    for i in range(lo, hi):
        normal_row(seed, i, z)
        for j in range(v.shape[0]):
            out[i - lo, j] = (v[j] - Ab[i, j]) + z[j] * c


@njit(cache=True)
def _q_stoch(pp, x, smp, lo, hi, flip, out):  # pragma: no cover - compiled
    """out[:hi − lo] ← rows lo..hi − 1 of ``stoch_grads(x, samples)`` = A(x − b_i) + ξ_i.

    No labels: ``flip`` is ignored.
    """
    A, Ab, _, c, v, _, _, z = pp
    np.dot(A, x, v)
    _q_rows(v, Ab, c, smp[0], lo, hi, z, out)


@njit(cache=True)
def _q_pair(pp, x_new, x_old, smp, lo, hi, flip, out_new, out_old):  # pragma: no cover - compiled
    """Rows lo..hi − 1 of ``stoch_grads_pair(x_new, x_old, samples)`` (the same noise ξ_i at both points)."""
    A, Ab, _, c, v1, v2, _, z = pp
    np.dot(A, x_new, v1)
    np.dot(A, x_old, v2)
    _q_rows(v1, Ab, c, smp[0], lo, hi, z, out_new)
    _q_rows(v2, Ab, c, smp[0], lo, hi, z, out_old)


@njit(cache=True)
def _q_full(pp, x, lo, hi, flip, out):  # pragma: no cover - compiled
    """out[:hi − lo] ← rows lo..hi − 1 of ``worker_grads(x)`` = A x − A b_i."""
    A, Ab, _, _, v, _, _, _ = pp
    np.dot(A, x, v)
    for i in range(lo, hi):
        for j in range(v.shape[0]):
            out[i - lo, j] = v[j] - Ab[i, j]


@njit(cache=True)
def _q_grad(pp, x, out):  # pragma: no cover - compiled
    """out ← ∇f(x) = A (x − b̄), as ``grad``."""
    A, _, bbar, _, _, _, u, _ = pp
    for j in range(x.shape[0]):
        u[j] = x[j] - bbar[j]
    np.dot(A, u, out)


def _quadratic_bytes(n: int, d: int) -> float:
    """Peak bytes while building a quadratic: about six d × d and five n × d float64 arrays."""
    return 8.0 * (6.0 * d * d + 5.0 * n * d)


@PROBLEMS.register("quadratic")
class Quadratic(Problem):
    r"""Quadratic with a PSD Hessian: PL, possibly not strongly convex, with exact constants.

    .. math::
        f_i(x) = \tfrac12 (x - b_i)^\top A (x - b_i),\qquad A = Q^\top \operatorname{diag}(a) Q \succeq 0,
        \qquad \nabla f_i(x;\xi) = A(x - b_i) + \xi,\ \ \xi \sim N(0, (\sigma^2/(b d)) I).

    Constants (all exact): L = L_i = L̃ = max a; μ = smallest positive a (PL holds with it
    even when A is singular); x* = b̄ (plus anything in ker A);
    f* = (1/(n − f)) Σ_{i∈G} ½ (b_i − b̄)ᵀA(b_i − b̄);
    ∇f_i − ∇f = A(b̄ − b_i), so ζ² = (1/(n − f)) Σ_{i∈G} ‖A(b_i − b̄)‖² and B = 0; E‖ξ‖² = σ²/b exactly.

    Parameters
    ----------
    d : int
        Dimension (default 100).
    L, mu : float
        Largest and smallest positive eigenvalue, 0 < mu ≤ L ≤ 1e100 (so that L² is finite); the
        d − zero_eigs positive eigenvalues are geometrically spaced in [mu, L] (mu must equal L when
        there is only one).
    zero_eigs : int or None
        Number of zero eigenvalues (default d // 10): PL but not strongly convex when > 0.
    zeta2, sigma2 : float
        Requested heterogeneity and noise variance; both are hit exactly (the good shifts b_i are
        centred Gaussian draws rescaled to ζ²).
    n, f : int
        Workers and Byzantine workers (the last f).
    rng : numpy Generator
        Instance randomness: the eigenbasis Q, the shifts b_i (b̄ = 0) and x⁰ ~ N(0, I).

    Notes
    -----
    Samples: the Gaussian noise ξ itself, shape (n, d), from :meth:`draw` (batch b divides σ² by b).
    :meth:`from_arrays` builds an instance from given A, b_i and x⁰. See :ref:`problem-quadratic`;
    this is the problem the exact moments (:mod:`theory.exact`) are computed for.
    """

    test_config: ClassVar[dict[str, Any]] = {"d": 6, "zero_eigs": 2, "zeta2": 0.5, "sigma2": 0.3}

    def __init__(self, d=100, L=1.0, mu=0.01, zero_eigs=None, zeta2=0.0, sigma2=1.0, *,
                 n=None, f=0, rng=None):
        n, f = check_workers(n, f)
        d = check_int("d", d, 1)
        L = check_real("L", L, 0.0, MAX_SCALE, lo_open=True)
        mu = check_real("mu", mu, 0.0, L, lo_open=True)
        zero_eigs = check_int("zero_eigs", d // 10 if zero_eigs is None else zero_eigs, 0, d - 1)
        zeta2 = check_real("zeta2", zeta2, 0.0)
        sigma2 = check_real("sigma2", sigma2, 0.0)
        k = d - zero_eigs
        if k == 1 and mu != L:
            raise ConfigError(f"mu = {mu!r} must equal L = {L!r} when d − zero_eigs = {d} − {zero_eigs} = 1 "
                              f"(one eigenvalue); allowed: mu = L, or zero_eigs ≤ d − 2 = {d - 2}",
                              field="mu")
        check_problem_memory(self.name, {"n": n, "d": d}, _quadratic_bytes,
                             "d × d Hessian and eigenbasis with temporaries, n × d shifts, float64")
        rng = as_generator(rng)
        a = np.concatenate([np.zeros(zero_eigs), np.geomspace(mu, L, k) if k > 1 else [L]])
        Q = haar_orthogonal(rng, d)
        A = (Q.T * a) @ Q
        b = exact_shifts(rng, n, f, d, zeta2, M=A)
        self._setup(A, b, f, sigma2, rng.standard_normal(d), spectrum=a)
        self._params = {"d": d, "L": L, "mu": mu, "zero_eigs": zero_eigs, "zeta2": zeta2, "sigma2": sigma2}

    @classmethod
    def from_arrays(cls, A, b, *, f=0, sigma2=0.0, x0=None) -> Quadratic:
        """From a symmetric PSD (d, d) A and shifts b (n, d); eigenvalues ≤ 1e-10·max are 0; x⁰ default 0.

        Parameters
        ----------
        A : array_like, shape (d, d)
            The common Hessian, symmetric positive semidefinite and nonzero.
        b : array_like, shape (n, d)
            The shifts b_i, one row per worker (n = len(b)); x* = b̄ is the good rows' mean.
        f : int, optional
            Byzantine workers, the last f (default 0).
        sigma2 : float, optional
            Noise variance σ² ≥ 0 of one batch-1 gradient (default 0).
        x0 : array_like or None, optional
            Starting point, shape (d,) (default 0).

        Returns
        -------
        Quadratic
        """
        A = finite_array("A", A, 2)
        b = finite_array("b", b, 2)
        if A.shape[0] != A.shape[1] or b.shape[1] != A.shape[0]:
            raise ConfigError(f"A must be (d, d) and b (n, d) with the same d; got A {A.shape}, b {b.shape}")
        if not np.allclose(A, A.T, rtol=1e-12, atol=1e-12 * np.abs(A).max()):
            raise ConfigError("A must be symmetric")
        obj = cls.__new__(cls)
        _, f = check_workers(b.shape[0], f)
        x0 = np.zeros(A.shape[0]) if x0 is None else x0
        obj._setup(A, b, f, check_real("sigma2", sigma2, 0.0), x0, spectrum=None)
        obj._params = {"from_arrays": True, "d": A.shape[0], "sigma2": obj._sigma2}
        return obj

    def _setup(self, A, b, f, sigma2, x0, spectrum):
        self.n, self.d = b.shape
        self.f = f
        self._A = np.ascontiguousarray((A + A.T) / 2)
        self._b = np.ascontiguousarray(b)
        self._sigma2 = sigma2
        self._x0 = finite_array("x0", x0, 1)
        if self._x0.shape != (self.d,):
            raise ConfigError(f"x0 has shape {self._x0.shape}; expected ({self.d},)")
        a = np.linalg.eigvalsh(self._A) if spectrum is None else np.asarray(spectrum)
        top = float(a.max())
        if top <= 0.0 or a.min() < -1e-10 * top:
            raise ConfigError(f"A must be positive semidefinite and nonzero; eigenvalues in "
                              f"[{a.min():g}, {top:g}]")
        pos = a[a > 1e-10 * top]
        g = self.n - f
        self._bbar = self._b[:g].mean(axis=0)
        self._Ab = np.ascontiguousarray(self._b @ self._A)  # rows A b_i (A symmetric)
        D = self._b[:g] - self._bbar
        AD = D @ self._A
        f_star = float(0.5 * (AD * D).sum(axis=1).mean())
        zeta2 = float((AD * AD).sum(axis=1).mean())
        self.constants = Constants(
            L=top, L_i=np.full(self.n, top), L_tilde=top, mu=float(pos.min()), f_star=f_star,
            f_star_exact=True, sigma2=sigma2, zeta2=zeta2, B=0.0,
            exact={"sigma2": True, "zeta2": True, "B": True},
            notes="all constants exact",
            extra={"zero_eigs": int(a.size - pos.size), "condition": top / float(pos.min())})

    # --- deterministic --------------------------------------------------------------------------
    def x0(self) -> np.ndarray:
        """The starting point x⁰ (N(0, I) from the constructor; given, default 0, by :meth:`from_arrays`).

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return self._x0.copy()

    def x_star(self) -> np.ndarray:
        """The minimiser b̄ (the mean of the good shifts; any point of b̄ + ker A is one too).

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return self._bbar.copy()

    def gap(self, x) -> float:
        """f(x) − f* = ½ (x − b̄)ᵀA(x − b̄), computed without cancellation.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        u = self._point(x) - self._bbar
        return float(0.5 * u @ (self._A @ u))

    def loss(self, x) -> float:
        """f(x) = (f(x) − f*) + f*.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        return self.gap(x) + self.constants.f_star

    def grad(self, x) -> np.ndarray:
        """∇f(x) = A(x − b̄).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        return self._A @ (self._point(x) - self._bbar)

    def worker_grads(self, x, out=None) -> np.ndarray:
        """All n local gradients ∇f_i(x) = A(x − b_i).

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
        np.subtract(self._A @ self._point(x), self._Ab, out=out)
        return out

    def sigma2_at(self, x) -> float:
        """σ², the same at every point (additive noise).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        return self._sigma2

    # --- stochastic -----------------------------------------------------------------------------
    def draw(self, rng, batch=1) -> np.ndarray:
        """Noise ξ_i ~ N(0, σ²/(batch·d) I) for every worker, shape (n, d).

        One seed is taken from ``rng`` and the normals are generated from it (:ref:`math-streams`).

        Parameters
        ----------
        rng : numpy.random.Generator
            The sample stream.
        batch : int, optional
            Minibatch size b ≥ 1 (default 1): the mean of b draws, drawn as one Gaussian.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        scale = (self._sigma2 / self.d) ** 0.5
        return draw_gaussian(rng, self.n, self.d, batch, [scale]).reshape(self.n, self.d)

    def stoch_grads(self, x, samples, out=None) -> np.ndarray:
        """∇f_i(x; ξ_i) = A(x − b_i) + ξ_i for all n workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        samples : numpy.ndarray, shape (n, d)
            The noise from :meth:`draw`.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        xi = check_noise(samples, self.n, 1, self.d)
        out = self.worker_grads(x, out)
        out += xi.reshape(self.n, self.d)
        return out

    def stoch_grads_pair(self, x_new, x_old, samples, out_new=None, out_old=None):
        """Stochastic gradients at two points with the same noise ξ_i.

        Parameters
        ----------
        x_new, x_old : numpy.ndarray, shape (d,)
            The two points.
        samples : numpy.ndarray, shape (n, d)
            The noise from :meth:`draw`.
        out_new, out_old : numpy.ndarray or None, optional
            C-contiguous float64 (n, d) buffers to write into.

        Returns
        -------
        tuple of numpy.ndarray
            The (n, d) gradients at ``x_new`` and at ``x_old``.
        """
        return (self.stoch_grads(self._point(x_new, "x_new"), samples, out_new),
                self.stoch_grads(self._point(x_old, "x_old"), samples, out_old))

    def stoch_grad_diffs(self, x_new, x_old, samples, out=None) -> np.ndarray:
        """A(x_new − x_old) in every row: the additive noise cancels in the difference.

        Parameters
        ----------
        x_new, x_old : numpy.ndarray, shape (d,)
            The two points.
        samples : numpy.ndarray, shape (n, d)
            The noise from :meth:`draw` (checked, not used).
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        check_noise(samples, self.n, 1, self.d)
        out = self._out(out)
        out[:] = self._A @ (self._point(x_new, "x_new") - self._point(x_old, "x_old"))
        return out

    # --- compiled engine --------------------------------------------------------------------------
    def kernel(self, batch=1) -> ProblemKernel:
        """The jitted oracle of the compiled engine (:mod:`byzref.kernels`), bit-identical to the methods.

        Samples: the draw's seed (uint64, shape (1,)), taken from the generator exactly as :meth:`draw`
        does; worker i's noise ξ_i = c·z_i (c = σ/√(d·batch)) is regenerated with
        :func:`byzref.gaussian.normal_row` only for the rows asked for. Scratch vectors live in the
        kernel parameters (no allocation per call).

        Parameters
        ----------
        batch : int, optional
            Minibatch size b ≥ 1 (default 1).

        Returns
        -------
        byzref.kernels.ProblemKernel
        """
        c = noise_factor((self._sigma2 / self.d) ** 0.5, batch)
        d = self.d
        params = (self._A, self._Ab, self._bbar, float(c), np.empty(d), np.empty(d), np.empty(d), np.empty(d))
        seed = np.zeros(1, dtype=np.uint64)
        return ProblemKernel(params, seed, draw_seed_kernel, _q_stoch, _q_pair, _q_full, _q_grad)
