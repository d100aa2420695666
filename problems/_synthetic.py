"""Helpers shared by the synthetic problems: exact-ζ² shifts and Gaussian noise samples (SPEC §7)."""

from __future__ import annotations

import math

import numpy as np

from byzref.errors import ConfigError, check_int

__all__ = ["check_noise", "draw_gaussian", "exact_shifts", "haar_orthogonal"]


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
        raise ConfigError(f"zeta2 = {zeta2!r} > 0 needs at least 2 good workers, got n − f = {g}")
    MS = S[:g] if M is None else S[:g] @ M.T
    raw = float((MS * MS).sum(axis=1).mean())
    if raw <= 0.0:
        raise ConfigError("cannot reach zeta2 > 0: the Hessian annihilates every shift direction")
    return np.ascontiguousarray(S * math.sqrt(zeta2 / raw))


def haar_orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    """A Haar-distributed random orthogonal d × d matrix (QR of a Gaussian, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return np.ascontiguousarray(Q * np.where(np.diag(R) < 0, -1.0, 1.0))


def draw_gaussian(rng: np.random.Generator, n: int, d: int, batch, scales, out=None) -> np.ndarray:
    """Noise planes (n, k, d), plane p ~ N(0, scales[p]² / batch): the mean of ``batch`` i.i.d. draws.

    Averaging b i.i.d. Gaussians is again Gaussian with variance divided by b, so one draw per
    worker and plane reproduces a minibatch exactly (the variance is σ²/b, not an estimate).
    ``out`` (optional) is a preallocated buffer of n·k·d floats filled in place (same values).
    The standard normals are drawn even when a scale is 0, so the stream's consumption does not
    depend on σ (common random numbers across noise levels).
    """
    b = check_int("batch", batch, 1)
    if out is None:
        out = rng.standard_normal((n, len(scales), d))
    else:  # a preallocated float64 C-contiguous buffer of n·k·d floats, filled in place
        out = out.reshape(n, len(scales), d)
        rng.standard_normal(out=out)
    for p, s in enumerate(scales):
        out[:, p, :] *= s / math.sqrt(b)
    return out


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
