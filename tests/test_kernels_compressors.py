"""Compressor kernels against their Python maps: the same floats bit for bit, the same random stream.

Generated from the registry: every registered compressor must supply ``kernel(n, d)``; each is run
with its ``test_config`` and a few other settings (k = 1, k = d, s = 1, …) on inputs with ties in
|x|, signed zeros, negative, tiny, huge and non-finite entries, with m = 1 and m = n rows, and must
give the output of ``_compress`` bit for bit and leave the Generator in the same state.
"""

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher
from numba.core.runtime import _nrt_python, rtsys

from byzref.compressors import COMPRESSORS, build_compressor
from byzref.compressors.top_k import _top_k_rows, _top_k_select
from byzref.kernels import Kernel

NAMES = COMPRESSORS.names()
N = 5  # rows the kernels are built for
DIMS = [1, 2, 7, 100, 129, 1000, 5000]


def settings(name, d):
    """Parameter sets for compressor ``name`` in dimension d: its test_config and variations."""
    base = dict(COMPRESSORS.get(name).test_config)
    out = [base]
    if "k" in base:
        out += [{**base, "k": k} for k in (1, 2, max(1, d // 10), d // 8, d - 1, d) if 1 <= k <= d]
        out = [c for c in out if c["k"] <= d]
    if "s" in base:
        out += [{**base, "s": s} for s in (1, 3, 2**53)]
    uniq = []
    for c in out:
        if c not in uniq:
            uniq.append(c)
    return uniq


def inputs(m, d, seed):
    """Several (m, d) arrays: Gaussian, small integers (ties in |x|, zeros, −0.0), wide scales,
    subnormals, all-zero rows, huge entries (overflowing norms) and NaN/±inf entries."""
    g = np.random.default_rng(seed)
    out = [g.standard_normal((m, d))]
    ties = g.integers(-3, 4, size=(m, d)).astype(np.float64)
    ties[g.random((m, d)) < 0.2] = -0.0
    out.append(ties)
    out.append(g.standard_normal((m, d)) * 10.0 ** g.uniform(-300, 300, size=(m, d)))
    out.append(g.standard_normal((m, d)) * 5e-324 * 64)  # subnormals
    z = g.standard_normal((m, d))
    z[0] = 0.0
    z[-1, : max(1, d // 2)] = -0.0
    out.append(z)
    big = g.choice([-1.0, 1.0], size=(m, d)) * 1.5e308  # sums and norms overflow
    big[:, ::3] = g.standard_normal((m, len(range(0, d, 3))))
    out.append(big)
    bad = g.standard_normal((m, d))
    mask = g.random((m, d))
    bad[mask < 0.1] = np.nan
    bad[(mask >= 0.1) & (mask < 0.15)] = np.inf
    bad[(mask >= 0.15) & (mask < 0.2)] = -np.inf
    bad[0, 0] = np.nan
    out.append(bad)
    nan_rows = np.full((m, d), np.nan)
    nan_rows[:, : max(1, d // 3)] = g.standard_normal((m, max(1, d // 3)))  # fewer than k numbers
    out.append(nan_rows)
    return [np.ascontiguousarray(x) for x in out]


def same_bits(a, b):
    """Equal as float64 bit patterns (signed zeros and NaNs included) and shapes."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def same_state(s1, s2):
    """Equal Generator states (dicts that may hold arrays)."""
    if isinstance(s1, dict):
        return isinstance(s2, dict) and s1.keys() == s2.keys() and all(same_state(s1[k], s2[k]) for k in s1)
    if isinstance(s1, np.ndarray) or isinstance(s2, np.ndarray):
        return np.array_equal(s1, s2)
    return s1 == s2


def gen(seed):
    return np.random.Generator(np.random.SFC64(seed))


def check_kernel(comp, kern, X, seed):
    """Run the kernel and ``_compress`` on X from equal generators; assert bit equality and state."""
    g_py, g_k = gen(seed), gen(seed)
    with np.errstate(all="ignore"):  # overflowing sums and norms are part of the inputs
        want = comp._compress(X.copy(), g_py)
    X_in = X.copy()
    out = np.full(X.shape, -7.25)  # garbage: the kernel must overwrite every entry
    kern.fn(kern.params, X_in, g_k, out)
    assert same_bits(X_in, X), "the kernel wrote into X"
    bad = want.view(np.uint64) != out.view(np.uint64)
    assert not bad.any(), (f"{comp!r}: kernel ≠ _compress at {np.argwhere(bad)[:5].tolist()}: "
                           f"{out[bad][:5]} vs {want[bad][:5]}")
    assert same_state(g_py.bit_generator.state, g_k.bit_generator.state), f"{comp!r}: rng used differently"


# ---- every registered compressor has a kernel of the protocol -------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_every_compressor_has_a_kernel(name):
    comp = build_compressor({"name": name, **COMPRESSORS.get(name).test_config})
    kern = comp.kernel(N, 8)
    assert isinstance(kern, Kernel)
    assert isinstance(kern.fn, CPUDispatcher), "a compressor kernel is an @njit function"
    assert isinstance(kern.params, tuple) and len(kern.params) > 0


def test_a_compressor_without_kernel_fails():
    class NoKernel(type(build_compressor("identity"))):
        pass

    NoKernel.kernel = COMPRESSORS.get("identity").__mro__[1].kernel  # the base class's
    with pytest.raises(NotImplementedError, match="has no kernel"):
        NoKernel().kernel(N, 8)


# ---- bit-for-bit against _compress --------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("d", DIMS)
def test_kernel_equals_compress(name, d):
    for ci, cfg in enumerate(settings(name, d)):
        comp = build_compressor({"name": name, **cfg})
        kern = comp.kernel(N, d)  # one kernel for all calls: state in params (top_k's τ) carries over
        for m in (1, N, 3):
            for xi, X in enumerate(inputs(m, d, seed=1000 * d + 10 * ci + m)):
                check_kernel(comp, kern, X, seed=xi + 17 * m)
                with np.errstate(all="ignore"):
                    small, large = X * 1e-3, X * 1e4
                check_kernel(comp, kern, small, seed=xi)  # a new scale: the warm starts are off
                check_kernel(comp, kern, large, seed=xi + 1)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_equals_compress_large(name):
    d = 20_000
    for cfg in settings(name, d)[:4]:
        comp = build_compressor({"name": name, **cfg})
        kern = comp.kernel(3, d)
        g = np.random.default_rng(3)
        for X in (g.standard_normal((3, d)), np.round(g.standard_normal((3, d)) * 4.0),
                  np.sort(np.abs(g.standard_normal((3, d))), axis=1)):  # ascending: the heap's worst case
            check_kernel(comp, kern, np.ascontiguousarray(X), seed=5)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_consumes_the_stream_in_sequence(name):
    """Consecutive calls (the engine's use) leave both generators in step."""
    d = 33
    comp = build_compressor({"name": name, **COMPRESSORS.get(name).test_config})
    kern = comp.kernel(N, d)
    g_py, g_k = gen(11), gen(11)
    xs = np.random.default_rng(4)
    for t in range(6):
        X = xs.standard_normal((1 + t % N, d))
        out = np.empty_like(X)
        kern.fn(kern.params, X, g_k, out)
        assert same_bits(out, comp._compress(X, g_py))
        assert same_state(g_py.bit_generator.state, g_k.bit_generator.state)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_writes_only_the_first_m_rows(name):
    """With m < n rows the kernel leaves rows m.. of a larger ``out`` alone."""
    d = 9
    comp = build_compressor({"name": name, **COMPRESSORS.get(name).test_config})
    kern = comp.kernel(N, d)
    X = np.random.default_rng(2).standard_normal((2, d))
    out = np.full((N, d), 3.5)
    kern.fn(kern.params, X, gen(1), out)
    assert same_bits(out[:2], comp._compress(X, gen(1)))
    assert (out[2:] == 3.5).all()


@pytest.mark.parametrize("name", NAMES)
def test_kernel_does_not_allocate(name):
    """Repeated calls inside jitted code make no NRT allocation (scratch lives in params)."""
    from numba import njit

    @njit
    def calls(fn, params, X, rng, out, reps):
        for _ in range(reps):
            fn(params, X, rng, out)

    d = 200
    comp = build_compressor({"name": name, **COMPRESSORS.get(name).test_config})
    kern = comp.kernel(N, d)
    X = np.random.default_rng(0).standard_normal((N, d))
    out = np.empty_like(X)
    g = gen(0)
    calls(kern.fn, kern.params, X, g, out, 1)
    was = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        counts = []
        for reps in (1, 4):
            a = rtsys.get_allocation_stats().alloc
            calls(kern.fn, kern.params, X, g, out, reps)
            counts.append(rtsys.get_allocation_stats().alloc - a)
    finally:
        if not was:
            _nrt_python.memsys_disable_stats()
    assert counts[0] == counts[1], f"{name}: {counts[1] - counts[0]} allocations in 3 extra calls"


# ---- top_k: the screening threshold decides the work only -----------------------------------------
@pytest.mark.parametrize("d", [1, 5, 64, 300, 5000, 40_000])
def test_top_k_select_any_start(d):
    g = np.random.default_rng(d)
    for k in sorted(k for k in {1, 2, max(1, d // 100), max(1, d // 9), d // 2, d} if 1 <= k <= d):
        for x in (g.standard_normal(d), np.round(g.standard_normal(d) * 2.0),
                  np.where(g.random(d) < 0.5, np.nan, g.standard_normal(d))):
            want = _top_k_rows(x[None, :], k, np.zeros((1, d)))[0]
            for t0 in (0.0, 1e-300, 0.3, 1.0, 3.0, 1e300, np.inf):
                tau = np.array([t0])
                hv, hi = np.empty(k), np.empty(k, dtype=np.int64)
                _top_k_select(x, k, tau, 0, hv, hi, np.empty(d + 1, dtype=np.int64), np.empty(d + 1),
                              np.empty(d + 1))
                got = np.zeros(d)
                got[hi] = x[hi]
                assert len(set(hi.tolist())) == k
                assert same_bits(got, want), (k, t0)
                assert 0.0 <= tau[0] < np.inf
