"""The public compressor checkers and strategies (byzref.testing) accept good and reject bad compressors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from byzref.compressors import CONTRACTIVE, UNBIASED, Compressor, build_compressor
from byzref.testing._vectors import arrays, vectors
from byzref.testing.compressors import (
    CheckResult,
    check_contract,
    check_contractive,
    check_unbiased,
    exact_moments,
    exact_moments_over_subsets,
)

X = np.array([[3.0, -1.0, 0.5, 2.0, -0.25, 1.5], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])


# ---- strategies ----------------------------------------------------------------------------------
@settings(max_examples=30)
@given(vectors(min_d=2, max_d=9, ties="none", min_abs=0.5, max_abs=4.0))
def test_vectors_tie_free_and_bounded(x):
    a = np.abs(x)
    assert len(set(a.tolist())) == len(x) and 2 <= len(x) <= 9
    assert ((a == 0) | ((a >= 0.5) & (a <= 4.0))).all() and (a == 0).sum() <= 1


@settings(max_examples=30)
@given(vectors(7, ties="force", zeros=False, min_abs=0.1, max_abs=5.0))
def test_vectors_forced_ties(x):
    assert len(x) == 7 and set(np.abs(x).tolist()) <= {0.1, 1.0, 5.0}


@settings(max_examples=30)
@given(arrays(min_m=2, max_m=3, d=4, zeros=False))
def test_arrays_shape(A):
    assert A.dtype == np.float64 and A.flags.c_contiguous and A.shape[1] == 4 and 2 <= A.shape[0] <= 3
    assert (A != 0).all()


def test_strategy_arguments_checked():
    with pytest.raises(ValueError, match="ties"):
        vectors(ties="some")
    with pytest.raises(ValueError, match="min_abs"):
        arrays(min_abs=0.0)


# ---- exact moments ---------------------------------------------------------------------------------
def test_exact_moments_by_hand():
    mean, mse = exact_moments([[2.0, 0.0], [0.0, 4.0]], [0.5, 0.5], [1.0, 2.0])
    assert mean.tolist() == [1.0, 2.0] and mse == 5.0  # rand-1 of (1, 2): ω‖x‖² = 1·5
    mean, mse = exact_moments_over_subsets(np.array([1.0, 2.0, -2.0]), 1, scale=1.0)
    assert np.allclose(mean, [1 / 3, 2 / 3, -2 / 3]) and math.isclose(mse, (2 / 3) * 9)
    with pytest.raises(ValueError, match="sum to 1"):
        exact_moments([[1.0]], [0.9], [1.0])


# ---- checkers accept the library's compressors ---------------------------------------------------------
@pytest.mark.parametrize(("config", "kind"), [
    ({"name": "top_k", "k": 2}, "c"), ({"name": "rand_k", "k": 3}, "u"),
    ({"name": "natural"}, "u"), ({"name": "scaled_sign"}, "c"),
])
def test_checkers_pass(config, kind):
    comp = build_compressor(config)
    res = (check_contractive if kind == "c" else check_unbiased)(comp, X, rng=np.random.default_rng(0))
    assert isinstance(res, CheckResult) and res.observed <= res.bound + res.tolerance
    assert res.exact == comp.deterministic and str(res).startswith(res.check)


# ---- ... and reject wrong declarations ----------------------------------------------------------------
def test_contractive_rejects_too_large_alpha():
    top2 = build_compressor({"name": "top_k", "k": 2})
    with pytest.raises(AssertionError, match="1 − α"):
        check_contractive(top2, X, alpha=0.9)  # row 2 loses 4/6 of its energy
    with pytest.raises(AssertionError, match="1 − α"):
        check_contractive(build_compressor({"name": "rand_k_biased", "k": 2}), X, alpha=0.5)  # true α = 1/3


def test_unbiased_rejects_bias_and_small_omega():
    with pytest.raises(AssertionError, match="E C"):
        check_unbiased(build_compressor({"name": "rand_k_biased", "k": 3}), X, omega=10.0)
    with pytest.raises(AssertionError, match="ω"):
        check_unbiased(build_compressor({"name": "natural"}), X * 1.3, omega=0.01)
    with pytest.raises(ValueError, match="declares no"):
        check_unbiased(build_compressor({"name": "top_k", "k": 1}), X)


class _Bad(Compressor):
    classes = (CONTRACTIVE,)
    deterministic = True
    flaw = ""

    def alpha(self, d):
        return 2.0 if self.flaw == "alpha" else 0.5

    def bits(self, d):
        return 0.0 if self.flaw == "bits" else 1.0

    def _compress(self, X, rng):
        if self.flaw == "mutates":
            X *= 0.5
            return X.copy()
        if self.flaw == "aliases":
            X *= 1.0
            return X
        if self.flaw == "shift":
            return X * 0.5 + 1.0
        if self.flaw == "unseeded":
            return X * np.random.default_rng().random()
        return X * 0.5


@pytest.mark.parametrize(("flaw", "message"), [("alpha", "alpha in (0, 1]"), ("bits", "bits > 0"),
                                               ("mutates", "input not mutated"), ("aliases", "alias"),
                                               ("shift", "C(0) = 0"), ("unseeded", "same seed")])
def test_contract_catches_flaws(flaw, message):
    bad = _Bad()
    bad.flaw = flaw
    with pytest.raises(AssertionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_contract(bad, 5)
    assert check_contract(_Bad(), 5).checks[-1] == "rows compressed independently"


def test_contract_catches_inconsistent_classes():
    class Both(_Bad):
        classes = (CONTRACTIVE, UNBIASED)  # but omega() is None

    with pytest.raises(AssertionError, match="omega"):
        check_contract(Both(), 4)


@settings(max_examples=15)
@given(arrays(max_m=2, min_d=2, max_d=8), st.integers(1, 8))
def test_checkers_on_hypothesis_inputs(A, k):
    k = min(k, A.shape[1])
    check_contractive(build_compressor({"name": "top_k", "k": k}), A)
    check_unbiased(build_compressor({"name": "qsgd", "s": 2}), A, n_samples=500)
