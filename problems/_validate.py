"""Validators shared by the problems (every error names the field, value and allowed range)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable

import numpy as np

from byzref import resources
from byzref.errors import ConfigError, check_int, show

__all__ = ["MAX_SCALE", "as_generator", "check_path", "check_problem_memory", "check_workers", "finite_array",
           "plain"]

#: largest value of a parameter that scales the objective (curvatures, λ, the start): its square,
#: and so L̃², ‖x⁰‖² and ‖∇f‖² along a run, stay finite in float64
MAX_SCALE = 1e100


def plain(v):
    """Recursively turn numpy scalars/arrays into Python floats/lists (JSON-able)."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    return v


def check_workers(n, f) -> tuple[int, int]:
    """Validate n ≥ 1 workers and 0 ≤ f ≤ n − 1 Byzantine workers (the last f are Byzantine).

    Parameters
    ----------
    n : int
        Number of workers, ≥ 1 (None is refused: it is required).
    f : int
        Number of Byzantine workers, in [0, n − 1].

    Returns
    -------
    tuple of int
        (n, f) as Python ints.

    Raises
    ------
    byzref.errors.ConfigError
        When either is out of range.
    """
    if n is None:
        raise ConfigError("n = None: the number of workers is required; allowed range [1, inf]", field="n")
    n = check_int("n", n, 1)
    f = check_int("f", f, 0)
    if f > n - 1:
        raise ConfigError(f"f = {f} with n = {n} workers; allowed f range [0, n − 1 = {n - 1}]", field="f")
    return n, f


def check_problem_memory(name: str, sizes: dict[str, int], nbytes_of: Callable[..., float], arrays: str,
                         extra: str = "") -> None:
    """Refuse a problem whose arrays need more memory than this machine has, before allocating them.

    ``sizes`` maps the size parameters (``n``, ``d``, ...) to their values, ``nbytes_of(**sizes)``
    estimates the peak bytes, ``arrays`` says what is allocated and ``extra`` adds fixed context
    (e.g. the number of samples in a file). The message gives the estimate, the available memory
    and, as the allowed range, the largest value of each size that fits with the others unchanged.
    """
    avail = resources.available_memory()
    need = nbytes_of(**sizes)
    if avail is None or not need > avail:
        return
    alternatives = []
    for key, value in sizes.items():
        best = resources.largest_fitting(lambda v, key=key: nbytes_of(**{**sizes, key: v}), 1, value, avail)
        if best is not None:
            others = ", ".join(f"{k} = {v}" for k, v in sizes.items() if k != key)
            alternatives.append(f"{key} ≤ {best}" + (f" at {others}" if others else ""))
    given = ", ".join(f"{k} = {v}" for k, v in sizes.items())
    resources.check_memory(f"problem {name!r} with {given}{extra} ({arrays})", need,
                           allowed=" or ".join(alternatives) or "a smaller problem")


def check_path(field: str, path) -> str:
    """A file path given as a str or os.PathLike (not bytes, not empty); returns it as str."""
    if isinstance(path, (str, os.PathLike)) and not isinstance(path, bytes):
        text = os.fspath(path)
        if isinstance(text, str) and text.strip() and "\0" not in text:
            return text
    raise ConfigError(f"{field} = {show(path)} is not a file path; allowed: a string naming a LIBSVM file",
                      field=field)


def as_generator(rng) -> np.random.Generator:
    """Accept a numpy Generator (or an int seed); anything else is a ConfigError.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        A generator (returned as is) or a seed for ``numpy.random.default_rng``.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ConfigError(f"rng must be a numpy Generator (or an int seed), got {rng!r}")


def finite_array(field: str, value, ndim: int) -> np.ndarray:
    """``value`` as a C-contiguous float64 array with ``ndim`` dimensions and finite entries.

    Parameters
    ----------
    field : str
        The name the error messages give the value.
    value : array_like
        The data.
    ndim : int
        The required number of dimensions.

    Returns
    -------
    numpy.ndarray
        A C-contiguous float64 array (a copy only when a conversion is needed).

    Raises
    ------
    byzref.errors.ConfigError
        When the dimension is wrong, the array is empty or an entry is NaN or infinite.
    """
    a = np.ascontiguousarray(value, dtype=np.float64)
    if a.ndim != ndim:
        raise ConfigError(f"{field} must be {ndim}-dimensional, got shape {a.shape}")
    if a.size == 0:
        raise ConfigError(f"{field} is empty (shape {a.shape})")
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ConfigError(f"{field} contains a non-finite value (NaN or inf) at index {tuple(bad.tolist())}")
    return a
