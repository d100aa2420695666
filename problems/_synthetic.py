"""Helpers shared by the synthetic problems: exact-ζ² shifts and Gaussian noise samples."""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.np.random.generator_core import next_uint64

from byzref.errors import ConfigError, check_int
from byzref.gaussian import draw_seeds, normal_rows

__all__ = ["check_noise", "draw_gaussian", "draw_seed_kernel", "exact_shifts", "haar_orthogonal",
           "noise_factor"]


def exact_shifts(rng: np.random.Generator, n: int, f: int, d: int, zeta2: float, M=None) -> np.ndarray:
    """Rows s_i (n, d) with Σ_{i∈G} s_i = 0 and (1/|G|) Σ_{i∈G} ‖M s_i‖² = ζ² (M = I when None).

    The good rows are centred Gaussian draws rescaled to hit ζ² exactly; the Byzantine rows are
    uncentred draws with the same scale (their values enter no constant).
    """
    S = rng.standard_normal((n, d))
    g = n - f
    S[:g] -= S[:g].mean(axis=0)
    if zeta2 == 0.0:
        return np.zeros((n, d))
    if g < 2:
        raise ConfigError(f"zeta2 = {zeta2!r} > 0 needs at least 2 good workers, but n = {n}, f = {f} leave "
                          f"n − f = {g}; allowed: f ≤ n − 2 = {n - 2} (or zeta2 = 0)", field="zeta2")
    MS = S[:g] if M is None else S[:g] @ M.T
    raw = float((MS * MS).sum(axis=1).mean())
    if raw <= 0.0:
        raise ConfigError("cannot reach zeta2 > 0: the Hessian annihilates every shift direction")
    return np.ascontiguousarray(S * math.sqrt(zeta2 / raw))


def haar_orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    """A Haar-distributed random orthogonal d × d matrix (QR of a Gaussian, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return np.ascontiguousarray(Q * np.where(np.diag(R) < 0, -1.0, 1.0))


def draw_gaussian(rng: np.random.Generator, n: int, d: int, batch, scales, count=1, out=None) -> np.ndarray:
    """Noise (count, n, k, d) of ``count`` successive draws; plane p ~ N(0, scales[p]² / batch).

    Each draw takes one seed from ``rng`` and worker i's k·d standard normals are row i of
    :func:`byzref.gaussian.normal_rows` (xoshiro256++ and the ziggurat, jitted), so ``count``
    draws at once equal ``count`` single draws, and a kernel can regenerate any worker's row.
    Averaging b i.i.d. Gaussians is again Gaussian with variance divided by b, so one draw per
    worker and plane reproduces a minibatch exactly (the variance is σ²/b, not an estimate).
    ``out`` (optional) is a preallocated float64 C-contiguous buffer of count·n·k·d floats, filled
    in place. The standard normals are drawn even when a scale is 0, so the values do not depend
    on σ beyond the factor (common random numbers across noise levels).
    """
    factors = [noise_factor(s, batch) for s in scales]
    k = len(scales)
    out = normal_rows(draw_seeds(rng, count), n, k * d, out=out).reshape(count, n, k, d)
    for p, c in enumerate(factors):
        out[:, :, p, :] *= c
    return out


def noise_factor(scale: float, batch) -> float:
    """The factor scale/√batch that turns a standard normal into the noise of a batch-``batch`` draw."""
    return scale / math.sqrt(check_int("batch", batch, 1))


def check_noise(samples, n: int, k: int, d: int) -> np.ndarray:
    """Samples as a float64 C-contiguous (n, k, d) array; (n, d) is accepted when k == 1."""
    if not (type(samples) is np.ndarray and samples.dtype == np.float64 and samples.flags.c_contiguous):
        samples = np.ascontiguousarray(samples, dtype=np.float64)
    if k == 1 and samples.shape == (n, d):
        return samples.reshape(n, 1, d)
    if samples.shape != (n, k, d):
        want = f"({n}, {d})" if k == 1 else f"({n}, {k}, {d})"
        raise ConfigError(f"samples has shape {samples.shape}; expected {want} (see problem.draw)")
    return samples


@njit(cache=True)
def draw_seed_kernel(pp, rng, smp):  # pragma: no cover - compiled
    """smp[0] ← the seed of one Gaussian draw, consuming ``rng`` as ``draw_gaussian(rng, …)`` (count 1).

    :func:`byzref.gaussian.draw_seeds` calls ``rng.integers(0, 2**64, dtype=np.uint64)``: the range is
    the full uint64 range, which NumPy serves with one raw 64-bit output of the bit generator. The
    synthetic problems' kernels keep only this seed and regenerate a worker's row with
    :func:`byzref.gaussian.normal_row` when a gradient needs it. ``pp`` is unused (the kernel protocol).
    """
    smp[0] = next_uint64(rng.bit_generator)
