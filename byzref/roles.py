"""The one place that fixes which workers are Byzantine: the last f of the n.

By convention the Byzantine workers are the LAST ``f`` of ``n`` indices; the good set is
``G = {0, ..., n - f - 1}``. Nothing else in the code base may assume a different layout.
"""

from __future__ import annotations

from byzref.errors import check_int

__all__ = ["byzantine_slice", "check_n_f", "good_slice", "n_good"]


def check_n_f(n: int, f: int) -> tuple[int, int]:
    """Validate the number of workers ``n ≥ 1`` and Byzantine workers ``0 ≤ f < n``.

    Parameters
    ----------
    n : int
        Number of workers, n ≥ 1.
    f : int
        Number of Byzantine workers, 0 ≤ f ≤ n − 1.

    Returns
    -------
    tuple of int
        ``(n, f)`` as ints.

    Raises
    ------
    ConfigError
        When either is out of range.
    """
    n = check_int("n", n, 1)
    f = check_int("f", f, 0, n - 1)
    return n, f


def n_good(n: int, f: int) -> int:
    """The number of good workers, ``|G| = n − f``.

    Parameters
    ----------
    n : int
        Number of workers.
    f : int
        Number of Byzantine workers.

    Returns
    -------
    int
        ``n - f``.
    """
    return n - f


def good_slice(n: int, f: int) -> slice:
    """Rows of the good workers in an (n, d) array: the first ``n − f``.

    Parameters
    ----------
    n : int
        Number of workers.
    f : int
        Number of Byzantine workers.

    Returns
    -------
    slice
        ``slice(0, n - f)``.
    """
    return slice(0, n - f)


def byzantine_slice(n: int, f: int) -> slice:
    """Rows of the Byzantine workers in an (n, d) array: the last ``f``.

    Parameters
    ----------
    n : int
        Number of workers.
    f : int
        Number of Byzantine workers.

    Returns
    -------
    slice
        ``slice(n - f, n)``.
    """
    return slice(n - f, n)
