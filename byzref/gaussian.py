"""Jitted standard normal rows: the Gaussian noise of the synthetic problems.

A draw is one 64-bit seed s taken from a named NumPy stream (``rng.integers`` over the full uint64
range, i.e. one raw output of its bit generator). Row r of the draw is a sequence of standard normals
produced by

* **xoshiro256++** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS
  2021), whose 256-bit state is the SplitMix64 outputs 4r+1, …, 4r+4 of the sequence seeded with s
  (SplitMix64: Steele, Lea & Flood, OOPSLA 2014; the seeding the xoshiro authors recommend);
* the **ziggurat** method with 256 layers (Marsaglia & Tsang, "The ziggurat method for generating
  random variables", J. Stat. Softw. 5(8), 2000), with Marsaglia's exact tail sampler beyond
  r = 3.6541528853610088. Each output uses one 64-bit word: 8 bits pick the layer, 1 bit the sign and
  the top 53 bits the abscissa; 98.5% of outputs are accepted by one table comparison.

Rows are independent of each other, so a kernel can draw exactly the rows it needs (the problems'
kernels regenerate only the rows of the workers they are asked for), and the compiled loop and the
Python loop produce the same numbers. It takes about 2 ns per value on the reference machine, 4× less
than NumPy's ``standard_normal`` (``benchmarks/problems.py``), which matters because n·d normals
are drawn every iteration. ``tests/reference/gaussian.py`` is a plain-Python re-implementation that the
kernels must match bit for bit; ``tests/test_gaussian.py`` also checks the distribution.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from byzref.errors import ConfigError, check_int

__all__ = ["ZIGGURAT_R", "ZIGGURAT_V", "draw_seeds", "fill_normal_rows", "normal_row", "normal_rows",
           "ziggurat_tables"]

ZIGGURAT_R = 3.6541528853610088  # right edge of the base layer (Marsaglia & Tsang 2000, 256 layers)
# the common area of the 256 layers of e^{−x²/2}: the base layer r·f(r) plus the tail ∫_r^∞ f
# (Marsaglia & Tsang quote 4.92867323399e-3); with it the top layer closes at X[256] = 0 to ~1e-15
ZIGGURAT_V = (ZIGGURAT_R * math.exp(-0.5 * ZIGGURAT_R**2)
              + math.sqrt(math.pi / 2) * math.erfc(ZIGGURAT_R / math.sqrt(2)))

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64 increment
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_U4, _U8, _U11, _U17, _U23, _U27, _U30, _U31, _U45 = (np.uint64(v) for v in (4, 8, 11, 17, 23, 27, 30, 31,
                                                                               45))
_U1, _MASK8 = np.uint64(1), np.uint64(255)
_TWO_M53 = 2.0**-53


def ziggurat_tables(r: float = ZIGGURAT_R, v: float = ZIGGURAT_V):
    """Layer tables (X, F, K, W) of the 256-layer ziggurat for the unnormalised density f(x) = e^{−x²/2}.

    X[0] = v / f(r) (the base layer's width, which includes the tail), X[1] = r,
    X[i+1] = f⁻¹(v / X[i] + f(X[i])) so that every layer has area v, and X[256] = 0.
    Layer i ≥ 1 is the rectangle [0, X[i]] × [F[i], F[i+1]], F = f(X). K[i] = ⌊2⁵³ X[i+1]/X[i]⌋
    (a 53-bit abscissa j is inside the part under the curve when j < K[i]); W[i] = 2⁻⁵³ X[i].

    Parameters
    ----------
    r : float, optional
        Right edge of the base layer (default ``ZIGGURAT_R`` = 3.6541528853610088).
    v : float, optional
        Common area of the layers (default ``ZIGGURAT_V``, which belongs to that r).

    Returns
    -------
    X, F : numpy.ndarray
        float64 arrays of 257 values.
    K : numpy.ndarray
        uint64 array of 256 values.
    W : numpy.ndarray
        float64 array of 256 values.
    """
    X = np.empty(257)
    X[0], X[1], X[256] = v / math.exp(-0.5 * r * r), r, 0.0
    for i in range(1, 255):
        X[i + 1] = math.sqrt(-2.0 * math.log(v / X[i] + math.exp(-0.5 * X[i] * X[i])))
    F = np.array([math.exp(-0.5 * t * t) for t in X])
    K = np.array([int(2.0**53 * (X[i + 1] / X[i])) for i in range(256)], dtype=np.uint64)
    W = X[:256] * _TWO_M53
    return X, F, K, W


_X, _F, _K, _W = ziggurat_tables()
_KI = _K.astype(np.int64)  # K < 2⁵³: the fast test on signed integers (a cheaper conversion and compare)
_SIGN = np.array([1.0, -1.0])  # x·(±1) is exactly ±x: the sign without a branch


@njit(cache=True, inline="always")
def _mix64(z):  # pragma: no cover - compiled
    """The SplitMix64 output function of the state z."""
    z = (z ^ (z >> _U30)) * _M1
    z = (z ^ (z >> _U27)) * _M2
    return z ^ (z >> _U31)


@njit(cache=True, inline="always")
def _rotl(x, k):  # pragma: no cover - compiled
    return (x << k) | (x >> (np.uint64(64) - k))


@njit(cache=True, inline="always")
def _next(s0, s1, s2, s3):  # pragma: no cover - compiled
    """One xoshiro256++ step: (output, new state)."""
    out = _rotl(s0 + s3, _U23) + s0
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _U45)
    return out, s0, s1, s2, s3


@njit(cache=True)
def _slow(u, s0, s1, s2, s3, X, F, K, W):  # pragma: no cover - compiled
    """The rest of a ziggurat draw whose word u missed the fast test: (value, state).

    Layer i = the low 8 bits of the word, sign = bit 8, abscissa x = m·W[i] with m = the top 53 bits.
    Fast test m < K[i]: accept. Otherwise layer 0 samples Marsaglia's tail, r + a with
    a = −ln(U₁)/r accepted when −2 ln(U₂) > a²; layer i ≥ 1 accepts x when
    F[i] + U (F[i+1] − F[i]) < e^{−x²/2}; a rejected point restarts the draw with a fresh word.
    Uniforms are U = 2⁻⁵³ (w >> 11) ∈ [0, 1) and U₁, U₂ = 2⁻⁵³ ((w >> 11) + 1) ∈ (0, 1].
    """
    while True:
        i = np.int64(u & _MASK8)
        neg = (u >> _U8) & _U1
        m = u >> _U11
        x = np.float64(m) * W[i]
        if m < K[i]:
            return (-x if neg else x), s0, s1, s2, s3
        if i == 0:
            r = X[1]
            while True:
                w, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                a = -math.log(np.float64((w >> _U11) + _U1) * _TWO_M53) / r
                w, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                b = -math.log(np.float64((w >> _U11) + _U1) * _TWO_M53)
                if b + b > a * a:
                    x = r + a
                    return (-x if neg else x), s0, s1, s2, s3
        w, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
        y = F[i] + np.float64(w >> _U11) * _TWO_M53 * (F[i + 1] - F[i])
        if y < math.exp(-0.5 * x * x):
            return (-x if neg else x), s0, s1, s2, s3
        u, s0, s1, s2, s3 = _next(s0, s1, s2, s3)


@njit(cache=True)
def normal_row(seed, row, out):  # pragma: no cover - compiled
    """Fill the 1-d array ``out`` with the standard normals of row ``row`` of the draw seeded ``seed``.

    The state of row r is the SplitMix64 outputs 4r+1..4r+4 of the sequence seeded with ``seed``
    (a uint64); the values are xoshiro256++ words turned into normals by the ziggurat.

    Parameters
    ----------
    seed : numpy.uint64
        The draw's seed (from :func:`byzref.gaussian.draw_seeds`).
    row : int
        Row index r ≥ 0 (a worker's row).
    out : numpy.ndarray
        1-d float64 array, overwritten; its length is the number of values drawn.
    """
    X, F, K, W = _X, _F, _K, _W
    z = np.uint64(seed) + np.uint64(row) * _U4 * _GAMMA
    s0 = _mix64(z + _GAMMA)
    s1 = _mix64(z + np.uint64(2) * _GAMMA)
    s2 = _mix64(z + np.uint64(3) * _GAMMA)
    s3 = _mix64(z + _U4 * _GAMMA)
    KI, SIGN = _KI, _SIGN
    for j in range(out.shape[0]):
        u, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
        i = np.int64(u & _MASK8)
        m = np.int64(u >> _U11)  # < 2⁵³, exact as int64 and as float64
        if m < KI[i]:
            out[j] = (np.float64(m) * W[i]) * SIGN[np.int64((u >> _U8) & _U1)]
        else:
            out[j], s0, s1, s2, s3 = _slow(u, s0, s1, s2, s3, X, F, K, W)


@njit(cache=True)
def fill_normal_rows(seeds, out):  # pragma: no cover - compiled
    """out[c, r, :] ← row r of the draw seeded seeds[c], for an (count, rows, L) float64 array.

    Parameters
    ----------
    seeds : numpy.ndarray
        1-d uint64 array of at least ``count`` seeds.
    out : numpy.ndarray
        float64 array of shape (count, rows, L), overwritten.
    """
    for c in range(out.shape[0]):
        for r in range(out.shape[1]):
            normal_row(seeds[c], r, out[c, r])


def draw_seeds(rng: np.random.Generator, count: int = 1) -> np.ndarray:
    """``count`` seeds (uint64) from ``rng``: one full-range integer, i.e. one raw 64-bit output, each.

    Drawing c seeds at once consumes the stream exactly as c single draws do.

    Parameters
    ----------
    rng : numpy.random.Generator
        The stream to draw from (a problem's "samples" stream).
    count : int, optional
        Number of seeds, ≥ 1 (default 1).

    Returns
    -------
    numpy.ndarray
        uint64 array of ``count`` seeds.
    """
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng.integers(0, 2**64, size=check_int("count", count, 1), dtype=np.uint64)


def normal_rows(seeds, rows: int, length: int, out=None) -> np.ndarray:
    """Standard normals (len(seeds), rows, length): block c, row r is row r of the draw seeded seeds[c].

    Parameters
    ----------
    seeds : array_like
        uint64 seeds, one per block (flattened).
    rows : int
        Rows per block, ≥ 0.
    length : int
        Values per row, ≥ 0.
    out : numpy.ndarray, optional
        A float64 C-contiguous buffer of ``len(seeds) · rows · length`` values, filled in place;
        default None allocates a new array.

    Returns
    -------
    numpy.ndarray
        The normals, shape (len(seeds), rows, length) (a view of ``out`` when given).
    """
    seeds = np.ascontiguousarray(seeds, dtype=np.uint64).reshape(-1)
    rows, length = check_int("rows", rows, 0), check_int("length", length, 0)
    shape = (seeds.shape[0], rows, length)
    if out is None:
        out = np.empty(shape)
    else:
        if not (isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.c_contiguous
                and out.size == math.prod(shape)):
            raise ConfigError(f"out must be a float64 C-contiguous array of {math.prod(shape)} values")
        out = out.reshape(shape)
    fill_normal_rows(seeds, out)
    return out
