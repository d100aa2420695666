"""The public aggregator checkers catch broken rules, and the worker-matrix strategy keeps its promises."""

import math

import numpy as np
import pytest
from hypothesis import given

from byzref.aggregators import build_aggregator
from byzref.aggregators.base import Aggregator
from byzref.testing._matrices import worker_matrices
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


class _Rule(Aggregator):
    """A deliberately broken rule for the checkers (not registered)."""

    def __init__(self, fn, random=False):
        super().__init__(0)
        self.fn, self.random = fn, random
        self.name = "broken"

    def _aggregate(self, X, rng):
        return self.fn(X, rng)


X = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0], [50.0, -40.0]])
GOOD = np.array([True, True, True, False])


def test_permutation_checker_catches_order_dependence():
    with pytest.raises(AssertionError, match="broken: permutation invariance"):
        check_permutation_invariance(_Rule(lambda X, rng: X[0].copy()), X)
    with pytest.raises(AssertionError, match="permutation invariance"):  # random, but not by permutation
        check_permutation_invariance(_Rule(lambda X, rng: X[rng.integers(len(X))].copy(), True), X)
    check_permutation_invariance(_Rule(lambda X, rng: X[rng.permutation(len(X))[0]].copy(), True), X)


def test_translation_checker_catches_a_fixed_origin():
    with pytest.raises(AssertionError, match="translation equivariance"):
        check_translation_equivariance(_Rule(lambda X, rng: np.median(np.abs(X), axis=0)), X, [-3.0, 1.0])
    check_translation_equivariance(build_aggregator("cwmed", f=1), X, [-3.0, 1.0])


def test_identical_rows_checker_catches_a_bias():
    with pytest.raises(AssertionError, match=r"identical rows \(n = 4\)"):
        check_identical_rows(_Rule(lambda X, rng: X.mean(axis=0) + 1e-6), [1.0, 2.0], 4)


def test_coordinate_range_checker_catches_the_mean():
    msg = r"mean: coordinate 0 = 13\.25 is outside the good rows' range \[0\.0, 2\.0\] \(3 good of 4 rows\)"
    with pytest.raises(AssertionError, match=msg):
        check_coordinate_range(build_aggregator("mean"), X, GOOD)
    check_coordinate_range(build_aggregator("cwtm", f=1), X, GOOD)


def test_input_row_and_finite_checkers():
    with pytest.raises(AssertionError, match="is not one of the 4 input rows"):
        check_returns_input_row(build_aggregator("cwmed", f=1), X)
    bad = X.copy()
    bad[3, 0] = np.nan
    with pytest.raises(AssertionError, match=r"non-finite output .* with 1 non-finite input row\(s\) of 4"):
        check_finite_output(build_aggregator("mean"), bad)
    check_finite_output(build_aggregator("cwmed", f=1), bad)


def test_empirical_kappa_skips_subsets_with_nonfinite_rows_and_limits_the_work():
    Y = np.array([[0.0], [2.0], [np.inf]])
    assert empirical_kappa(build_aggregator("cwmed", f=1), Y, 1) == pytest.approx(1.0)  # only S = {0, 1}
    assert empirical_kappa(build_aggregator("mean"), Y, 1) == math.inf  # non-finite output
    with pytest.raises(ValueError, match=r"C\(30, 10\) = 30045015 subsets exceeds max_subsets"):
        empirical_kappa(build_aggregator("mean"), np.zeros((30, 1)), 10)
    with pytest.raises(ValueError, match="f = 3 must satisfy"):
        empirical_kappa(build_aggregator("mean"), np.zeros((3, 1)), 3)


def test_data_scale_ignores_a_minority_of_huge_or_nonfinite_rows():
    Y = np.array([[1.0, -2.0], [0.5, 0.0], [1e300, 0.0], [np.nan, 1.0], [0.0, 3.0]])
    assert data_scale(Y) == 3.0  # row max-norms 2, 0.5, 1e300, inf, 3 → the 3rd smallest


@given(worker_matrices(margin=3, max_n=12))
def test_worker_matrices_respect_their_contract(w):
    assert w.n >= 2 * w.f + 3 and w.X.dtype == np.float64 and w.X.flags.c_contiguous
    assert w.good.sum() == w.n - w.f
    assert np.isfinite(w.X[w.good]).all()


@given(worker_matrices(kinds=("nonfinite",), shuffle=False))
def test_nonfinite_kind_puts_a_nonfinite_entry_in_each_byzantine_row(w):
    assert (~np.isfinite(w.X[~w.good]).all(axis=1)).all()
    assert not w.good[w.n - w.f:].any()  # unshuffled: the last f rows are Byzantine (byzref.roles)


def test_meamed_is_not_range_preserving_as_its_docs_say():
    """The documented counterexample: the n − f values nearest the median may all lie below the good range."""
    from byzref.aggregators.meamed import MeaMed

    X = np.array([[0.0], [10.0], [20.0], [-0.5], [-0.4]])
    good = np.array([True, True, True, False, False])
    assert MeaMed(f=2).evaluate(X)[0] == pytest.approx(-0.3)
    with pytest.raises(AssertionError, match="outside the good rows' range"):
        check_coordinate_range(MeaMed(f=2), X, good)
