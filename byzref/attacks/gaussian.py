"""Attack ``gaussian``: independent Gaussian noise rows (Blanchard et al., NeurIPS 2017).

See :ref:`attack-gaussian`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from numba import njit

from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_real
from byzref.kernels import Kernel

__all__ = ["Gaussian", "gaussian_kernel"]


@njit(cache=True)
def gaussian_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """out[i, j] ← rng.normal(μ, σ_a) in C order: the draws of ``rng.normal(μ, σ_a, size=(f, d))``.

    ``H``, ``own``, ``t`` and ``pk`` are unused.

    Parameters
    ----------
    params : tuple
        (μ, σ_a).
    H : numpy.ndarray
        The (n − f, d) good rows, read only.
    own : numpy.ndarray
        The (f, d) Byzantine workers' own protocol rows (``ctx.own_rows()``; the flipped rows under
        ``label_flip``).
    t : int
        Iteration index.
    rng : numpy.random.Generator
        The run's "attack" stream.
    pk : tuple
        Parameters of the aggregator probe (the compiled ``ctx.aggregate``).
    out : numpy.ndarray
        The (f, d) Byzantine rows, written in full.
    """
    mu, sigma = params
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = rng.normal(mu, sigma)


@ATTACKS.register("gaussian")
class Gaussian(Attack):
    """Gaussian: each Byzantine row is an independent draw from N(μ·1, σ_a² I).

    Definition (the Gaussian Byzantine workers of Blanchard et al., NeurIPS 2017): b_j ~ N(μ 1_d, σ_a² I_d)
    for j = 1..f, independent across rows and rounds,
    drawn from the attack's generator (``rng`` is required). Unlike most other attacks the rows differ.
    See :ref:`attack-gaussian`.

    Parameters
    ----------
    mu : float, default 0.0
        Mean of every coordinate (0 is the usual attack; byzfl's ``Gaussian`` exposes it).
    sigma : float ≥ 0, default 1.0
        Standard deviation σ_a per coordinate (byzfl's default). σ_a = 0 sends the constant μ.
    """

    random = True
    test_config: ClassVar[dict[str, Any]] = {"mu": 0.0, "sigma": 1.0}

    def __init__(self, mu: float = 0.0, sigma: float = 1.0):
        self.mu = check_real("mu", mu)
        self.sigma = check_real("sigma", sigma, 0.0)

    def _rows(self, H, ctx, rng):
        return rng.normal(self.mu, self.sigma, size=(ctx.f, H.shape[1]))

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.gaussian.gaussian_kernel` with (μ, σ_a).

        Parameters
        ----------
        n : int
            Number of workers.
        f : int
            Number of Byzantine workers.
        d : int
            Dimension.

        Returns
        -------
        byzref.kernels.Kernel
            The kernel function and its parameters.
        """
        return Kernel(gaussian_kernel, (float(self.mu), float(self.sigma)))
