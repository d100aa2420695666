"""Coordinate-wise median (Yin, Chen, Ramchandran, Bartlett, ICML 2018)."""

from __future__ import annotations

from typing import Any, ClassVar

from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.aggregators.cwtm import network_bytes, trim_kernel, trimmed_mean
from byzref.kernels import Kernel

__all__ = ["CWMed"]


@AGGREGATORS.register("cwmed")
class CWMed(Aggregator):
    r"""Coordinate-wise median (mean of the two middle values when n is even).

    Definition (Yin et al. 2018): Agg(X)_k = median(x_{1k}, …, x_{nk}); for even n the mean of the values
    of rank n/2 and n/2 + 1. This equals the trimmed mean with b = ⌊(n − 1)/2⌋, which is how it is
    computed (the cwtm sorting-network kernel). See :ref:`aggregator-cwmed`.

    Parameters
    ----------
    f : int, default 0
        Declared Byzantine count, used only for validation: needs f < n/2.

    Notes
    -----
    With f < n/2 each output coordinate lies in the range of the good rows' values. Non-finite
    input: NaN is ordered as +inf; with at most f < n/2 non-finite rows the middle ranks are
    finite. No κ constant is declared.

    References
    ----------
    Yin, Chen, Ramchandran, Bartlett, "Byzantine-robust distributed learning: towards optimal
    statistical rates", ICML 2018, arXiv:1803.01498.
    """

    needs_f_lt_half = True
    f_in_numbers = False  # f only validates
    test_config: ClassVar[dict[str, Any]] = {}

    def memory(self, n: int, d: int) -> float:
        """Peak bytes of the column sort (``cwtm.network_bytes``).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        float
            Estimated peak bytes beyond the input.
        """
        return network_bytes(n, d)

    def _aggregate(self, X, rng):
        return trimmed_mean(X, (X.shape[0] - 1) // 2)

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled median: the trimmed-mean kernel with b = ⌊(n − 1)/2⌋.

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.aggregators.base.Aggregator.kernel`.
        """
        self.check(n)
        return trim_kernel(n, d, (n - 1) // 2)
