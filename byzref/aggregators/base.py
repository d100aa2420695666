"""Common interface of robust aggregators and pre-aggregators.

An aggregator maps an (n, d) array of rows (n − f good, f Byzantine, positions unknown to it)
to ℝ^d. Every aggregator receives ``f`` explicitly and never looks at which rows are good.
A pre-aggregator maps (n, d) → (m, d) and composes with any aggregator (``"nnm+cwtm"``).

Calling an aggregator (``agg(X, rng)``) is what the server does: stateful rules (cclip) then
remember their output. ``agg.evaluate(X, rng)`` computes the same value WITHOUT touching the
state; omniscient attacks use it to probe the server's rule.

The rules, their definitions and their theory constants are on the page
:ref:`math-aggregators`; :ref:`guide-own-components` shows how to write and register your own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.errors import ConfigError, check_int
from byzref.kernels import Kernel
from byzref.registry import Registry

__all__ = ["AGGREGATORS", "PRE_AGGREGATORS", "Aggregator", "PreAggregator", "as_matrix"]

AGGREGATORS = Registry("aggregator")
PRE_AGGREGATORS = Registry("pre-aggregator")


def as_matrix(X) -> np.ndarray:
    """Return X as an (n, d) float64 C-contiguous array (n ≥ 1, d ≥ 1), or raise ConfigError.

    Parameters
    ----------
    X : array_like
        The rows to aggregate, one row per worker; must be 2-D with n ≥ 1 and d ≥ 1.

    Returns
    -------
    numpy.ndarray
        ``X`` as a float64, C-contiguous (n, d) array (copied only when needed).

    Raises
    ------
    byzref.errors.ConfigError
        When ``X`` is not 2-D or has no rows or no columns.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ConfigError(f"aggregator input must be an (n, d) array with n, d ≥ 1, got shape {X.shape}")
    return np.ascontiguousarray(X)


class _Robust:
    """Shared parameter handling of aggregators and pre-aggregators: ``f`` and its range."""

    name: ClassVar[str] = "?"
    #: True when the rule is only defined for f < n/2 (cwmed, cwtm, krum, ...).
    needs_f_lt_half: ClassVar[bool] = False
    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, f: int = 0):
        self.f = check_int("f", f, 0)

    #: whether f enters the output (False: f only validates, as for mean, cwmed, gm, cclip, bucketing)
    f_in_numbers: ClassVar[bool] = True

    def number_params(self, n: int) -> dict[str, Any]:
        """The parameters that fix the output for n input rows, defaults resolved (for run ids).

        Two instances with equal ``number_params(n)`` compute the same numbers on n rows; rules whose
        ``None`` defaults depend on n or f (cwtm's b, krum's m_nb) resolve them here.
        """
        return {k: v for k, v in self.params().items() if v is not None and (k != "f" or self.f_in_numbers)}

    def memory(self, n: int, d: int) -> float:
        """Estimated peak bytes one call allocates for an (n, d) input (beyond the input itself).

        Used to refuse a configuration before any work when it cannot fit. Default: two (n, d)
        float64 arrays; rules with (n, n) matrices or sorting networks declare more.
        """
        return 8.0 * 2 * n * d

    def check(self, n: int) -> None:
        """Validate the parameters against the number of input rows n; raise ConfigError."""
        check_int("n", n, 1)
        if self.needs_f_lt_half and not 2 * self.f < n:
            raise ConfigError(
                f"{self.name}: f = {self.f} with n = {n} rows; this rule needs f < n/2, "
                f"i.e. f ≤ {(n - 1) // 2}; allowed f range [0, {(n - 1) // 2}]", field="f"
            )
        if self.f >= n:
            raise ConfigError(f"{self.name}: f = {self.f} must be < n = {n}; allowed f range [0, {n - 1}]",
                              field="f")

    def check_dim(self, d: int) -> None:
        """Validate the parameters against the row length d (the problem dimension); raise ConfigError.

        A no-op unless the rule holds a vector parameter (cclip's ``center``).
        """
        check_int("d", d, 1)

    def params(self) -> dict[str, Any]:
        """Hyper-parameters as a plain dict (for records and ``byzref info``)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class Aggregator(_Robust):
    """Base class of aggregators (n, d) → (d,); subclasses implement ``_aggregate``.

    Class attributes declare the theory constants where known (``kappa(n)`` for (f, κ)-robustness
    in the sense of Allouah et al., AISTATS 2023) and whether the rule needs randomness (``random``)
    or keeps state (``stateful``). (f, κ)-robustness: for every set S of n − f rows,
    ‖Agg(X) − x̄_S‖² ≤ κ · (1/(n − f)) Σ_{i∈S} ‖x_i − x̄_S‖²; no rule can have κ < f/(n − 2f).
    See :ref:`math-aggregators` for every rule and :ref:`guide-own-components` for writing one.

    Parameters
    ----------
    f : int, default 0
        Declared number of Byzantine rows, f ≥ 0. Each rule checks it against the number of rows n
        in ``check(n)`` (always f < n; f < n/2 for rules with ``needs_f_lt_half``).

    Attributes
    ----------
    name : str
        Registry name (set by the registry).
    stateful : bool
        True when a server call (``agg(X, rng)``) updates a state that the next call uses (cclip).
    random : bool
        True when the rule draws from the ``rng`` it is given.
    needs_f_lt_half : bool
        True when the rule is only defined for f < n/2.
    f_in_numbers : bool
        False when f only validates and never changes the output.

    Notes
    -----
    Methods shared with pre-aggregators (defined on a private common base): ``check(n)`` validates
    the parameters against n rows, ``check_dim(d)`` against the row length d, ``memory(n, d)``
    estimates the peak bytes of one call, ``number_params(n)`` gives the parameters that fix the
    output (defaults resolved) and ``params()`` the hyper-parameters as a dict.
    """

    stateful: ClassVar[bool] = False
    random: ClassVar[bool] = False

    def kappa(self, n: int) -> float | None:
        """Declared (f, κ)-robustness constant for n inputs, or None when not known.

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        float or None
            κ such that the rule is (f, κ)-robust on n rows (Allouah et al., AISTATS 2023), or None.
        """
        return None

    def describe(self, n: int | None = None) -> dict[str, Any]:
        """Name, parameters and (when n is given) the declared κ, as plain data.

        Parameters
        ----------
        n : int or None, optional
            Number of input rows; when given, the output also holds ``kappa`` (the declared κ, or
            None) and ``kappa_lower_bound`` = f/(n − 2f), the smallest κ any rule can have
            (None when 2f ≥ n).

        Returns
        -------
        dict
            Keys ``name``, ``params``, ``needs_f_lt_half`` and, with n, ``kappa`` and
            ``kappa_lower_bound``.
        """
        out: dict[str, Any] = {"name": self.name, "params": self.params(),
                               "needs_f_lt_half": self.needs_f_lt_half}
        if n is not None:
            out["kappa"] = self.kappa(n)
            out["kappa_lower_bound"] = (self.f / (n - 2 * self.f)) if 2 * self.f < n else None
        return out

    def evaluate(self, X, rng: np.random.Generator | None = None) -> np.ndarray:
        """Agg(X) without changing any internal state.

        Parameters
        ----------
        X : array_like
            The (n, d) input rows (see :func:`byzref.aggregators.base.as_matrix`).
        rng : numpy.random.Generator or None, optional
            Source of randomness; required when the rule is ``random``.

        Returns
        -------
        numpy.ndarray
            The aggregate, shape (d,).
        """
        X = as_matrix(X)
        self.check(X.shape[0])
        if rng is None and self.random:
            raise ConfigError(f"aggregator {self.name!r} is random and needs an rng")
        return self._aggregate(X, rng)

    def __call__(self, X, rng: np.random.Generator | None = None) -> np.ndarray:
        """Agg(X) as the server computes it (stateful rules remember the output).

        Parameters
        ----------
        X : array_like
            The (n, d) input rows.
        rng : numpy.random.Generator or None, optional
            Source of randomness; required when the rule is ``random``.

        Returns
        -------
        numpy.ndarray
            The aggregate, shape (d,).
        """
        out = self.evaluate(X, rng)
        self._commit(out)
        return out

    def reset(self) -> None:
        """Forget any state (start of a new run)."""

    def _commit(self, out: np.ndarray) -> None:
        """Update internal state after a server call (no-op for stateless rules)."""

    def _aggregate(self, X: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        raise NotImplementedError

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled form of the rule for n input rows of length d (see :mod:`byzref.kernels`).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length (the problem dimension).

        Returns
        -------
        byzref.kernels.Kernel
            ``Kernel(fn, params)`` with ``fn(params, X, rng, commit, out)`` writing ``out`` (d,) =
            ``_aggregate(X, rng)`` bit for bit and consuming ``rng`` the same way; the scratch
            arrays and the state of stateful rules (as after ``reset()``) live in ``params``, and
            ``commit`` true updates that state as ``_commit`` does.

        Raises
        ------
        byzref.errors.ConfigError
            When the parameters do not fit n and d.
        NotImplementedError
            When the rule has no kernel (it then runs only in the Python loop).
        """
        raise NotImplementedError(f"aggregator {self.name!r} has no kernel")


class PreAggregator(_Robust):
    """Base class of pre-aggregators (n, d) → (m, d); subclasses implement ``_apply``.

    A pre-aggregator composes with any aggregator in a :class:`byzref.aggregators.pipeline.Pipeline`
    (``"nnm+cwtm"``). See :ref:`math-aggregators` for the rules.

    Parameters
    ----------
    f : int, default 0
        Declared number of Byzantine rows, 0 ≤ f < n (checked by ``check(n)``); the aggregator that
        follows gets the same f.

    Attributes
    ----------
    name : str
        Registry name (set by the registry).
    random : bool
        True when the rule draws from the ``rng`` it is given (bucketing).

    Notes
    -----
    ``check(n)``, ``check_dim(d)``, ``memory(n, d)``, ``number_params(n)`` and ``params()`` are
    shared with :class:`byzref.aggregators.base.Aggregator` (see there).
    """

    random: ClassVar[bool] = False

    def out_rows(self, n: int) -> int:
        """Number of rows m produced from n input rows (n unless the rule says otherwise).

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        int
            Number of output rows m.
        """
        return n

    def describe(self, n: int | None = None) -> dict[str, Any]:
        """Name and parameters as plain data.

        Parameters
        ----------
        n : int or None, optional
            Number of input rows; when given, the output also holds ``out_rows``.

        Returns
        -------
        dict
            Keys ``name``, ``params`` and, with n, ``out_rows``.
        """
        out: dict[str, Any] = {"name": self.name, "params": self.params()}
        if n is not None:
            out["out_rows"] = self.out_rows(n)
        return out

    def __call__(self, X, rng: np.random.Generator | None = None) -> np.ndarray:
        """Apply the pre-aggregator to the rows of X; returns a new (m, d) array.

        Parameters
        ----------
        X : array_like
            The (n, d) input rows.
        rng : numpy.random.Generator or None, optional
            Source of randomness; required when the rule is ``random``.

        Returns
        -------
        numpy.ndarray
            The (``out_rows(n)``, d) output rows.
        """
        X = as_matrix(X)
        self.check(X.shape[0])
        if rng is None and self.random:
            raise ConfigError(f"pre-aggregator {self.name!r} is random and needs an rng")
        return self._apply(X, rng)

    def _apply(self, X: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        raise NotImplementedError

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled form of the rule for n input rows of length d (see :mod:`byzref.kernels`).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length (the problem dimension).

        Returns
        -------
        byzref.kernels.Kernel
            ``Kernel(fn, params)`` with ``fn(params, X, rng, out)`` writing ``out``
            (``out_rows(n)``, d) = ``_apply(X, rng)`` bit for bit and consuming ``rng`` the same
            way; scratch arrays live in ``params``.

        Raises
        ------
        byzref.errors.ConfigError
            When the parameters do not fit n.
        NotImplementedError
            When the rule has no kernel.
        """
        raise NotImplementedError(f"pre-aggregator {self.name!r} has no kernel")
