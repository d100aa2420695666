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
