"""Kernels of every registered aggregator and pre-aggregator against their Python methods, bit for bit.

Generated from the registries: each rule is built from its ``test_config`` (plus the settings
below, where they apply) and, for n ∈ {1, 3, 7, 20}, d ∈ {1, 5, 100} and every allowed f among a
few, on Gaussian, tied, duplicated, signed-zero, huge and non-finite rows, ``kernel(n, d)`` must
write exactly ``_aggregate`` / ``_apply`` and leave the generator in the same state. A registered
rule without a kernel fails here.
"""

import zlib

import numpy as np
import pytest

from byzref.aggregators import AGGREGATORS, PRE_AGGREGATORS, Aggregator, PreAggregator
from byzref.errors import ConfigError
from byzref.kernels import Kernel

NS = (1, 3, 7, 20)
DS = (1, 5, 100)
KINDS = ("gauss", "ties", "dups", "zeros", "huge", "nonfinite")

#: extra settings per rule (beyond test_config); a rule not listed is checked with its test_config only
SETTINGS = {
    "cclip": [{}, {"tau": 0.3, "L": 1}, {"tau": 1e300, "L": 4}, {"center": "ones"}],
    "cwtm": [{}, {"b": 0}, {"b": 1}],
    "gm": [{}, {"start": "zero", "nu": 0.1, "max_iter": 3, "tol": 0.0}, {"start": "median"},
           {"max_iter": 2}, {"max_iter": 0}, {"nu": 1e-3, "tol": 1e-6}],
    "krum": [{}, {"m_nb": 1}],
    "multikrum": [{}, {"m": 1}, {"m": 2, "m_nb": 1}],
    "bucketing": [{}, {"s": 1}, {"s": 3}, {"s": 50}],
}


def _configs(registry):
    for name in registry.names():
        for i, extra in enumerate(SETTINGS.get(name, [{}])):
            yield pytest.param(name, extra, id=f"{name}-{i}")


def _build(registry, name, extra, f, d):
    params = {**registry.get(name).test_config, **extra}
    if isinstance(params.get("center"), str):
        params["center"] = np.linspace(-1.0, 1.0, d)
    return registry.build({"name": name, **params}, f=f)


def _fs(n):
    return sorted({0, 1, (n - 1) // 2, max(0, (n - 3) // 2), n - 1})


def _rows(kind, seed, n, d, n_bad):
    """An (n, d) C-contiguous float64 input of the given kind (n_bad non-finite rows for "nonfinite")."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-3, 3, (n, 1))
    if kind == "ties":
        X = rng.integers(-2, 3, (n, d)).astype(np.float64)
    elif kind == "dups":
        X[rng.integers(n, size=n // 2)] = X[0]
        X[n // 2:] = X[: n - n // 2]
    elif kind == "zeros":
        X = np.where(rng.random((n, d)) < 0.5, -0.0, 0.0)
        X[0] = 1e-320  # a subnormal
    elif kind == "huge":
        m = max(1, n // 2)
        X[:m] = np.sign(X[:m]) * 10.0 ** rng.uniform(300, 308, (m, d))
        if n > 2:
            X[1] = np.sign(X[1]) * 1.7e308
    elif kind == "nonfinite":
        for i in range(n_bad):
            hit = rng.random(d) < 0.5
            hit[rng.integers(d)] = True
            X[i, hit] = rng.choice([np.inf, -np.inf, np.nan], int(hit.sum()))
        X = X[rng.permutation(n)]
    return np.ascontiguousarray(X)


def _state(rng):
    return rng.bit_generator.state


def _pair(seed):
    return np.random.Generator(np.random.SFC64(seed)), np.random.Generator(np.random.SFC64(seed))


def _readonly(X):
    Y = X.copy()
    Y.setflags(write=False)
    return Y


def _same_signs(out, want, rule):
    """Signed zeros agree too (the sign of a NaN carries no meaning and is not compared)."""
    num = ~np.isnan(want)
    assert np.array_equal(np.signbit(out[num]), np.signbit(want[num])), f"{rule!r}: signs of zeros differ"


def check_aggregator(agg, X, seed, kern=None):
    """Assert that agg's kernel gives ``_aggregate(X, rng)`` bit for bit and the same generator state."""
    n, d = X.shape
    kern = agg.kernel(n, d) if kern is None else kern
    assert isinstance(kern, Kernel) and isinstance(kern.params, tuple) and len(kern.params) > 0
    r_py, r_k = _pair(seed)
    out = np.full(d, -7.25)
    Xk = _readonly(X)
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # the Python rule on huge rows may warn
            want = agg.evaluate(X, r_py)
    except ArithmeticError as exc:  # out of the rule's contract (e.g. more than f non-finite rows)
        with pytest.raises(type(exc)):
            kern.fn(kern.params, Xk, r_k, False, out)
        return
    kern.fn(kern.params, Xk, r_k, False, out)
    np.testing.assert_array_equal(out, want, err_msg=f"{agg!r} n={n} d={d}")
    _same_signs(out, want, agg)
    np.testing.assert_equal(_state(r_k), _state(r_py))
    np.testing.assert_array_equal(Xk, X)


def check_pre_aggregator(pre, X, seed, kern=None):
    """Assert that pre's kernel gives ``_apply(X, rng)`` bit for bit and the same generator state."""
    n, d = X.shape
    kern = pre.kernel(n, d) if kern is None else kern
    assert isinstance(kern, Kernel) and isinstance(kern.params, tuple) and len(kern.params) > 0
    r_py, r_k = _pair(seed)
    out = np.full((pre.out_rows(n), d), -7.25)
    Xk = _readonly(X)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            want = pre(X, r_py)
    except ArithmeticError as exc:
        with pytest.raises(type(exc)):
            kern.fn(kern.params, Xk, r_k, out)
        return
    kern.fn(kern.params, Xk, r_k, out)
    np.testing.assert_array_equal(out, want, err_msg=f"{pre!r} n={n} d={d}")
    _same_signs(out, want, pre)
    np.testing.assert_equal(_state(r_k), _state(r_py))
    np.testing.assert_array_equal(Xk, X)


def _sweep(registry, name, extra, check, ns=NS, ds=DS):
    done = 0
    for n in ns:
        for d in ds:
            for f in _fs(n):
                try:
                    rule = _build(registry, name, extra, f, d)
                    rule.check(n)
                except ConfigError:
                    continue
                for kind in KINDS:
                    for n_bad in ((f, min(n, f + 1)) if kind == "nonfinite" else (0,)):
                        if kind == "nonfinite" and n_bad == 0:
                            continue
                        seed = zlib.crc32(repr((name, n, d, f, kind, n_bad)).encode())
                        check(rule, _rows(kind, seed, n, d, n_bad), seed)
                        done += 1
    return done


@pytest.mark.parametrize(("name", "extra"), list(_configs(AGGREGATORS)))
def test_aggregator_kernel_is_bit_identical(name, extra):
    assert _sweep(AGGREGATORS, name, extra, check_aggregator) > 0


@pytest.mark.parametrize(("name", "extra"), list(_configs(PRE_AGGREGATORS)))
def test_pre_aggregator_kernel_is_bit_identical(name, extra):
    assert _sweep(PRE_AGGREGATORS, name, extra, check_pre_aggregator) > 0


@pytest.mark.parametrize(("name", "extra"), list(_configs(AGGREGATORS)) + list(_configs(PRE_AGGREGATORS)))
def test_kernels_beyond_one_column_block(name, extra):
    # d > 1024: several blocks of the column sorts (512) and of the distance / mixing loops (1024)
    registry = AGGREGATORS if name in AGGREGATORS else PRE_AGGREGATORS
    check = check_aggregator if registry is AGGREGATORS else check_pre_aggregator
    assert _sweep(registry, name, extra, check, ns=(7,), ds=(1100,)) > 0


@pytest.mark.parametrize(("name", "extra"), list(_configs(AGGREGATORS)))
def test_aggregator_kernel_state_follows_commits(name, extra):
    # server calls (commit) and probes (no commit) interleaved, as __call__ and evaluate
    n, d, f = 7, 5, 1
    agg = _build(AGGREGATORS, name, extra, f, d)
    agg.reset()
    kern = agg.kernel(n, d)
    r_py, r_k = _pair(11)
    rows = np.random.default_rng(3)
    for t, commit in enumerate([True, False, True, True, False, False, True, False]):
        X = rows.standard_normal((n, d)) * 3.0 + t
        if t == 3:
            X[2, 1] = np.nan
        want = agg(X, r_py) if commit else agg.evaluate(X, r_py)
        out = np.empty(d)
        kern.fn(kern.params, X, r_k, commit, out)
        np.testing.assert_array_equal(out, want, err_msg=f"{agg!r} call {t}")
        np.testing.assert_equal(_state(r_k), _state(r_py))
    # the next probe starts from the committed state of both
    X = rows.standard_normal((n, d))
    out = np.empty(d)
    kern.fn(kern.params, X, r_k, False, out)
    np.testing.assert_array_equal(out, agg.evaluate(X, r_py))


def test_cclip_kernel_starts_as_after_reset():
    agg = AGGREGATORS.build({"name": "cclip", "tau": 0.5}, f=0)
    X = np.random.default_rng(0).standard_normal((5, 3)) + 4.0
    agg(X)  # the Python object now holds a state; a new kernel starts from 0 regardless
    kern = agg.kernel(5, 3)
    agg.reset()
    out = np.empty(3)
    kern.fn(kern.params, X, None, True, out)
    np.testing.assert_array_equal(out, agg(X))
    kern.fn(kern.params, X, None, True, out)
    np.testing.assert_array_equal(out, agg(X))


@pytest.mark.parametrize("name", AGGREGATORS.names() + PRE_AGGREGATORS.names())
def test_kernel_memory_is_linear_in_d(name):
    # n = 20, d = 10^6: the preallocated scratch stays O(n·d) (here well below one (n, d) array)
    registry = AGGREGATORS if name in AGGREGATORS else PRE_AGGREGATORS
    n, d = 20, 10**6
    rule = _build(registry, name, {}, 2, d)
    nbytes = sum(np.asarray(p).nbytes for p in rule.kernel(n, d).params)
    assert nbytes <= 8 * n * d


class _OffByOneUlp(Aggregator):
    name = "off-by-one-ulp"

    def __init__(self, f=0, skew=True, extra_draw=False):
        super().__init__(f)
        self.skew, self.extra_draw = skew, extra_draw

    def _aggregate(self, X, rng):
        return X.mean(axis=0)

    def kernel(self, n, d):
        inner = AGGREGATORS.build("mean").kernel(n, d)
        skew, extra_draw = self.skew, self.extra_draw

        def fn(params, X, rng, commit, out):
            inner.fn(params, X, rng, commit, out)
            if skew:
                out[0] = np.nextafter(out[0], np.inf)
            if extra_draw:
                rng.random()

        return Kernel(fn, inner.params)


def test_the_checks_can_fail():
    X = np.random.default_rng(1).standard_normal((4, 3))
    check_aggregator(_OffByOneUlp(skew=False), X, 5)  # the honest variant passes
    with pytest.raises(AssertionError):
        check_aggregator(_OffByOneUlp(), X, 5)
    with pytest.raises(AssertionError):
        check_aggregator(_OffByOneUlp(skew=False, extra_draw=True), X, 5)
    # a signed zero is a difference too
    Z = np.full((3, 2), -0.0)
    with pytest.raises(AssertionError):
        check_aggregator(_OffByOneUlp(skew=False), Z, 5,
                         kern=Kernel(lambda p, X, rng, c, out: out.__setitem__(slice(None), -0.0), (0,)))


def test_a_rule_without_a_kernel_fails():
    class NoKernel(Aggregator):
        name = "no-kernel"

        def _aggregate(self, X, rng):
            return X[0].copy()

    class NoPreKernel(PreAggregator):
        name = "no-pre-kernel"

        def _apply(self, X, rng):
            return X.copy()

    with pytest.raises(NotImplementedError):
        NoKernel().kernel(3, 2)
    with pytest.raises(NotImplementedError):
        NoPreKernel().kernel(3, 2)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 127, 128, 129, 136, 300, 1000, 4099])
def test_mean_kernel_on_one_column_sums_pairwise_as_numpy(n):
    # a single column is one contiguous run: NumPy sums it pairwise (blocks of 128, eight lanes)
    agg = AGGREGATORS.build("mean")
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 1)) * 10.0 ** rng.uniform(-8, 8, (n, 1))
    check_aggregator(agg, X, n)
    check_aggregator(agg, np.ascontiguousarray(np.repeat(X, 3, axis=1)), n)


def test_bucketing_kernel_draws_the_permutation_of_numpy():
    pre = PRE_AGGREGATORS.build({"name": "bucketing", "s": 1})  # s = 1: the output is X[π]
    for n in (1, 2, 5, 20, 257):
        X = np.arange(n, dtype=np.float64)[:, None]
        kern = pre.kernel(n, 1)
        r_np, r_k = _pair(n)
        out = np.empty((n, 1))
        kern.fn(kern.params, X, r_k, out)
        np.testing.assert_array_equal(out[:, 0], r_np.permutation(n))
        np.testing.assert_equal(_state(r_k), _state(r_np))


@pytest.mark.parametrize(("n", "d"), [(2, 1), (5, 7), (5, 8), (6, 30), (9, 1023), (7, 2100)])
def test_block_sq_dists_follow_the_lane_order(n, d):
    # the vector code (four pairs, then single pairs) adds in exactly the order of the Python reference
    from byzref.aggregators._pairwise import _BLOCK, _block_sq_dists, _sq_dists_kernel

    X = _rows("gauss", n * 1000 + d, n, d, 0)
    D = np.empty((n, n))
    _sq_dists_kernel(_readonly(X), D, np.empty(n, dtype=np.int64))
    for i in range(n):
        for j in range(i + 1, n):
            want = 0.0
            for j0 in range(0, d, _BLOCK):
                want += _block_sq_dists(X, i, j, j0, min(d, j0 + _BLOCK))
            assert D[i, j] == want and D[j, i] == want, (i, j)
