"""Row kernels shared by aggregators: pairwise squared distances (krum, multikrum, nnm)
and the mask of finite rows (cclip, gm)."""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from byzref.aggregators.cwtm import sorting_network

__all__ = ["column_sums", "finite_rows", "finite_rows_into", "pairwise_bytes", "pairwise_sq_dists",
           "sort_columns", "sort_prefix", "sorted_distance_columns"]


def pairwise_bytes(n: int, d: int) -> float:
    """Peak bytes of the rules built on the (n, n) distance matrix: the matrix, a second (n, n)
    array (weights or sorted rows) and an (n, d) output."""
    return 8.0 * (2 * n * n + n * d + 2 * n)

_BLOCK = 1024  # columns per pass; an (n, 1024) slab of X stays in cache while all pairs use it


def _network_table(m_max: int) -> tuple[np.ndarray, np.ndarray]:
    """The comparators of :func:`cwtm.sorting_network` for m = 0 … m_max keys, one (·, 2) int64 table,
    and offsets: the network for m keys is rows off[m] … off[m + 1] − 1."""
    nets = [sorting_network(m).reshape(-1, 2) for m in range(m_max + 1)]
    off = np.zeros(m_max + 2, dtype=np.int64)
    off[1:] = np.cumsum([len(p) for p in nets])
    return np.ascontiguousarray(np.concatenate(nets), dtype=np.int64), off


_NET_MAX = 32  # the longest key list that sort_prefix and sort_columns sort with a network
_NETS, _NET_OFF = _network_table(_NET_MAX)  # compiled into sort_prefix as constants (about 40 kB)


@njit(cache=True)
def sort_prefix(a, m):  # pragma: no cover - compiled
    """Sort a[:m] ascending in place, NaN last (the values of ``np.sort``). Mutates ``a``.

    Short runs (m ≤ 32: the n − 1 distances of a row) without NaN go through the comparators of
    :func:`cwtm.sorting_network` for m keys, compare-exchanges without branches (a sort whose
    branches depend on the data mispredicts about once per key); with a NaN, insertion sort.
    Numba's sort above 32. Equal keys (+0.0 and −0.0) may end up in either order: every caller
    only adds or compares the sorted values.
    """
    if m > _NET_MAX:
        a[:m].sort()
        return
    nan = False
    for i in range(m):
        nan |= a[i] != a[i]
    if not nan:
        for c in range(_NET_OFF[m], _NET_OFF[m + 1]):
            i, j = _NETS[c, 0], _NETS[c, 1]
            x, y = a[i], a[j]
            lt = x < y
            a[i] = x if lt else y
            a[j] = y if lt else x
        return
    for i in range(1, m):
        x = a[i]
        j = i - 1
        if x == x:
            while j >= 0 and not a[j] <= x:  # a[j] > x or a[j] is NaN
                a[j + 1] = a[j]
                j -= 1
        a[j + 1] = x


@njit(cache=True)
def sort_columns(K, m):  # pragma: no cover - compiled
    """Sort every column of K[:m, :] ascending in place; K a C-contiguous 2-D array, m ≤ 32, no NaN.

    Each column goes through exactly the compare-exchanges that :func:`sort_prefix` applies to m
    keys without NaN, so it ends as ``sort_prefix`` would leave it; the columns share the
    comparator table and advance side by side (vector code). Mutates ``K``.
    """
    w = K.shape[1]
    for c in range(_NET_OFF[m], _NET_OFF[m + 1]):
        a, b = K[_NETS[c, 0]], K[_NETS[c, 1]]
        for i in range(w):
            x, y = a[i], b[i]
            lt = x < y
            a[i] = x if lt else y
            b[i] = y if lt else x


def _column_scratch(n: int) -> np.ndarray:
    """The (n, n) scratch K of :func:`sorted_distance_columns`, or (0, 0) when n > 32 rows never use it."""
    return np.empty((n, n) if n <= _NET_MAX else (0, 0))


@njit(cache=True)
def sorted_distance_columns(D, K):  # pragma: no cover - compiled
    """Column i of K ← row i of the (n, n) distances D sorted ascending, all rows at once; returns whether.

    Only when n ≤ 32, K holds (n, n), every diagonal entry is 0 and no entry is negative or NaN (the
    distances of finite rows): K[r, i] = D[i, r], then :func:`sort_columns`, so column i ends as
    :func:`sort_prefix` leaves row i, its diagonal 0 first. Otherwise returns False (K unspecified).
    Mutates ``K``.
    """
    n = D.shape[0]
    ok = n <= _NET_MAX and K.shape[0] >= n
    for i in range(n):
        ok &= D[i, i] == 0.0
    if ok:
        for r in range(n):
            for i in range(n):
                v = D[i, r]
                ok &= v >= 0.0
                K[r, i] = v
    if ok:
        sort_columns(K, n)
    return ok


@njit(cache=True)
def column_sums(K, r0, r1, out):  # pragma: no cover - compiled
    """out[i] ← Σ_{r=r0}^{r1−1} K[r, i], added in increasing r from 0.0, all columns side by side."""
    for i in range(out.shape[0]):
        out[i] = 0.0
    for r in range(r0, r1):
        kr = K[r]
        for i in range(out.shape[0]):
            out[i] += kr[i]


@njit(cache=True)
def finite_rows_into(X, ok):  # pragma: no cover - compiled
    """ok[i] ← whether row i of X has only finite entries (``ok`` a boolean (n,) array). Mutates ``ok``."""
    n, d = X.shape
    for i in range(n):
        ok[i] = True
        for k in range(d):
            if not np.isfinite(X[i, k]):
                ok[i] = False
                break


@njit(cache=True)
def finite_rows(X):  # pragma: no cover - compiled
    """Boolean (n,) mask: row i of X has only finite entries."""
    ok = np.empty(X.shape[0], dtype=np.bool_)
    finite_rows_into(X, ok)
    return ok


_LANES = 8  # interleaved partial sums per distance and block (one vector of 8 doubles)


def _block_sq_dists_codegen(n_pairs: int):
    """LLVM code of :func:`_block_sq_dists` for ``n_pairs`` rows j (see there)."""

    def codegen(context, builder, signature, args):
        X_, i_, js, j0, j1 = args[0], args[1], args[2:2 + n_pairs], args[2 + n_pairs], args[3 + n_pairs]
        arr = context.make_array(signature.args[0])(context, builder, X_)
        dbl = ir.DoubleType()
        vec = ir.VectorType(dbl, _LANES)
        width = cgutils.unpack_tuple(builder, arr.shape, 2)[1]
        intp = j0.type
        rows = [builder.gep(arr.data, [builder.mul(r, width)]) for r in (i_, *js)]
        accs = [cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * _LANES)) for _ in js]
        m8 = builder.sdiv(builder.sub(j1, j0), ir.Constant(intp, _LANES))
        with cgutils.for_range(builder, m8) as loop:
            k = builder.add(j0, builder.mul(loop.index, ir.Constant(intp, _LANES)))
            vi = builder.load(builder.bitcast(builder.gep(rows[0], [k]), vec.as_pointer()), align=8)
            for row, acc in zip(rows[1:], accs, strict=True):
                vj = builder.load(builder.bitcast(builder.gep(row, [k]), vec.as_pointer()), align=8)
                t = builder.fsub(vi, vj)
                builder.store(builder.fadd(builder.load(acc), builder.fmul(t, t)), acc)
        sums = [cgutils.alloca_once_value(builder, ir.Constant(dbl, 0.0)) for _ in js]
        tail = builder.add(j0, builder.mul(m8, ir.Constant(intp, _LANES)))
        with cgutils.for_range(builder, builder.sub(j1, tail)) as loop:
            k = builder.add(tail, loop.index)
            xi = builder.load(builder.gep(rows[0], [k]))
            for row, s in zip(rows[1:], sums, strict=True):
                t = builder.fsub(xi, builder.load(builder.gep(row, [k])))
                builder.store(builder.fadd(builder.load(s), builder.fmul(t, t)), s)
        out = []
        for acc, s in zip(accs, sums, strict=True):
            a, v = builder.load(acc), builder.load(s)
            for lane in range(_LANES):
                v = builder.fadd(v, builder.extract_element(a, ir.Constant(ir.IntType(32), lane)))
            out.append(v)
        if n_pairs == 1:
            return out[0]
        return context.make_tuple(builder, signature.return_type, out)

    return codegen


def _block_sq_dists_typer(n_pairs: int):
    def typer(typingctx, X, i, *rest):
        if not (isinstance(X, types.Array) and X.ndim == 2 and X.layout == "C" and X.dtype == types.float64):
            return None
        ret = types.float64 if n_pairs == 1 else types.UniTuple(types.float64, n_pairs)
        return ret(X, types.intp, *([types.intp] * (n_pairs + 2))), _block_sq_dists_codegen(n_pairs)

    return typer


@intrinsic
def _block_sq_dist1(typingctx, X, i, j, j0, j1):  # pragma: no cover - compiled
    """:func:`_block_sq_dists` for one row j."""
    return _block_sq_dists_typer(1)(typingctx, X, i, j, j0, j1)


@intrinsic
def _block_sq_dist4(typingctx, X, i, ja, jb, jc, jd, j0, j1):  # pragma: no cover - compiled
    """:func:`_block_sq_dists` for four rows j at once (one pass over x_i)."""
    return _block_sq_dists_typer(4)(typingctx, X, i, ja, jb, jc, jd, j0, j1)


def _block_sq_dists(X, i, j, j0, j1):
    r"""Σ_{k=j0}^{j1−1} (x_ik − x_jk)² of a C-contiguous float64 (n, d) array X, in a fixed order.

    With m = ⌊(j1 − j0)/8⌋ and t_k = x_ik − x_jk, eight lanes a_l = Σ_{r<m} t²_{j0+8r+l}
    (each from 0.0, r ascending), and the result is
        s = ((((0.0 + Σ_{k ≥ j0+8m} t_k²) + a_0) + a_1) + …) + a_7,
    the tail added in increasing k. The lanes are one vector of 8 doubles (IEEE operations lane by
    lane, no reassociation, no fused multiply-add), so the numbers equal the scalar loop's.
    Compiled by :func:`_block_sq_dist1` (one j) and :func:`_block_sq_dist4` (four j, returned as
    a tuple); this Python function is the reference of that order.
    """
    t = X[i, j0:j1] - X[j, j0:j1]
    m = (j1 - j0) // _LANES
    lanes = [0.0] * _LANES
    for r in range(m):
        for lane in range(_LANES):
            lanes[lane] += t[_LANES * r + lane] * t[_LANES * r + lane]
    s = 0.0
    for k in range(_LANES * m, j1 - j0):
        s += t[k] * t[k]
    for a in lanes:
        s += a
    return s


@njit(cache=True)
def _sq_dists_kernel(X, D, finite):  # pragma: no cover - compiled
    """D[i, j] ← Σ_k (x_ik − x_jk)², finite[i] ← 1 if row i has only finite entries, else 0.

    Rows with a non-finite entry get D[i, :] = D[:, i] = +inf (including D[i, i]). Columns are
    visited in blocks of ``_BLOCK`` so that X is read once from memory; each block's sum of a pair
    is :func:`_block_sq_dists` (eight interleaved lanes, then the tail, then the lanes in order),
    added to D[i, j] block after block. Four pairs (i, j) share one pass over x_i. X must be a
    C-contiguous float64 array. Mutates ``D`` and ``finite``.
    """
    n, d = X.shape
    for i in range(n):
        finite[i] = 1
        for j in range(n):
            D[i, j] = 0.0
    for j0 in range(0, d, _BLOCK):
        j1 = min(d, j0 + _BLOCK)
        for i in range(n):
            if finite[i] == 1:
                xs = X[i, j0:j1]
                ok = True
                for k in range(j1 - j0):  # no early exit: the test compiles to vector code
                    ok &= np.isfinite(xs[k])
                if not ok:
                    finite[i] = 0
        for i in range(n):
            j = i + 1
            while j + 4 <= n:
                sa, sb, sc, sd = _block_sq_dist4(X, i, j, j + 1, j + 2, j + 3, j0, j1)
                D[i, j] += sa
                D[i, j + 1] += sb
                D[i, j + 2] += sc
                D[i, j + 3] += sd
                j += 4
            while j < n:
                D[i, j] += _block_sq_dist1(X, i, j, j0, j1)
                j += 1
    for i in range(n):
        for j in range(i + 1, n):
            if finite[i] == 0 or finite[j] == 0:
                D[i, j] = np.inf
            D[j, i] = D[i, j]
        if finite[i] == 0:
            D[i, i] = np.inf


def pairwise_sq_dists(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared Euclidean distances of the rows of a C-contiguous float64 (n, d) array.

    Returns ``(D, finite)``: D is (n, n) with D[i, j] = ‖x_i − x_j‖², computed directly (no Gram
    trick, so D ≥ 0 and D[i, i] = 0 exactly); a row with any ±inf/NaN entry is infinitely far from
    every row, itself included. ``finite`` is the boolean mask of rows with only finite entries.
    Squares that overflow float64 become +inf, i.e. "infinitely far" as well.
    """
    n = X.shape[0]
    D = np.empty((n, n))
    finite = np.empty(n, dtype=np.int64)
    _sq_dists_kernel(X, D, finite)
    return D, finite.astype(bool)
