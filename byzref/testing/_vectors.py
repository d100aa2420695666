"""Hypothesis strategies for test vectors and (m, d) arrays with controlled magnitude.

Entries are 0 or ±v with min_abs ≤ v ≤ max_abs, so ratios and squares stay far from overflow,
underflow and subnormals. ``ties`` controls repeated magnitudes:

* ``"allow"``: anything (ties happen by chance, e.g. repeated zeros);
* ``"none"``: all |x_j| distinct (at most one zero), for tie-free comparisons with references;
* ``"force"``: magnitudes drawn from three values (and 0 when allowed), so ties are frequent.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

__all__ = ["arrays", "dims", "vectors"]

_TIES = ("allow", "none", "force")


def dims(min_d: int = 1, max_d: int = 16) -> st.SearchStrategy[int]:
    """Strategy for a dimension d, an integer in [min_d, max_d].

    Parameters
    ----------
    min_d, max_d : int
        Smallest and largest dimension (inclusive), 1 ≤ min_d ≤ max_d.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Draws an ``int``.
    """
    return st.integers(min_d, max_d)


def _magnitudes(min_abs: float, max_abs: float) -> st.SearchStrategy[float]:
    return st.floats(min_abs, max_abs, allow_nan=False, allow_infinity=False)


@st.composite
def _row(draw, d: int, min_abs: float, max_abs: float, zeros: bool, ties: str) -> np.ndarray:
    signs = np.where(draw(st.lists(st.booleans(), min_size=d, max_size=d)), -1.0, 1.0)
    if ties == "none":
        mags = draw(st.lists(_magnitudes(min_abs, max_abs), min_size=d, max_size=d, unique=True))
        mags = np.array(mags)
        if zeros and draw(st.booleans()):
            mags[draw(st.integers(0, d - 1))] = 0.0
    elif ties == "force":
        pool = sorted({min_abs, min(max(1.0, min_abs), max_abs), max_abs})
        pool = ([0.0] if zeros else []) + pool
        mags = np.array(draw(st.lists(st.sampled_from(pool), min_size=d, max_size=d)))
    else:
        entry = _magnitudes(min_abs, max_abs)
        if zeros:
            entry = st.one_of(st.just(0.0), entry)
        mags = np.array(draw(st.lists(entry, min_size=d, max_size=d)))
    return signs * mags


def _check(min_abs: float, max_abs: float, ties: str) -> None:
    if not 0.0 < min_abs <= max_abs < 1e100:
        raise ValueError(f"need 0 < min_abs ≤ max_abs < 1e100, got min_abs={min_abs}, max_abs={max_abs}")
    if ties not in _TIES:
        raise ValueError(f"ties = {ties!r} is not one of {_TIES}")


def vectors(
    d: int | None = None,
    *,
    min_d: int = 1,
    max_d: int = 16,
    min_abs: float = 1e-3,
    max_abs: float = 1e3,
    zeros: bool = True,
    ties: str = "allow",
) -> st.SearchStrategy[np.ndarray]:
    """Strategy for float64 vectors of length d (or of a drawn length in [min_d, max_d]).

    Each entry is ±m with a random sign and a magnitude m in [min_abs, max_abs] (or exactly 0), so
    the vectors stay finite and their squared norms do not overflow.

    Parameters
    ----------
    d : int, optional
        Fixed length; None draws one from [min_d, max_d].
    min_d, max_d : int
        Range of the drawn length when ``d`` is None.
    min_abs, max_abs : float
        Range of the nonzero magnitudes, 0 < min_abs ≤ max_abs < 1e100.
    zeros : bool
        Whether entries may be exactly zero.
    ties : {"allow", "none", "force"}
        "none": all magnitudes distinct (e.g. for Top-k, whose output is then unique); "force":
        magnitudes drawn from a pool of at most four values, so ties are frequent; "allow": neither.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Draws a 1-d ``numpy.ndarray`` of float64.

    Raises
    ------
    ValueError
        For magnitudes outside the allowed range or an unknown ``ties``.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(vectors(5, ties="none"))
    ... def test(x):
    ...     assert len(set(abs(x))) == 5
    >>> test()
    """
    _check(min_abs, max_abs, ties)
    dim = st.just(d) if d is not None else dims(min_d, max_d)
    return dim.flatmap(lambda n: _row(n, min_abs, max_abs, zeros, ties))


def arrays(
    m: int | None = None,
    d: int | None = None,
    *,
    min_m: int = 1,
    max_m: int = 5,
    min_d: int = 1,
    max_d: int = 16,
    min_abs: float = 1e-3,
    max_abs: float = 1e3,
    zeros: bool = True,
    ties: str = "allow",
) -> st.SearchStrategy[np.ndarray]:
    """Strategy for C-contiguous float64 (m, d) arrays whose rows follow :func:`byzref.testing.vectors`.

    Parameters
    ----------
    m, d : int, optional
        Fixed shape; None draws the number of rows from [min_m, max_m] and the length from
        [min_d, max_d].
    min_m, max_m, min_d, max_d : int
        Ranges of the drawn shape.
    min_abs, max_abs, zeros, ties
        As in :func:`byzref.testing.vectors`, applied to every row (``ties`` within a row).

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Draws a 2-d ``numpy.ndarray`` of float64.
    """
    _check(min_abs, max_abs, ties)
    rows_n = st.just(m) if m is not None else st.integers(min_m, max_m)
    dim = st.just(d) if d is not None else dims(min_d, max_d)

    def build(shape):
        n_rows, n_cols = shape
        row = _row(n_cols, min_abs, max_abs, zeros, ties)
        rows = st.lists(row, min_size=n_rows, max_size=n_rows)
        return rows.map(lambda rs: np.array(rs, dtype=np.float64).reshape(n_rows, n_cols))

    return st.tuples(rows_n, dim).flatmap(build)
