"""Compressors: conformance, exact moments by enumeration, Monte Carlo, kernels vs references."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import compressors as ref

from byzref.compressors import COMPRESSORS, build_compressor
from byzref.compressors.natural import _natural_rows
from byzref.compressors.qsgd import _qsgd_rows
from byzref.compressors.rand_k import _rand_k_rows, rand_k_subsets
from byzref.compressors.top_k import _kth_smallest, _top_k_rows
from byzref.errors import ConfigError
from byzref.testing._vectors import arrays, vectors
from byzref.testing.compressors import check_contract, check_contractive, check_unbiased

SMALL = settings(max_examples=40)


class FixedUniforms:
    """Stands in for a numpy Generator: ``random(shape)`` returns the given uniforms."""

    def __init__(self, U):
        self.U = np.asarray(U, dtype=np.float64)

    def random(self, shape):
        assert tuple(shape) == self.U.shape, (shape, self.U.shape)
        return self.U.copy()


def build(name, **kw):
    return build_compressor({"name": name, **COMPRESSORS.get(name).test_config, **kw})


# ---- conformance: every registered compressor ---------------------------------------------------
@pytest.mark.parametrize("name", COMPRESSORS.names())
@pytest.mark.parametrize("d", [2, 5, 33])
def test_conformance(name, d):
    comp = build(name)
    res = check_contract(comp, d, m=4, seed=d)
    assert "C(0) = 0" in res.checks and "input not mutated" in res.checks
    x = np.random.default_rng(d).standard_normal((2, d))
    if comp.is_contractive():
        check_contractive(comp, x, rng=np.random.default_rng(1))
    if comp.is_unbiased():
        check_unbiased(comp, x, rng=np.random.default_rng(2))


def test_registry_has_the_spec_table():
    assert set(COMPRESSORS.names()) >= {"identity", "top_k", "rand_k", "rand_k_biased", "natural", "qsgd",
                                        "scaled_sign"}


@pytest.mark.parametrize(("name", "d", "alpha", "omega", "bits"), [
    ("identity", 10, 1.0, 0.0, 320),
    ("top_k", 10, 0.2, None, 2 * (32 + 4)),
    ("rand_k", 10, None, 4.0, 2 * (32 + 4)),
    ("rand_k_biased", 10, 0.2, None, 2 * (32 + 4)),
    ("natural", 10, None, 0.125, 90),
    ("qsgd", 10, None, min(10 / 16, math.sqrt(10) / 4), 32 + 10 * (1 + 3)),
    ("qsgd", 1000, None, math.sqrt(1000) / 4, 32 + 1000 * 4),
    ("scaled_sign", 10, 0.1, None, 42),
])
def test_declared_constants(name, d, alpha, omega, bits):
    comp = build(name)
    assert comp.alpha(d) == alpha and comp.omega(d) == omega and comp.bits(d) == bits


def test_float_bits_and_index_bits():
    assert build("top_k", float_bits=16).bits(1024) == 2 * (16 + 10)
    assert build("top_k", float_bits=16).bits(1025) == 2 * (16 + 11)
    assert build("identity", float_bits=64).bits(3) == 192


@pytest.mark.parametrize(("config", "d", "needle"), [
    ({"name": "top_k", "k": 0}, None, "k = 0"),
    ({"name": "rand_k", "k": 2.5}, None, "k must be an integer"),
    ({"name": "qsgd", "s": 0}, None, "s = 0"),
    ({"name": "identity", "float_bits": 0}, None, "float_bits = 0"),
    ({"name": "top_k", "k": 6}, 5, "k = 6 is outside the allowed range [1, d] = [1, 5]"),
    ({"name": "rand_k", "k": 6}, 5, "k = 6 is outside the allowed range [1, d] = [1, 5]"),
    ({"name": "rand_k_biased", "k": 9}, 5, "[1, 5]"),
    ({"name": "top_k", "q": 1}, None, "unknown parameter"),
])
def test_bad_parameters(config, d, needle):
    with pytest.raises(ConfigError) as e:
        comp = build_compressor(config)
        comp(np.ones((2, d)), np.random.default_rng(0))
    assert needle in str(e.value)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 0), ()])
def test_bad_shapes(shape):
    with pytest.raises(ConfigError):
        build("top_k")(np.ones(shape))


def test_random_compressor_needs_rng():
    with pytest.raises(ConfigError, match="needs an rng"):
        build("rand_k")(np.ones(4))


# ---- top_k ---------------------------------------------------------------------------------------
@SMALL
@given(vectors(max_d=12), st.data())
def test_top_k_contraction(x, data):
    d = len(x)
    k = data.draw(st.integers(1, d))
    y = build("top_k", k=k)(x)
    kept = y != 0
    assert kept.sum() <= k and np.array_equal(y[kept], x[kept])
    dropped = np.sort(np.abs(x[~kept]))
    if kept.any():  # no dropped entry beats a kept one
        assert dropped.size == 0 or dropped[-1] <= np.abs(x[kept]).min()
    err = math.fsum(x[~kept] ** 2)
    assert err <= (1 - k / d) * math.fsum(x**2) + 1e-12 * math.fsum(x**2)


def test_top_k_tie_rule_by_hand():
    t = build("top_k", k=2)
    assert t(np.array([1.0, -1.0, 1.0, 0.5])).tolist() == [1.0, -1.0, 0.0, 0.0]
    assert t(np.array([0.5, 2.0, -2.0, 2.0])).tolist() == [0.0, 2.0, -2.0, 0.0]
    assert build("top_k", k=3)(np.zeros(5)).tolist() == [0.0] * 5
    assert build("top_k", k=1)(np.array([np.nan, 0.0, -0.0])).tolist() == [0.0, 0.0, 0.0]
    y = build("top_k", k=2)(np.array([np.nan, 1.0, -np.inf]))
    assert y[1] == 1.0 and y[2] == -np.inf and y[0] == 0.0


@SMALL
@given(arrays(max_d=10, ties="force"), st.data())
def test_top_k_ties_match_stable_sort(X, data):
    k = data.draw(st.integers(1, X.shape[1]))
    assert np.array_equal(build("top_k", k=k)(X), ref.top_k(X, k))


@SMALL
@given(arrays(max_d=20, ties="none"), st.data())
def test_top_k_kernel_vs_reference_tie_free(X, data):
    k = data.draw(st.integers(1, X.shape[1]))
    assert np.array_equal(_top_k_rows(X, k, np.zeros_like(X)), ref.top_k(X, k))


def _adversarial_rows(d, rng):
    """Inputs that stress the sampled-threshold path (d ≥ 4096): order, ties, spikes, non-finite."""
    g = rng.standard_normal(d)
    spikes = np.zeros(d)
    spikes[:: max(64, d // 8192)] = 1e3  # every sampled position is huge: the sample misleads
    with_nan = g.copy()
    with_nan[rng.choice(d, 50, replace=False)] = np.nan
    with_nan[:3] = [np.inf, -np.inf, np.nan]
    rows = [g, np.sort(np.abs(g)), -np.sort(np.abs(g))[::-1], spikes, spikes + 1e-3 * g,
            np.round(g), np.zeros(d), np.ones(d), with_nan, rng.integers(-2, 3, d).astype(float)]
    return np.array(rows)


@pytest.mark.parametrize(("d", "k"), [(5000, 1), (5000, 40), (5000, 600), (5000, 624), (5000, 4999),
                                      (20000, 100), (20000, 2500)])
def test_top_k_kernel_vs_reference_large(d, k):
    rng = np.random.default_rng(d + k)
    X = _adversarial_rows(d, rng)
    np.testing.assert_array_equal(_top_k_rows(X, k, np.zeros_like(X)), ref.top_k(X, k))


@pytest.mark.parametrize("max_rounds", [0, 1, 3, 64])
@pytest.mark.parametrize("kind", ["normal", "ties", "sorted", "reversed", "organ"])
def test_kth_smallest_vs_partition(kind, max_rounds):
    rng = np.random.default_rng(len(kind) + max_rounds)
    n = 3001
    a = {"normal": rng.standard_normal(n), "ties": rng.integers(0, 4, n).astype(float),
         "sorted": np.arange(n, dtype=float), "reversed": np.arange(n, 0, -1, dtype=float),
         "organ": np.abs(np.arange(n) - n // 2).astype(float)}[kind]
    for kth in [0, 1, n // 3, n - 2, n - 1]:
        w = np.concatenate([a, [99.0]])  # the entry past n must stay untouched
        assert _kth_smallest(w, n, kth, max_rounds) == np.sort(a)[kth]
        assert np.array_equal(np.sort(w[:n]), np.sort(a)) and w[n] == 99.0


# ---- rand_k and rand_k_biased: exact enumeration -------------------------------------------------
def _all_floyd_uniforms(d, k):
    """Every draw tuple (t_0..t_{k-1}), t_i ∈ {0..d−k+i}, as uniforms at the centres of their cells."""
    ranges = [range(d - k + i + 1) for i in range(k)]
    T = np.array(list(itertools.product(*ranges)), dtype=np.float64).reshape(-1, k)
    return (T + 0.5) / np.arange(d - k + 1, d + 1)


@pytest.mark.parametrize(("d", "k"), [(1, 1), (4, 1), (4, 2), (5, 3), (6, 4), (5, 5), (7, 2)])
def test_floyd_sampler_is_uniform_over_subsets(d, k):
    masks = rand_k_subsets(_all_floyd_uniforms(d, k), d)
    assert (masks.sum(axis=1) == k).all()
    counts = {}
    for m in masks:
        counts[tuple(np.flatnonzero(m))] = counts.get(tuple(np.flatnonzero(m)), 0) + 1
    assert sorted(counts) == list(itertools.combinations(range(d), k))
    assert set(counts.values()) == {math.factorial(k)}  # d!/(d−k)! draw tuples over C(d, k) subsets


@settings(max_examples=15)
@given(vectors(min_d=2, max_d=6, zeros=True), st.data())
def test_rand_k_exact_moments(x, data):
    d = len(x)
    k = data.draw(st.integers(1, d))
    U = _all_floyd_uniforms(d, k)  # equally likely draw tuples = the exact output distribution
    X = np.repeat(x[None, :], len(U), axis=0)
    sq = math.fsum(x**2)
    cases = [("rand_k", x, (d / k - 1) * sq), ("rand_k_biased", (k / d) * x, (1 - k / d) * sq)]
    for name, mean, mse in cases:
        Y = build(name, k=k)(X, FixedUniforms(U))
        np.testing.assert_allclose(Y.mean(axis=0), mean, rtol=1e-12, atol=1e-12 * math.sqrt(sq))
        assert math.isclose(((Y - x) ** 2).sum(axis=1).mean(), mse, rel_tol=1e-12, abs_tol=1e-12 * sq)


@SMALL
@given(arrays(max_d=12, ties="none"), st.data())
def test_rand_k_kernel_vs_reference(X, data):
    k = data.draw(st.integers(1, X.shape[1]))
    U = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).random((X.shape[0], k))
    np.testing.assert_array_equal(_rand_k_rows(X, U, 1.5, np.zeros_like(X)), ref.rand_k(X, U, 1.5))


def test_rand_k_kernel_vs_reference_large():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 20000))
    U = rng.random((3, 500))
    np.testing.assert_array_equal(_rand_k_rows(X, U, 40.0, np.zeros_like(X)), ref.rand_k(X, U, 40.0))


# ---- Monte Carlo: the batched random kernels realise those expectations ---------------------------
N_MC = 20000
Z = 6.0


def _subset_moments(x, k, scale):
    """Mean, per-coordinate variance, E e and Var e of e = ‖C(x) − x‖², by enumerating subsets."""
    outs = []
    for S in itertools.combinations(range(len(x)), k):
        y = np.zeros_like(x)
        y[list(S)] = scale * x[list(S)]
        outs.append(y)
    outs = np.array(outs)
    e = ((outs - x) ** 2).sum(axis=1)
    return outs.mean(axis=0), outs.var(axis=0), e.mean(), e.var()


@pytest.mark.parametrize(("name", "k"), [("rand_k", 2), ("rand_k_biased", 2), ("rand_k", 5)])
def test_rand_k_monte_carlo(name, k):
    x = np.array([1.0, -2.0, 0.5, 3.0, 0.0, -1.5])
    d = len(x)
    comp = build(name, k=k)
    mean, var, e_mean, e_var = _subset_moments(x, k, comp.scale(d))
    Y = comp(np.repeat(x[None, :], N_MC, axis=0), np.random.default_rng(7))
    tol = Z * np.sqrt(var / N_MC) + 1e-12
    assert (np.abs(Y.mean(axis=0) - mean) <= tol).all()
    e = ((Y - x) ** 2).sum(axis=1)
    assert abs(e.mean() - e_mean) <= Z * math.sqrt(e_var / N_MC) + 1e-12
    # rows are independent: P(j kept in row 2i and in row 2i+1) = (k/d)², not k/d
    kept = Y != 0
    both = (kept[0::2] & kept[1::2])[:, x != 0].mean(axis=0)
    q = (k / d) ** 2
    assert (np.abs(both - q) <= Z * math.sqrt(q * (1 - q) / (N_MC // 2)) + 1e-12).all()


# ---- natural and qsgd: exact per-coordinate moments (two outcomes per coordinate) -----------------
def _natural_moments(v):
    """Independent: mean, variance and P(round up) of natural rounding of one float v (Fractions)."""
    if v == 0:
        return Fraction(0), Fraction(0), Fraction(0)
    _, e = math.frexp(abs(v))  # |v| = m 2^e, m ∈ [0.5, 1)
    lo, hi, a = Fraction(2) ** (e - 1), Fraction(2) ** e, Fraction(abs(v))
    p = (a - lo) / (hi - lo)
    sign = 1 if v > 0 else -1
    return sign * (lo + p * (hi - lo)), (hi - a) * (a - lo), p


def _qsgd_moments(x, s):
    """Independent: per-coordinate means, variances and P(level up) of QSGD for a vector x."""
    norm = math.sqrt(math.fsum(x**2))
    if norm == 0:
        return np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    r = s * np.abs(x) / norm
    p = r - np.floor(r)
    return x.copy(), (norm / s) ** 2 * p * (1 - p), p


def _two_outcome_moments(comp, X):
    low, high, p = comp.outcomes(X)
    assert ((p >= 0) & (p <= 1)).all()
    return low + p * (high - low), p * (1 - p) * (high - low) ** 2


@settings(max_examples=60)
@given(arrays(max_d=12, min_abs=1e-6, max_abs=1e6))
def test_natural_exact_moments(X):
    comp = build("natural")
    mean, var = _two_outcome_moments(comp, X)
    for x, mu, v in zip(X.ravel(), mean.ravel(), var.ravel(), strict=True):
        m_ref, v_ref, _ = _natural_moments(float(x))
        assert m_ref == x  # the definition is unbiased ...
        assert mu == x and math.isclose(v, float(v_ref), rel_tol=1e-12, abs_tol=0)  # ... and so is the code
        assert v_ref <= Fraction(float(x)) ** 2 / 8  # per entry ω = 1/8
    assert (var.sum(axis=1) <= comp.omega(X.shape[1]) * (X**2).sum(axis=1) * (1 + 1e-12)).all()


@settings(max_examples=60)
@given(arrays(max_d=12), st.integers(1, 9))
def test_qsgd_exact_moments(X, s):
    comp = build("qsgd", s=s)
    mean, var = _two_outcome_moments(comp, X)
    d = X.shape[1]
    for i, x in enumerate(X):
        m_ref, v_ref, _ = _qsgd_moments(x, s)
        sq = math.fsum(x**2)
        np.testing.assert_allclose(mean[i], m_ref, rtol=1e-12, atol=1e-12 * math.sqrt(sq))
        np.testing.assert_allclose(var[i], v_ref, rtol=1e-9, atol=1e-12 * sq)
        assert var[i].sum() <= min(d / s**2, math.sqrt(d) / s) * sq * (1 + 1e-12)
        assert var[i].sum() <= comp.omega(d) * sq * (1 + 1e-12)


@pytest.mark.parametrize("name", ["natural", "qsgd"])
def test_two_outcome_wiring(name):
    """C(x)_j is high_j iff the row's uniform u_j < p_j; every output is one of the two outcomes."""
    comp = build(name)
    X = np.random.default_rng(0).standard_normal((4, 9)) * 3
    X[0, :3] = [1.0, -4.0, 0.0]  # p = 0 (natural: powers of two and zero stay put, even for u = 0)
    X[1] = [0.0] * 8 + [2.0]  # qsgd: a single nonzero entry is exact (p = 0)
    low, high, p = comp.outcomes(X)
    U = np.random.default_rng(1).random(X.shape)
    rtol = 0 if name == "natural" else 1e-15  # the qsgd kernel sums ‖x‖² in its own order
    for u, want in [(U, np.where(U < p, high, low)), (np.zeros(X.shape), np.where(p > 0, high, low)),
                    (np.full(X.shape, 1 - 2**-53), low)]:
        np.testing.assert_allclose(comp(X, FixedUniforms(u)), want, rtol=rtol, atol=0)


@pytest.mark.parametrize("name", ["natural", "qsgd"])
def test_two_outcome_monte_carlo(name):
    comp = build(name)
    x = np.array([3.0, -0.7, 0.0, 1.0, 5.5, -2.2])  # 1.0 is a power of two: no randomness for natural
    if name == "natural":
        ref_var, p = np.array([[float(f) for f in _natural_moments(v)[1:]] for v in x]).T
    else:
        _, ref_var, p = _qsgd_moments(x, comp.s)
    Y = comp(np.repeat(x[None, :], N_MC, axis=0), np.random.default_rng(11))
    assert (np.abs(Y.mean(axis=0) - x) <= Z * np.sqrt(ref_var / N_MC) + 1e-12 * np.abs(x)).all()
    e = ((Y - x) ** 2).sum(axis=1)
    # Var e ≤ E e² ≤ (max e)²; e takes finitely many values, bounded by Σ_j (high_j − low_j)²
    low, high, _ = comp.outcomes(x)
    e_max = ((high - low) ** 2).sum()
    assert abs(e.mean() - ref_var.sum()) <= Z * e_max / math.sqrt(N_MC)
    up = np.abs(Y) > (np.abs(low) + np.abs(high)) / 2  # rounded up; rows 2i and 2i+1 independent
    q = p**2
    both = (up[0::2] & up[1::2]).mean(axis=0)
    assert (np.abs(both - q) <= Z * np.sqrt(q * (1 - q) / (N_MC // 2)) + 1e-12).all()


@settings(max_examples=30)
@given(arrays(max_d=12, min_abs=1e-8, max_abs=1e8), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_natural_qsgd_kernels_vs_reference(X, s, seed):
    U = np.random.default_rng(seed).random(X.shape)
    np.testing.assert_array_equal(_natural_rows(X, U, np.empty_like(X)), ref.natural(X, U))
    np.testing.assert_allclose(_qsgd_rows(X, U, float(s), np.empty_like(X)), ref.qsgd(X, U, s),
                               rtol=1e-14, atol=0)


def test_natural_qsgd_kernels_special_values():
    X = np.array([[0.0, -0.0, 0.0], [1.0, np.inf, -2.0], [np.nan, 3.0, 0.0], [1.7e308, -2.0**1023, 6e-320],
                  [0.75, 1e-300, -1e300]])
    U = np.random.default_rng(5).random(X.shape)
    np.testing.assert_array_equal(_natural_rows(X, U, np.empty_like(X)), ref.natural(X, U))
    with np.errstate(over="ignore"):  # the reference's norm overflows on row 3, like the kernel's
        np.testing.assert_allclose(_qsgd_rows(X, U, 3.0, np.empty_like(X)), ref.qsgd(X, U, 3), rtol=1e-14)


def test_natural_edge_values():
    comp = build("natural")
    x = np.array([0.0, -0.0, 1.0, -0.25, 5e-324, np.inf, -np.inf, 1.7e308, 2.0**1023])
    low, high, p = comp.outcomes(x)
    assert p.tolist() == [0.0] * 9 and np.array_equal(low, x) and high[2] == 2.0 and high[3] == -0.5
    assert np.array_equal(high[[0, 1, 5, 6, 7, 8]], x[[0, 1, 5, 6, 7, 8]])
    y = comp(np.array([3.0, -3.0, 1.5e300]), np.random.default_rng(0))
    assert y[0] in (2.0, 4.0) and y[1] in (-2.0, -4.0) and np.isfinite(y[2])


# ---- scaled_sign ----------------------------------------------------------------------------------
@SMALL
@given(vectors(max_d=15, zeros=False))
def test_scaled_sign_alpha_identity(x):
    comp = build("scaled_sign")
    d, l1, sq = len(x), math.fsum(np.abs(x)), math.fsum(x**2)
    a = l1**2 / (d * sq)
    assert math.isclose(comp.alpha_of(x), a, rel_tol=1e-12) and a >= 1 / d * (1 - 1e-12)
    err = math.fsum((comp(x) - x) ** 2)
    assert math.isclose(err, (1 - a) * sq, rel_tol=1e-9, abs_tol=1e-12 * sq)


@SMALL
@given(vectors(max_d=15, zeros=True))
def test_scaled_sign_with_zeros(x):
    """sign(0) = 0: ‖C(x) − x‖² = ‖x‖² − ‖x‖₁²(1 + z/d)/d ≤ (1 − α(x))‖x‖²."""
    comp = build("scaled_sign")
    d, l1, sq, z = len(x), math.fsum(np.abs(x)), math.fsum(x**2), int((x == 0).sum())
    err = math.fsum((comp(x) - x) ** 2)
    assert math.isclose(err, sq - l1**2 * (1 + z / d) / d, rel_tol=1e-9, abs_tol=1e-12 * sq)
    assert err <= (1 - comp.alpha_of(x)) * sq + 1e-12 * sq  # 1 − α(x) cancels: absolute slack


def test_scaled_sign_alpha_of_batch_and_zero():
    comp = build("scaled_sign")
    a = comp.alpha_of(np.array([[1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    assert a.tolist() == [1.0, 0.25, 1.0]
    assert comp(np.array([1.0, -3.0, 0.0, 2.0])).tolist() == [1.5, -1.5, 0.0, 1.5]
