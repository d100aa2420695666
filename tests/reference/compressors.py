"""Plain NumPy references for the compressor kernels (tests only; never imported by byzref)."""

import numpy as np


def top_k(X, k):
    """Keep the k entries of largest |x| per row; ties → lowest index (stable sort of −|x|).

    NaN sorts last in NumPy, so it ranks below every number, as in the kernel.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    out = np.zeros_like(X)
    for r, x in enumerate(X):
        idx = np.argsort(-np.abs(x), kind="stable")[:k]
        out[r, idx] = x[idx]
    return out


def floyd_subset(u, d):
    """Floyd's k-subset of range(d) from k uniforms u: step i uses t = ⌊u_i (j+1)⌋, j = d − k + i."""
    k = len(u)
    chosen = set()
    for i in range(k):
        j = d - k + i
        t = min(int(u[i] * (j + 1)), j)
        chosen.add(j if t in chosen else t)
    return sorted(chosen)


def rand_k(X, U, scale):
    """scale · x on Floyd's subset of each row (row r uses the uniforms U[r])."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    out = np.zeros_like(X)
    for r, x in enumerate(X):
        idx = floyd_subset(U[r], X.shape[1])
        out[r, idx] = scale * x[idx]
    return out


def natural(X, U):
    """Natural rounding entry by entry: |x| ∈ [2^(e−1), 2^e) goes up to 2^e iff u < |x|/2^(e−1) − 1.

    Zeros, non-finite entries and |x| > 2^1023 are copied.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    out = X.copy()
    for idx, v in np.ndenumerate(X):
        a = abs(v)
        if 0 < a < np.inf and a <= 2.0**1023:
            _, e = np.frexp(a)
            lo = 2.0 ** (int(e) - 1)
            out[idx] = np.sign(v) * (2 * lo if U[idx] < a / lo - 1 else lo)
    return out


def qsgd(X, U, s):
    """QSGD row by row: level ⌊s|x_j|/‖x‖⌋, raised iff u_j < the fractional part; value ‖x‖ sign(x_j) ξ_j/s.

    Rows with norm 0 or a non-finite entry are copied.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    out = X.copy()
    for r, x in enumerate(X):
        norm = np.linalg.norm(x)
        if 0 < norm < np.inf:
            ratio = s * np.abs(x) / norm
            lev = np.floor(ratio) + (U[r] < ratio - np.floor(ratio))
            out[r] = np.sign(x) * norm * lev / s
    return out
