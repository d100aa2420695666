"""Memory checks: refuse a configuration whose arrays cannot fit BEFORE allocating them.

``check_memory(what, nbytes)`` compares an estimate with the memory this machine has available
(``MemAvailable`` of /proc/meminfo, else ``os.sysconf``) and raises a one-line
:class:`~byzref.errors.ConfigError` such as
"problem.d = 1000000000 needs about 8000.0 GB of memory; this machine has 3.1 GB available".
"""

from __future__ import annotations

import os

from byzref.errors import ConfigError

__all__ = ["FLOAT_BYTES", "available_memory", "check_memory", "format_bytes", "largest_fitting"]

FLOAT_BYTES = 8  # float64


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or None when the platform does not say.

    Reads ``MemAvailable`` from /proc/meminfo (Linux); falls back to
    ``os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")``.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the value is in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages, size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def format_bytes(nbytes: float) -> str:
    """``nbytes`` in GB with one decimal (``"8.0 GB"``); below 0.1 GB in MB, beyond 10⁵ GB as 1.2e+07 GB.

    Parameters
    ----------
    nbytes : float
        A number of bytes (1 GB = 10⁹ bytes).

    Returns
    -------
    str
        The size with its unit.
    """
    gb = nbytes / 1e9
    if gb >= 1e5:
        return f"{gb:.2g} GB"
    return f"{gb:.1f} GB" if gb >= 0.1 else f"{nbytes / 1e6:.1f} MB"


def check_memory(what: str, nbytes: float, *, allowed: str | None = None) -> None:
    """Raise ConfigError when ``nbytes`` exceeds the available memory; do nothing when it fits.

    Parameters
    ----------
    what : str
        What needs the memory, e.g. ``"problem.d = 1000000000 (a 1000000000 × 1000000000 matrix)"``.
    nbytes : float
        Estimated peak bytes (may be a float beyond the int range).
    allowed : str, optional
        The allowed range on this machine, appended as "; allowed: <allowed>".

    Raises
    ------
    ConfigError
        When ``nbytes`` exceeds the available memory.

    Notes
    -----
    The check is skipped when the platform reports no available memory.
    """
    avail = available_memory()
    if avail is None or not nbytes > avail:
        return
    tail = f"; allowed: {allowed}" if allowed else ""
    raise ConfigError(f"{what} needs about {format_bytes(nbytes)} of memory; this machine has "
                      f"{format_bytes(avail)} available{tail}")


def largest_fitting(nbytes_of, lo: int, hi: int, budget: float) -> int | None:
    """The largest integer v in [lo, hi] with ``nbytes_of(v) ≤ budget``, or None.

    A bisection, so ``nbytes_of`` must be nondecreasing in v.

    Parameters
    ----------
    nbytes_of : callable
        ``nbytes_of(v) -> float``, the bytes a configuration with value v needs.
    lo, hi : int
        The range searched, ``lo ≤ hi``.
    budget : float
        Bytes available.

    Returns
    -------
    int or None
        The largest fitting v, or None when even ``lo`` does not fit.
    """
    if nbytes_of(lo) > budget:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if nbytes_of(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo
