"""Coordinate-wise trimmed mean (Yin et al., ICML 2018), with the column-sorting kernel that cwmed shares."""

from __future__ import annotations

import functools
import hashlib
import math
from typing import Any, ClassVar

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.errors import ConfigError, check_int
from byzref.kernels import Kernel

__all__ = ["COLUMN_BLOCK", "CWTM", "UNROLL_MAX", "sort_column_block", "sorting_network", "trim_kernel",
           "trimmed_mean", "trimmed_mean_into", "unrolled_trim"]

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


#: Largest row count n for which the compiled engine unrolls the sorting network (:func:`unrolled_trim`):
#: the code grows as n log² n and its compile time with it (n = 20: about 4 s, once per (n, b) and machine).
UNROLL_MAX = 20


def _unrolled_source(n: int, b: int) -> str:
    """Source of the module holding the trimmed mean of n rows with trim count b, network unrolled.

    Column by column: the n values (NaN as +inf) in n local variables, then every comparator of
    :func:`sorting_network` in order, as :func:`sort_column_block` applies it ("min to i, max to j",
    with the same comparison), then the kept ranks b … n − b − 1 added in ascending order to 0.0 and
    divided by n − 2b, as :func:`trimmed_mean_into` does. The values never leave registers, which is
    what makes it fast; the numbers are those of the general kernel, bit for bit.
    """
    lines = [f"# generated by byzref.aggregators.cwtm: the trimmed mean of n = {n} rows with b = {b}, the",
             f"# comparators of cwtm.sorting_network({n}) unrolled; numba {numba.__version__}",
             "import numpy as np",
             "from numba import carray, cfunc, types",
             "",
             "",
             "@cfunc(types.void(types.CPointer(types.float64), types.intp, types.CPointer(types.float64)),"
             " cache=True)",
             "def trimmed_mean(xp, d, op):  # pragma: no cover - compiled",
             f'    """op[k] <- trimmed mean (b = {b}) of column k of the C-contiguous ({n}, d) array xp."""',
             f"    X = carray(xp, ({n}, d))",
             "    out = carray(op, (d,))",
             "    for k in range(d):"]
    for i in range(n):
        lines += [f"        v{i} = X[{i}, k]", f"        v{i} = np.inf if v{i} != v{i} else v{i}"]
    for i, j in sorting_network(n):
        lines += [f"        lt = v{i} < v{j}",
                  f"        v{i}, v{j} = (v{i} if lt else v{j}), (v{j} if lt else v{i})"]
    lines.append("        s = 0.0")
    lines += [f"        s += v{i}" for i in range(b, n - b)]
    lines += [f"        out[k] = s / {n - 2 * b}", ""]
    return "\n".join(lines)


_UNROLLED: dict[tuple[int, int], Any] = {}


def unrolled_trim(n: int, b: int, compile_new: bool = True) -> int:
    """Address of the compiled trimmed mean of n rows with trim count b, its network unrolled; 0 if none.

    The generated module (one per (n, b)) is written once to the compiled loops' folder
    (:func:`byzref.compiled.cache_root`) and its function compiled once per machine (Numba's on-disk
    cache, with a ``.ready`` marker as for the loops); the object is kept for the life of the
    process. 0 when n < 2, n > :data:`UNROLL_MAX` or 2b ≥ n, or when ``compile_new`` is False and
    this (n, b) was never compiled on this machine: the general kernel then runs.

    Parameters
    ----------
    n : int
        Number of rows.
    b : int
        Trim count.
    compile_new : bool, default True
        Whether it may compile (about 4 s at n = 20) when this (n, b) is not compiled yet.

    Returns
    -------
    int
        The C function's address: ``void f(const double *X, intptr_t d, double *out)``.
    """
    if not (2 <= n <= UNROLL_MAX and 0 <= 2 * b < n):
        return 0
    if (n, b) not in _UNROLLED:
        from byzref.compiled import import_generated, is_compiled, mark_compiled

        text = _unrolled_source(n, b)
        name = f"byzref_trim_{n}_{b}_" + hashlib.sha256(text.encode()).hexdigest()[:16]
        if not (compile_new or is_compiled(name)):
            return 0
        _UNROLLED[(n, b)] = import_generated(name, text).trimmed_mean
        mark_compiled(name)
    return int(_UNROLLED[(n, b)].address)


@intrinsic
def _call_unrolled(typingctx, addr, X, out):  # pragma: no cover - compiled
    """If ``addr`` ≠ 0 and X (n, d) and out (d,) are C-contiguous float64: call the unrolled trimmed mean
    at ``addr`` on them and give True; else do nothing and give False (the caller runs the general kernel)."""
    if not (isinstance(addr, types.Integer) and isinstance(X, types.Array) and isinstance(out, types.Array)):
        return None
    contiguous = (X.ndim == 2 and X.layout == "C" and X.dtype == types.float64
                  and out.ndim == 1 and out.layout == "C" and out.dtype == types.float64)

    def codegen(context, builder, sig, args):
        if not contiguous:
            return cgutils.false_bit
        a, x, o = args
        xa = context.make_array(sig.args[1])(context, builder, x)
        oa = context.make_array(sig.args[2])(context, builder, o)
        d = builder.extract_value(xa.shape, 1)
        dbl = ir.DoubleType().as_pointer()
        called = builder.icmp_unsigned("!=", a, ir.Constant(a.type, 0))
        with builder.if_then(called):
            fn = builder.inttoptr(a, ir.FunctionType(ir.VoidType(), [dbl, d.type, dbl]).as_pointer())
            builder.call(fn, [xa.data, d, oa.data])
        return called

    return types.boolean(addr, X, out), codegen


@njit(cache=True)
def _trim_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of cwtm and cwmed: ``params = (b, pairs, S, addr)`` (trim count, comparators, the (n, ·)
    scratch of the row count the kernel was made for, and the (1,) address of the unrolled network, 0
    until the kernel's ``prepare`` ran). The unrolled network when it is there, else
    :func:`trimmed_mean_into`; the numbers are the same."""
    b, pairs, S, addr = params
    if X.shape[0] != S.shape[0] or not _call_unrolled(addr[0], X, out):
        trimmed_mean_into(X, b, pairs, S, out)


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
        ``Kernel(fn, (b, pairs, S, addr), prepare)``: trim count, comparators, an (n, min(512, d))
        scratch, and the address of the unrolled network (:func:`unrolled_trim`), which ``prepare``
        writes (the compiled engine calls it once it runs compiled).
    """
    addr = np.zeros(1, dtype=np.int64)

    def prepare(compile_new: bool = True) -> None:
        addr[0] = unrolled_trim(int(n), int(b), compile_new)

    return Kernel(_trim_fn, (int(b), sorting_network(n), np.empty((n, min(COLUMN_BLOCK, d))), addr), prepare)


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
