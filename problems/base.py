"""The problem interface every algorithm uses.

A problem has n workers (the last f are Byzantine, :mod:`byzref.roles`; their shards exist because the
bit-flip and label-flip attacks need them) and dimension d. The objective is the average over
the GOOD workers G = {0, …, n − f − 1} only: f(x) = (1/(n − f)) Σ_{i∈G} f_i(x).

Stochastic gradients are a deterministic function of the point and of a *samples* array drawn
beforehand with :meth:`Problem.draw`: the same samples can be evaluated at two points (needed by
Byz-VR-DM21, MARINA and PAGE), and algorithms that consume samples in the same pattern see the
same noise (common random numbers).

See :ref:`math-problems` for the objectives and their constants and :ref:`math-streams` for the
random streams the samples come from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from byzref.errors import ConfigError
from problems._validate import as_generator, check_workers, finite_array, plain

__all__ = ["Constants", "Problem", "as_generator", "check_workers", "finite_array"]


@dataclass(frozen=True)
class Constants:
    """Theory constants of a problem instance: L, L_i, L̃, μ (PL), f*, σ², (B, ζ²).

    The assumptions they belong to (G the good workers, n − f of them):

    * L-smoothness of f, and L_i of each f_i: ‖∇f_i(x) − ∇f_i(y)‖ ≤ L_i ‖x − y‖;
    * PL: ½ ‖∇f(x)‖² ≥ μ (f(x) − f*) for every x;
    * bounded variance: E‖∇f_i(x; ξ) − ∇f_i(x)‖² ≤ σ² for one sample (batch 1);
    * (B, ζ²)-heterogeneity: (1/(n − f)) Σ_{i∈G} ‖∇f_i(x) − ∇f(x)‖² ≤ B ‖∇f(x)‖² + ζ².

    See :ref:`math-problems` for the values of each problem.

    Parameters
    ----------
    L : float
        Smoothness of f (exact unless ``notes`` says otherwise).
    L_i : numpy.ndarray, shape (n,)
        Smoothness of each worker's f_i (Byzantine shards included).
    L_tilde : float
        L̃ = sqrt((1/(n − f)) Σ_{i∈G} L_i²).
    mu : float or None
        PL constant when f is PL, else None.
    f_star : float
        f* = inf f (exact when ``f_star_exact``, otherwise a documented lower bound).
    f_star_exact : bool
        Whether ``f_star`` is the exact infimum (True) or a lower bound (False).
    sigma2 : float or None
        Variance bound of one stochastic gradient (batch 1); None when not known in closed form.
    zeta2 : float or None
        Heterogeneity ζ² with B (below); None when not known in closed form.
    B : float or None
        Heterogeneity multiplier B.
    exact : dict, optional
        Which of sigma2, zeta2, B are exact (True) or estimates/bounds (False). Default empty.
    notes : str, optional
        How non-exact values were obtained. Default empty.
    extra : dict, optional
        Problem-specific further constants (plain floats), e.g. global bounds next to estimates.
        Default empty.
    """

    L: float
    L_i: np.ndarray
    L_tilde: float
    mu: float | None
    f_star: float
    f_star_exact: bool
    sigma2: float | None
    zeta2: float | None
    B: float | None
    exact: dict[str, bool] = field(default_factory=dict)
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form (lists instead of arrays, Python floats) for JSON records.

        Returns
        -------
        dict
            The fields by name, JSON-serialisable.
        """
        return plain(asdict(self))


class Problem:
    """Base class of problems. Subclasses implement the methods below (vectorised over workers).

    A subclass is registered by name with ``@PROBLEMS.register("name")``
    (``problems.registry.PROBLEMS``) and built from a config with
    :func:`problems.build_problem`. Its constructor takes the problem's own parameters plus the
    keyword-only ``n``, ``f`` and ``rng`` (instance randomness). See :ref:`math-problems`.

    Attributes
    ----------
    n, f, d : int
        Workers, Byzantine workers (the last f), dimension.
    constants : Constants
        The theory constants of this instance.
    supports_label_flip : bool
        True when :meth:`flipped_stoch_grads` is available.
    """

    name: ClassVar[str] = "?"
    supports_label_flip: ClassVar[bool] = False
    test_config: ClassVar[dict[str, Any]] = {}

    n: int
    f: int
    d: int
    constants: Constants
    _params: dict[str, Any]

    # --- deterministic quantities -------------------------------------------------------------
    def x0(self) -> np.ndarray:
        """The default starting point x⁰.

        Returns
        -------
        numpy.ndarray
            A fresh copy, shape (d,).
        """
        raise NotImplementedError

    def x_star(self) -> np.ndarray | None:
        """A minimiser x* of f when known, else None.

        Returns
        -------
        numpy.ndarray or None
            A fresh copy, shape (d,), or None.
        """
        return None

    def loss(self, x: np.ndarray) -> float:
        """The objective f(x) = (1/(n − f)) Σ_{i∈G} f_i(x) over the good workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        raise NotImplementedError

    def gap(self, x: np.ndarray) -> float:
        """The optimality gap f(x) − f*; problems that can compute it without cancellation override this.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
            f(x) − ``constants.f_star`` (f* may be a lower bound, see :class:`Constants`).
        """
        return self.loss(x) - self.constants.f_star

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The full gradient ∇f(x) = (1/(n − f)) Σ_{i∈G} ∇f_i(x) over the good workers.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (d,)
        """
        raise NotImplementedError

    def worker_grads(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """All n full local gradients ∇f_i(x), Byzantine shards included.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into; None (default) allocates one.

        Returns
        -------
        numpy.ndarray, shape (n, d)
            Row i is ∇f_i(x) (``out`` when given).
        """
        raise NotImplementedError

    def zeta2_at(self, x: np.ndarray) -> float:
        """Heterogeneity at x: (1/(n − f)) Σ_{i∈G} ‖∇f_i(x) − ∇f(x)‖² (the ζ² of the (B, ζ²) bound at x).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        G = self.worker_grads(self._point(x))[: self.n - self.f]
        return float(((G - G.mean(axis=0)) ** 2).sum(axis=1).mean())

    def sigma2_at(self, x: np.ndarray) -> float:
        """The variance at x: max_{i∈G} E‖∇f_i(x; ξ) − ∇f_i(x)‖² for batch 1 (exact).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        float
        """
        raise NotImplementedError

    # --- stochastic oracle ----------------------------------------------------------------------
    def draw(self, rng: np.random.Generator, batch: int = 1) -> np.ndarray:
        """Draw the samples of one stochastic-gradient call for all n workers.

        Parameters
        ----------
        rng : numpy.random.Generator
            The stream the samples come from (the run's sample stream, :ref:`math-streams`).
        batch : int, optional
            Minibatch size b ≥ 1 of every worker (default 1).

        Returns
        -------
        numpy.ndarray
            The samples; the layout is problem-specific (row indices or noise), first axis n.
        """
        raise NotImplementedError

    def stoch_grads(self, x: np.ndarray, samples: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Stochastic gradients ∇f_i(x; ξ_i) of all n workers with the given samples.

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        samples : numpy.ndarray
            Samples from :meth:`draw`.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into; None (default) allocates one.

        Returns
        -------
        numpy.ndarray, shape (n, d)
            Row i is worker i's minibatch gradient (``out`` when given).
        """
        raise NotImplementedError

    def stoch_grads_pair(
        self,
        x_new: np.ndarray,
        x_old: np.ndarray,
        samples: np.ndarray,
        out_new: np.ndarray | None = None,
        out_old: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(∇f_i(x_new; ξ_i), ∇f_i(x_old; ξ_i)): stochastic gradients at two points with the SAME samples.

        Parameters
        ----------
        x_new, x_old : numpy.ndarray, shape (d,)
            The two points.
        samples : numpy.ndarray
            Samples from :meth:`draw`, used at both points.
        out_new, out_old : numpy.ndarray or None, optional
            C-contiguous float64 (n, d) buffers to write into; None (default) allocates.

        Returns
        -------
        tuple of numpy.ndarray
            The two (n, d) arrays, at ``x_new`` and at ``x_old``.
        """
        return self.stoch_grads(x_new, samples, out_new), self.stoch_grads(x_old, samples, out_old)

    def stoch_grad_diffs(
        self, x_new: np.ndarray, x_old: np.ndarray, samples: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Gradient differences (1/b) Σ_{j∈I_i} [∇f_ij(x_new) − ∇f_ij(x_old)] with the same samples.

        The correction term of Byz-VR-DM21's STORM momentum, MARINA and PAGE.

        Parameters
        ----------
        x_new, x_old : numpy.ndarray, shape (d,)
            The two points.
        samples : numpy.ndarray
            Samples from :meth:`draw` (the minibatch I_i of each worker), used at both points.
        out : numpy.ndarray or None, optional
            A C-contiguous float64 (n, d) buffer to write into; None (default) allocates one.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        g_new, g_old = self.stoch_grads_pair(x_new, x_old, samples)
        out = self._out(out)
        np.subtract(g_new, g_old, out=out)
        return out

    def flipped_stoch_grads(self, x: np.ndarray, samples: np.ndarray) -> np.ndarray:
        """Stochastic gradients computed with flipped labels (the label-flip attack).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.
        samples : numpy.ndarray
            Samples from :meth:`draw`.

        Returns
        -------
        numpy.ndarray, shape (n, d)

        Raises
        ------
        NotImplementedError
            When the problem has no labels (``supports_label_flip`` is False).
        """
        raise NotImplementedError(f"problem {self.name!r} has no labels to flip")

    def flipped_worker_grads(self, x: np.ndarray) -> np.ndarray:
        """Full local gradients computed with flipped labels (the label-flip attack).

        Parameters
        ----------
        x : numpy.ndarray, shape (d,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (n, d)

        Raises
        ------
        NotImplementedError
            When the problem has no labels (``supports_label_flip`` is False).
        """
        raise NotImplementedError(f"problem {self.name!r} has no labels to flip")

    # --- compiled engine ------------------------------------------------------------------------
    def kernel(self, batch: int = 1):
        """The problem's jitted oracle for the compiled engine, a :class:`byzref.kernels.ProblemKernel`.

        ``draw`` consumes the generator as :meth:`draw` (``batch``) does; ``stoch``, ``pair``, ``full``
        and ``grad`` return the rows of :meth:`stoch_grads`, :meth:`stoch_grads_pair`,
        :meth:`worker_grads` and :meth:`grad` bit for bit. Every registered problem implements it.

        Parameters
        ----------
        batch : int, optional
            Minibatch size b ≥ 1 the kernel's samples are drawn for (default 1).

        Returns
        -------
        byzref.kernels.ProblemKernel
        """
        raise NotImplementedError(f"problem {self.name!r} has no compiled kernel")

    # --- description ----------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The instance's parameters as plain data (what the config said, or 'from_arrays').

        Returns
        -------
        dict
        """
        return dict(getattr(self, "_params", {}))

    def describe(self) -> dict[str, Any]:
        """Name, parameters, sizes and theory constants as JSON-able data (for ``byzref info``).

        Returns
        -------
        dict
            ``name``, ``summary`` (the class docstring's first line), ``params``, ``n``, ``f``, ``d``
            and the fields of :class:`Constants` (``L_i`` as its maximum ``L_i_max``).
        """
        c = self.constants
        doc = (type(self).__doc__ or "").strip().splitlines()
        L_i = np.asarray(c.L_i, dtype=np.float64)
        out = {"name": self.name, "summary": doc[0] if doc else "", "params": self.params(),
               "n": self.n, "f": self.f, "d": self.d, "L": c.L, "L_i_max": float(L_i.max()),
               "L_tilde": c.L_tilde, "mu": c.mu, "f_star": c.f_star, "f_star_exact": c.f_star_exact,
               "sigma2": c.sigma2, "zeta2": c.zeta2, "B": c.B, "exact": dict(c.exact),
               "extra": dict(c.extra), "notes": c.notes}
        return plain(out)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args}, n={self.n}, f={self.f})"

    # --- validation helpers (cheap on the fast path) ----------------------------------------------
    def _point(self, x, field: str = "x") -> np.ndarray:
        """x as a C-contiguous float64 (d,) vector, else ConfigError naming ``field``."""
        if not (type(x) is np.ndarray and x.dtype == np.float64 and x.shape == (self.d,)
                and x.flags.c_contiguous):
            x = np.ascontiguousarray(x, dtype=np.float64)
            if x.shape != (self.d,):
                raise ConfigError(f"{field} has shape {x.shape}; expected ({self.d},) for this problem")
        return x

    def _out(self, out, field: str = "out") -> np.ndarray:
        """An (n, d) float64 C-contiguous output buffer (fresh when ``out`` is None)."""
        if out is None:
            return np.empty((self.n, self.d))
        if not (type(out) is np.ndarray and out.dtype == np.float64 and out.shape == (self.n, self.d)
                and out.flags.c_contiguous):
            shape = getattr(out, "shape", None)
            raise ConfigError(
                f"{field} must be a C-contiguous float64 array of shape ({self.n}, {self.d}), got {shape}"
            )
        return out
