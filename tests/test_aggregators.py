"""Aggregators and pre-aggregators: golden values, properties, non-finite input, errors."""

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from byzref.aggregators import AGGREGATORS, PRE_AGGREGATORS, build_aggregator
from byzref.errors import ConfigError
from byzref.testing._matrices import BYZANTINE_KINDS, FINITE_KINDS, worker_matrices
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

X3 = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])


# --- golden values: byzfl's conventions reproduced by setting our parameters to byzfl's (byzfl's own tests)

@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ("mean", [4, 5, 6]),
        ("cwmed", [4, 5, 6]),
        ("cwtm(b=1)", [4, 5, 6]),
        ("gm(start=zero, nu=0.1, max_iter=3, tol=0)", [3.78788764, 4.78788764, 5.78788764]),
        # byzfl takes f = 1 here; krum needs n ≥ 2f + 3, so its byzfl parameters are given with f = 0:
        # m_nb = n − f − 1 = 1 neighbour, m = n − f = 2 rows (f enters only through these)
        ("krum(m_nb=1, f=0)", [1, 2, 3]),  # all scores tie at 27 → lowest index
        ("multikrum(m=2, m_nb=1, f=0)", [2.5, 3.5, 4.5]),
        ("meamed", [2.5, 3.5, 4.5]),
        ("cclip(tau=100, L=1)", [4, 5, 6]),  # first call: v⁰ = 0
    ],
)
def test_byzfl_golden_values(spec, want):
    np.testing.assert_allclose(build_aggregator(spec, f=1).evaluate(X3), want, rtol=1e-8)


def test_nnm_golden_value():
    want = [[2.5, 3.5, 4.5], [2.5, 3.5, 4.5], [5.5, 6.5, 7.5]]  # row 1: tie 0 vs 2 → lowest index
    np.testing.assert_allclose(PRE_AGGREGATORS.build("nnm", f=1)(X3), want, rtol=1e-15)


def test_small_hand_computed_values():
    X = np.array([[0.0, 10], [1, 7], [5, 9], [100, -50]])
    np.testing.assert_array_equal(build_aggregator("cwmed").evaluate(X), [3, 8])  # even n: mid pair
    np.testing.assert_array_equal(build_aggregator("cwtm", f=1).evaluate(X), [3, 8])
    # meamed f=1, column 0: median 3, distances 3, 2, 2, 97 → values 1, 5 (dist 2) and 0 (dist 3)
    np.testing.assert_allclose(build_aggregator("meamed", f=1).evaluate(X), [2, 26 / 3])
    # Krum m_nb=1: nearest-other squared distances 10, 10, 17, big → tie rows 0, 1 → row 0
    # (f = 0: krum needs n ≥ 2f + 3; with m_nb given, f does not enter the scores)
    np.testing.assert_array_equal(build_aggregator("krum(m_nb=1)", f=0).evaluate(X), X[0])


# --- properties over every rule; a config is (spec, margin: the strategy needs n ≥ 2f + margin,
#     Byzantine kinds (None: all), rtol of the equality checks relative to the data scale)

# gm runs a fixed number of updates (tol = 0) here: with a stopping tolerance two row orders may stop
# at different updates, and near an optimum at a data point smoothed Weiszfeld converges slowly, so
# their outputs can differ by much more than tol. Exact-count runs are equivariant up to rounding,
# amplified: when an iterate passes at distance r ≥ ν from a data point x_j, the weight 1/r moves by
# (scale/r)·(relative change), up to scale/ν = 1e8 times a rounding error, hence rtol ≈ 1e8·eps → 1e-6.
# From the mean a huge row also puts the early iterates at its scale, and their rounding (absolute
# 1e-16·1e85, say) survives into the slow final phase: mean-started gm is tested without "huge" rows.
# Krum-type rules get margin 4 (n ≥ 2f + 4, so m_nb = n − f − 2 ≥ 2): with m_nb = 1 the two mutually
# nearest rows ALWAYS tie, and "ties → lowest index" then depends on the row order. Krum after nnm is
# left out for the same reason: nnm makes duplicate rows, which tie (see the two finding tests below);
# so is meamed after nnm (duplicates make equal distances to the median, and rounding picks the side),
# and gm after nnm starts from the median (exact duplicates take the returned-median shortcut while
# near-duplicates iterate). nnm pipelines get no "huge" rows: a row at 1e140 is at the same float64
# distance from every row far below it, and the lowest-index tie rule then decides which of them it
# averages, so its output (and what the next rule trims) depends on the order.
NOT_HUGE = tuple(k for k in BYZANTINE_KINDS if k != "huge")
GM_RTOL = 1e-6
ROBUST = [
    ("cwmed", 1, None, 1e-10), ("cwtm", 1, None, 1e-10), ("meamed", 1, None, 1e-10),
    ("krum", 4, None, 1e-10), ("multikrum", 4, None, 1e-10),
    ("gm(tol=0, max_iter=40)", 1, NOT_HUGE, GM_RTOL),
    ("gm(start=median, tol=0, max_iter=40)", 1, None, GM_RTOL),
    ("cclip-centred", 1, None, 1e-10), ("bucketing(2)+cwmed", 1, None, 1e-10),
    ("nnm+cwtm", 1, NOT_HUGE, 1e-10), ("nnm+cwmed", 1, NOT_HUGE, 1e-10),
    ("nnm+gm(start=median, tol=0, max_iter=40)", 1, NOT_HUGE, GM_RTOL),
]
EQUIVARIANT = [c for c in ROBUST if c[0] != "cclip-centred"]


def _agg(spec, f, d):
    if spec == "cclip-centred":  # the centre is a vector, which the spec grammar does not hold
        return build_aggregator({"name": "cclip", "tau": 5.0, "L": 4, "center": np.zeros(d)}, f=f)
    return build_aggregator(spec, f=f)


def _fits(agg, n):
    """False when the rule's condition fails for n rows (after bucketing(2): f < ⌈n/2⌉/2)."""
    try:
        agg.check(n)
    except ConfigError:
        return False
    return True


def _workers(data, margin, kinds=None):
    return data.draw(worker_matrices(margin=margin, max_n=9, **({} if kinds is None else {"kinds": kinds})))


@pytest.mark.parametrize(("spec", "margin", "kinds", "rtol"), ROBUST)
@given(data=st.data())
def test_permutation_invariance(spec, margin, kinds, rtol, data):
    w = _workers(data, margin, kinds)
    agg = _agg(spec, w.f, w.d)
    assume(_fits(agg, w.n))
    check_permutation_invariance(agg, w.X, seed=data.draw(st.integers(0, 99)), rtol=rtol)


def test_permutation_invariance_of_mean_on_finite_rows():
    w = np.random.default_rng(0).standard_normal((7, 4))
    check_permutation_invariance(build_aggregator("mean"), w, rtol=1e-13)


@pytest.mark.parametrize(("spec", "margin", "kinds", "rtol"),
                         [*EQUIVARIANT, ("mean", 1, FINITE_KINDS, 1e-10)])
@given(data=st.data())
def test_translation_equivariance(spec, margin, kinds, rtol, data):
    w = _workers(data, margin, kinds)
    agg = _agg(spec, w.f, w.d)
    assume(_fits(agg, w.n))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    v = rng.standard_normal(w.d) * 10.0 ** rng.uniform(-3, 3)
    check_translation_equivariance(agg, w.X, v, seed=3, rtol=10 * rtol)


@given(data=st.data())
def test_cclip_is_translation_equivariant_with_its_centre(data):
    w = data.draw(worker_matrices())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    c, v = rng.standard_normal(w.d), rng.standard_normal(w.d) * 100
    agg = build_aggregator({"name": "cclip", "center": c})
    check_translation_equivariance(agg, w.X, v, shifted=build_aggregator({"name": "cclip", "center": c + v}))


def test_cclip_is_not_translation_equivariant_with_a_fixed_centre():
    X = np.full((3, 1), 100.0)  # far beyond L·τ = 30 from the centre 0: three steps of τ = 10
    agg = build_aggregator("cclip")
    np.testing.assert_allclose(agg.evaluate(X), [30.0])
    with pytest.raises(AssertionError, match="translation equivariance"):
        check_translation_equivariance(agg, X, [-100.0])


@pytest.mark.parametrize("spec", ["mean", "cwmed", "cwtm", "meamed", "krum", "multikrum", "gm",
                                  "nnm+cwtm", "bucketing(3)+gm", "nnm+multikrum"])
@given(n=st.integers(3, 9), x=st.lists(st.floats(-1e6, 1e6, allow_subnormal=False), min_size=1, max_size=5))
def test_identical_rows_give_that_row(spec, n, x):
    f = (n - 3) // 2 if "krum" in spec else (n - 1) // 2
    if "bucketing" in spec:
        f = (math.ceil(n / 3) - 1) // 2
    check_identical_rows(build_aggregator(spec, f=f), x, n)


@given(n=st.integers(1, 6), r=st.floats(0, 1), x=st.lists(st.floats(-10, 10), min_size=1, max_size=4))
def test_cclip_identical_rows_within_L_tau_of_the_centre(n, r, x):
    x = np.array(x)
    u = np.random.default_rng(len(x)).standard_normal(len(x))
    c = x + r * 3 * 2.0 * u / np.linalg.norm(u)  # ‖x − c‖ = r·L·τ with L = 3, τ = 2
    check_identical_rows(build_aggregator({"name": "cclip", "tau": 2.0, "L": 3, "center": c}), x, n,
                         atol=1e-12 * (1 + np.abs(c).max()))


@pytest.mark.parametrize("spec", ["cwmed", "cwtm", "cwtm_b_plus_1"])
@given(data=st.data())
def test_coordinatewise_output_within_good_range(spec, data):
    w = data.draw(worker_matrices(max_n=11))
    if spec == "cwtm_b_plus_1":
        assume(2 * (w.f + 1) < w.n)
        agg = build_aggregator({"name": "cwtm", "b": w.f + 1}, f=w.f)
    else:
        agg = build_aggregator(spec, f=w.f)
    check_coordinate_range(agg, w.X, w.good)


@given(data=st.data())
def test_krum_returns_an_input_row(data):
    w = data.draw(worker_matrices(margin=3))
    check_returns_input_row(build_aggregator("krum", f=w.f), w.X)
    check_returns_input_row(build_aggregator({"name": "krum", "m_nb": w.n - w.f - 1}, f=w.f), w.X)


@given(data=st.data())
def test_gm_first_order_optimality(data):
    # A returned point passed the stopping test ‖T(z) − z‖ ≤ tol·(1 + ‖z‖), and T(z) − z = g(z)/Σ w_i
    # with g(z) = Σ (x_i − z)/max(ν, ‖x_i − z‖) over the finite rows: so ‖g(z)‖ ≤ tol·(1 + ‖z‖)·Σ w_i.
    # Near-degenerate inputs (two tight pairs: the minimiser is almost a whole segment) make the
    # objective so flat that Weiszfeld crawls for > 10⁵ updates; the bound is claimed for converged runs.
    w = data.draw(worker_matrices())
    gm = build_aggregator({"name": "gm", "nu": 1e-6, "tol": 1e-9, "max_iter": 10_000}, f=w.f)
    z, _, converged = gm.solve(w.X)
    assume(converged)
    Y = w.X[np.isfinite(w.X).all(axis=1)]
    dist = np.array([np.linalg.norm(y - z) for y in Y])
    weights = 1.0 / np.maximum(gm.nu, dist)
    g = ((Y - z) * weights[:, None]).sum(axis=0)
    bound = gm.tol * (1 + np.linalg.norm(z)) * weights.sum()
    rounding = 1e-12 * len(Y) * (weights * np.abs(Y - z).max(axis=1)).sum()
    assert np.linalg.norm(g) <= bound + rounding


def test_gm_default_converges_on_a_generic_cluster_with_outliers():
    rng = np.random.default_rng(7)
    X = np.vstack([rng.standard_normal((16, 100)), 50 + rng.standard_normal((4, 100))])
    z, updates, converged = build_aggregator("gm", f=4).solve(X)
    assert converged and updates < 100
    assert np.linalg.norm(z - X[:16].mean(axis=0)) < 0.5 * np.linalg.norm(X[:16].std(axis=0))


# --- non-finite input: every rule except mean returns a finite vector when ≤ f rows are non-finite

NONFINITE = [("cwmed", 1), ("cwtm", 1), ("meamed", 1), ("krum", 3), ("multikrum", 3), ("gm", 1),
             ("cclip", 1), ("nnm+mean", 1), ("nnm+cwmed", 1), ("bucketing(2)+cwtm", 1),
             ("nnm+bucketing(s=2)+krum(m_nb=1)", 1)]


@pytest.mark.parametrize(("spec", "margin"), NONFINITE)
@given(data=st.data())
def test_nonfinite_rows_give_finite_output(spec, margin, data):
    w = data.draw(worker_matrices(margin=margin, min_n=3, kinds=("nonfinite", "huge", "far")))
    agg = build_aggregator(spec, f=w.f)
    assume(_fits(agg, w.n))
    check_finite_output(agg, w.X, seed=1)


def test_nnm_output_rows_are_finite_and_pipeline_mean_is_finite():
    X = np.array([[0.0, 1], [1, 0], [1, 1], [np.nan, 2], [np.inf, -np.inf]])
    Y = PRE_AGGREGATORS.build("nnm", f=2)(X)
    assert np.isfinite(Y).all()
    # non-finite rows copy the output of the most central finite row: row 2 (distances 1, 1)
    np.testing.assert_allclose(Y[3], X[:3].mean(axis=0))
    np.testing.assert_allclose(Y[4], Y[2])


def test_mean_propagates_nonfinite_rows():
    assert not np.isfinite(build_aggregator("mean").evaluate([[1.0, 0], [np.inf, 0], [-np.inf, 0]])).all()


# --- pre-aggregators, state, κ


@given(n=st.integers(1, 12), s=st.integers(1, 5), d=st.integers(1, 3), seed=st.integers(0, 99))
def test_bucketing_shapes_and_given_permutation(n, s, d, seed):
    X = np.random.default_rng(seed).standard_normal((n, d))
    b = PRE_AGGREGATORS.build({"name": "bucketing", "s": s})
    assert b.out_rows(n) == -(-n // s)
    out = b(X, np.random.default_rng(seed))
    assert out.shape == (-(-n // s), d)
    perm = np.random.default_rng(seed).permutation(n)
    np.testing.assert_array_equal(out, b.apply_permutation(X, perm))  # the rng's first draw is π
    sigma = np.random.default_rng(seed + 1).permutation(n)
    np.testing.assert_array_equal(b.apply_permutation(X[sigma], perm), b.apply_permutation(X, sigma[perm]))
    # bucket means over actual sizes: the column sums are preserved when weighted by the sizes
    sizes = np.minimum(np.arange(0, n, s) + s, n) - np.arange(0, n, s)
    np.testing.assert_allclose(sizes @ out, X.sum(axis=0), rtol=1e-12, atol=1e-12)


@given(data=st.data())
def test_nnm_shape_and_permutation_equivariance(data):
    # no "huge" rows: their distances to the good rows agree to all float64 digits, and the
    # resulting ties pick neighbours by index (the huge row's own output then depends on order)
    w = data.draw(worker_matrices(kinds=("far", "near", "zero", "flip")))
    nnm = PRE_AGGREGATORS.build("nnm", f=w.f)
    Y = nnm(w.X)
    assert Y.shape == w.X.shape
    sigma = np.random.default_rng(w.n).permutation(w.n)
    np.testing.assert_allclose(nnm(w.X[sigma]), Y[sigma], rtol=1e-12, atol=1e-12 * data_scale(w.X))


def test_cclip_state_follows_server_calls_only():
    agg = build_aggregator({"name": "cclip", "tau": 1.0, "L": 1})
    X = np.array([[10.0, 0], [10, 0]])
    np.testing.assert_allclose(agg.evaluate(X), [1, 0])  # from 0, one clipped step of τ = 1
    np.testing.assert_allclose(agg.evaluate(X), [1, 0])  # evaluate does not move the centre
    np.testing.assert_allclose(agg(X), [1, 0])
    np.testing.assert_allclose(agg(X), [2, 0])  # starts from the previous output
    agg.reset()
    np.testing.assert_allclose(agg(X), [1, 0])


def test_empirical_kappa_hand_computed():
    X = np.array([[0.0], [2], [4]])
    # Agg = 2; S = {0,1}: x̄ = 1, spread 1, error 1; S = {0,2}: error 0; S = {1,2}: ratio 1 → κ̂ = 1
    assert empirical_kappa(build_aggregator("mean"), X, 1) == pytest.approx(1.0)
    assert empirical_kappa(build_aggregator("cwmed", f=1), X, 1) == pytest.approx(1.0)
    assert empirical_kappa(build_aggregator("mean"), X, 0) == pytest.approx(0.0)
    assert empirical_kappa(build_aggregator("mean"), [[0.0], [0], [3]], 1) == math.inf


@given(data=st.data())
def test_declared_kappa_of_mean_bounds_the_empirical_one(data):
    w = data.draw(worker_matrices(kinds=()))
    agg = build_aggregator("mean")
    assert agg.kappa(w.n) == 0.0
    assert empirical_kappa(agg, w.X, 0) <= 1e-20


# --- bad input


def test_f_too_large_names_f_n_and_range():
    msg = r"cwmed: f = 2 with n = 4 rows; this rule needs f < n/2, i\.e\. f ≤ 1"
    with pytest.raises(ConfigError, match=msg):
        build_aggregator("cwmed", f=2).evaluate(np.zeros((4, 2)))


@pytest.mark.parametrize(
    ("spec", "n", "match"),
    [
        ({"name": "cwtm", "b": 2}, 4, r"cwtm: b = 2 with n = 4 rows; needs 2b < n, i\.e\. b ≤ 1"),
        ("krum", 4, r"krum needs n ≥ 2f \+ 3 \(n = 4, f = 1 given\); allowed f range \[0, 0\]"),
        ("multikrum", 2, r"multikrum needs n ≥ 2f \+ 3 \(n = 2, f = 1 given\); allowed: n ≥ 3 rows"),
        ({"name": "krum", "m_nb": 4}, 5, r"m_nb = 4 with n = 5, f = 1; allowed range \[1, n − f − 1 = 3\]"),
        ({"name": "multikrum", "m": 5, "m_nb": 1}, 5, r"multikrum: m = 5 .* \[1, n − f = 4\]"),
        ("bucketing(s=2)+cwmed", 4, r"cwmed: f = 1 with n = 2 rows"),
        ("nnm+gm", 2, r"gm: f = 1 with n = 2 rows"),
    ],
)
def test_parameter_errors_against_n(spec, n, match):
    with pytest.raises(ConfigError, match=match):
        build_aggregator(spec, f=1).check(n)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"name": "gm", "start": "origin"}, r"start = 'origin' is not allowed; valid values: 'mean', 'zero'"),
        ({"name": "gm", "nu": 0.0}, r"nu = 0.0 is outside the allowed range \(0, inf\)"),
        ({"name": "cclip", "tau": -1.0}, r"tau = -1.0 is outside the allowed range"),
        ({"name": "cclip", "L": 0},
         r"L = 0 is outside the allowed range \[1, 1000000\] \(aggregator 'cclip'\)"),
        ({"name": "cwtm", "b": -1}, r"b = -1 is outside the allowed range \[0, ⌊\(n − 1\)/2⌋\]"),
        ({"name": "cclip", "center": [np.nan]}, r"center = \[nan\] is not allowed; allowed: a "
                                                r"non-empty 1-D vector of finite real numbers"),
        ({"name": "krum", "m_nb": -1}, r"m_nb = -1 is outside the allowed range \[1, n − f − 1\]"),
    ],
)
def test_constructor_errors(config, match):
    with pytest.raises(ConfigError, match=match):
        AGGREGATORS.build(config)


def test_input_errors():
    with pytest.raises(ConfigError, match=r"\(n, d\) array"):
        build_aggregator("cwmed").evaluate(np.zeros(3))
    with pytest.raises(ConfigError, match="is random and needs an rng"):
        build_aggregator("bucketing(2)+cwmed").evaluate(np.zeros((4, 2)))
    with pytest.raises(ConfigError, match=r"s = 0 is outside the allowed range \[1, inf\]"):
        PRE_AGGREGATORS.build({"name": "bucketing", "s": 0})
    with pytest.raises(ConfigError, match=r"aggregator\.center = \[0\.0, 0\.0\] has 2 entries but the "
                                          r"problem has d = 3; allowed: a vector of length d = 3"):
        build_aggregator({"name": "cclip", "center": [0.0, 0.0]}).evaluate(np.zeros((2, 3)))


#: a docstring names the paper a rule comes from: an author-year citation or an arXiv number
_CITES = re.compile(r"\b(19|20)\d\d\b|arXiv:")


def test_every_registered_component_builds_from_its_test_config():
    for name in AGGREGATORS.names():
        agg = AGGREGATORS.build({"name": name, **AGGREGATORS.get(name).test_config}, f=4)
        out = agg.describe(20)
        assert out["name"] == name and out["kappa_lower_bound"] == pytest.approx(4 / 12)
        agg.check(20)
        assert agg.__doc__ and re.search(r"Definition|Agg\(X\)|argmin", agg.__doc__), name  # states the rule
        assert _CITES.search(agg.__doc__), name  # and the paper it comes from
    for name in PRE_AGGREGATORS.names():
        pre = PRE_AGGREGATORS.build({"name": name, **PRE_AGGREGATORS.get(name).test_config}, f=4)
        assert pre.describe(20)["out_rows"] == pre.out_rows(20)
        assert pre.__doc__ and "Definition" in pre.__doc__, name
        assert _CITES.search(pre.__doc__), name


def test_krum_with_one_neighbour_ties_structurally_and_depends_on_row_order():
    # Finding: with m_nb = 1 the mutually nearest pair shares its score, so "ties → lowest index"
    # makes Krum order dependent for every input of this shape (not only for degenerate ones).
    X = np.array([[0.64], [0.105], [-0.132]])
    krum = build_aggregator("krum(m_nb=1)")
    assert krum.evaluate(X)[0] == 0.105 and krum.evaluate(X[::-1])[0] == -0.132


def test_krum_after_nnm_ties_on_duplicate_rows_and_depends_on_row_order():
    # Finding: nnm maps rows with the same neighbour set to the same vector; here (n − f = 4 nearest
    # of 5, no distance ties) the rows 0, 1, 5 all drop 11 and the rows 10, 11 drop 0, giving the
    # pattern A, A, A, B, B with A = 16/4, B = 27/4. With m_nb = 1 every duplicate scores 0, so A
    # and B tie and the lowest-index rule picks by row order.
    X = np.array([[0.0], [1], [5], [10], [11]])
    agg = build_aggregator("nnm+krum(m_nb=1)", f=1)
    assert agg.evaluate(X)[0] == 4.0
    assert agg.evaluate(X[::-1])[0] == 6.75


def test_gm_from_the_mean_needs_more_than_100_updates_against_a_huge_attack():
    # Finding (documented in gm): from z⁰ = mean, each update shrinks a far Byzantine pull by about
    # f/(n − f) = 9/11, so with 9 rows at 1e12 the default gm stops at max_iter far from the good rows
    # (rows within the float range: no restart, the numbers are the plain Weiszfeld ones).
    rng = np.random.default_rng(0)
    X = np.vstack([rng.standard_normal((11, 10)), np.tile(1e12 * rng.standard_normal(10), (9, 1))])
    z_mean, updates, conv_mean = build_aggregator("gm", f=9).solve(X)
    z_med, _, conv_med = build_aggregator("gm(start=median)", f=9).solve(X)
    assert not conv_mean and updates == 100 and np.linalg.norm(z_mean) > 1000
    assert conv_med and np.linalg.norm(z_med) < 10


def test_gm_from_the_mean_restarts_from_the_median_when_rows_leave_the_float_range():
    # rows at ±1e300 overflow the column sums and the squared norms: only then does the unconverged
    # mean-started run restart from the median, with a fresh budget
    rng = np.random.default_rng(0)
    X = np.vstack([rng.standard_normal((11, 10)), np.tile(1e300 * np.sign(rng.standard_normal(10)), (9, 1))])
    z_fixed, _, _ = build_aggregator("gm(tol=0)", f=9).solve(X)
    z_mean, updates, conv_mean = build_aggregator("gm", f=9).solve(X)
    z_med, _, conv_med = build_aggregator("gm(start=median)", f=9).solve(X)
    assert np.abs(z_fixed).max() > 1000  # 100 fixed updates from the mean stay far away
    assert conv_mean and updates > 100 and np.linalg.norm(z_mean) < 10
    assert conv_med and np.linalg.norm(z_med) < 10
    np.testing.assert_array_equal(z_mean, z_med)  # the restart is the median-started run
