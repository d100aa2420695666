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

Hypothesis strategies (loaded on first use, so that importing ``byzref.testing`` does not need
hypothesis; they are not listed below):

* ``vectors(d=None, *, min_d=1, max_d=16, min_abs=1e-3, max_abs=1e3, zeros=True, ties="allow")``:
  float64 vectors whose entries are 0 or ±v with min_abs ≤ v ≤ max_abs; ``ties`` is ``"allow"``,
  ``"none"`` (all magnitudes distinct) or ``"force"`` (magnitudes from three values);
* ``arrays(m=None, d=None, *, min_m=1, max_m=5, ...)``: C-contiguous (m, d) arrays whose rows
  are drawn as by ``vectors``;
* ``dims(min_d=1, max_d=16)``: dimensions in [min_d, max_d];
* ``worker_matrices(*, min_n=1, max_n=10, min_d=1, max_d=5, margin=1, max_f=None,
  kinds=BYZANTINE_KINDS, shuffle=True, max_center=1e3)``: ``Workers`` records (the (n, d)
  matrix ``X``, the declared ``f`` and the mask ``good``) with n ≥ 2f + margin, n − f good rows
  in a cluster and f Byzantine rows at random positions, each of one of the kinds in
  ``BYZANTINE_KINDS`` (``FINITE_KINDS`` leaves out the non-finite one).

The properties these checks test are stated on the pages :ref:`math-compressors` and
:ref:`math-aggregators`; :ref:`guide-own-components` uses them on a component of your own.
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
