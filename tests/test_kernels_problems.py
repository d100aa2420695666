"""Problem kernels of the compiled engine against the Python methods, bit for bit (byzref.kernels).

Generated from the registry: every registered problem is built from its ``test_config`` (finite sums
also on synthetic and breast-cancer data, problems with curvature noise also without it), with
f ∈ {0, 2} and batch ∈ {1, 3}. Several draws in a row from SFC64 generators must leave the
generator in the state ``problem.draw`` leaves it in, and the rows of ``stoch``, ``pair``, ``full``
and ``grad`` (flipped labels too, where supported) must equal the Python methods' exactly.
A problem without a kernel fails here.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from byzref.kernels import ProblemKernel
from problems import PROBLEMS, build_problem
from problems.finite_sum import FiniteSumProblem
from problems.quadratic import Quadratic

N = 7
NAMES = PROBLEMS.names()


def _variants(name):
    """(label, config) pairs of the problem ``name``: its test_config and the variants named above."""
    cls = PROBLEMS.get(name)
    base = dict(cls.test_config)
    out = [("test_config", base)]
    if issubclass(cls, FiniteSumProblem):
        out.append(("synthetic", {**base, "data": "synthetic"}))
        bc = {k: v for k, v in base.items() if k not in ("samples_per_worker", "d", "margin")}
        out.append(("breast_cancer", {**bc, "data": "breast_cancer"}))
    if base.get("curvature_std"):
        out.append(("no_curvature", {**base, "curvature_std": 0.0}))
    return out


CASES = [pytest.param(name, cfg, id=f"{name}-{label}") for name in NAMES for label, cfg in _variants(name)]


@functools.cache
def _build(name, cfg_items, f):
    return build_problem({"name": name, **dict(cfg_items)}, np.random.default_rng(11), n=N, f=f)


def make(name, cfg, f):
    return _build(name, tuple(sorted(cfg.items())), f)


def sfc(seed):
    return np.random.Generator(np.random.SFC64(seed))


def same_state(a, b):
    """Whether two generators' bit-generator states are equal (nested dicts with arrays)."""
    def eq(u, v):
        if isinstance(u, dict):
            return isinstance(v, dict) and u.keys() == v.keys() and all(eq(u[k], v[k]) for k in u)
        return np.array_equal(np.asarray(u), np.asarray(v))
    return eq(a.bit_generator.state, b.bit_generator.state)


def ranges(n, f):
    return [(lo, hi) for lo, hi in [(0, n), (0, n - f), (n - f, n), (2, 5), (1, 2), (3, 3)] if hi <= n]


def nan_out(p):
    return np.full((p.n, p.d), np.nan)


def check_rows(got, want, lo, hi):
    """got[:hi − lo] equals want[lo:hi] exactly and got's further rows are untouched (NaN)."""
    np.testing.assert_array_equal(got[: hi - lo], want[lo:hi])
    assert np.isnan(got[hi - lo:]).all()


def check_kernel(p, kern, batch, seed, draws=4):
    """Draws and evaluations of ``kern`` against the methods of ``p``; AssertionError on a mismatch."""
    assert isinstance(kern, ProblemKernel)
    pp, smp = kern.params, kern.samples
    rng_py, rng_k = sfc(seed), sfc(seed)
    xr = np.random.default_rng(seed + 1)
    flips = (False, True) if p.supports_label_flip else (False,)
    for t in range(draws):
        s = p.draw(rng_py, batch)
        kern.draw(pp, rng_k, smp)
        assert same_state(rng_py, rng_k), f"draw {t}: generator states differ"
        x = p.x0() + 2.0 * xr.standard_normal(p.d)
        x2 = p.x0() + 2.0 * xr.standard_normal(p.d)
        for flip in flips:
            if flip:  # as Oracle: flipped rows at each point of a pair
                G = P1 = p.flipped_stoch_grads(x, s)
                P2 = p.flipped_stoch_grads(x2, s)
                W = p.flipped_worker_grads(x)
            else:
                G = p.stoch_grads(x, s)
                P1, P2 = p.stoch_grads_pair(x, x2, s)
                W = p.worker_grads(x)
            for lo, hi in ranges(p.n, p.f):
                out = nan_out(p)
                kern.stoch(pp, x, smp, lo, hi, flip, out)
                check_rows(out, G, lo, hi)
                o1, o2 = nan_out(p), nan_out(p)
                kern.pair(pp, x, x2, smp, lo, hi, flip, o1, o2)
                check_rows(o1, P1, lo, hi)
                check_rows(o2, P2, lo, hi)
                out = nan_out(p)
                kern.full(pp, x, lo, hi, flip, out)
                check_rows(out, W, lo, hi)
        g = np.full(p.d, np.nan)
        kern.grad(pp, x, g)
        np.testing.assert_array_equal(g, p.grad(x))
    # the same stoch twice in a row (scratch reuse) and after the generators moved on
    out1, out2 = nan_out(p), nan_out(p)
    kern.stoch(pp, x, smp, 0, p.n, False, out1)
    kern.stoch(pp, x, smp, 0, p.n, False, out2)
    np.testing.assert_array_equal(out1, out2)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("f", [0, 2])
@pytest.mark.parametrize(("name", "cfg"), CASES)
def test_kernel_matches_methods(name, cfg, f, batch):
    p = make(name, cfg, f)
    check_kernel(p, p.kernel(batch), batch, seed=100 + 7 * f + batch)


def test_every_registered_problem_is_covered():
    assert {c.values[0] for c in CASES} == set(NAMES)
    assert any(c.values[1].get("data") == "breast_cancer" for c in CASES)
    assert any(c.values[1].get("curvature_std") == 0.0 for c in CASES)


def _mutant(kern, **fns):
    return kern._replace(**fns)


def test_check_detects_a_wrong_draw_and_a_one_ulp_error():
    """The comparison can fail: an extra random word in draw, or one ulp off in stoch/pair/full/grad."""
    for name in NAMES:
        p = make(name, dict(PROBLEMS.get(name).test_config), 2)
        k = p.kernel(1)

        def draw_extra(pp, rng, smp, k=k):
            k.draw(pp, rng, smp)
            rng.random()

        def stoch_ulp(pp, x, smp, lo, hi, flip, out, k=k):
            k.stoch(pp, x, smp, lo, hi, flip, out)
            if hi > lo:
                out[hi - lo - 1, -1] = np.nextafter(out[hi - lo - 1, -1], np.inf)

        def full_ulp(pp, x, lo, hi, flip, out, k=k):
            k.full(pp, x, lo, hi, flip, out)
            if hi > lo:
                out[0, 0] = np.nextafter(out[0, 0], -np.inf)

        def grad_ulp(pp, x, out, k=k):
            k.grad(pp, x, out)
            out[0] = np.nextafter(out[0], np.inf)

        def pair_swapped(pp, x_new, x_old, smp, lo, hi, flip, out_new, out_old, k=k):
            k.pair(pp, x_old, x_new, smp, lo, hi, flip, out_new, out_old)

        for fns in ({"draw": draw_extra}, {"stoch": stoch_ulp}, {"full": full_ulp}, {"grad": grad_ulp},
                    {"pair": pair_swapped}):
            with pytest.raises(AssertionError):
                check_kernel(p, _mutant(k, **fns), 1, seed=5, draws=1)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100, 127, 128, 129, 257, 500,
                               1000])
def test_quadratic_matvec_matches_numpy_for_all_sizes(d):
    """A @ x in the kernel (Numba's BLAS) equals NumPy's matmul bit for bit, d = 1 … 1000."""
    p = Quadratic(d=d, zero_eigs=0 if d == 1 else d // 10, zeta2=0.5 if d > 1 else 0.0, sigma2=0.3, n=N, f=2,
                  L=1.0, mu=1.0 if d == 1 else 0.01, rng=np.random.default_rng(d))
    check_kernel(p, p.kernel(2), 2, seed=d, draws=2)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("n", [3, 12, 40, 150])
@pytest.mark.parametrize("name", [nm for nm in NAMES if issubclass(PROBLEMS.get(nm), FiniteSumProblem)])
def test_finite_sum_grad_reduction_order(name, n, d):
    """grad = mean over the good workers in NumPy's order: row by row, and pairwise when d = 1 (|G| ≥ 8)."""
    rng = np.random.default_rng(n * 10 + d)
    counts = rng.integers(1, 4, size=n)
    N_ = int(counts.sum())
    A = rng.standard_normal((N_, d))
    y = np.where(rng.random(N_) < 0.5, -1.0, 1.0)
    cls = PROBLEMS.get(name)
    p = cls.from_arrays(A, y, counts, f=1, lam=0.3)
    k = p.kernel(1)
    for _ in range(3):
        x = 3.0 * rng.standard_normal(d)
        g = np.full(d, np.nan)
        k.grad(k.params, x, g)
        np.testing.assert_array_equal(g, p.grad(x))
    check_kernel(p, k, 1, seed=n + d, draws=1)


def test_finite_sum_draw_with_large_and_unit_counts():
    """Workers with one row draw nothing; counts above 2³² use the 64-bit path, as NumPy."""
    cls = PROBLEMS.get(next(nm for nm in NAMES if issubclass(PROBLEMS.get(nm), FiniteSumProblem)))
    p = cls.from_arrays(np.ones((9, 2)), np.ones(9), np.array([1, 3, 1, 4]), lam=0.1)
    k = p.kernel(3)
    for counts in (p._counts, np.array([1, 2**33, 2**32, 2**32 + 1, 1], dtype=np.int64)):
        pp = (*k.params[:3], counts, *k.params[4:])
        smp = np.zeros((counts.size, 3), dtype=np.int64)
        a, b = sfc(3), sfc(3)
        for _ in range(5):
            want = a.integers(0, counts[:, None], size=(counts.size, 3))
            k.draw(pp, b, smp)
            np.testing.assert_array_equal(smp, want)
            assert same_state(a, b)


def test_kernels_do_not_need_python_objects():
    """The five functions are jitted (Numba dispatchers), so the compiled engine can call them."""
    from numba.core.registry import CPUDispatcher

    for name in NAMES:
        k = make(name, dict(PROBLEMS.get(name).test_config), 0).kernel(1)
        for fn in (k.draw, k.stoch, k.pair, k.full, k.grad):
            assert isinstance(fn, CPUDispatcher), (name, fn)
