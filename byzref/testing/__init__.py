"""Property checks for YOUR OWN compressors and aggregators, the same the project runs on its own.

The hypothesis strategies need hypothesis (``pip install byzref[test]``); the checks themselves
need only NumPy, so ``byzref verify`` uses them on a plain install. Example::

    from hypothesis import given
    from byzref.testing import check_contractive, vectors

    @given(vectors(min_d=2, max_d=30))
    def test_my_compressor_is_contractive(x):
        check_contractive(MyTopK(k=1), x, alpha=1 / x.size)

Compressor checks (classes 𝔹(α) and 𝕌(ω)): :func:`check_contract`, :func:`check_contractive`,
:func:`check_unbiased`, :func:`exact_moments`, :func:`exact_moments_over_subsets`.
Aggregator checks (properties every robust rule has): :func:`check_permutation_invariance`,
:func:`check_translation_equivariance`, :func:`check_identical_rows`, :func:`check_coordinate_range`,
:func:`check_returns_input_row`, :func:`check_finite_output`, :func:`empirical_kappa`.
Hypothesis strategies: :func:`vectors`, :func:`arrays`, :func:`dims`, :func:`worker_matrices`.
"""

import importlib

from byzref.testing.aggregators import (
    check_coordinate_range,
    check_finite_output,
    check_identical_rows,
    check_permutation_invariance,
    check_returns_input_row,
    check_translation_equivariance,
    data_scale,
    empirical_kappa,
)
from byzref.testing.compressors import (
    CheckResult,
    check_contract,
    check_contractive,
    check_unbiased,
    exact_moments,
    exact_moments_over_subsets,
)

# hypothesis strategies (and the worker-matrix kinds they draw), imported on first use
_LAZY = {"BYZANTINE_KINDS": "_matrices", "FINITE_KINDS": "_matrices", "Workers": "_matrices",
         "worker_matrices": "_matrices", "arrays": "_vectors", "dims": "_vectors", "vectors": "_vectors"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"byzref.testing.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'byzref.testing' has no attribute {name!r}")


__all__ = [
    "BYZANTINE_KINDS",
    "FINITE_KINDS",
    "CheckResult",
    "Workers",
    "arrays",
    "check_contract",
    "check_contractive",
    "check_coordinate_range",
    "check_finite_output",
    "check_identical_rows",
    "check_permutation_invariance",
    "check_returns_input_row",
    "check_translation_equivariance",
    "check_unbiased",
    "data_scale",
    "dims",
    "empirical_kappa",
    "exact_moments",
    "exact_moments_over_subsets",
    "vectors",
    "worker_matrices",
]
