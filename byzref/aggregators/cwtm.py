"""Coordinate-wise trimmed mean (Yin et al., ICML 2018), with the column-sorting kernel that cwmed shares."""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.errors import ConfigError, check_int
from byzref.kernels import Kernel

__all__ = ["COLUMN_BLOCK", "CWTM", "sort_column_block", "sorting_network", "trim_kernel", "trimmed_mean",
           "trimmed_mean_into"]

#: Columns sorted together; the scratch block (n × 512 floats) stays in cache.
COLUMN_BLOCK = 512


@functools.lru_cache(maxsize=64)
def sorting_network(n: int) -> np.ndarray:
    """Batcher's merge-exchange sorting network for n keys (Knuth, TAOCP 3, §5.2.2, Algorithm M).

    Parameters
    ----------
    n : int
        Number of keys, n ≥ 0 (n ≤ 1 gives no comparator). Results are cached per n.

    Returns
    -------
    numpy.ndarray
        An (m, 2) int64 array of comparators (i, j), i < j, applied in order: after "put min at i,
        max at j" for every row, any n keys are sorted ascending. m = O(n log² n).
    """
    pairs: list[tuple[int, int]] = []
    if n >= 2:
        t = math.ceil(math.log2(n))
        p = 1 << (t - 1)
        while p > 0:
            q, r, dd = 1 << (t - 1), 0, p
            while True:
                pairs.extend((i, i + dd) for i in range(n - dd) if i & p == r)
                if q == p:
                    break
                dd, q, r = q - p, q >> 1, p
            p >>= 1
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def network_bytes(n: int, d: int) -> float:
    """Peak bytes of a column sort of an (n, d) input: building the comparator list of
    :func:`sorting_network` (about n⌈log₂ n⌉²/4 comparators, ~150 bytes each while a Python list,
    16 as an array) and the (n, 512) scratch block."""
    t = math.ceil(math.log2(n)) if n > 1 else 1
    return 150.0 * n * t * t / 4 + 8.0 * n * min(COLUMN_BLOCK, d) + 8.0 * d


@njit(cache=True)
def sort_column_block(X, j0, w, pairs, S):  # pragma: no cover - compiled
    """S[:, :w] ← columns j0 … j0+w−1 of X, NaN replaced by +inf, each sorted ascending.

    The comparator network ``pairs`` (see :func:`sorting_network`) runs over the rows of the
    scratch S, branch-free and vectorised over its w columns. Mutates ``S`` only (compiled).

    Parameters
    ----------
    X : numpy.ndarray
        The (n, d) float64 input, read only.
    j0 : int
        First column of the block.
    w : int
        Number of columns in the block, j0 + w ≤ d.
    pairs : numpy.ndarray
        The (m, 2) int64 comparators of :func:`sorting_network` for n keys.
    S : numpy.ndarray
        Float64 scratch of shape (n, ≥ w); receives the sorted block.
    """
    n = X.shape[0]
    for i in range(n):
        for k in range(w):
            v = X[i, j0 + k]
            S[i, k] = np.inf if v != v else v
    for c in range(pairs.shape[0]):
        si = S[pairs[c, 0]]
        sj = S[pairs[c, 1]]
        for k in range(w):
            x = si[k]
            y = sj[k]
            lt = x < y
            si[k] = x if lt else y
            sj[k] = y if lt else x


@njit(cache=True)
def trimmed_mean_into(X, b, pairs, S, out):  # pragma: no cover - compiled
    """out[j] ← mean of the sorted column j of X without its b smallest and b largest entries.

    Agg(X)_j = (1/(n − 2b)) Σ_{r=b+1}^{n−b} x_{(r)j}, the kept values added in ascending order.
    NaN is ordered as +inf. Columns are processed in blocks of ``COLUMN_BLOCK``, each sorted in the
    scratch S by :func:`sort_column_block`. Mutates ``S`` and ``out`` (compiled).

    Parameters
    ----------
    X : numpy.ndarray
        The (n, d) float64 input, read only.
    b : int
        Trim count, 0 ≤ 2b < n.
    pairs : numpy.ndarray
        The comparators of :func:`sorting_network` for n keys.
    S : numpy.ndarray
        Float64 scratch of shape (n, w) with w ≥ min(``COLUMN_BLOCK``, d).
    out : numpy.ndarray
        The (d,) float64 output.
    """
    n, d = X.shape
    keep = n - 2 * b
    for j0 in range(0, d, COLUMN_BLOCK):
        w = min(COLUMN_BLOCK, d - j0)
        sort_column_block(X, j0, w, pairs, S)
        for k in range(w):
            out[j0 + k] = 0.0
        for i in range(b, n - b):
            for k in range(w):
                out[j0 + k] += S[i, k]
        for k in range(w):
            out[j0 + k] /= keep


@njit(cache=True)
def _trimmed_mean_kernel(X, b, pairs, out):  # pragma: no cover - compiled
    """:func:`trimmed_mean_into` with a freshly allocated (n, min(COLUMN_BLOCK, d)) scratch block."""
    n, d = X.shape
    trimmed_mean_into(X, b, pairs, np.empty((n, min(COLUMN_BLOCK, d))), out)


@njit(cache=True)
def _trim_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of cwtm and cwmed: ``params = (b, pairs, S)`` (trim count, comparators, scratch)."""
    trimmed_mean_into(X, params[0], params[1], params[2], out)


def trim_kernel(n: int, d: int, b: int) -> Kernel:
    """The kernel of the trimmed mean with trim count b on (n, d) inputs (0 ≤ 2b < n).

    Shared by :class:`CWTM` and :class:`byzref.aggregators.cwmed.CWMed`.

    Parameters
    ----------
    n : int
        Number of input rows.
    d : int
        Row length.
    b : int
        Trim count, 0 ≤ 2b < n (not checked here).

    Returns
    -------
    byzref.kernels.Kernel
        ``Kernel(fn, (b, pairs, S))``: trim count, comparators and an (n, min(512, d)) scratch.
    """
    return Kernel(_trim_fn, (int(b), sorting_network(n), np.empty((n, min(COLUMN_BLOCK, d)))))


def trimmed_mean(X: np.ndarray, b: int) -> np.ndarray:
    """Per coordinate: drop the b smallest and b largest values of the (n, d) array X, average the rest.

    NaN counts as +inf. Extra memory: one (n, 512) scratch block besides the (d,) output.

    Parameters
    ----------
    X : numpy.ndarray
        C-contiguous float64 (n, d) array (see :func:`byzref.aggregators.base.as_matrix`).
    b : int
        Trim count, 0 ≤ 2b < n.

    Returns
    -------
    numpy.ndarray
        The (d,) trimmed mean.

    Raises
    ------
    byzref.errors.ConfigError
        When 2b ≥ n or b < 0.
    """
    n = X.shape[0]
    if not 0 <= 2 * b < n:
        raise ConfigError(f"trimmed mean: b = {b} with n = {n} rows; allowed range [0, {(n - 1) // 2}]")
    out = np.empty(X.shape[1])
    _trimmed_mean_kernel(X, int(b), sorting_network(n), out)
    return out


@AGGREGATORS.register("cwtm")
class CWTM(Aggregator):
    r"""Coordinate-wise trimmed mean: per coordinate drop the b smallest and b largest values, then average.

    Definition (Yin et al., ICML 2018): for each coordinate k, with x_{(1)k} ≤ … ≤ x_{(n)k} the sorted values,

    .. math:: \mathrm{Agg}(X)_k = \frac{1}{n - 2b} \sum_{r=b+1}^{n-b} x_{(r)k}.

    See :ref:`aggregator-cwtm`.

    Parameters
    ----------
    b : int or None, default None
        Trim count per side; None means b = f. Needs 2b < n (checked by ``check(n)``).
    f : int, default 0
        Declared Byzantine count; needs f < n/2.

    Notes
    -----
    With b ≥ f each coordinate of the output lies in the range of the good rows' values.
    Non-finite input: NaN is ordered as +inf, so with at most b non-finite rows the trimming
    removes every ±inf/NaN entry and the output is finite. Theory: (f, κ)-robust with κ = O(f/n)
    for n large against f (Allouah et al., AISTATS 2023); no exact constant is declared.

    References
    ----------
    Yin, Chen, Ramchandran, Bartlett, "Byzantine-robust distributed learning: towards optimal
    statistical rates", ICML 2018, arXiv:1803.01498.
    """

    needs_f_lt_half = True
    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, b: int | None = None, f: int = 0):
        super().__init__(f)
        self.b = None if b is None else check_int("b", b, 0, hi_name="⌊(n − 1)/2⌋")

    def trim(self) -> int:
        """The trim count b actually used (f when not given).

        Returns
        -------
        int
            b, or f when ``b`` is None.
        """
        return self.f if self.b is None else self.b

    def memory(self, n: int, d: int) -> float:
        """Peak bytes of the column sort (``network_bytes``).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        float
            Estimated peak bytes beyond the input.
        """
        return network_bytes(n, d)

    def number_params(self, n: int) -> dict[str, Any]:
        """The parameters that fix the output: only the trim count b (f enters as its default).

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        dict
            Parameter name → value; equal dicts mean equal outputs on n rows.
        """
        return {"b": self.trim()}  # f enters only as b's default

    def check(self, n: int) -> None:
        """Validate f < n/2 and 2b < n for n input rows.

        Parameters
        ----------
        n : int
            Number of input rows.

        Raises
        ------
        byzref.errors.ConfigError
            When a parameter does not fit n (the message gives the allowed range).
        """
        super().check(n)
        b = self.trim()
        if not 2 * b < n:
            raise ConfigError(f"cwtm: b = {b} with n = {n} rows; needs 2b < n, i.e. b ≤ {(n - 1) // 2}; "
                              f"allowed range [0, {(n - 1) // 2}]", field="b")

    def _aggregate(self, X, rng):
        return trimmed_mean(X, self.trim())

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled trimmed mean (:func:`trim_kernel`).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.aggregators.base.Aggregator.kernel`.
        """
        self.check(n)
        return trim_kernel(n, d, self.trim())
