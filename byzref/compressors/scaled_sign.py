"""Scaled sign compression (SPEC §2)."""

from __future__ import annotations

import numpy as np
from numba import njit

from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, Compressor, as_rows
from byzref.kernels import Kernel

__all__ = ["ScaledSign"]

_PW_BLOCK = 128  # NumPy's pairwise-summation block (PW_BLOCKSIZE in its loops)
_PW_DEPTH = 64  # levels of the pairwise tree: enough for any d < 2**63


@njit(cache=True)
def _abs_sum_block(x, lo, n):
    r"""Σ_{j<n} |x[lo + j]| for n ≤ 128, in the order of NumPy's pairwise-summation leaf.

    .. math:: S(a) = \begin{cases}
              (\dots((0 + a_0) + a_1) + \dots) + a_{n-1} & n < 8, \\
              ((r_0 + r_1) + (r_2 + r_3)) + ((r_4 + r_5) + (r_6 + r_7)) + a_{n'} + \dots + a_{n-1}
              & 8 \le n \le 128,
              \end{cases}

    with n' = n − (n mod 8) and r_i = a_i + a_{i+8} + … + a_{i+n'−8}, summed left to right.
    x: (≥ lo + n,) float64, read only.
    """
    if n < 8:
        res = 0.0
        for i in range(n):
            res += abs(x[lo + i])
        return res
    r0 = abs(x[lo])
    r1 = abs(x[lo + 1])
    r2 = abs(x[lo + 2])
    r3 = abs(x[lo + 3])
    r4 = abs(x[lo + 4])
    r5 = abs(x[lo + 5])
    r6 = abs(x[lo + 6])
    r7 = abs(x[lo + 7])
    i = 8
    top = n - n % 8
    while i < top:
        b = lo + i
        r0 += abs(x[b])
        r1 += abs(x[b + 1])
        r2 += abs(x[b + 2])
        r3 += abs(x[b + 3])
        r4 += abs(x[b + 4])
        r5 += abs(x[b + 5])
        r6 += abs(x[b + 6])
        r7 += abs(x[b + 7])
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += abs(x[lo + i])
        i += 1
    return res


@njit(cache=True)
def _abs_sum_pairwise(x, tasks, vals):
    r"""‖x‖₁ = Σ_j |x_j| in the order of NumPy's pairwise summation (``np.abs(x).sum()``).

    .. math:: S(a_{0:n}) = \begin{cases} \text{leaf}(a) & n \le 128 \ (:func:`_abs_sum_block`), \\
              S(a_{0:h}) + S(a_{h:n}), \ h = \lfloor n/2 \rfloor - (\lfloor n/2 \rfloor \bmod 8)
              & n > 128. \end{cases}

    This is the pairwise sum of NumPy's float64 add reduction, which ``sum(axis=1)`` of a
    C-contiguous (m, d) array applies to each whole row. The recursion runs on an explicit stack
    (a recursive jitted function breaks Numba's on-disk cache): ``tasks`` (3, 3·_PW_DEPTH) int64
    and ``vals`` (_PW_DEPTH,) float64, both scratch. x: (d,) float64, read only.
    """
    tasks[0, 0], tasks[1, 0], tasks[2, 0] = 0, x.shape[0], 0  # (lo, n, kind): kind 0 expand, 1 add
    sp = 1
    vp = 0
    while sp > 0:
        sp -= 1
        lo, n, kind = tasks[0, sp], tasks[1, sp], tasks[2, sp]
        if kind == 1:
            vp -= 1
            vals[vp - 1] = vals[vp - 1] + vals[vp]
        elif n <= _PW_BLOCK:
            vals[vp] = _abs_sum_block(x, lo, n)
            vp += 1
        else:
            h = n // 2
            h -= h % 8
            tasks[0, sp], tasks[1, sp], tasks[2, sp] = 0, 0, 1  # then add the two halves
            tasks[0, sp + 1], tasks[1, sp + 1], tasks[2, sp + 1] = lo + h, n - h, 0  # right half second
            tasks[0, sp + 2], tasks[1, sp + 2], tasks[2, sp + 2] = lo, h, 0  # left half first
            sp += 3
    return vals[0]


@njit(cache=True)
def _scaled_sign_kernel(params, X, rng, out):
    r"""out[r] = (‖X[r]‖₁/d) sign(X[r]) for every row r of X (the kernel of :class:`ScaledSign`).

    .. math:: C(x) = \frac{\|x\|_1}{d} \operatorname{sign}(x), \qquad \operatorname{sign}(0) = 0

    ‖x‖₁ is summed as NumPy's ``np.abs(X).sum(axis=1)`` does (:func:`_abs_sum_pairwise`, plus the
    reduction's initial 0), then divided by d; sign(±0) = +0 as ``np.sign``. A row whose scale is
    not finite (a non-finite entry, or an overflowing sum) is copied. params = (tasks, vals), the
    summation's stack (:meth:`ScaledSign.kernel`); rng is not used.
    X: (m, d) float64, read only. out: (≥ m, d) float64; rows 0..m−1 are fully written.
    """
    tasks, vals = params
    m, d = X.shape
    for r in range(m):
        x = X[r]
        scale = (0.0 + _abs_sum_pairwise(x, tasks, vals)) / d
        if not np.isfinite(scale):
            for j in range(d):
                out[r, j] = x[j]
            continue
        for j in range(d):
            v = x[j]
            sg = 1.0 if v > 0.0 else (-1.0 if v < 0.0 else 0.0)
            out[r, j] = scale * sg


@COMPRESSORS.register("scaled_sign")
class ScaledSign(Compressor):
    r"""Scaled sign: one float (the mean magnitude) and one sign bit per entry.

    .. math:: C(x) = \frac{\|x\|_1}{d} \operatorname{sign}(x), \qquad \operatorname{sign}(0) = 0.

    Parameters
    ----------
    float_bits : int, default 32
        Bits per float, :math:`b_f`.

    Notes
    -----
    Deterministic and contractive with a vector-dependent constant
    :math:`\alpha(x) = \|x\|_1^2 / (d\|x\|^2) \ge 1/d` (``alpha_of``); the declared, worst-case
    constant is ``alpha(d) = 1/d``. With z the number of zero entries,

    .. math:: \|C(x) - x\|^2 = \|x\|^2 - \frac{\|x\|_1^2}{d}\Big(1 + \frac{z}{d}\Big)
              \le (1 - \alpha(x))\|x\|^2,

    with equality when x has no zero entry (then it is the identity of SPEC §2). Choice where the
    SPEC is silent: sign(0) = 0 (numpy's convention), which only helps. One message costs
    :math:`b_f + d` bits. Rows with a non-finite entry are returned unchanged. SPEC §2.

    References
    ----------
    Karimireddy, Rebjock, Stich, Jaggi, "Error feedback fixes SignSGD and other gradient
    compression schemes", ICML 2019, arXiv:1901.09847.

    Examples
    --------
    >>> import numpy as np
    >>> ScaledSign()(np.array([1.0, -3.0, 0.0, 2.0])).tolist()
    [1.5, -1.5, 0.0, 1.5]
    """

    classes = (CONTRACTIVE,)
    deterministic = True
    test_config = {}

    def alpha(self, d: int) -> float:
        return 1.0 / d

    def alpha_of(self, x) -> float | np.ndarray:
        """α(x) = ‖x‖₁² / (d‖x‖²) for a vector (a float) or for each row of an (m, d) array.

        For x = 0 it returns 1.0 (C(0) = 0, so every α ≤ 1 holds).
        """
        rows = as_rows(x)
        d = rows.shape[1]
        l1 = np.abs(rows).sum(axis=1)
        sq = np.einsum("ij,ij->i", rows, rows)
        out = np.where(sq > 0.0, l1**2 / (d * np.where(sq > 0.0, sq, 1.0)), 1.0)
        return float(out[0]) if np.ndim(x) == 1 else out

    def bits(self, d: int) -> float:
        return float(self.float_bits + d)

    def _compress(self, X: np.ndarray, rng) -> np.ndarray:
        scale = np.abs(X).sum(axis=1, keepdims=True) / X.shape[1]
        finite = np.isfinite(scale)  # rows with a non-finite entry are returned unchanged
        return np.where(finite, np.where(finite, scale, 0.0) * np.sign(X), X)

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled map for up to n rows of length d: :func:`_scaled_sign_kernel` and its parameters.

        Parameters: the stack of the pairwise summation, ``tasks`` (3, 3·64) int64 and ``vals`` (64,).
        """
        self.check(d)
        tasks = np.zeros((3, 3 * _PW_DEPTH), dtype=np.int64)
        return Kernel(_scaled_sign_kernel, (tasks, np.zeros(_PW_DEPTH)))
