"""Named, independent random streams.

A run has one root seed. Every consumer of randomness (problem instance, each worker's samples,
compressor, attack, bucketing, ...) gets its own stream

    Generator(SFC64(SeedSequence(root, spawn_key=(stable_hash(name_1), ..., stable_hash(name_k)))))

so adding an algorithm or an attack never shifts another stream, and every algorithm run on the
same problem and seed sees the same data and noise (common random numbers).

The bit generator is SFC64 (Chris Doty-Humphrey's small fast chaotic generator, part of NumPy):
it passes the same statistical test batteries as PCG64 and is the fastest of NumPy's generators
on the reference machine. The Gaussian noise of the synthetic problems (n·d values every
iteration) is not drawn with ``standard_normal``: each draw takes one 64-bit seed from the
"samples" stream and :mod:`byzref.gaussian` expands it, worker row by worker row, in jitted code.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["seed_sequence", "stable_hash", "stream"]


def stable_hash(name: str | int) -> int:
    """A platform- and run-independent 32-bit hash of a name (CRC-32 of its UTF-8 bytes).

    Parameters
    ----------
    name : str or int
        A stream name. Integers (not bools) hash to themselves masked to 32 bits, so that indices
        such as worker ids are cheap; anything else hashes as ``str(name)``.

    Returns
    -------
    int
        A value in ``[0, 2³²)``.
    """
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        return int(name) & 0xFFFFFFFF
    return zlib.crc32(str(name).encode("utf-8"))


def seed_sequence(root: int, *names: str | int) -> np.random.SeedSequence:
    """The ``numpy.random.SeedSequence`` of the stream named ``names`` under seed ``root``.

    See :ref:`math-streams`.

    Parameters
    ----------
    root : int
        The run's root seed.
    *names : str or int
        The stream's name, one or more parts (``"compressor", "good"``); each part is hashed
        with :func:`byzref.rng.stable_hash` into the spawn key.

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence(root, spawn_key=(stable_hash(name_1), ..., stable_hash(name_k)))``.
    """
    return np.random.SeedSequence(int(root), spawn_key=tuple(stable_hash(n) for n in names))


def stream(root: int, *names: str | int) -> np.random.Generator:
    """A fresh SFC64 generator for the stream named ``names`` under seed ``root``.

    Two calls with the same arguments give generators in the same state; different names give
    independent streams. See :ref:`math-streams`.

    Parameters
    ----------
    root : int
        The run's root seed.
    *names : str or int
        The stream's name, as for :func:`byzref.rng.seed_sequence`.

    Returns
    -------
    numpy.random.Generator
        ``Generator(SFC64(seed_sequence(root, *names)))``.

    Examples
    --------
    >>> a = stream(0, "attack").standard_normal(3)
    >>> b = stream(0, "attack").standard_normal(3)
    >>> bool((a == b).all())
    True
    """
    return np.random.Generator(np.random.SFC64(seed_sequence(root, *names)))
