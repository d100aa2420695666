"""Common interface of compressors.

A compressor maps each row x ∈ ℝ^d of an (m, d) array to C(x) ∈ ℝ^d (the decompressed message),
with independent randomness per row drawn from a passed ``numpy.random.Generator``.
It declares its class as data:

* contractive 𝔹(α):  E‖C(x) − x‖² ≤ (1 − α)‖x‖²   (``alpha(d)``; EF21-type methods need this)
* unbiased 𝕌(ω):     E C(x) = x,  E‖C(x) − x‖² ≤ ω‖x‖²   (``omega(d)``; MARINA/DASHA/DIANA)

and the bits one message costs, with ``float_bits`` bits per float and ⌈log₂ d⌉ per index.

Every compressor's map, constants and source are on the page :ref:`math-compressors`;
:ref:`guide-own-components` shows how to write and register your own.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from byzref.errors import ConfigError, check_int
from byzref.registry import Registry

__all__ = ["COMPRESSORS", "CONTRACTIVE", "UNBIASED", "Compressor", "KSparsifier", "as_rows", "index_bits"]

COMPRESSORS = Registry("compressor")

#: Name of the class 𝔹(α) of contractive compressors, in ``Compressor.classes``.
CONTRACTIVE = "contractive"
#: Name of the class 𝕌(ω) of unbiased compressors, in ``Compressor.classes``.
UNBIASED = "unbiased"


def index_bits(d: int) -> int:
    """⌈log₂ d⌉ bits to address one of d coordinates (0 when d = 1).

    Parameters
    ----------
    d : int
        Number of coordinates, d ≥ 1.

    Returns
    -------
    int
        ⌈log₂ d⌉.
    """
    return max(0, math.ceil(math.log2(d))) if d > 1 else 0


def as_rows(X) -> np.ndarray:
    """Return X as a 2-D float64 C-contiguous array (a 1-D vector becomes one row).

    Parameters
    ----------
    X : array_like
        A d-vector or an (m, d) array, d ≥ 1.

    Returns
    -------
    numpy.ndarray
        An (m, d) float64 C-contiguous array (m = 1 for a vector; copied only when needed).

    Raises
    ------
    byzref.errors.ConfigError
        When X has more than two dimensions or no columns.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ConfigError(f"compressor input must be a vector or an (m, d) array, got shape {X.shape}")
    if X.shape[1] < 1:
        raise ConfigError("compressor input must have d ≥ 1 columns")
    return np.ascontiguousarray(X)


class Compressor:
    """Base class of compressors; subclasses implement ``_compress``, the constants and ``bits``.

    See :ref:`math-compressors` for the classes 𝔹(α) and 𝕌(ω) and every built-in compressor, and
    :ref:`guide-own-components` for writing one.

    Parameters
    ----------
    float_bits : int, default 32
        Bits per transmitted float, :math:`b_f`, 1 ≤ b_f ≤ 128 (used by ``bits(d)``).

    Attributes
    ----------
    name : str
        Registry name (set by the registry).
    classes : tuple of str
        The classes the compressor belongs to with its declared constant(s): any of
        ``"contractive"`` (with ``alpha(d)``) and ``"unbiased"`` (with ``omega(d)``).
    deterministic : bool
        True when C(x) uses no randomness (``rng`` may then be None).
    test_config : dict
        Small parameters used by the conformance tests.
    """

    name: ClassVar[str] = "?"
    #: descriptions of the parameters' allowed values, for the registry's messages
    param_ranges: ClassVar[dict[str, str]] = {"float_bits": "an integer in [1, 128]"}
    classes: ClassVar[tuple[str, ...]] = ()
    deterministic: ClassVar[bool] = False
    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, float_bits: int = 32):
        self.float_bits = check_int("float_bits", float_bits, 1, 128)

    # ---- constants (data) --------------------------------------------------------------------
    def alpha(self, d: int) -> float | None:
        """Contraction constant α of 𝔹(α) in dimension d (None if not contractive).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float or None
            α ∈ (0, 1] with E‖C(x) − x‖² ≤ (1 − α)‖x‖², or None.
        """
        return None

    def omega(self, d: int) -> float | None:
        """Variance constant ω of 𝕌(ω) in dimension d (None if not unbiased).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float or None
            ω ≥ 0 with E C(x) = x and E‖C(x) − x‖² ≤ ω‖x‖², or None.
        """
        return None

    def bits(self, d: int) -> float:
        """Bits of one compressed message of a d-vector.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            Bits per message, counting ``float_bits`` per float and ⌈log₂ d⌉ per index.
        """
        raise NotImplementedError

    def is_contractive(self) -> bool:
        """Whether the compressor is declared in 𝔹(α)."""
        return CONTRACTIVE in self.classes

    def is_unbiased(self) -> bool:
        """Whether the compressor is declared in 𝕌(ω)."""
        return UNBIASED in self.classes

    def check(self, d: int) -> None:
        """Validate the parameters against the dimension d (e.g. 1 ≤ k ≤ d); raise ConfigError.

        Parameters
        ----------
        d : int
            Dimension, d ≥ 1.

        Raises
        ------
        byzref.errors.ConfigError
            When d < 1 or a parameter does not fit d (the message gives the allowed range).
        """
        check_int("d", d, 1)

    def params(self) -> dict[str, Any]:
        """Hyper-parameters as a plain dict (for records and ``byzref info``)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def describe(self, d: int | None = None) -> dict[str, Any]:
        """Name, parameters, classes and (when d is given) constants and bits, as plain data.

        Parameters
        ----------
        d : int or None, optional
            Dimension; when given, the output also holds ``d``, ``alpha``, ``omega`` and ``bits``.

        Returns
        -------
        dict
            Keys ``name``, ``params``, ``classes``, ``deterministic`` and, with d, the constants.
        """
        out: dict[str, Any] = {"name": self.name, "params": self.params(),
                               "classes": list(self.classes),
                               "deterministic": self.deterministic}
        if d is not None:
            out.update(d=d, alpha=self.alpha(d), omega=self.omega(d), bits=self.bits(d))
        return out

    # ---- the map --------------------------------------------------------------------------------
    def __call__(self, X, rng: np.random.Generator | None = None) -> np.ndarray:
        """Compress every row of X (an (m, d) array or a d-vector); returns a new array, same shape.

        Parameters
        ----------
        X : array_like
            A d-vector or an (m, d) array; each row is compressed independently.
        rng : numpy.random.Generator or None, optional
            Source of randomness; required unless the compressor is ``deterministic``.

        Returns
        -------
        numpy.ndarray
            C applied to every row, float64, the shape of X.
        """
        X_in = np.asarray(X)
        rows = as_rows(X_in)
        self.check(rows.shape[1])
        if rng is None and not self.deterministic:
            raise ConfigError(f"compressor {self.name!r} is random and needs an rng (numpy Generator)")
        out = self._compress(rows, rng)
        return out.reshape(X_in.shape) if X_in.ndim == 1 else out

    def _compress(self, X: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        raise NotImplementedError

    def kernel(self, n: int, d: int):
        """The compiled map for up to n rows of length d, a :class:`byzref.kernels.Kernel` ``(fn, params)``.

        ``fn(params, X, rng, out)`` writes ``out[r] = C(X[r])`` for every row of the (m, d) array X
        (m ≤ n; X read only, rows 0..m−1 of ``out`` written in full), the same floats as
        ``_compress(X, rng)``, consuming ``rng`` (a ``numpy.random.Generator``, passed to
        deterministic compressors too) exactly as it does. Every compressor supplies one.

        Parameters
        ----------
        n : int
            Largest number of rows per call.
        d : int
            Row length (the dimension).

        Returns
        -------
        byzref.kernels.Kernel
            The compiled function and its parameters (scratch buffers included).

        Raises
        ------
        byzref.errors.ConfigError
            When the parameters do not fit d.
        """
        raise NotImplementedError(f"compressor {self.name!r} has no kernel")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class KSparsifier(Compressor):
    """Shared part of the k-coordinate sparsifiers (top_k, rand_k, rand_k_biased).

    The parameter k with 1 ≤ k ≤ d (d is known at ``check(d)``), and k(b_f + ⌈log₂ d⌉) bits per
    message (each kept entry is sent as a float and an index).

    Parameters
    ----------
    k : int
        Entries kept per message, 1 ≤ k ≤ d (checked against d by ``check(d)``).
    float_bits : int, default 32
        Bits per float, :math:`b_f`.
    """

    param_ranges: ClassVar[dict[str, str]] = {"k": "an integer in [1, d], d the problem dimension"}

    def __init__(self, k: int, float_bits: int = 32):
        super().__init__(float_bits)
        self.k = check_int("k", k, 1, hi_name="d")

    def check(self, d: int) -> None:
        """Validate 1 ≤ k ≤ d.

        Parameters
        ----------
        d : int
            Dimension, d ≥ 1.

        Raises
        ------
        byzref.errors.ConfigError
            When k > d (or d < 1).
        """
        super().check(d)
        if not 1 <= self.k <= d:
            raise ConfigError(f"{self.name}: k = {self.k} is outside the allowed range [1, d] = [1, {d}]",
                              field="k")

    def bits(self, d: int) -> float:
        """k(b_f + ⌈log₂ d⌉) bits: k floats and k indices.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            Bits per message.
        """
        return float(self.k * (self.float_bits + index_bits(d)))
