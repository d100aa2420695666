"""Rand-k sparsification, unbiased (scaled by d/k) (Wangni et al., NeurIPS 2018)."""

from __future__ import annotations

import numpy as np
from numba import njit

from byzref.compressors.base import COMPRESSORS, UNBIASED, KSparsifier
from byzref.kernels import Kernel

__all__ = ["RandK", "rand_k_subsets"]


@njit(cache=True)
def _rand_k_rows(X, U, scale, out):
    """out[r, S_r] = scale · X[r, S_r] for the k-subset S_r that Floyd's algorithm draws from U[r].

    X: (m, d) float64, read only. U: (m, k) float64 uniforms in [0, 1), read only. out: (m, d)
    float64, all zeros on entry; the kernel writes the kept entries (it mutates ``out`` only).
    Step i = 0..k−1 of row r takes j = d − k + i and t = ⌊U[r, i]·(j + 1)⌋ ∈ {0..j}; it adds t to
    S_r, or j when t is already in S_r (R. W. Floyd's sampling without replacement).
    """
    d = X.shape[1]
    k = U.shape[1]
    return _rand_k_rows_ws(X, U, scale, out, np.zeros(d, dtype=np.bool_), np.empty(k, dtype=np.int64))


@njit(cache=True)
def _rand_k_rows_ws(X, U, scale, out, mark, chosen):
    """:func:`_rand_k_rows` with caller-provided scratch: ``mark`` (≥ d,) bool, all False on entry
    and on return, and ``chosen`` (≥ k,) int64. Mutates ``out`` and the scratch arrays.
    """
    m, d = X.shape
    k = U.shape[1]
    for r in range(m):
        for i in range(k):
            j = d - k + i
            t = int(U[r, i] * (j + 1))
            if t > j:  # cannot happen for U < 1; kept as a guard
                t = j
            if mark[t]:
                t = j
            mark[t] = True
            chosen[i] = t
            out[r, t] = scale * X[r, t]
        for i in range(k):
            mark[chosen[i]] = False
    return out


@njit(cache=True)
def _rand_k_kernel(params, X, rng, out):
    r"""out[r] = scale · X[r] on a uniform k-subset S_r, zero elsewhere, for every row r of X.

    .. math:: C(x) = \text{scale} \sum_{j \in S} x_j e_j, \quad S \text{ uniform among the
              k-subsets of } \{0, \dots, d-1\}

    params = (scale, U, mark, chosen) from :meth:`RandK.kernel` (scale d/k for rand_k, 1 for
    rand_k_biased). Draws U[r, i] = rng.random() for r < m, i < k in row-major order (the values
    of ``rng.random((m, k))``), then :func:`_rand_k_rows_ws`.
    X: (m, d) float64, m ≤ n, read only. out: (≥ m, d) float64; rows 0..m−1 are fully written.
    """
    scale, U, mark, chosen = params
    m, d = X.shape
    k = U.shape[1]
    for r in range(m):
        for i in range(k):
            U[r, i] = rng.random()
        for j in range(d):
            out[r, j] = 0.0
    _rand_k_rows_ws(X, U[:m], scale, out, mark, chosen)

def rand_k_subsets(U: np.ndarray, d: int) -> np.ndarray:
    """The (m, d) boolean masks of the k-subsets that the kernel draws from uniforms U (m, k).

    Exposed so tests can check the sampler itself (each k-subset equally likely). Row r's subset
    comes from Floyd's sampling: step i = 0, …, k − 1 takes j = d − k + i and t = ⌊U[r, i]·(j + 1)⌋
    and adds t, or j when t is already in the subset.

    Parameters
    ----------
    U : array_like
        An (m, k) array of uniforms in [0, 1), k ≤ d (what ``rng.random((m, k))`` gives).
    d : int
        Dimension.

    Returns
    -------
    numpy.ndarray
        (m, d) boolean array, exactly k True entries per row.
    """
    U = np.ascontiguousarray(U, dtype=np.float64)
    ones = np.ones((U.shape[0], d))
    return _rand_k_rows(ones, U, 1.0, np.zeros_like(ones)) != 0.0


@COMPRESSORS.register("rand_k")
class RandK(KSparsifier):
    r"""Unbiased random sparsification: keep k uniformly random coordinates, scaled by d/k.

    .. math:: C(x) = \frac{d}{k} \sum_{j \in S} x_j e_j,
              \quad S \text{ uniform among the k-subsets of } \{0, \dots, d-1\}.

    See :ref:`compressor-rand_k`.

    Parameters
    ----------
    k : int
        Coordinates kept, 1 ≤ k ≤ d (checked against d at call time).
    float_bits : int, default 32
        Bits per float, :math:`b_f`.

    Notes
    -----
    Unbiased, :math:`C \in \mathbb{U}(d/k - 1)`: :math:`\mathbb{E}\, C(x) = x` and
    :math:`\mathbb{E}\|C(x) - x\|^2 = (d/k - 1)\|x\|^2` exactly. One message costs
    :math:`k(b_f + \lceil \log_2 d \rceil)` bits. Each row gets its own subset; the subsets are
    drawn with Floyd's algorithm from k uniforms per row (``rng.random((m, k))``), O(k) per row.
    Mapping a uniform u to ⌊u (j+1)⌋ is uniform on {0..j} up to a relative error below
    (j+1)·2⁻⁵³, which is far below anything measurable.

    References
    ----------
    Wangni, Wang, Liu, Zhang, "Gradient sparsification for communication-efficient distributed
    optimization", NeurIPS 2018, arXiv:1710.09854.

    Examples
    --------
    >>> import numpy as np
    >>> y = RandK(k=1)(np.array([1.0, 2.0]), np.random.default_rng(0))
    >>> sorted(y.tolist()) in ([0.0, 2.0], [0.0, 4.0])
    True
    """

    classes = (UNBIASED,)
    deterministic = False
    test_config = {"k": 2}

    def scale(self, d: int) -> float:
        """The factor applied to the kept coordinates (d/k).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            d/k.
        """
        return d / self.k

    def omega(self, d: int) -> float:
        """ω = d/k − 1 (exact: E‖C(x) − x‖² = (d/k − 1)‖x‖²).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            The declared variance constant.
        """
        return d / self.k - 1.0

    def _compress(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        m, d = X.shape
        U = rng.random((m, self.k))
        return _rand_k_rows(X, U, self.scale(d), np.zeros_like(X))

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled map for up to n rows of length d.

        Kernel parameters: ``(scale(d), U (n, k), mark (d,) bool, chosen (k,) int64)``: the factor on
        the kept entries and the sampler's scratch, so a call allocates nothing. rand_k_biased
        inherits it with its own scale (1).

        Parameters
        ----------
        n : int
            Largest number of rows per call.
        d : int
            Row length (the dimension).

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.compressors.base.Compressor.kernel`.
        """
        self.check(d)
        return Kernel(_rand_k_kernel, (float(self.scale(d)), np.empty((max(n, 1), self.k)),
                                       np.zeros(d, dtype=np.bool_), np.empty(self.k, dtype=np.int64)))
